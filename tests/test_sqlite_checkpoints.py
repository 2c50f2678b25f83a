"""WAL checkpoints in their own thread (mockserver/world/sqlite/checkpoints.py): they copy
the WAL into the file off the commits, and the thread ends with its database."""

from __future__ import annotations

import gc
import sqlite3
import time
from pathlib import Path

from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.world.sqlite.checkpoints import Checkpointer
from mockserver.world.sqlite.database import Database
from tests.conftest import AUTH

WAIT_S = 10.0


class Owner:
    """A database as the thread sees it: open until closed."""

    closed = False


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_S} s for {what}")
        time.sleep(0.01)


def filled_wal(path: Path) -> sqlite3.Connection:
    """A WAL of about 2 MiB that nothing has checkpointed yet, on a connection kept open."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE rows (body BLOB)")
    writer.execute("BEGIN")
    writer.executemany("INSERT INTO rows VALUES (?)", [(b"x" * 1000,) for _ in range(2000)])
    writer.execute("COMMIT")
    return writer


def test_sqlite_checkpoints_copy_the_wal_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = filled_wal(path)
    before = path.stat().st_size
    owner = Owner()
    checkpointer = Checkpointer(str(path), owner, interval_s=0.01)
    checkpointer.start()
    try:
        wait_for(lambda: checkpointer.checkpoints >= 1, "a checkpoint")
        assert path.stat().st_size > before + 1_000_000
    finally:
        checkpointer.stop()
        writer.close()
    assert not checkpointer.running


def test_sqlite_checkpoints_thread_ends_when_its_database_closes_or_goes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    filled_wal(path).close()
    closed, gone = Owner(), Owner()
    first = Checkpointer(str(path), closed, interval_s=0.01)
    second = Checkpointer(str(path), gone, interval_s=0.01)
    first.start()
    second.start()
    closed.closed = True
    del gone
    gc.collect()
    wait_for(lambda: not first.running and not second.running, "both threads to end")


def test_sqlite_checkpoints_served_mock_checkpoints_in_a_thread_until_closed(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(state=str(tmp_path / "state.db")))
    database = app.state.services.database
    assert isinstance(database, Database)
    assert database.checkpointer is None
    with TestClient(app, headers=AUTH) as client:
        answer = client.post(
            "/v1/viewer/studies",
            json={"studyInstanceUid": "2.25.1", "severity": "normal", "studyDescription": "XR"},
        )
        assert answer.status_code == 201
    checkpointer = database.checkpointer
    assert checkpointer is not None
    assert checkpointer.running
    assert database.one("PRAGMA wal_autocheckpoint")[0] > 1000
    database.close()
    assert not checkpointer.running
