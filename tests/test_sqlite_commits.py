"""Group commit on a state file: requests of one turn of the event loop share one commit,
none is answered before its writes are committed, and a refused or failed write takes
nothing else with it (mockserver/world/sqlite/database.py, mockserver/http/commits.py)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from mockserver import Settings, create_app
from mockserver.http.commits import CommitBeforeAnswer
from mockserver.http.inprocess import RawResponse, call_app
from mockserver.world.sqlite import StateWriteFailed
from mockserver.world.sqlite.database import Database
from tests.sqlite_world import database

STUDIES = "/v1/viewer/studies"
HEADERS = [(b"authorization", b"Bearer test-key"), (b"content-type", b"application/json")]


def create_body(uid: str) -> bytes:
    return orjson.dumps(
        {"studyInstanceUid": uid, "severity": "normal", "studyDescription": "XR Hand"}
    )


def stored_ids(path: str) -> set[str]:
    """The study ids another connection reads in the file: what has been committed."""
    with sqlite3.connect(path) as other:
        return {str(row[0]) for row in other.execute("SELECT study_id FROM studies")}


def app_on(tmp_path: Path) -> tuple[Any, Database, str]:
    path = str(tmp_path / "state.db")
    app = create_app(Settings(state=path))
    db = app.state.services.database
    assert isinstance(db, Database)
    return app, db, path


async def creates(app: Any, uids: list[str]) -> list[RawResponse]:
    """Creates sent at once: their handlers all run in the same turn of the event loop."""
    return list(
        await asyncio.gather(
            *(call_app(app, "POST", STUDIES, HEADERS, create_body(uid)) for uid in uids)
        )
    )


def test_sqlite_commits_one_commit_for_the_creates_of_a_turn(tmp_path: Path) -> None:
    app, db, path = app_on(tmp_path)
    before = db.commits
    answers = asyncio.run(creates(app, [f"2.25.{n}" for n in range(1, 21)]))
    assert [answer.status for answer in answers] == [201] * 20
    assert db.commits - before == 1
    assert {orjson.loads(a.body)["studyId"] for a in answers} == stored_ids(path)


def test_sqlite_commits_no_answer_before_its_commit(tmp_path: Path) -> None:
    """At the first message of every answer, another connection reads its study already."""
    app, _, path = app_on(tmp_path)
    seen_at_answer: list[int] = []

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen_at_answer.append(len(stored_ids(path)))
            await send(message)

        await app(scope, receive, answering)

    asyncio.run(creates(watched, [f"2.25.{n}" for n in range(1, 11)]))
    assert seen_at_answer == [10] * 10


def test_sqlite_commits_refused_create_in_a_shared_turn_takes_nothing_else(
    tmp_path: Path,
) -> None:
    app, _db, path = app_on(tmp_path)
    answers = asyncio.run(creates(app, ["2.25.1", "2.25.1", "2.25.2"]))
    assert [answer.status for answer in answers] == [201, 409, 201]
    created = {orjson.loads(answers[k].body)["studyId"] for k in (0, 2)}
    assert stored_ids(path) == created


def test_sqlite_commits_every_201_is_stored_and_no_503_is_when_the_disk_fills(
    tmp_path: Path,
) -> None:
    """A full disk mid-turn: answers are 201 (stored) or 503 (not stored), never a 500."""
    app, db, path = app_on(tmp_path)
    (first,) = asyncio.run(creates(app, ["2.25.1"]))
    pages = db.one("PRAGMA page_count")[0]
    db.one(f"PRAGMA max_page_count = {pages + 2}")
    answers = asyncio.run(creates(app, [f"2.25.{n}" for n in range(2, 42)]))
    statuses = {answer.status for answer in answers}
    assert statuses <= {201, 503}
    assert 503 in statuses
    acknowledged = {orjson.loads(a.body)["studyId"] for a in answers if a.status == 201}
    assert stored_ids(path) == {orjson.loads(first.body)["studyId"], *acknowledged}
    refused = [orjson.loads(a.body)["error"] for a in answers if a.status == 503]
    assert all(error["type"] == "service_unavailable" for error in refused)
    assert all("state file" in error["message"] for error in refused)


def refused_after_a_statement(db: Database) -> None:
    """A write of two steps whose second refuses: the first must be undone with it."""
    with db.write() as connection:
        connection.execute("INSERT INTO meta (key, value) VALUES ('undone', '1')")
        raise KeyError("refused after a statement")


def test_sqlite_commits_savepoint_rolls_back_one_write_of_an_open_transaction() -> None:
    db = database()
    with db.deferring():
        db.set_meta("kept", "1")
        with pytest.raises(KeyError):
            refused_after_a_statement(db)
        db.set_meta("also-kept", "1")
    db.commit()
    assert (db.meta("kept"), db.meta("undone"), db.meta("also-kept")) == ("1", None, "1")


def test_sqlite_commits_write_outside_a_request_commits_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    db = database(path)
    before = db.commits
    db.set_meta("k", "v")
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT value FROM meta WHERE key = 'k'").fetchone() == ("v",)
    assert db.commits == before + 1


class FailingCommit:
    """A connection whose COMMIT fails (a disk that stops taking writes), all else as is."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self._connection.execute(sql, parameters)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction


def test_sqlite_commits_settle_of_a_lost_transaction_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests in one transaction whose commit fails: both are told, neither is kept."""
    db = database(str(tmp_path / "state.db"))
    monkeypatch.setattr(db, "_connection", FailingCommit(db._connection))

    async def request(key: str) -> BaseException | None:
        with db.deferring():
            db.set_meta(key, "1")
            try:
                await db.settle()
            except StateWriteFailed as failed:
                return failed
        return None

    async def both() -> list[BaseException | None]:
        return list(await asyncio.gather(request("a"), request("b")))

    found = asyncio.run(both())
    assert all(isinstance(failure, StateWriteFailed) for failure in found)
    assert "disk I/O error" in str(found[0])
    assert db.meta("a") is None
    assert db.meta("b") is None
    assert db.commits == 0


class FailingCommits:
    """Commits whose settle fails, as a state file that cannot be written would."""

    def __init__(self) -> None:
        self.finished = 0

    def deferring(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    async def settle(self) -> None:
        raise StateWriteFailed("state.db", sqlite3.OperationalError("disk I/O error"))

    def finish(self) -> None:
        self.finished += 1

    def checkpoint_in_background(self) -> None:
        return None


def test_sqlite_commits_middleware_answers_503_instead_when_the_commit_fails() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b'{"studyId": "stu_x"}'})

    commits = FailingCommits()
    middleware = CommitBeforeAnswer(app, commits)
    answer = asyncio.run(call_app(middleware, "POST", STUDIES, HEADERS, b"{}"))
    assert answer.status == 503
    error = orjson.loads(answer.body)["error"]
    assert error["type"] == "service_unavailable"
    assert "disk I/O error" in error["message"]
    assert commits.finished == 1
