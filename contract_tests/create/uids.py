"""Fresh Study Instance UIDs of the same shape, so that requests a server should accept are new.

A server refuses (409) a UID it stores already, so a valid probe keeps its UID's shape (length,
components, the zero components it tests) while the digits of its longest non-zero component
are drawn anew for every send.
"""

from __future__ import annotations

import random

FRESH_DIGITS = 8
"""A UID with this many digits to redraw is, in practice, never sent by two runs."""


def fresh_digits(uid: str) -> int:
    """How many digits ``UidFreshener.fresh`` redraws in this UID (0: it cannot change it)."""
    parts = uid.split(".")
    if not uid or not all(part.isascii() and part.isdigit() for part in parts):
        return 0
    return max((len(part) for part in parts if part != "0"), default=0)


class UidFreshener:
    """Redraws UIDs; its randomness is its own, so re-runs against a live server do not collide."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._random = rng or random.Random()

    def fresh(self, uid: str) -> str:
        """The same shape with new digits; anything that is not a well-formed UID is kept."""
        size = fresh_digits(uid)
        if not size:
            return uid
        parts = uid.split(".")
        index = next(i for i, part in enumerate(parts) if part != "0" and len(part) == size)
        parts[index] = str(self._random.randint(10 ** (size - 1) if size > 1 else 1, 10**size - 1))
        return ".".join(parts)
