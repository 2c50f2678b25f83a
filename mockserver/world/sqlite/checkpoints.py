"""WAL checkpoints in a thread of their own, off the path of every answer.

A checkpoint copies the WAL's pages back into the database file and syncs both: with
SQLite's automatic checkpoint it runs inside the commit that takes the WAL past 1000 pages,
so every few hundred creates one answer waited for two fsyncs (on the development machine,
more than half of what a create with ``--state`` cost). Here a thread with its own connection
runs a PASSIVE checkpoint every ``INTERVAL_S`` (it never blocks a writer, nor waits for one),
and the automatic checkpoint stays as the bound on the WAL (``WAL_BOUND_PAGES``), for when
the thread cannot keep up. The thread ends when its database closes or is collected.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from typing import Protocol

INTERVAL_S = 0.2
"""Measured side by side (bench/side_by_side.py --state): 1 s served as many creates as 0.2 s."""
WAL_BOUND_PAGES = 8192
"""32 MiB of 4 KiB pages: past it, the commit that gets there checkpoints itself."""


class Closable(Protocol):
    """What the thread needs to know of its database."""

    @property
    def closed(self) -> bool: ...


class Checkpointer:
    """Checkpoints ``path`` every ``interval_s`` while ``owner`` is open."""

    def __init__(self, path: str, owner: Closable, interval_s: float = INTERVAL_S) -> None:
        self.checkpoints = 0
        """PASSIVE checkpoints run so far."""
        self._path = path
        self._owner = weakref.ref(owner)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="avara-mock-checkpoints", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the thread (it finishes the checkpoint under way first)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval_s):
                owner = self._owner()
                if owner is None or owner.closed:
                    return
                del owner
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue
                self.checkpoints += 1
        finally:
            connection.close()
