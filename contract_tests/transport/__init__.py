"""Sending requests to an implementation and what came back: exchanges and targets."""
