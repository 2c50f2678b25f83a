"""Latency of the mock's answers: ``--latency 50ms`` or ``20ms..200ms``, and the marker option.

A real API is never instant; a client's timeouts, spinners and retry back-off only show up
when answers take time. The delay of each answer is a uniform draw from the range, so
concurrent requests finish out of order as they would against a server.
"""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass

DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\s*", re.IGNORECASE)
FORMS = "a duration such as 50ms or 1.5s, or a range such as 20ms..200ms"
UNIT_MS = {"ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Latency:
    """A range of delays in milliseconds; a fixed delay has ``low_ms == high_ms``."""

    low_ms: float
    high_ms: float

    def draw_ms(self, rng: random.Random) -> float:
        """One delay from the range, uniformly."""
        return (
            self.low_ms if self.low_ms == self.high_ms else rng.uniform(self.low_ms, self.high_ms)
        )

    async def wait(self, rng: random.Random) -> None:
        """Sleep one drawn delay (nothing at all for a zero range)."""
        delay = self.draw_ms(rng)
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)


def parse_latency(text: str) -> tuple[float, float]:
    """``(low, high)`` milliseconds of ``"50ms"``, ``"1s"`` or ``"20ms..200ms"``.

    A unit is required: a bare ``50`` could be seconds or milliseconds, and a test that
    waits a thousand times longer than meant is worse than an error. ``ValueError`` says the
    accepted forms.
    """
    low_text, dots, high_text = text.partition("..")
    low = _duration_ms(low_text, text)
    high = _duration_ms(high_text, text) if dots else low
    if high < low:
        raise ValueError(
            f"latency {text!r} is a range from high to low; give the shorter delay first "
            f"({high_text.strip()}..{low_text.strip()})"
        )
    return (low, high)


def _duration_ms(part: str, whole: str) -> float:
    found = DURATION.fullmatch(part)
    if found is None:
        raise ValueError(f"latency {whole!r} is not {FORMS} (a unit, ms or s, is required)")
    return float(found[1]) * UNIT_MS[found[2].lower()]
