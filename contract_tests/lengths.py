"""How long a string is under each defensible reading of a stated length limit.

The SDK states limits in "chars" without a unit; ``schemas/common.schema.json`` lists the
readings (``x-length-units``). A value within a limit under every one of them must be accepted;
one within it only under some may rightly be refused, so accepting it rests on our reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mockserver.contract import Contract

COUNTS: dict[str, Callable[[str], int]] = {
    "code-points": len,
    "utf-16": lambda value: len(value.encode("utf-16-le", "surrogatepass")) // 2,
    "utf-8": lambda value: len(value.encode("utf-8", "surrogatepass")),
}


class UnknownUnit(ValueError):
    """``x-length-units`` names a unit this module cannot count."""


def units(contract: Contract) -> tuple[str, ...]:
    """The readings ``x-length-units`` lists (code points only, when it is absent)."""
    listed = contract.documents["common"].get("x-length-units", {}).get("units", ["code-points"])
    unknown = [unit for unit in listed if unit not in COUNTS]
    if unknown:
        raise UnknownUnit(f"x-length-units names {unknown}; known units are {sorted(COUNTS)}")
    return tuple(listed)


def longest(value: str, readings: Sequence[str]) -> int:
    """The value's length under the reading that makes it longest."""
    return max(COUNTS[unit](value) for unit in readings)
