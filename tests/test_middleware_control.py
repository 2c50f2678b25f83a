"""The control middleware in-process: journal, faults, Prefer: code, random faults."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.types import Message, Scope

from mockserver import Settings
from mockserver.control.journal import KEPT_BYTES
from mockserver.control.middleware import ConnectionDropped, random_answer
from mockserver.control.prefer import PreferCodes, preferred_code
from mockserver.openapi import build_openapi
from tests.control_apps import AUTH, CONTRACT, STUDIES, client, controlled, create_body, tiny

pytestmark = pytest.mark.anyio


async def test_middleware_journals_api_requests_but_not_the_control_planes() -> None:
    app, plane, _ = tiny()
    async with client(app) as http:
        await http.post("/echo?a=1", content=b'{"n": 1}')
        await http.get("/_mock/ping")
        await http.get("/nowhere")
    first, second = plane.journal.entries()
    assert (first.method, first.path, first.query, first.status) == ("POST", "/echo", "a=1", 200)
    assert (first.body, first.answer, first.fault) == ({"n": 1}, {"n": 1}, None)
    assert first.headers["authorization"] == "Bearer ***"
    assert (second.path, second.status) == ("/nowhere", 404)


async def test_middleware_never_faults_or_delays_the_control_plane() -> None:
    app, plane, _ = tiny(Settings(seed=5, latency=(80.0, 80.0), fault_rate=1.0))
    fault = plane.faults.add({"path": "/*", "respond": {"status": 500}})
    async with client(app) as http:
        ping = await http.get("/_mock/ping")
        api = await http.get("/echo")
    assert (ping.status_code, api.status_code) == (200, 500)
    assert (fault.hits, fault.fired) == (1, 1)
    assert [e.path for e in plane.journal.entries()] == ["/echo"]


async def test_middleware_journals_the_real_mocks_create() -> None:
    app, plane = controlled()
    async with client(app) as http:
        answer = await http.post(STUDIES, json=create_body("2.25.101"))
    assert answer.status_code == 201
    [entry] = plane.journal.entries({"method": "POST", "status": 201})
    assert entry.body == create_body("2.25.101")
    assert entry.answer == answer.json()
    assert entry.document()["answer"]["studyId"] == answer.json()["studyId"]


async def test_middleware_keeps_at_most_64_kib_of_a_body_and_says_so() -> None:
    app, plane, seen = tiny()
    big = b"x" * (KEPT_BYTES + 10)
    async with client(app) as http:
        answer = await http.post("/echo", content=big)
    assert (answer.content, seen) == (big, [big])  # the app gets all of it
    [entry] = plane.journal.entries()
    assert (len(entry.raw_body), len(entry.raw_answer), entry.truncated) == (
        KEPT_BYTES,
        KEPT_BYTES,
        True,
    )
    assert entry.document()["truncated"] is True


async def test_middleware_journal_of_size_zero_records_nothing() -> None:
    app, plane, _ = tiny(Settings(journal_size=0))
    async with client(app) as http:
        assert (await http.post("/echo", content=b"x")).status_code == 200
    assert plane.journal.entries() == []


async def test_middleware_an_exception_of_the_app_is_journalled_as_a_500() -> None:
    app, plane, _ = tiny()
    async with client(app) as http:
        with pytest.raises(RuntimeError, match="boom"):
            await http.get("/boom")
    [entry] = plane.journal.entries()
    assert (entry.path, entry.status) == ("/boom", 500)


async def test_middleware_respond_fault_answers_instead_of_the_api() -> None:
    app, plane = controlled()
    fault = plane.faults.add(
        {
            "method": "POST",
            "path": STUDIES,
            "first": 1,
            "respond": {"status": 429, "headers": {"retry-after-ms": "5"}},
        }
    )
    async with client(app) as http:
        refused = await http.post(STUDIES, json=create_body("2.25.102"))
        created = await http.post(STUDIES, json=create_body("2.25.102"))
    assert (refused.status_code, refused.headers["retry-after-ms"]) == (429, "5")
    assert refused.json()["error"]["type"] == "rate_limited"
    assert created.status_code == 201  # the refused request carried nothing out
    assert [(e.status, e.fault) for e in plane.journal.entries()] == [
        (429, fault.id),
        (201, None),
    ]
    assert plane.journal.entries()[0].body == create_body("2.25.102")


async def test_middleware_delay_fault_waits_then_answers_normally() -> None:
    app, plane, _ = tiny()
    fault = plane.faults.add({"path": "/echo", "delay": {"ms": 50}})
    async with client(app) as http:
        answer = await http.post("/echo", content=b"late")
    [entry] = plane.journal.entries()
    assert (answer.status_code, answer.content) == (200, b"late")
    assert (entry.fault, entry.duration_ms >= 50.0) == (fault.id, True)


async def test_middleware_delay_reads_the_body_before_waiting() -> None:
    """A client that gives up during a delay (its server then answers receive() with
    http.disconnect) leaves the request applied, as with a slow server live."""
    app, plane, seen = tiny()
    plane.faults.add({"path": "/echo", "delay": {"ms": 200}})
    gave_up = asyncio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        if gave_up.is_set():
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"applied", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("127.0.0.1", 4010),
        "http_version": "1.1",
    }
    task = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.sleep(0.05)
    gave_up.set()
    await task
    assert seen == [b"applied"]
    assert plane.journal.entries()[0].body == "applied"


async def test_middleware_drop_before_carries_nothing_out() -> None:
    app, plane, seen = tiny()
    fault = plane.faults.add({"path": "/echo", "first": 1, "drop": "before"})
    async with client(app) as http:
        with pytest.raises(ConnectionDropped, match=fault.id):
            await http.post("/echo", content=b"lost")
        assert (await http.post("/echo", content=b"kept")).status_code == 200
    assert seen == [b"kept"]
    dropped, answered = plane.journal.entries()
    assert (dropped.status, dropped.answer, dropped.body, dropped.fault) == (
        None,
        None,
        "lost",
        fault.id,
    )
    assert answered.status == 200


async def test_middleware_drop_after_applies_the_write_then_drops() -> None:
    app, plane = controlled()
    plane.faults.add({"method": "POST", "path": STUDIES, "first": 1, "drop": "after"})
    async with client(app) as http:
        with pytest.raises(ConnectionDropped):
            await http.post(STUDIES, json=create_body("2.25.103"))
        again = await http.post(STUDIES, json=create_body("2.25.103"))
        stored = await http.get(f"{STUDIES}/by-uid/2.25.103")
    assert again.status_code == 409  # the first create was applied
    assert stored.status_code == 200
    assert [e.status for e in plane.journal.entries()] == [None, 409, 200]


async def test_middleware_prefer_error_code_answers_its_error_and_carries_nothing_out() -> None:
    app, _ = controlled()
    async with client(app) as http:
        conflict = await http.post(
            STUDIES, json=create_body("2.25.104"), headers={**AUTH, "Prefer": "code=409"}
        )
        missing = await http.get(f"{STUDIES}/by-uid/2.25.104")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "conflict"
    assert "Prefer" in conflict.json()["error"]["message"]
    assert CONTRACT.validator("error").is_valid(conflict.json())
    assert missing.status_code == 404


async def test_middleware_prefer_success_code_is_the_normal_answer() -> None:
    app, _ = controlled()
    async with client(app) as http:
        created = await http.post(
            STUDIES,
            json=create_body("2.25.105"),
            headers={**AUTH, "Prefer": "code=201, dynamic=true"},
        )
    assert created.status_code == 201
    assert created.json()["studyInstanceUid"] == "2.25.105"


async def test_middleware_prefer_undeclared_code_is_a_400_listing_the_declared_ones() -> None:
    app, _ = controlled()
    declared = build_openapi(CONTRACT)["paths"][f"{STUDIES}/{{studyId}}"]["get"]["responses"]
    async with client(app) as http:
        refused = await http.get(f"{STUDIES}/stu_1", headers={**AUTH, "Prefer": "code=418"})
        garbled = await http.get(f"{STUDIES}/stu_1", headers={**AUTH, "Prefer": "code=abc"})
    message = refused.json()["error"]["message"]
    assert refused.status_code == 400
    assert "Prefer" in message
    assert "code=418" in message
    assert f"answers {', '.join(sorted(declared))} " in message
    assert (garbled.status_code, "code=abc" in garbled.json()["error"]["message"]) == (400, True)


async def test_middleware_prefer_without_code_or_off_the_api_is_ignored() -> None:
    app, _ = controlled()
    async with client(app) as http:
        listed = await http.get(STUDIES, headers={**AUTH, "Prefer": "example=cat, dynamic=true"})
        unknown = await http.get("/v1/nowhere", headers={**AUTH, "Prefer": "code=200"})
    assert listed.status_code == 200
    assert unknown.status_code == 404


def test_middleware_prefer_reads_the_code_among_other_preferences() -> None:
    assert preferred_code(b"code=404") == "404"
    assert preferred_code(b'dynamic=true, Code = "503"; example=x') == "503"
    assert preferred_code(b"respond-async, wait=5") is None
    codes = PreferCodes(CONTRACT)
    cancel = codes.operation("POST", f"{STUDIES}/cancel")
    by_id = codes.operation("get", f"{STUDIES}/stu_1")
    assert cancel is not None
    assert cancel.name == "viewer.studies.cancel"
    assert by_id is not None
    assert by_id.name == "viewer.studies.retrieve"
    assert codes.operation("DELETE", STUDIES) is None


async def test_middleware_fault_rate_answers_429_500_or_503_with_retry_headers() -> None:
    app, plane, seen = tiny(Settings(seed=3, fault_rate=1.0))
    async with client(app) as http:
        answers = [await http.post("/echo", content=b"x") for _ in range(30)]
    assert seen == []
    assert {a.status_code for a in answers} == {429, 500, 503}
    for answer in answers:
        assert answer.json()["error"]["message"].startswith(
            {429: "Too many", 500: "Internal", 503: "Service"}[answer.status_code]
        )
        if answer.status_code == 429:
            assert (answer.headers["retry-after-ms"], answer.headers["retry-after"]) == ("100", "1")
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "1"
    assert {e.fault for e in plane.journal.entries()} == {"fault-rate"}


async def test_middleware_fault_rate_is_a_share_of_requests() -> None:
    app, _, seen = tiny(Settings(seed=3, fault_rate=0.25))
    async with client(app) as http:
        answers = await asyncio.gather(*(http.post("/echo", content=b"x") for _ in range(200)))
    faulted = sum(a.status_code != 200 for a in answers)
    assert 20 < faulted < 80
    assert len(seen) == 200 - faulted


def test_middleware_random_answers_are_the_mocks_error_shape() -> None:
    for which in range(3):
        answer = random_answer(which, 0.5)
        assert CONTRACT.validator("error").is_valid(orjson.loads(answer.body))
        assert "--fault-rate 0.5" in orjson.loads(answer.body)["error"]["message"]
