"""Faults kept in the state file, so every worker on it acts on the same faults.

With ``--state`` (and so with ``--workers N``) the active faults and their counts are one
meta value of the file (``faults``: their ``document()`` forms, oldest first). A change, and
the count of every request a fault matches, is a write transaction of the file: a fault
added through one worker acts on the requests of every other, ``first: 2`` fires twice in
all, not twice a worker, and ``GET /_mock/faults`` counts every worker's matches. Like the
world, they outlast a restart; ``DELETE /_mock/faults`` or ``POST /_mock/reset`` clears them.

Reading them costs a dictionary look-up while no other process has written the file
(``Database.meta`` keeps the value), and a parse only when the text changed.
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.control.faults import Fault, Faults
from mockserver.world.sqlite.database import Database

FAULTS = "faults"
"""The meta key of the active faults."""


class SharedFaults(Faults):
    """The active faults of every mock on one state file."""

    def __init__(self, contract: Contract, rng: random.Random, database: Database) -> None:
        super().__init__(contract, rng)
        self._db = database
        self._text: str | None = None

    def _held(self) -> tuple[Fault, ...]:
        text = self._db.meta(FAULTS)
        if text != self._text:
            self._faults = () if text is None else tuple(_fault(doc) for doc in orjson.loads(text))
            self._text = text
        return self._faults

    def _hold(self, faults: tuple[Fault, ...]) -> None:
        text = orjson.dumps([fault.document() for fault in faults]).decode() if faults else None
        self._db.set_meta(FAULTS, text)
        self._faults, self._text = faults, text

    def _changing(self) -> AbstractContextManager[object]:
        return self._db.write()


def _fault(document: dict[str, Any]) -> Fault:
    """A fault from its ``document()`` form (validated when it was added)."""
    spec = {k: v for k, v in document.items() if k not in ("id", "hits", "fired")}
    return Fault(str(document["id"]), spec, int(document["hits"]), int(document["fired"]))
