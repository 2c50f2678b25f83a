"""A mock's whole world in a SQLite state file (``--state FILE``): the studies, the clinic's
people, the clock and the study-id sequence, behind the interfaces the in-memory world has.

``open_state`` opens (or makes) the file and builds the pieces ``services.py`` assembles;
``check_state_file`` checks a file without keeping it open; ``StateFileError`` says why a
file is refused (the CLI exits 2 with it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mockserver.world.clock import Clock
from mockserver.world.sqlite.database import Database, StateWriteFailed
from mockserver.world.sqlite.file import StateFileError, check_state_file, layout_of
from mockserver.world.sqlite.meta import StoredClock, StoredIds
from mockserver.world.sqlite.records import SqlitePeople
from mockserver.world.sqlite.studies import SqliteStudyStore
from mockserver.world.store import FieldPath

__all__ = ["StateFile", "StateFileError", "StateWriteFailed", "check_state_file", "open_state"]


@dataclass(frozen=True)
class StateFile:
    """The open file and the stores on it; ``new`` is True for the first mock to open the
    file since it was made (only that one loads a ``--scenario`` into it)."""

    database: Database
    studies: SqliteStudyStore
    clock: StoredClock
    ids: StoredIds
    new: bool

    def people(self, start_clinic_id: str) -> SqlitePeople:
        """The clinic's people on this file (``Clinic``'s ``people`` argument)."""
        return SqlitePeople(self.database, start_clinic_id)


def open_state(
    path: str, indexed: Sequence[FieldPath], start: Clock, seed: int | None
) -> StateFile:
    """Open ``path`` (``StateFileError`` if it is refused) with one connection for the world."""
    database = Database(path, layout_of(indexed), len(indexed))
    return StateFile(
        database,
        SqliteStudyStore(database, indexed),
        StoredClock(database, start),
        StoredIds(database, seed),
        database.claim_new(),
    )
