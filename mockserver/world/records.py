"""A small in-memory store of records (users, invitations): by id, by a unique key, in list
order (createdAt then id, newest first) with keyset pages.

A clinic holds hundreds of users, not the hundred thousands of studies a worklist holds, so a
filtered page checks every record after the cursor's position instead of keeping indexes.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]


class DuplicateKey(ValueError):
    """A record's unique key (a user's e-mail) is another record's already: a state file's
    constraint found it, when another process added that record since the service looked."""


@dataclass(frozen=True)
class RecordPage:
    """One page: the records, and the position the next page starts after (None: last)."""

    records: list[Record]
    next_after: str | None


class Records(Protocol):
    """What a store of records offers, in memory (``RecordStore``) or in a state file."""

    def position(self, record: Record) -> str: ...

    def add(self, record: Record) -> Record: ...

    def get(self, record_id: str) -> Record | None: ...

    def replace(self, record: Record) -> Record: ...

    def find(self, match: Callable[[Record], bool]) -> Record | None: ...

    def page(
        self, match: Callable[[Record], bool], after: str | None, limit: int
    ) -> RecordPage: ...

    def records(self) -> Iterator[Record]: ...

    def __len__(self) -> int: ...

    def clear(self) -> None: ...


class RecordStore:
    """Records keyed by ``id_field``; ``position`` (createdAt|id) orders lists."""

    def __init__(self, id_field: str) -> None:
        self._id_field = id_field
        self._records: dict[str, Record] = {}
        self._order: list[str] = []

    def position(self, record: Record) -> str:
        """A record's place in lists: createdAt then id, as one sortable text."""
        return f"{record['createdAt']}|{record[self._id_field]}"

    def add(self, record: Record) -> Record:
        """Keep a new record (a copy); returns it."""
        kept = copy.deepcopy(record)
        self._records[kept[self._id_field]] = kept
        bisect.insort(self._order, self.position(kept))
        return copy.deepcopy(kept)

    def get(self, record_id: str) -> Record | None:
        """A copy of the record, so callers may change it and ``replace`` it."""
        found = self._records.get(record_id)
        return None if found is None else copy.deepcopy(found)

    def replace(self, record: Record) -> Record:
        """Store a changed record (same id and createdAt)."""
        self._records[record[self._id_field]] = copy.deepcopy(record)
        return record

    def find(self, match: Callable[[Record], bool]) -> Record | None:
        """The newest record that matches, if any."""
        for at in reversed(self._order):
            record = self._records[self._id_of(at)]
            if match(record):
                return copy.deepcopy(record)
        return None

    def page(self, match: Callable[[Record], bool], after: str | None, limit: int) -> RecordPage:
        """Up to ``limit`` matching records after position ``after``, newest first."""
        end = len(self._order) if after is None else bisect.bisect_left(self._order, after)
        found: list[Record] = []
        last: str | None = None
        for i in range(end - 1, -1, -1):
            record = self._records[self._id_of(self._order[i])]
            if not match(record):
                continue
            if len(found) == limit:
                return RecordPage(found, last)
            found.append(copy.deepcopy(record))
            last = self._order[i]
        return RecordPage(found, None)

    def records(self) -> Iterator[Record]:
        """Every record, oldest first (copies)."""
        return (copy.deepcopy(self._records[self._id_of(at)]) for at in self._order)

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """Forget every record."""
        self._records.clear()
        self._order.clear()

    @staticmethod
    def _id_of(at: str) -> str:
        return at.rsplit("|", 1)[1]
