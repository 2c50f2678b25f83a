"""The control plane under /_mock/: journal, faults, state, the admin API and its dashboard."""
