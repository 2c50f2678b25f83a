"""Where the mock's timestamps come from: the wall clock, or a stepping clock for ``--seed``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

SEEDED_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)


class Clock(Protocol):
    """Anything that tells the time as an RFC 3339 UTC string."""

    def now(self) -> str: ...


def rfc3339(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: the form the SDK and most clients parse."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SystemClock:
    """The wall clock."""

    def now(self) -> str:
        return rfc3339(datetime.now(timezone.utc))


class SteppingClock:
    """A clock that advances a fixed step per reading, so seeded runs are byte-identical."""

    def __init__(self, start: datetime = SEEDED_EPOCH, step: timedelta = timedelta(seconds=1)):
        self._next = start
        self._step = step

    def now(self) -> str:
        moment = self._next
        self._next += self._step
        return rfc3339(moment)
