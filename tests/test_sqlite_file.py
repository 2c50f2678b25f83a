"""A state file refused at start: a newer schema version, random bytes, a truncated file,
another application's database; each raises StateFileError naming the file, and leaves its
bytes as they were. A good file reopens with its world."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.world.sqlite import StateFileError, check_state_file
from mockserver.world.sqlite.file import SCHEMA_VERSION
from mockserver.world.sqlite.studies import SqliteStudyStore
from tests.conftest import AUTH, ROOT
from tests.state_world import created, invited, lived_in, state_bytes

STUDIES = "/v1/viewer/studies"


def lived_in_file(path: Path) -> None:
    """A state file with a world in it, its connection closed."""
    app = create_app(Settings(seed=3, state=str(path)))
    with TestClient(app, headers=AUTH) as client:
        lived_in(client)
    app.state.services.close()


def newer(path: Path) -> None:
    lived_in_file(path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def truncated(path: Path) -> None:
    lived_in_file(path)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def foreign(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
        connection.execute("INSERT INTO orders (total) VALUES (9.5)")
    connection.close()


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "newer-version": (newer, "newer avara-mock"),
    "random-bytes": (random_bytes, "not a SQLite database"),
    "truncated": (truncated, "corrupt"),
    "another-application": (foreign, "another application"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_sqlite_file_bad_file_is_refused_and_left_untouched(case: str, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    make, problem = BAD_FILES[case]
    make(path)
    before = path.read_bytes()
    for start in (
        lambda: create_app(Settings(state=str(path))),
        lambda: check_state_file(str(path)),
    ):
        with pytest.raises(StateFileError) as refused:
            start()
        message = str(refused.value)
        assert str(path) in message
        assert problem in message
        assert "left untouched" in message
        assert path.read_bytes() == before


def test_sqlite_file_serve_exits_2_with_the_message(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    newer(path)
    before = path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert str(path) in done.stderr
    assert "newer avara-mock" in done.stderr
    assert path.read_bytes() == before


def test_sqlite_file_a_new_file_gets_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    check_state_file(str(path))
    with sqlite3.connect(path) as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    connection.close()
    assert (version, mode) == (SCHEMA_VERSION, "wal")


def test_sqlite_file_a_restart_keeps_the_world(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    with TestClient(create_app(Settings(seed=5, state=path)), headers=AUTH) as client:
        lived_in(client)
        exported = state_bytes(client)
    with TestClient(create_app(Settings(seed=5, state=path)), headers=AUTH) as client:
        assert state_bytes(client) == exported


def test_sqlite_file_seeded_clock_and_ids_go_on_after_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    with TestClient(create_app(Settings(seed=5, state=path)), headers=AUTH) as client:
        first = created(client, "2.25.501")
    with TestClient(create_app(Settings(seed=5, state=path)), headers=AUTH) as client:
        second = created(client, "2.25.502")
    assert second["studyId"] > first["studyId"]
    assert second["createdAt"] > first["createdAt"]
    with TestClient(create_app(Settings(seed=5)), headers=AUTH) as client:
        assert created(client, "2.25.501") == first


def test_sqlite_file_a_scenario_is_loaded_into_a_new_file_only(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    with TestClient(create_app(Settings(seed=5)), headers=AUTH) as client:
        created(client, "2.25.601")
        scenario.write_bytes(state_bytes(client))
    path = str(tmp_path / "state.db")
    settings = Settings(seed=5, state=path, scenario=str(scenario))
    with TestClient(create_app(settings), headers=AUTH) as client:
        assert client.get(f"{STUDIES}/by-uid/2.25.601").status_code == 200
        created(client, "2.25.602")
        invited(client, "kept@example.org")
    with TestClient(create_app(settings), headers=AUTH) as client:
        assert client.get(f"{STUDIES}/by-uid/2.25.602").status_code == 200
        assert client.post("/_mock/reset").status_code == 200
        assert client.get(f"{STUDIES}/by-uid/2.25.602").status_code == 404
        assert client.get(f"{STUDIES}/by-uid/2.25.601").status_code == 200


def test_sqlite_file_filter_indexes_serve_a_filtered_page_null_or_not(
    tmp_path: Path,
) -> None:
    """A page filtered by an assignee, or by none (``assignedTo=null``), is read from the
    assignee's index, not by scanning the studies: O(limit) whatever the file holds."""
    from mockserver.world.store import Filters
    from tests.sqlite_world import INDEXED, database

    db = database(str(tmp_path / "state.db"))
    store = SqliteStudyStore(db, INDEXED)
    assigned = ("assignedTo", "userId")
    k = INDEXED.index(assigned)
    user = "usr_" + "1" * 32
    for n, assignee in enumerate([None, None, {"userId": user}]):
        study = {
            "studyId": f"stu_{n:032x}",
            "studyInstanceUid": f"2.25.{n + 1}",
            "createdAt": "2026-12-02T00:00:00.000Z",
            "assignedTo": assignee,
        }
        store.add(study, b'{"id": "key"}')
    for wanted, found in ((user, 1), (None, 2)):
        queries: list[str] = []
        db._connection.set_trace_callback(queries.append)
        page = store.page(Filters({assigned: wanted}), None, 20)
        db._connection.set_trace_callback(None)
        assert len(page.studies) == found
        (query,) = [q for q in queries if q.startswith("SELECT core")]
        plan = " ".join(str(row[3]) for row in db.rows(f"EXPLAIN QUERY PLAN {query}"))
        assert f"USING INDEX studies_f{k}" in plan, plan
