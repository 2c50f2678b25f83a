"""One edit of a valid text: the bad values a pattern or a format is broken with.

An edit splices in, drops, doubles, replaces or upper-cases one character, or changes the
whole text's case, or adds a newline or a space; where it happens is drawn anywhere in the
text (``SPOTS``, modulo its length) or where a part of it begins or ends.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

from contract_tests.operations.values import CHARSET

TROUBLE: tuple[str, ...] = ("a", "Z", "A", "F", " ", "\n", "-", "_", ".", "0", "1", "/", ":")
TROUBLE += ("@", "T", "é", "\u0663", "\uff11", "\U0001fa7b")
"""Characters an edit splices in: letters of both cases, separators, a newline, and digits of
other scripts (ECMA-262's ``[0-9]`` matches ASCII digits only)."""
SPOTS = st.integers(0, 2**16 - 1)
"""Where an edit happens, modulo the text's length (small numbers alone would favour its start)."""


def edits(strings: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid texts changed by one edit: a character spliced in (one of its own, or one of
    ``TROUBLE``), dropped, doubled, replaced or upper-cased, the case of the whole changed, a
    newline or a space added, a digit changed. (Mapped, so that hypothesis does not flatten
    these branches into a ``one_of`` beside it and drown its other branches.)"""
    spots = st.tuples(strings, SPOTS, st.sampled_from(TROUBLE))
    own = st.tuples(strings, SPOTS, SPOTS)
    return st.one_of(
        spots.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + t[2] + v[i:])),
        spots.map(lambda t: t[2] + t[0]),
        spots.map(lambda t: t[0] + t[2]),
        own.map(lambda t: _at_boundary(t[0], t[1], _char(t[0], t[2]))),
        own.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + _char(v, t[2]) + v[i:])),
        own.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + v[i : i + 1].upper() + v[i + 1 :])),
        spots.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + v[i + 1 :])),
        spots.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + v[i : i + 1] + v[i:])),
        spots.map(lambda t: at(t[0], t[1], lambda v, i: v[:i] + t[2] + v[i + 1 :])),
        st.tuples(strings, SPOTS, st.integers(0, 9)).map(lambda t: _digit(t[0], t[1], str(t[2]))),
        strings.map(str.upper),
        strings.map(str.swapcase),
        strings.map(lambda v: v + "\n"),
        strings.map(lambda v: " " + v),
        st.just(""),
    ).map(str)


def at(value: str, spot: int, edit: Any) -> str:
    """The value edited at ``spot`` (modulo its length, its end included)."""
    return str(edit(value, spot % (len(value) + 1)))


def _at_boundary(value: str, spot: int, char: str) -> str:
    """The value with ``char`` put where a part of it begins or ends: at either end, or next
    to a separator (a zero at the start of a UID's component, a dot doubled)."""
    places = [
        0,
        len(value),
        *(i + d for i, c in enumerate(value) if not c.isalnum() for d in (0, 1)),
    ]
    i = places[spot % len(places)]
    return value[:i] + char + value[i:]


def forbidden(pattern: str) -> list[str]:
    """Characters a character-class pattern refuses (none for another pattern)."""
    shape = CHARSET.fullmatch(pattern)
    if shape is None:
        return []
    negated, members = shape.groups()
    pool = [*TROUBLE, *(chr(code) for code in range(0x21, 0x7F))]
    refused = [c for c in pool if bool(re.fullmatch(f"[{members}]", c)) == bool(negated)]
    return sorted(set(refused))


def _char(value: str, spot: int) -> str:
    """One of the value's own characters (a separator doubled, a zero moved)."""
    return value[spot % len(value)] if value else "0"


def _digit(value: str, spot: int, digit: str) -> str:
    """The value with one of its digits (the ``spot``-th, cyclically) made ``digit``."""
    places = [i for i, c in enumerate(value) if c.isascii() and c.isdigit()]
    if not places:
        return value + digit
    i = places[spot % len(places)]
    return value[:i] + digit + value[i + 1 :]
