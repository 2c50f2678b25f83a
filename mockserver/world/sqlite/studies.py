"""The studies of a state file: one row per study, keyset pages by SQL indexes.

A row holds the study's JSON less its ``createdByApiKey`` reference (kept once per API key in
``api_keys``, joined on the way out), its list position, its casefolded description and the
values of the indexed fields (``f0``..), each with an index on (value, position): a page is
one indexed range scan, O(limit), whatever the number of studies. Nothing read is cached in
Python but the API-key references, which never change once written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from mockserver.world.sqlite.database import Database
from mockserver.world.store import FieldPath, Filters, Page, join, position, uid_taken, value_at

KEYS_KEPT = 4096
"""At most this many API-key references are kept in Python (a new key is a SELECT then)."""


class SqliteStudyStore:
    """Stored studies by id, by UID and in list order, in a state file."""

    def __init__(self, database: Database, indexed: Sequence[FieldPath] = ()) -> None:
        self._db = database
        self._indexed = tuple(indexed)
        self._key_ids: dict[bytes, int] = {}
        self._references: dict[int, bytes] = {}
        columns = "".join(f", f{k}" for k in range(len(self._indexed)))
        marks = ", ?" * len(self._indexed)
        self._insert = (
            "INSERT INTO studies (study_id, uid, position, core, key_id, folded"
            f"{columns}) VALUES (?, ?, ?, ?, ?, ?{marks})"
        )
        sets = "".join(f", f{k} = ?" for k in range(len(self._indexed)))
        self._update = (
            f"UPDATE studies SET core = ?, folded = ?{sets} WHERE study_id = ? RETURNING key_id"
        )

    def add(self, study: dict[str, Any], reference: bytes) -> bytes:
        uid, study_id = study["studyInstanceUid"], study["studyId"]
        core = orjson.dumps(study)
        at, folded, values = position(study), _folded(study), self._values(study)
        with self._db.write(single=reference in self._key_ids) as connection:
            key_id = self._key_id(connection, reference)
            row = (study_id, uid, at, core, key_id, folded, *values)
            try:
                connection.execute(self._insert, row)
            except sqlite3.IntegrityError:
                existing = self.id_of_uid(uid)
                if existing is None:
                    raise
                raise uid_taken(uid, existing) from None
        return join(core, reference)

    def get(self, study_id: str) -> dict[str, Any] | None:
        row = self._db.one("SELECT core FROM studies WHERE study_id = ?", (study_id,))
        return None if row is None else orjson.loads(row[0])

    def get_json(self, study_id: str) -> bytes | None:
        row = self._db.one("SELECT core, key_id FROM studies WHERE study_id = ?", (study_id,))
        return None if row is None else join(row[0], self._reference(row[1]))

    def id_of_uid(self, uid: str) -> str | None:
        row = self._db.one("SELECT study_id FROM studies WHERE uid = ?", (uid,))
        return None if row is None else str(row[0])

    def replace(self, study: dict[str, Any]) -> bytes:
        core = orjson.dumps(study)
        changed = (core, _folded(study), *self._values(study), study["studyId"])
        with self._db.write(single=True) as connection:
            key_id = connection.execute(self._update, changed).fetchone()[0]
        return join(core, self._reference(key_id))

    def page(self, filters: Filters, after: str | None, limit: int) -> Page:
        conditions: list[str] = []
        parameters: list[Any] = []
        for path, wanted in filters.equal.items():
            if path not in self._indexed:
                raise KeyError(f"{'.'.join(path)} is not an indexed field of this store")
            k = self._indexed.index(path)
            if wanted is None:
                conditions.append(f"f{k} IS NULL")
            else:
                conditions.append(f"f{k} = ?")
                parameters.append(wanted)
        if filters.contains is not None:
            conditions.append("instr(folded, ?) > 0")
            parameters.append(filters.contains.casefold())
        if after is not None:
            conditions.append("position < ?")
            parameters.append(after)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._db.rows(
            f"SELECT core, key_id, position FROM studies{where} ORDER BY position DESC LIMIT ?",
            (*parameters, limit + 1),
        )
        found = [join(core, self._reference(key_id)) for core, key_id, _ in rows[:limit]]
        return Page(found, rows[limit - 1][2] if len(rows) > limit else None)

    def ids_with(self, path: FieldPath, value: Any) -> list[str]:
        k = self._indexed.index(path)
        test, parameters = ("IS NULL", ()) if value is None else ("= ?", (value,))
        rows = self._db.rows(f"SELECT study_id FROM studies WHERE f{k} {test}", parameters)
        return [str(row[0]) for row in rows]

    def studies(self) -> Iterator[dict[str, Any]]:
        for core, key_id in self._db.stream("SELECT core, key_id FROM studies ORDER BY position"):
            yield orjson.loads(join(core, self._reference(key_id)))

    def __len__(self) -> int:
        return int(self._db.one("SELECT count(*) FROM studies")[0])

    def empty(self) -> SqliteStudyStore:
        """This store, emptied: a state file builds a loaded state inside the one write
        transaction that also swaps it in (``Services.transaction``), so a failure rolls it
        all back; outside a transaction, a new store in memory is all that can be built."""
        if not self._db.writing:
            raise RuntimeError("a state file's store is emptied only inside a transaction")
        self.clear()
        return self

    def clear(self) -> None:
        with self._db.write() as connection:
            connection.execute("DELETE FROM studies")

    def _values(self, study: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(value_at(study, path) for path in self._indexed)

    def _key_id(self, connection: sqlite3.Connection, reference: bytes) -> int:
        """The id of an API-key reference, written if new (rows of api_keys never go)."""
        key_id = self._key_ids.get(reference)
        if key_id is not None:
            return key_id
        connection.execute(
            "INSERT INTO api_keys (reference) VALUES (?) ON CONFLICT DO NOTHING", (reference,)
        )
        found = connection.execute(
            "SELECT key_id FROM api_keys WHERE reference = ?", (reference,)
        ).fetchone()
        made = int(found[0])
        self._db.after_commit(lambda: self._keep(reference, made))
        return made

    def _reference(self, key_id: int) -> bytes:
        reference = self._references.get(key_id)
        if reference is None:
            row = self._db.one("SELECT reference FROM api_keys WHERE key_id = ?", (key_id,))
            reference = bytes(row[0])
            self._keep(reference, key_id)
        return reference

    def _keep(self, reference: bytes, key_id: int) -> None:
        if len(self._key_ids) >= KEYS_KEPT:
            self._key_ids.clear()
            self._references.clear()
        self._key_ids[reference] = key_id
        self._references[key_id] = reference


def _folded(study: dict[str, Any]) -> str:
    """The description as the contains-filter compares it (as the memory store does)."""
    return str(study.get("studyDescription") or "").casefold()
