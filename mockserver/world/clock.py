"""Where the mock's timestamps come from: the wall clock, or a stepping clock for ``--seed``."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

SEEDED_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)


class Clock(Protocol):
    """Anything that tells the time as an RFC 3339 UTC string."""

    def now(self) -> str: ...

    def reset(self) -> None: ...


def rfc3339(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: the form the SDK and most clients parse."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def later_than(previous: str | None, now: str) -> str:
    """``now``, or one millisecond after ``previous`` if the clock has not passed it yet: a
    change's ``updatedAt`` is strictly later than the one it replaces."""
    if previous is None or now > previous:
        return now
    moment = datetime.fromisoformat(previous.replace("Z", "+00:00"))
    return rfc3339(moment + timedelta(milliseconds=1))


class SystemClock:
    """The wall clock; formats each second once, since every create asks for the time."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def reset(self) -> None:
        """Nothing to restart: the wall clock goes on."""

    def now(self) -> str:
        milliseconds = time.time_ns() // 1_000_000
        second, millisecond = divmod(milliseconds, 1000)
        if second != self._second:
            moment = datetime.fromtimestamp(second, timezone.utc)
            self._second, self._prefix = second, f"{moment:%Y-%m-%dT%H:%M:%S}."
        return f"{self._prefix}{millisecond:03d}Z"


class SteppingClock:
    """A clock that advances a fixed step per reading, so seeded runs are byte-identical."""

    def __init__(self, start: datetime = SEEDED_EPOCH, step: timedelta = timedelta(seconds=1)):
        self._start = start
        self._next = start
        self._step = step

    @property
    def upcoming(self) -> datetime:
        """The instant the next reading tells: with the step, all a state document keeps."""
        return self._next

    @property
    def step(self) -> timedelta:
        """How far each reading moves the clock."""
        return self._step

    def reset(self) -> None:
        """Back to the first reading."""
        self._next = self._start

    def now(self) -> str:
        moment = self._next
        self._next += self._step
        return rfc3339(moment)


class WorldClock:
    """The one clock every service of a mock reads: the clock it started with, or the one a
    loaded state document set (the wall clock, or a stepping clock at its next instant).

    Services keep this object, never the clock inside it, so a load changes the time for
    all of them in one assignment; a reset goes back to the clock of the start.
    """

    def __init__(self, start: Clock) -> None:
        self.start = start
        self.current: Clock = start

    def now(self) -> str:
        return self.current.now()

    def reset(self) -> None:
        """The clock of the start, from its first reading."""
        self.current = self.start
        self.start.reset()
