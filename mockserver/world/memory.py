"""The in-memory store: studies as compact JSON, with sorted keyset indexes for lists.

Every indexed field (the list filters that match by equality) has, for each of its values, a
sorted list of the positions of the studies that have, or once had, that value. A page walks
the shortest list that applies from the cursor's position down, checking every condition on
each row, so an unfiltered page, or one filtered by an indexed field, costs O(limit + log n);
only a description contains-match may scan. An update that changes a field adds the
position to its new value's list and leaves it in the old one (the check skips it there):
removing it would move half the list in memory.

A row is a tuple of immutable values, which the garbage collector stops tracking: a store of
100k studies adds no tracked objects, so full collections stay short (p99 latency).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any, Final

import orjson

from mockserver.world.store import (
    REFERENCE_FIELD,
    FieldPath,
    Filters,
    Page,
    join,
    position,
    uid_taken,
    value_at,
)

Row = tuple[bytes, bytes, tuple[Any, ...], str, str]
"""core JSON less its closing brace, API-key reference JSON, indexed values, casefolded
description, position"""
CORE: Final = 0
REFERENCE: Final = 1
VALUES: Final = 2
DESCRIPTION: Final = 3
POSITION: Final = 4
ID_CHARS = len("stu_") + 32


def _study_id(at: str) -> str:
    """The study id a position ends with (positions are ``createdAt|studyId``)."""
    return at[-ID_CHARS:]


class MemoryStudyStore:
    """Every study created since start (or the last ``clear``); nothing is ever evicted."""

    def __init__(self, indexed: Sequence[FieldPath] = ()) -> None:
        self._indexed = tuple(indexed)
        self._rows: dict[str, Row] = {}
        self._id_of_uid: dict[str, str] = {}
        self._order: list[str] = []
        self._index: list[dict[Any, list[str]]] = [{} for _ in self._indexed]
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def add(self, study: dict[str, Any], reference: bytes) -> bytes:
        uid, study_id = study["studyInstanceUid"], study["studyId"]
        existing = self._id_of_uid.get(uid)
        if existing is not None:
            raise uid_taken(uid, existing)
        at = position(study)
        core = orjson.dumps(study)
        values = self._values(study)
        self._rows[study_id] = self._row(core, reference, values, study, at)
        self._id_of_uid[uid] = study_id
        _insert(self._order, at)
        for index, value in zip(self._index, values, strict=True):
            positions = index.get(value)
            if positions is None:
                index[value] = [at]
            else:
                _insert(positions, at)
        return join(core, reference)

    def get(self, study_id: str) -> dict[str, Any] | None:
        row = self._rows.get(study_id)
        return None if row is None else orjson.loads(row[CORE] + b"}")

    def get_json(self, study_id: str) -> bytes | None:
        row = self._rows.get(study_id)
        return None if row is None else _json(row)

    def id_of_uid(self, uid: str) -> str | None:
        return self._id_of_uid.get(uid)

    def replace(self, study: dict[str, Any]) -> bytes:
        study_id = study["studyId"]
        old = self._rows[study_id]
        at = old[POSITION]
        values = self._values(study)
        for index, before, after in zip(self._index, old[VALUES], values, strict=True):
            if before != after:
                _insert_once(index.setdefault(after, []), at)
        core = orjson.dumps(study)
        self._rows[study_id] = self._row(core, old[REFERENCE], values, study, at)
        return join(core, old[REFERENCE])

    def page(self, filters: Filters, after: str | None, limit: int) -> Page:
        walk, checks = self._plan(filters)
        needle = filters.contains.casefold() if filters.contains is not None else None
        end = len(walk) if after is None else bisect.bisect_left(walk, after)
        rows = self._rows
        if not checks and needle is None:
            chosen = walk[max(0, end - limit - 1) : end][::-1]
            found = [_json(rows[_study_id(at)]) for at in chosen[:limit]]
            return Page(found, chosen[limit - 1] if len(chosen) > limit else None)
        found = []
        last: str | None = None
        for i in range(end - 1, -1, -1):
            at = walk[i]
            row = rows[_study_id(at)]
            values = row[VALUES]
            if any(values[k] != wanted for k, wanted in checks):
                continue
            if needle is not None and needle not in row[DESCRIPTION]:
                continue
            if len(found) == limit:
                return Page(found, last)
            found.append(_json(row))
            last = at
        return Page(found, None)

    def ids_with(self, path: FieldPath, value: Any) -> list[str]:
        k = self._indexed.index(path)
        rows = self._rows
        found = (_study_id(at) for at in self._index[k].get(value, []))
        return [study_id for study_id in found if rows[study_id][VALUES][k] == value]

    def studies(self) -> Iterator[dict[str, Any]]:
        rows = self._rows
        for at in self._order:
            yield orjson.loads(_json(rows[_study_id(at)]))

    def __len__(self) -> int:
        return len(self._rows)

    def empty(self) -> MemoryStudyStore:
        return MemoryStudyStore(self._indexed)

    def clear(self) -> None:
        self._rows.clear()
        self._shared.clear()
        self._id_of_uid.clear()
        self._order.clear()
        for index in self._index:
            index.clear()

    def _row(
        self, core: bytes, reference: bytes, values: tuple[Any, ...], study: dict[str, Any], at: str
    ) -> Row:
        """A row, its values tuple shared with the rows that have the same values (a few
        combinations recur across many studies)."""
        text = str(study.get("studyDescription") or "").casefold()
        values = self._shared.setdefault(values, values)
        # orjson's bytes keep a ~4 KiB buffer; an exact-size copy is what is kept.
        return (memoryview(core)[:-1].tobytes(), reference, values, text, at)

    def _values(self, study: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            study.get(path[0]) if len(path) == 1 else value_at(study, path)
            for path in self._indexed
        )

    def _plan(self, filters: Filters) -> tuple[list[str], list[tuple[int, Any]]]:
        """The shortest position list to walk, and the conditions left to check on each row."""
        conditions: list[tuple[int, Any]] = []
        for path, wanted in filters.equal.items():
            if path not in self._indexed:
                raise KeyError(f"{'.'.join(path)} is not an indexed field of this store")
            conditions.append((self._indexed.index(path), wanted))
        best: list[str] = self._order
        for k, wanted in conditions:
            candidate = self._index[k].get(wanted, [])
            if best is self._order or len(candidate) < len(best):
                best = candidate
        return best, conditions


def _json(row: Row) -> bytes:
    """A row's full JSON: its core, then its shared API-key reference as the last field."""
    return b"".join((row[CORE], REFERENCE_FIELD, row[REFERENCE], b"}"))


def _insert(positions: list[str], at: str) -> None:
    """Insert keeping order; new studies are the newest, so this is an append in practice."""
    if not positions or positions[-1] < at:
        positions.append(at)
    else:
        bisect.insort(positions, at)


def _insert_once(positions: list[str], at: str) -> None:
    """Insert unless there already (a study that goes back to a value it once had)."""
    i = bisect.bisect_left(positions, at)
    if i == len(positions) or positions[i] != at:
        positions.insert(i, at)
