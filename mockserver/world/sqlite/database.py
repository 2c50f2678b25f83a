"""One connection to a state file, and its transactions: every write is committed before
its answer goes out, and the writes of one turn of the event loop share one commit.

A write is a transaction (``BEGIN IMMEDIATE``). Outside a request, it commits when it ends.
Inside one (``deferring()``, which the HTTP edge's middleware opens around every request),
it leaves the transaction open; the next requests of the same turn of the event loop write
into it, each in its own savepoint (a refused write rolls back alone), and the first of them
to answer commits it for all (``settle()``): group commit. No answer leaves before the
transaction holding what it wrote, or what it read while writes were pending, has committed;
if that commit fails, every answer that waited on it is a 503 and none of its writes is kept.

A commit writes the WAL frames of every page its writes touched; shared by the requests of
one turn (about 15 under wrk's 32 connections), the hot pages of each index are written once
for all of them (bench/durable.py: with checkpoints off the commits too, create with
``--state`` went from 0.15 to 0.31 of the bare app's throughput). Waiting longer for more
requests to join costs more than it saves (side by side: a second turn, or a 1 ms timer, served
7% fewer creates). Several processes share
the file: ``busy_timeout`` makes a writer wait for the one writing, and every
read is its own snapshot of what has been committed, by any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from mockserver.errors import ServiceUnavailable
from mockserver.world.sqlite.checkpoints import WAL_BOUND_PAGES, Checkpointer
from mockserver.world.sqlite.file import BUSY_TIMEOUT_S, NEW, open_connection

LOST_KEPT = 64
"""How many lost transactions are remembered for the answers still waiting on them."""


class StateWriteFailed(ServiceUnavailable):
    """A write the state file could not take (locked by another process past the busy
    timeout, disk full, an I/O error): answered 503, and nothing of it is kept."""

    def __init__(self, path: str, exc: sqlite3.Error) -> None:
        super().__init__(
            f"avara-mock could not write its state file {path} ({exc}); nothing of this "
            "request was kept. Retry; if it persists, check the disk and that no other "
            f"program holds the file locked for more than {BUSY_TIMEOUT_S:.0f} s."
        )


class Database:
    """One connection to a state file, shared by the stores of one mock.

    ``write()`` is a transaction; nested ones join the outermost. A lock keeps another
    thread (the pytest plugin's) out of a statement or a write this one is in; a transaction
    left open for others to join may take another thread's writes too, and any commit
    commits them all.
    """

    def __init__(self, path: str, layout: str, filters: int) -> None:
        self.path = path
        self.commits = 0
        """Transactions committed so far (fewer than writes, when requests share them)."""
        self._connection = open_connection(path, layout, filters)
        self._lock = threading.RLock()
        self._depth = 0
        self._open = False
        self._number = 0
        self._lost: dict[int, sqlite3.Error] = {}
        self._after: list[Callable[[], None]] = []
        self._deferring: ContextVar[bool] = ContextVar("deferring", default=False)
        self._wrote: ContextVar[int | None] = ContextVar("wrote", default=None)
        self._checkpointer: Checkpointer | None = None
        self._closed = False
        self._meta: dict[str, str | None] = {}
        self._version: int | None = None

    @contextlib.contextmanager
    def write(self, single: bool = False) -> Iterator[sqlite3.Connection]:
        """A write: the transaction of this turn (in a savepoint of it) or a new one; or,
        nested, the write already under way. ``StateWriteFailed`` if the file refuses it.

        ``single``: the write changes the file with one statement, which SQLite undoes by
        itself when it fails, so it needs no savepoint (a savepoint makes every page the
        write touches be copied first: it would more than double the cost of a create).
        """
        with self._lock:
            connection = self._connection
            if self._depth:
                self._depth += 1
                try:
                    yield connection
                finally:
                    self._depth -= 1
                return
            joined = self._open
            saved = joined and not single
            self._begin(joined, saved)
            self._depth = 1
            kept = len(self._after)
            try:
                yield connection
            except BaseException as exc:
                del self._after[kept:]
                self._undo(joined, saved)
                if isinstance(exc, sqlite3.OperationalError):
                    raise StateWriteFailed(self.path, exc) from exc
                raise
            finally:
                self._depth = 0
            if saved:
                connection.execute("RELEASE write")
            self._open = True
            if not self._deferring.get():
                self.commit()
            elif self._wrote.get() is None:
                self._wrote.set(self._number)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def checkpoint_in_background(self) -> None:
        """Move the WAL's checkpoints out of the commits, into a thread (``checkpoints.py``);
        the HTTP edge asks for it when it starts answering."""
        with self._lock:
            if self._checkpointer is None and not self._closed and self.path != ":memory:":
                self._connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_BOUND_PAGES}")
                self._checkpointer = Checkpointer(self.path, self)
                self._checkpointer.start()

    @property
    def checkpointer(self) -> Checkpointer | None:
        """The thread checkpointing the WAL, once the HTTP edge asked for one."""
        return self._checkpointer

    @property
    def writing(self) -> bool:
        """Whether a write is under way."""
        return self._depth > 0

    def after_commit(self, done: Callable[[], None]) -> None:
        """Run ``done`` once the write under way commits (never, if it is rolled back)."""
        self._after.append(done)

    @contextlib.contextmanager
    def deferring(self) -> Iterator[None]:
        """Writes inside leave their transaction open for the other requests of this turn
        of the event loop; whoever opened this must ``settle()`` before answering."""
        deferring, wrote = self._deferring.set(True), self._wrote.set(None)
        try:
            yield
        finally:
            self._deferring.reset(deferring)
            self._wrote.reset(wrote)

    async def settle(self) -> None:
        """Return once what this request wrote, or read while writes were pending, is
        committed; ``StateWriteFailed`` if a transaction holding its writes was lost. It
        first lets every other request ready in this turn of the event loop write into the
        open transaction, then commits it for them all, unless one of them has already."""
        with self._lock:
            first = self._wrote.get()
            if not self._open:
                self._raise_if_lost(first, self._number)
                return
            number = self._number
        await asyncio.sleep(0)
        with self._lock:
            if number == self._number and self._open:
                self.commit()
        self._raise_if_lost(number if first is None else first, number + 1)

    def finish(self) -> None:
        """Commit what this request left pending (it ended without an answer); a failure
        is dropped: nobody was told the write was kept."""
        with contextlib.suppress(StateWriteFailed), self._lock:
            if self._wrote.get() is not None:
                self.commit()

    def commit(self) -> None:
        """Commit the open transaction, if there is one; ``StateWriteFailed`` if it fails
        (then it is rolled back, with every write in it)."""
        with self._lock:
            if not self._open:
                return
            if self._depth:
                raise RuntimeError("a transaction is committed only between writes")
            number, self._number, self._open = self._number, self._number + 1, False
            after, self._after = self._after, []
            try:
                self._connection.execute("COMMIT")
            except sqlite3.Error as exc:
                self._meta.clear()
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise self._lose(number, exc) from exc
            self.commits += 1
            for done in after:
                done()

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The first row a query answers, or None."""
        with self._lock:
            return self._connection.execute(sql, parameters).fetchone()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """Every row a query answers."""
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def stream(self, sql: str, parameters: Sequence[Any] = (), size: int = 500) -> Iterator[Any]:
        """The rows of a query, fetched ``size`` at a time (a list of a million studies is
        never all in memory at once)."""
        with self._lock:
            cursor = self._connection.execute(sql, parameters)
        while True:
            with self._lock:
                batch = cursor.fetchmany(size)
            if not batch:
                return
            yield from batch

    def meta(self, key: str) -> str | None:
        """A value of the meta table (the clock, the clinic's id, ...).

        Every create reads the clock's, so values are kept: inside a transaction of this
        connection, what it saw when the transaction began, with its own writes since; outside
        one, until ``PRAGMA data_version`` says another connection committed."""
        with self._lock:
            if not self._connection.in_transaction:
                self._check_version()
            try:
                return self._meta[key]
            except KeyError:
                row = self._connection.execute(
                    "SELECT value FROM meta WHERE key = ?", (key,)
                ).fetchone()
                value = self._meta[key] = None if row is None else str(row[0])
                return value

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or, with None, remove) a meta value."""
        with self.write(single=True) as connection:
            if value is None:
                connection.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
            self._meta[key] = value

    def claim_new(self) -> bool:
        """True for the first mock to open a file since its schema was made (it may load a
        ``--scenario`` into it); False for every other, and after a restart."""
        with self.write() as connection:
            self._meta.pop(NEW, None)
            return connection.execute("DELETE FROM meta WHERE key = ?", (NEW,)).rowcount > 0

    def close(self) -> None:
        """Commit what is pending and close the connection (the last one to close
        checkpoints the WAL into the file)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.stop()
            self.commit()
            self._connection.close()

    def _begin(self, joined: bool, saved: bool) -> None:
        """A new transaction holding the file's write lock (waiting ``BUSY_TIMEOUT_S`` for
        another process's), or a savepoint of the open one, or (single) nothing."""
        if joined and not saved:
            return
        try:
            self._connection.execute("SAVEPOINT write" if joined else "BEGIN IMMEDIATE")
            if not joined:
                self._check_version()
        except sqlite3.OperationalError as exc:
            raise StateWriteFailed(self.path, exc) from exc

    def _check_version(self) -> None:
        """Forget the meta values kept if another connection has committed since."""
        version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._meta.clear()
            self._version = version

    def _undo(self, joined: bool, saved: bool) -> None:
        """Roll back a failed write: its savepoint, or its transaction; a single statement
        SQLite has undone already. SQLite rolls back a whole transaction by itself on some
        errors (a full disk): the writes of the other requests in it are then lost too, and
        so is their answer."""
        connection = self._connection
        self._meta.clear()
        if joined and connection.in_transaction:
            if saved:
                connection.execute("ROLLBACK TO write")
                connection.execute("RELEASE write")
            return
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        if joined:
            self._lose(self._number, sqlite3.OperationalError("the transaction was rolled back"))
            self._number += 1
            self._after.clear()
        self._open = False

    def _raise_if_lost(self, first: int | None, end: int) -> None:
        """``StateWriteFailed`` if a transaction from ``first`` to before ``end`` was lost."""
        if first is None:
            return
        for number in range(first, end):
            lost = self._lost.get(number)
            if lost is not None:
                raise StateWriteFailed(self.path, lost)

    def _lose(self, number: int, exc: sqlite3.Error) -> StateWriteFailed:
        """Remember that transaction ``number`` was lost, for the answers waiting on it."""
        self._lost[number] = exc
        while len(self._lost) > LOST_KEPT:
            del self._lost[next(iter(self._lost))]
        return StateWriteFailed(self.path, exc)
