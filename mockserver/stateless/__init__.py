"""Stateless mode: every valid request answered from the request alone; nothing is stored.

One module per resource, as in ``mockserver/resources/``; ``draws.py`` makes the answers
deterministic.
"""
