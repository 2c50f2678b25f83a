"""The users and invitations part of the state machine: the people model, its steps and lists,
what it draws, its rules and invariants."""
