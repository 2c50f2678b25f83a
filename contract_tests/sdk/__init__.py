"""Comparing schemas/ with the official SDK's models: `avara-mock drift`."""
