"""How the machine compares what a server answered with what it expected: JSON values as a
client reads them (a null member the same as an absent one), timestamps as instants and never
as text, and values cut short for a finding's message.

The studies model and the invariants compare with these, and so does the people part: one
reading of "the same value" for the whole machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any


def instant(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp as an aware instant (naive text is read as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def at_path(document: Any, path: Sequence[str]) -> Any:
    """The value at a field path (``("assignedTo", "userId")``); None where a step is missing."""
    node = document
    for step in path:
        if not isinstance(node, dict):
            return None
        node = node.get(step)
    return node


def short(value: Any, limit: int = 80) -> str:
    """A value for a message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalized(value: Any, empty: bool = False) -> Any:
    """A JSON value as the SDK reads it: a null member is the same as an absent one; with
    ``empty``, so is an empty object (a map with nothing in it: CONTRACT.md reads absent,
    null and {} alike for a study's metadata)."""
    if isinstance(value, dict):
        return {
            k: normalized(v, empty)
            for k, v in value.items()
            if v is not None and not (empty and v == {})
        }
    if isinstance(value, list):
        return [normalized(v, empty) for v in value]
    return value


def same(got: Any, expected: Any, timestamp: bool = False, empty: bool = True) -> bool:
    """Equal JSON values as a client reads them; timestamps compared as instants, never as
    text; ``empty``: an empty object equals null (``False``: the exact representation)."""
    if timestamp:
        return instant(got) == instant(expected) and (got is None) == (expected is None)
    if empty and got in (None, {}) and expected in (None, {}):
        return True
    return bool(normalized(got, empty) == normalized(expected, empty))


def same_study(
    got: Mapping[str, Any],
    expected: Mapping[str, Any],
    timestamps: frozenset[str],
    empty: bool = False,
) -> list[str]:
    """The fields in which two study documents differ (timestamps as instants; ``empty``:
    an empty object as null)."""
    names = sorted(set(got) | set(expected))
    return [n for n in names if not same(got.get(n), expected.get(n), n in timestamps, empty)]
