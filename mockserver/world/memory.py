"""The in-memory store: studies as compact JSON, with sorted keyset indexes for lists.

Every indexed field (the list filters that match by equality) has, for each of its values, a
sorted list of the positions of the studies with that value. A page walks the shortest list
that applies from the cursor's position down, checking the other conditions on the way, so
an unfiltered page, or one filtered by an indexed field, costs O(limit + log n); only a
description contains-match may scan.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from mockserver.errors import Conflict
from mockserver.world.store import FieldPath, Filters, Page, join, position, value_at


class _Row:
    """One stored study: its core JSON, its key reference, and what lists look at."""

    __slots__ = ("core", "description", "reference", "values")

    def __init__(self, core: bytes, reference: bytes, values: tuple[Any, ...], text: str):
        self.core = core
        self.reference = reference
        self.values = values
        self.description = text


class MemoryStudyStore:
    """Every study created since start (or the last ``clear``); nothing is ever evicted."""

    def __init__(self, indexed: Sequence[FieldPath] = ()) -> None:
        self._indexed = tuple(indexed)
        self._rows: dict[str, _Row] = {}
        self._position_of_id: dict[str, str] = {}
        self._id_of_uid: dict[str, str] = {}
        self._order: list[str] = []
        self._index: list[dict[Any, list[str]]] = [{} for _ in self._indexed]

    def add(self, study: dict[str, Any], reference: bytes) -> bytes:
        uid, study_id = study["studyInstanceUid"], study["studyId"]
        existing = self._id_of_uid.get(uid)
        if existing is not None:
            raise Conflict(
                f"A study with studyInstanceUid {uid!r} exists already ({existing}); "
                "a Study Instance UID identifies one study. Use a new UID, or retrieve "
                f"the existing study at /v1/viewer/studies/by-uid/{uid}."
            )
        at = position(study)
        core = orjson.dumps(study)
        # orjson's bytes keep a ~4 KiB buffer; an exact-size copy is what is kept.
        row = _Row(memoryview(core).tobytes(), reference, self._values(study), _text(study))
        self._rows[at] = row
        self._position_of_id[study_id] = at
        self._id_of_uid[uid] = study_id
        _insert(self._order, at)
        for index, value in zip(self._index, row.values, strict=True):
            _insert(index.setdefault(value, []), at)
        return join(core, reference)

    def get(self, study_id: str) -> dict[str, Any] | None:
        row = self._row(study_id)
        return None if row is None else orjson.loads(row.core)

    def get_json(self, study_id: str) -> bytes | None:
        row = self._row(study_id)
        return None if row is None else join(row.core, row.reference)

    def id_of_uid(self, uid: str) -> str | None:
        return self._id_of_uid.get(uid)

    def replace(self, study: dict[str, Any]) -> bytes:
        at = self._position_of_id[study["studyId"]]
        row = self._rows[at]
        values = self._values(study)
        for index, old, new in zip(self._index, row.values, values, strict=True):
            if old != new:
                _remove(index[old], at)
                _insert(index.setdefault(new, []), at)
        core = orjson.dumps(study)
        row.core, row.values, row.description = memoryview(core).tobytes(), values, _text(study)
        return join(core, row.reference)

    def page(self, filters: Filters, after: str | None, limit: int) -> Page:
        walk, checks = self._plan(filters)
        needle = filters.contains.casefold() if filters.contains is not None else None
        end = len(walk) if after is None else bisect.bisect_left(walk, after)
        found: list[bytes] = []
        last: str | None = None
        for i in range(end - 1, -1, -1):
            at = walk[i]
            row = self._rows[at]
            if any(row.values[k] != wanted for k, wanted in checks):
                continue
            if needle is not None and needle not in row.description:
                continue
            if len(found) == limit:
                return Page(found, last)
            found.append(join(row.core, row.reference))
            last = at
        return Page(found, None)

    def studies(self) -> Iterator[dict[str, Any]]:
        rows = self._rows
        return (orjson.loads(join(rows[at].core, rows[at].reference)) for at in self._order)

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()
        self._position_of_id.clear()
        self._id_of_uid.clear()
        self._order.clear()
        for index in self._index:
            index.clear()

    def _row(self, study_id: str) -> _Row | None:
        at = self._position_of_id.get(study_id)
        return None if at is None else self._rows[at]

    def _values(self, study: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(value_at(study, path) for path in self._indexed)

    def _plan(self, filters: Filters) -> tuple[list[str], list[tuple[int, Any]]]:
        """The shortest position list to walk, and the conditions left to check on each row."""
        conditions: list[tuple[int, Any]] = []
        for path, wanted in filters.equal.items():
            if path not in self._indexed:
                raise KeyError(f"{'.'.join(path)} is not an indexed field of this store")
            conditions.append((self._indexed.index(path), wanted))
        best: list[str] = self._order
        chosen: tuple[int, Any] | None = None
        for k, wanted in conditions:
            candidate = self._index[k].get(wanted, [])
            if chosen is None or len(candidate) < len(best):
                best, chosen = candidate, (k, wanted)
        return best, [c for c in conditions if c != chosen]


def _text(study: dict[str, Any]) -> str:
    return str(study.get("studyDescription") or "").casefold()


def _insert(positions: list[str], at: str) -> None:
    """Insert keeping order; new studies are the newest, so this is an append in practice."""
    if not positions or positions[-1] < at:
        positions.append(at)
    else:
        bisect.insort(positions, at)


def _remove(positions: list[str], at: str) -> None:
    i = bisect.bisect_left(positions, at)
    if i < len(positions) and positions[i] == at:
        del positions[i]
