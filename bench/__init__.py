"""The benchmark of avara-mock's hot path (``make bench``, or ``python bench/run.py``).

A package so that its modules import each other the same way whether run.py is run as a
script or as ``python -m bench.run``; see README.md for what it measures.
"""
