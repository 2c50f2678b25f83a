"""The clock and the study-id sequence of a state file, shared by every process on it.

The clock: the wall clock keeps nothing; a stepping clock (``--seed``, or a loaded state's)
keeps its next instant in the file, and every reading moves it on in a write transaction,
so two processes never read the same instant and a restart goes on where the last stopped.
Seeded study ids likewise keep the last id in the file (each new one is it plus a random
step, drawn from the seeded generator); unseeded ones come from 128 bits of OS randomness per
process, as in memory, and the UNIQUE study id settles the clash that randomness rules out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson

from mockserver.world.clock import Clock, SteppingClock, SystemClock, WorldClock, rfc3339
from mockserver.world.ids import STEP_BITS, IdSource
from mockserver.world.sqlite.database import Database

CLOCK, LAST_ID = "clock", "last_study_id"


class StoredClock(WorldClock):
    """The one clock of a mock on a state file: the file's, else the one it started with."""

    def __init__(self, database: Database, start: Clock) -> None:
        self._db = database
        self.start = start
        self._system = SystemClock()

    @property
    def current(self) -> Clock:
        """A reading of what the file says: the wall clock, or a stepping clock at the
        instant the next reading tells (a copy: readings go through ``now``)."""
        document = self._document()
        if document is None:
            return self._system
        return SteppingClock(_instant(document["next"]), timedelta(milliseconds=document["stepMs"]))

    @current.setter
    def current(self, clock: Clock) -> None:
        self._db.set_meta(CLOCK, orjson.dumps(_clock_json(clock)).decode())

    def now(self) -> str:
        if self._document() is None:
            return self._system.now()
        with self._db.write(single=True):
            document = self._document()
            if document is None:
                return self._system.now()
            moment = _instant(document["next"])
            step = timedelta(milliseconds=document["stepMs"])
            self.current = SteppingClock(moment + step, step)
        return rfc3339(moment)

    def reset(self) -> None:
        """The clock of the start, from its first reading, kept in the file."""
        self.start.reset()
        self.current = self.start

    def _document(self) -> dict[str, Any] | None:
        """The stepping clock the file keeps, or None for the wall clock."""
        text = self._db.meta(CLOCK)
        found: dict[str, Any] = _clock_json(self.start) if text is None else orjson.loads(text)
        return found if found.get("kind") == "stepping" else None


def _clock_json(clock: Clock) -> dict[str, Any]:
    if isinstance(clock, SteppingClock):
        step = clock.step // timedelta(milliseconds=1)
        return {"kind": "stepping", "next": rfc3339(clock.upcoming), "stepMs": step}
    return {"kind": "system"}


def _instant(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


class StoredIds(IdSource):
    """Study ids for a mock on a state file: seeded, the file keeps the last one."""

    def __init__(self, database: Database, seed: int | None = None) -> None:
        self._db: Database | None = None
        super().__init__(seed)
        self._first = self._last
        self._db = database

    def reset(self) -> None:
        super().reset()
        self._store(self._last)

    def skip_past(self, study_ids: Iterable[str]) -> None:
        super().skip_past(study_ids)
        self._store(self._last)

    def study_id(self) -> str:
        if self._seed is None or self._db is None:
            return super().study_id()
        with self._db.write(single=True):
            stored = self._db.meta(LAST_ID)
            last = self._first if stored is None else int(stored, 16)
            last += 1 + self._random.getrandbits(STEP_BITS)
            self._store(last)
        return f"stu_{last:032x}"

    def _store(self, last: int) -> None:
        if self._seed is not None and self._db is not None:
            self._db.set_meta(LAST_ID, f"{last:x}")
