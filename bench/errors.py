"""The benchmark's one exception."""

from __future__ import annotations


class BenchError(Exception):
    """A run that failed: a server did not start or died, wrk failed, too many errors."""
