"""Opening a state file: checking it before anything writes to it, and its schema.

A file that is not SQLite, a newer schema version (``PRAGMA user_version``), another
application's database or a corrupt one (``PRAGMA quick_check``) raise ``StateFileError``
and the file is left as it was: the checks run on a read-only connection. A new (or empty)
file gets the schema. ``synchronous=NORMAL`` (WAL): a commit has written its frames to the
WAL through the OS before it returns, so an acknowledged write survives a kill -9 of the mock
(what tests/test_sqlite_durability.py checks); only an OS crash or power cut may lose the last
commits. FULL would also fsync every commit, for a power cut a mock need not survive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

SCHEMA_VERSION = 1
"""What ``PRAGMA user_version`` says about the tables below; a newer file is refused."""
HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another process's write to finish before it fails."""
TABLES = ("meta", "api_keys", "studies", "users", "invitations", "revoked")
NEW = "new"
"""A meta key present from the schema's creation until the first mock claims the world."""


class StateFileError(ValueError):
    """A ``--state`` file this mock will not open; the message names the file and what is
    wrong, for the CLI to print before it exits (status 2)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return f"--state {self.path}: {self.problem}. The file was left untouched."


def _schema(filters: int) -> list[str]:
    """The tables and indexes; study filters are columns ``f0``.. with no type (no affinity,
    so a value keeps its type: text ``'1'`` is not the integer ``1``)."""
    columns = "".join(f", f{k}" for k in range(filters))
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE api_keys (key_id INTEGER PRIMARY KEY, reference BLOB NOT NULL UNIQUE)",
        "CREATE TABLE studies (study_id TEXT PRIMARY KEY, uid TEXT NOT NULL UNIQUE, "
        "position TEXT NOT NULL, core BLOB NOT NULL, key_id INTEGER NOT NULL, "
        f"folded TEXT NOT NULL{columns})",
        "CREATE INDEX studies_position ON studies (position)",
        *(f"CREATE INDEX studies_f{k} ON studies (f{k}, position)" for k in range(filters)),
        *(
            f"CREATE TABLE {table} (id TEXT PRIMARY KEY, position TEXT NOT NULL, "
            "unique_key TEXT UNIQUE, body BLOB NOT NULL)"
            for table in ("users", "invitations")
        ),
        "CREATE INDEX users_position ON users (position)",
        "CREATE INDEX invitations_position ON invitations (position)",
        "CREATE TABLE revoked (user_id TEXT PRIMARY KEY)",
    ]


def check_state_file(path: str) -> None:
    """Open the file as a mock would (making it if new), check it, close it; raises
    ``StateFileError``. A supervisor calls this once before its workers start."""
    from mockserver.contract import Contract
    from mockserver.resources.studies import filters_of

    filters = tuple(filters_of(Contract.load()).values())
    open_connection(path, layout_of(filters), len(filters)).close()


def layout_of(filters: Sequence[tuple[str, ...]]) -> str:
    """The text a file keeps of which study fields its columns ``f0``.. hold."""
    return ",".join(".".join(path) for path in filters)


def open_connection(path: str, layout: str, filters: int) -> sqlite3.Connection:
    """A read-write connection to ``path`` in WAL mode, after the checks (``StateFileError``)."""
    file = Path(path)
    if file.is_dir():
        raise StateFileError(path, "is a directory, not a state file")
    existed = file.exists() and file.stat().st_size > 0
    if existed:
        try:
            with file.open("rb") as stream:
                header = stream.read(len(HEADER))
        except OSError as exc:
            raise StateFileError(path, f"cannot be read ({exc.strerror})") from None
        if header != HEADER:
            raise StateFileError(path, "is not a SQLite database (it lacks the SQLite header)")
    if existed:
        _check_read_only(path, layout)
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StateFileError(path, f"cannot be opened ({exc})") from None
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        _create(connection, layout, filters)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise StateFileError(path, f"is corrupt or not a state file ({exc})") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _check_read_only(path: str, layout: str) -> None:
    """The checks, on a read-only connection: closing it never writes the file (a read-write
    one that closes last moves the WAL into the file, which changes its bytes)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StateFileError(path, f"cannot be opened ({exc})") from None
    try:
        _check(connection, path, layout)
    except sqlite3.DatabaseError as exc:
        raise StateFileError(path, f"is corrupt or not a state file ({exc})") from None
    finally:
        connection.close()


def _check(connection: sqlite3.Connection, path: str, layout: str) -> None:
    """Refuse a file this mock must not write to; only reads, so the file stays as it was."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateFileError(
            path,
            f"was written by a newer avara-mock (schema version {version}; this one reads "
            f"version {SCHEMA_VERSION} and older). Use that avara-mock, or another file",
        )
    found = [str(row[0]) for row in connection.execute("PRAGMA quick_check").fetchall()]
    if found != ["ok"]:
        raise StateFileError(path, f"is corrupt (PRAGMA quick_check: {'; '.join(found[:3])})")
    tables = {
        str(row[0])
        for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if version == 0 and tables:
        raise StateFileError(
            path, "is another application's SQLite database (no avara-mock schema version)"
        )
    if version == SCHEMA_VERSION:
        missing = sorted(set(TABLES) - tables)
        if missing:
            raise StateFileError(path, f"is damaged: it lacks the tables {', '.join(missing)}")
        row = connection.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
        if row is None or row[0] != layout:
            raise StateFileError(
                path,
                f"keeps the list filters {row and row[0]!r}, this mock's contract has "
                f"{layout!r} (written by another avara-mock version)",
            )


def _create(connection: sqlite3.Connection, layout: str, filters: int) -> None:
    """The schema, once: the first process to take the write lock makes it."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if int(connection.execute("PRAGMA user_version").fetchone()[0]) == 0:
            for statement in _schema(filters):
                connection.execute(statement)
            connection.execute("INSERT INTO meta (key, value) VALUES ('layout', ?)", (layout,))
            connection.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (NEW,))
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
