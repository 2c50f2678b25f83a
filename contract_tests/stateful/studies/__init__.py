"""The studies part of the state machine: the studies model, what it draws, its rules."""
