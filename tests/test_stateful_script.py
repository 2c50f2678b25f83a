"""Reproduction scripts: curl lines and an SDK snippet that runs again and shows the breach."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import avara
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.checks import Finding
from contract_tests.stateful.machine import MachineOptions, run_machine
from contract_tests.stateful.script import Step, python, render, snake
from contract_tests.stateful.studies.part import StudiesPart
from contract_tests.suite import Breach
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Exchange, Probe
from contract_tests.transport.target import asgi_target
from mockserver import Settings, create_app
from mockserver.contract import Contract

BASE = "http://127.0.0.1:4010"
KEY = "avara-mock-contract"
TOKEN = "ct-00112233aabb"
STUDY_ID = "stu_" + "c" * 32
UID = "2.25.123456789"


def _step(call: Call, status: int = 200, document: Any = None) -> Step:
    sent = call.sent(f"Bearer {KEY}")
    answer = Answer.of(status, {"content-type": "application/json"}, json.dumps(document).encode())
    return Step(call, Exchange(Probe("stateful", call.body), sent, answer))


def _breach(step: Step, rule: str = "study.read-your-writes") -> Breach:
    return Breach(
        "reads_own_writes", "failed", Finding(rule, "stated", "severity differs"), step.exchange
    )


def _sequence() -> list[Step]:
    created = {"studyId": STUDY_ID, "studyInstanceUid": UID}
    page = {"studies": [], "cursor": "Y3Vyc29y", "hasMore": True}
    return [
        _step(
            Call(
                "viewer.studies.create",
                body={
                    "severity": "high",
                    "studyDescription": f"{TOKEN} x",
                    "studyInstanceUid": UID,
                },
            ),
            201,
            created,
        ),
        _step(
            Call(
                "viewer.studies.update", {"studyId": STUDY_ID}, body={"assignedTo": None, "oops": 1}
            )
        ),
        _step(
            Call("viewer.studies.update", {"studyId": STUDY_ID}, body={"severity": "1x1"}), 400, {}
        ),
        _step(
            Call(
                "viewer.studies.list",
                query=(
                    ("studyDescription", TOKEN.upper()),
                    ("isCancelled", "false"),
                    ("limit", "2"),
                ),
            ),
            200,
            page,
        ),
        _step(Call("viewer.studies.list", query=(("cursor", "Y3Vyc29y"), ("extra", "1")))),
        _step(Call("viewer.studies.cancel", body={"studyInstanceUid": UID})),
        _step(Call("viewer.studies.retrieve_by_uid", {"studyInstanceUid": UID})),
    ]


def test_stateful_script_snake_case_is_mechanical() -> None:
    assert snake("studyInstanceUid") == "study_instance_uid"
    assert snake("expressCustomerId") == "express_customer_id"
    assert snake("severity") == "severity"


def test_stateful_script_names_what_the_server_chose(contract: Contract) -> None:
    steps = _sequence()
    text = python(steps, _breach(steps[-1]), contract=contract, base_url=BASE, api_key=KEY)
    assert f"client = Avara(base_url={BASE!r}, api_key={KEY!r}, max_retries=0)" in text
    assert 'token = "ct-" + secrets.token_hex(6)' in text
    assert 'uid_1 = f"2.25.{uuid.uuid4().int}"' in text
    assert (
        "study_1 = client.viewer.studies.create(severity='high', "
        "study_description=f'{token} x', study_instance_uid=uid_1)"
    ) in text
    assert (
        "client.viewer.studies.update(study_1.study_id, assigned_to=None, extra_body={'oops': 1})"
        in text
    )
    assert (
        "page_1 = client.viewer.studies.list(study_description=f'{token.upper()}', "
        "is_cancelled=False, limit=2)"
    ) in text
    assert "client.viewer.studies.list(cursor=page_1.cursor, extra_query={'extra': '1'})" in text
    assert "client.viewer.studies.cancel(study_instance_uid=uid_1)" in text
    assert STUDY_ID not in text
    assert UID not in text
    assert TOKEN not in text.lower()
    refused = text.split("severity='1x1'")[0].rsplit("\n", 2)[-2:]
    assert refused[0] == "try:"
    compile(text, "<script>", "exec")


def test_stateful_script_marks_the_failing_call_and_the_rerun(contract: Contract) -> None:
    steps = _sequence()
    steps.insert(
        1,
        Step(
            _step(Call("viewer.users.list")).call, _step(Call("viewer.users.list")).exchange, False
        ),
    )
    text = render(
        steps,
        _breach(steps[-1]),
        contract=contract,
        base_url=BASE,
        api_key=KEY,
        seed=42,
        options=MachineOptions(sequences=3, steps=7),
    )
    assert "--seed 42 --sequences 3 --steps 7" in text
    assert "reads_own_writes broke study.read-your-writes (stated, failed)" in text
    curls = [line for line in text.splitlines() if line.startswith("curl ")]
    assert len(curls) == len(steps) - 1
    assert "users" not in "\n".join(curls)
    lines = text.splitlines()
    marker = lines.index("# the contract expects otherwise: severity differs")
    assert lines[marker + 1].startswith("print(client.viewer.studies.retrieve_by_uid(uid_1")


# --- the snippet runs with the SDK against a broken mock and shows the breach ---------------


def _forget_cancelled_at(app: ASGIApp) -> ASGIApp:
    """The mock, but a study it reads back (GET) says cancelledAt null."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    body = b"".join(chunks)
                    document = json.loads(body) if body.startswith(b"{") else None
                    if isinstance(document, dict) and "cancelledAt" in document:
                        body = json.dumps({**document, "cancelledAt": None}).encode()
                    headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({**start, "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


@contextlib.contextmanager
def _sdk_against(app: ASGIApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``avara.Avara(...)`` talks to the app in-process, as the snippet builds it."""
    real = avara.Avara

    def client(**options: Any) -> avara.Avara:
        return real(http_client=TestClient(app, base_url=options["base_url"]), **options)

    monkeypatch.setattr(avara, "Avara", client)
    yield


def _snippet(script: str) -> str:
    return script.split("# --- Python, the official SDK (pip install avara) ---\n", 1)[1]


def test_stateful_script_snippet_reproduces_the_breach(
    contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _forget_cancelled_at(create_app(Settings(seed=7)))
    options = MachineOptions(seed=1, sequences=8, steps=25)
    with asgi_target(app) as target:
        report = run_machine(target, contract, options, parts=(StudiesPart,))
    (breach,) = report.breaches
    assert breach.finding.rule == "cancel.sets-cancelled"
    snippet = _snippet(breach.script)
    printed = io.StringIO()
    with _sdk_against(app, monkeypatch), contextlib.redirect_stdout(printed):
        exec(compile(snippet, "<reproduction>", "exec"), {})
    last = printed.getvalue().strip().splitlines()[-1]
    assert "is_cancelled=True" in last
    assert "cancelled_at=None" in last


class _Recording(StudiesPart):
    """The studies part, keeping the calls of the sequence with the most kinds of call."""

    longest: ClassVar[list[Step]] = []

    def teardown(self) -> None:
        def kinds(steps: list[Step]) -> int:
            return len({step.call.operation for step in steps})

        if kinds(self.steps) > kinds(_Recording.longest):
            _Recording.longest = list(self.steps)


def test_stateful_script_snippet_of_a_long_sequence_runs_on_a_fresh_mock(
    contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every kind of call the studies part makes, rendered, runs with the SDK on a new mock:
    what the first server chose (ids, cursors) is named, not copied."""
    _Recording.longest = []
    options = MachineOptions(seed=3, sequences=8, steps=30)
    with asgi_target(create_app(Settings())) as target:
        report = run_machine(target, contract, options, parts=(_Recording,))
    assert report.breaches == []
    steps = [step for step in _Recording.longest if step.script]
    operations = {step.call.operation for step in steps}
    assert len(operations) >= 6
    snippet = python(steps, _breach(steps[-1]), contract=contract, base_url=BASE, api_key=KEY)
    printed = io.StringIO()
    with _sdk_against(create_app(Settings()), monkeypatch), contextlib.redirect_stdout(printed):
        exec(compile(snippet, "<reproduction>", "exec"), {})
    assert printed.getvalue().count("\n") >= len(steps) - snippet.count(" = client.")


def test_stateful_script_body_that_is_no_object_goes_through_the_raw_client(
    contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid update whose body is a JSON array cannot be an SDK method's keywords or
    its ``extra_body`` (merged into an object): the snippet sends it with ``client.patch``,
    and running it shows the mock's 400."""
    create = {"severity": "high", "studyDescription": f"{TOKEN} x", "studyInstanceUid": UID}
    steps = [
        _step(Call("viewer.studies.create", body=create), 201, {"studyId": STUDY_ID}),
        _step(Call("viewer.studies.update", {"studyId": STUDY_ID}, body=["x"]), 400, {}),
    ]
    snippet = python(steps, _breach(steps[-1]), contract=contract, base_url=BASE, api_key=KEY)
    assert "client.patch(f'/v1/viewer/studies/{study_1.study_id}', body=['x']" in snippet
    printed = io.StringIO()
    with _sdk_against(create_app(Settings()), monkeypatch), contextlib.redirect_stdout(printed):
        exec(compile(snippet, "<reproduction>", "exec"), {})
    assert printed.getvalue().startswith("400 ")
