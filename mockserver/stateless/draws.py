"""Deterministic draws for stateless answers: numbers from a hash of (seed, parts).

Every stateless answer is made from its request through these, so the same request gets the
same bytes in every run and process, and another seed another answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from mockserver.world.clock import rfc3339


class Draws:
    """Deterministic numbers from (seed, parts): SHA-256 in counter mode, the same on every
    Python and platform (``random`` promises no stable ``choice`` across versions)."""

    def __init__(self, seed: int, *parts: str) -> None:
        self._key = hashlib.sha256("\x00".join((str(seed), *parts)).encode()).digest()
        self._count = 0

    def bits(self, count: int) -> int:
        """A number of ``count`` (at most 256) bits."""
        block = hashlib.sha256(self._key + self._count.to_bytes(8, "big")).digest()
        self._count += 1
        return int.from_bytes(block, "big") >> (256 - count)

    def below(self, bound: int) -> int:
        """A number from 0 to ``bound - 1`` (bias below 2**-190: negligible)."""
        return self.bits(256) % bound

    def choice(self, options: Sequence[Any]) -> Any:
        """One of ``options``."""
        return options[self.below(len(options))]

    def hex(self, digits: int) -> str:
        """``digits`` lower-case hex digits."""
        return f"{self.bits(4 * digits):0{digits}x}"


def canonical(value: Any) -> str:
    """The request as one text: JSON with sorted keys, so key order does not change an answer."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def later(moment: datetime, milliseconds: int) -> str:
    """``moment`` plus whole milliseconds, in RFC 3339 (exact: rfc3339 keeps milliseconds)."""
    return rfc3339(moment + timedelta(milliseconds=milliseconds))
