"""The mock's state and what makes it: stores, the clock, ids, fake references, tokens."""
