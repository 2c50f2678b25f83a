"""The rules of each call, one module per resource; no HTTP types in here."""
