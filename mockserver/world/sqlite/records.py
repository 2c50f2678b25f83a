"""The clinic's people in a state file: users and invitations, whose access is revoked, and
the clinic's id, owner and whether the seeded people are in yet.

A clinic holds hundreds of people, so a filtered page reads the rows after the cursor's
position in order and tests each, as the memory store does; the users' e-mail (casefolded)
is a UNIQUE column, so two processes inviting the same address cannot both succeed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, MutableSet
from contextlib import AbstractContextManager
from typing import Any

import orjson

from mockserver.world.records import DuplicateKey, Record, RecordPage, Records
from mockserver.world.sqlite.database import Database

CLINIC_ID, OWNER_ID, SEEDED = "clinic_id", "owner_id", "seeded"


class SqliteRecordStore:
    """Records keyed by ``id_field`` in ``table``; ``unique`` gives the key no two records
    may share (None: none)."""

    def __init__(
        self,
        database: Database,
        table: str,
        id_field: str,
        unique: Callable[[Record], str] | None = None,
    ) -> None:
        self._db = database
        self._table = table
        self._id_field = id_field
        self._unique = unique

    def position(self, record: Record) -> str:
        return f"{record['createdAt']}|{record[self._id_field]}"

    def add(self, record: Record) -> Record:
        body = orjson.dumps(record)
        row = (record[self._id_field], self.position(record), self._key(record), body)
        try:
            with self._db.write(single=True) as connection:
                connection.execute(
                    f"INSERT INTO {self._table} (id, position, unique_key, body) "
                    "VALUES (?, ?, ?, ?)",
                    row,
                )
        except sqlite3.IntegrityError as exc:
            if "unique_key" in str(exc):
                raise DuplicateKey(f"{self._table}: {row[2]!r} is taken") from None
            raise
        kept: Record = orjson.loads(body)
        return kept

    def get(self, record_id: str) -> Record | None:
        row = self._db.one(f"SELECT body FROM {self._table} WHERE id = ?", (record_id,))
        return None if row is None else orjson.loads(row[0])

    def replace(self, record: Record) -> Record:
        with self._db.write(single=True) as connection:
            connection.execute(
                f"UPDATE {self._table} SET body = ?, unique_key = ? WHERE id = ?",
                (orjson.dumps(record), self._key(record), record[self._id_field]),
            )
        return record

    def find(self, match: Callable[[Record], bool]) -> Record | None:
        for record in self._walk(None, descending=True):
            if match(record[1]):
                return record[1]
        return None

    def page(self, match: Callable[[Record], bool], after: str | None, limit: int) -> RecordPage:
        found: list[Record] = []
        last: str | None = None
        for at, record in self._walk(after, descending=True):
            if not match(record):
                continue
            if len(found) == limit:
                return RecordPage(found, last)
            found.append(record)
            last = at
        return RecordPage(found, None)

    def records(self) -> Iterator[Record]:
        return (record for _, record in self._walk(None, descending=False))

    def __len__(self) -> int:
        return int(self._db.one(f"SELECT count(*) FROM {self._table}")[0])

    def clear(self) -> None:
        with self._db.write() as connection:
            connection.execute(f"DELETE FROM {self._table}")

    def _key(self, record: Record) -> str | None:
        return None if self._unique is None else self._unique(record)

    def _walk(self, after: str | None, *, descending: bool) -> Iterator[tuple[str, Record]]:
        order = "DESC" if descending else "ASC"
        where, parameters = ("WHERE position < ? ", (after,)) if after is not None else ("", ())
        rows = self._db.stream(
            f"SELECT position, body FROM {self._table} {where}ORDER BY position {order}",
            parameters,
        )
        return ((str(at), orjson.loads(body)) for at, body in rows)


class SqliteSet(MutableSet[str]):
    """The revoked userIds, as a set of text kept in a table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def __contains__(self, item: object) -> bool:
        return self._db.one("SELECT 1 FROM revoked WHERE user_id = ?", (item,)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter([str(row[0]) for row in self._db.rows("SELECT user_id FROM revoked")])

    def __len__(self) -> int:
        return int(self._db.one("SELECT count(*) FROM revoked")[0])

    def add(self, value: str) -> None:
        with self._db.write(single=True) as connection:
            connection.execute("INSERT OR IGNORE INTO revoked (user_id) VALUES (?)", (value,))

    def discard(self, value: str) -> None:
        with self._db.write(single=True) as connection:
            connection.execute("DELETE FROM revoked WHERE user_id = ?", (value,))

    def clear(self) -> None:
        with self._db.write(single=True) as connection:
            connection.execute("DELETE FROM revoked")

    def hold(self, values: Iterable[str]) -> None:
        """Exactly these values."""
        with self._db.write() as connection:
            connection.execute("DELETE FROM revoked")
            connection.executemany(
                "INSERT OR IGNORE INTO revoked (user_id) VALUES (?)", [(v,) for v in values]
            )


def _email(record: Record) -> str:
    return str(record["email"]).casefold()


class SqlitePeople:
    """A clinic's people (``world.clinic.People``) in a state file; ``start_clinic_id`` is
    the clinic's id until the file holds one."""

    def __init__(self, database: Database, start_clinic_id: str) -> None:
        self._db = database
        self._start_clinic_id = start_clinic_id
        self._users = SqliteRecordStore(database, "users", "userId", _email)
        self._invitations = SqliteRecordStore(database, "invitations", "invitationId")
        self._revoked = SqliteSet(database)

    @property
    def users(self) -> Records:
        return self._users

    @property
    def invitations(self) -> Records:
        return self._invitations

    @property
    def revoked(self) -> MutableSet[str]:
        return self._revoked

    @property
    def clinic_id(self) -> str:
        return self._db.meta(CLINIC_ID) or self._start_clinic_id

    @clinic_id.setter
    def clinic_id(self, value: str) -> None:
        self._db.set_meta(CLINIC_ID, value)

    @property
    def owner_id(self) -> str:
        return self._db.meta(OWNER_ID) or ""

    @owner_id.setter
    def owner_id(self, value: str) -> None:
        self._db.set_meta(OWNER_ID, value)

    @property
    def seeded(self) -> bool:
        return self._db.meta(SEEDED) is not None

    @seeded.setter
    def seeded(self, value: bool) -> None:
        self._db.set_meta(SEEDED, "1" if value else None)

    def hold(self, users: Records, invitations: Records, revoked: set[str]) -> None:
        """Copy these in, in one transaction (``atomic``) with the rest of a load."""
        with self._db.write():
            for mine, theirs in ((self._users, users), (self._invitations, invitations)):
                if theirs is mine:
                    continue
                mine.clear()
                for record in theirs.records():
                    mine.add(record)
            self._revoked.hold(revoked)

    def atomic(self) -> AbstractContextManager[Any]:
        return self._db.write()
