"""The suite runner: boundary cases then hypothesis, judged by every check, reproducible by seed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.checks import CHECKS, Finding
from contract_tests.create.cases import invalid_cases, minimal, valid_cases
from contract_tests.operations.probes import other_operations
from contract_tests.suite import (
    BATCH,
    UNAUTHENTICATED,
    KeyRefused,
    Options,
    Report,
    Suite,
    run_suite,
)
from contract_tests.transport.exchange import CREATE, CREATE_PATH, Answer, Exchange, Probe, Sent
from contract_tests.transport.target import Outcome, asgi_target
from mockserver import Settings, create_app
from mockserver.contract import Contract

SEED = 11
UID = "studyInstanceUid"
ALONE: dict[str, Any] = {"operations": ()}
"""Options of a run of create alone (these tests are about its phase)."""
SETUP = "setup"
RETRIEVE_STUDY = "viewer.studies.retrieve"


class RecordingSuite(Suite):
    """The suite, remembering every probe as drawn, every exchange, and every judgement."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drawn: list[Probe] = []
        self.exchanges: list[Exchange] = []
        self.judged = 0

    def execute(self, probe: Probe) -> Exchange:
        self.drawn.append(probe)
        exchange = super().execute(probe)
        self.exchanges.append(exchange)
        return exchange

    def judge(self, exchange: Exchange) -> dict[str, list[Finding] | None]:
        self.judged += 1
        return super().judge(exchange)


class FakeTarget:
    """Answers every request 201 with ``{}`` and keeps what was sent."""

    base_url = "http://fake.invalid"
    timeout = 1.0

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send(self, sent: Sent) -> Outcome:
        self.sent.append(sent)
        return Answer.of(201, {"content-type": "application/json"}, b"{}"), ""


def recorded_run(app: ASGIApp, contract: Contract, **options: Any) -> tuple[RecordingSuite, Report]:
    with asgi_target(app) as target:
        suite = RecordingSuite(target, contract, Options(**options))
        return suite, suite.run()


def drop_metadata(app: ASGIApp) -> ASGIApp:
    """The mock, but its 2xx answers leave out ``metadata`` (an inferred echo rule)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = message.get("body", b"")
            if 200 <= start["status"] < 300:
                document = json.loads(body)
                document.pop("metadata", None)
                body = json.dumps(document).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return wrapped


def fail_on_digits(app: ASGIApp) -> ASGIApp:
    """The mock, but a studyDescription with an ASCII digit gets a 500 (no boundary case has)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        try:
            document = json.loads(message.get("body", b""))
        except ValueError:
            document = None
        description = document.get("studyDescription") if isinstance(document, dict) else None
        if isinstance(description, str) and re.search("[0-9]", description):
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        replay = [message]

        async def again() -> Message:
            return replay.pop() if replay else await receive()

        await app(scope, again, send)

    return wrapped


def without_uid(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != UID} if isinstance(body, dict) else body


# --- against the correct mock ----------------------------------------------------------------


def test_run_suite_passes_the_mock_and_counts_every_exchange(contract: Contract) -> None:
    suite, report = recorded_run(create_app(), contract, max_examples=3 * BATCH, seed=SEED)
    assert report.failed is False
    assert report.breaches == []
    assert report.requests == len(suite.exchanges) == suite.judged
    boundary = len(list(suite.boundary_probes()))
    create = [e for e in suite.exchanges if e.probe.operation == CREATE and e.probe.name != SETUP]
    assert boundary < len(create) <= boundary + 3 * BATCH
    assert set(report.counts) == set(CHECKS)
    for counts in report.counts.values():
        assert counts.passed + counts.failed + counts.warned + counts.skipped == report.requests
        assert counts.failed == counts.warned == 0
    assert report.counts["answers"].passed == report.requests
    others = len(other_operations())
    assert report.counts["requires_auth"].passed == len(UNAUTHENTICATED) + others
    kinds = [e.probe.kind for e in suite.exchanges]
    assert report.counts["refuses_invalid"].passed == kinds.count("invalid")
    assert (report.seed, report.inferred, report.base_url) == (
        SEED,
        "warn",
        "http://127.0.0.1:4010",
    )
    assert report.seconds > 0


def test_run_suite_returns_a_report_without_recording(contract: Contract) -> None:
    with asgi_target(create_app()) as target:
        report = run_suite(target, contract, Options(max_examples=BATCH, seed=2, **ALONE))
    assert not report.failed
    assert report.requests > 0


def test_run_suite_same_seed_draws_the_same_probes(contract: Contract) -> None:
    first, _ = recorded_run(create_app(), contract, max_examples=4 * BATCH, seed=SEED, **ALONE)
    second, _ = recorded_run(create_app(), contract, max_examples=4 * BATCH, seed=SEED, **ALONE)
    assert first.drawn == second.drawn
    assert len(first.exchanges) == len(second.exchanges)
    valid_uids_differ = 0
    for one, other in zip(first.exchanges, second.exchanges, strict=True):
        a, b = one.probe, other.probe
        assert (a.kind, a.name, a.rule, a.field, a.tag) == (b.kind, b.name, b.rule, b.field, b.tag)
        assert without_uid(a.body) == without_uid(b.body)
        if a.rule.startswith(UID + "."):
            assert a.body == b.body
        if a.kind == "valid":
            assert len(a.body[UID]) == len(b.body[UID])
            valid_uids_differ += a.body[UID] != b.body[UID]
    assert valid_uids_differ > len(valid_cases(contract)) // 2


def test_run_suite_other_seed_draws_other_probes(contract: Contract) -> None:
    first, _ = recorded_run(create_app(), contract, max_examples=4 * BATCH, seed=1, **ALONE)
    second, _ = recorded_run(create_app(), contract, max_examples=4 * BATCH, seed=2, **ALONE)
    generated = [
        [p.body for p in suite.drawn if p.name == "generated"] for suite in (first, second)
    ]
    assert generated[0] != generated[1]


def test_run_suite_zero_examples_runs_only_the_boundary_cases(contract: Contract) -> None:
    suite, report = recorded_run(create_app(), contract, max_examples=0, seed=SEED, **ALONE)
    boundary = list(suite.boundary_probes())
    assert report.requests == len(boundary) == len(suite.exchanges)
    assert [p.name for p in suite.drawn] == [p.name for p in boundary]
    assert "generated" not in {p.name for p in suite.drawn}
    assert not report.failed


def test_run_suite_refused_key_raises_key_refused(contract: Contract) -> None:
    app = create_app(Settings(api_keys=("good",)))
    with asgi_target(app) as target, pytest.raises(KeyRefused, match="--api-key"):
        run_suite(target, contract, Options(max_examples=0, api_key="wrong", **ALONE))
    with asgi_target(app) as target:
        report = run_suite(target, contract, Options(max_examples=0, api_key="good", **ALONE))
    assert not report.failed


def test_run_suite_generated_valid_probes_are_all_new_to_a_fresh_mock(
    contract: Contract,
) -> None:
    suite, _ = recorded_run(create_app(), contract, max_examples=2 * BATCH, seed=SEED, **ALONE)
    statuses = [
        e.answer.status
        for e in suite.exchanges
        if e.probe.kind == "valid"
        and e.probe.name == "generated"
        and e.probe.operation == CREATE
        and e.answer is not None
    ]
    assert statuses
    assert 409 not in statuses


def test_run_suite_second_run_against_the_same_mock_conforms(contract: Contract) -> None:
    app = create_app()
    reports = [recorded_run(app, contract, max_examples=2 * BATCH, seed=seed)[1] for seed in (1, 2)]
    assert [r.breaches for r in reports] == [[], []]


# --- verdicts on a broken implementation -----------------------------------------------------


@pytest.mark.parametrize(("inferred", "verdict"), [("warn", "warned"), ("fail", "failed")])
def test_run_suite_inferred_breach_warns_unless_told_to_fail(
    inferred: str, verdict: str, contract: Contract
) -> None:
    _, report = recorded_run(
        drop_metadata(create_app()), contract, max_examples=0, seed=SEED, inferred=inferred, **ALONE
    )
    echoes = report.counts["echoes_request"]
    assert report.failed is (inferred == "fail")
    assert (echoes.failed > 0, echoes.warned > 0) == (inferred == "fail", inferred == "warn")
    assert {(b.check, b.finding.rule, b.finding.tag, b.verdict) for b in report.breaches} == {
        ("echoes_request", "study.echo.metadata", "inferred", verdict)
    }
    assert report.inferred == inferred


def test_run_suite_shrinks_a_generated_failure(contract: Contract) -> None:
    _, report = recorded_run(
        fail_on_digits(create_app()), contract, max_examples=2 * BATCH, seed=SEED, **ALONE
    )
    assert report.failed
    accepts = [b for b in report.breaches if b.check == "accepts_valid"]
    assert accepts
    breach = accepts[0]
    assert (breach.verdict, breach.finding.rule, breach.shrunk) == (
        "failed",
        "create.accepts-valid",
        True,
    )
    body = breach.exchange.probe.body
    assert set(body) == {"severity", "studyDescription", UID}
    assert re.fullmatch("[0-9]", body["studyDescription"])
    assert breach.exchange.answer is not None
    assert breach.exchange.answer.status == 500


# --- the parts -------------------------------------------------------------------------------


def test_suite_boundary_probes_are_every_case_then_no_credentials(contract: Contract) -> None:
    suite = Suite(FakeTarget(), contract, Options())
    probes = list(suite.boundary_probes())
    valid, invalid = valid_cases(contract), invalid_cases(contract)
    assert [p.name for p in probes[: len(valid)]] == [c.name for c in valid]
    assert all(p.kind == "valid" and not p.rule for p in probes[: len(valid)])
    middle = probes[len(valid) : len(valid) + len(invalid)]
    assert [(p.name, p.rule) for p in middle] == [(c.name, c.expect[0].rule) for c in invalid]
    assert all(p.kind == "invalid" and "." not in p.field for p in middle)
    assert {p.field for p in middle if p.rule.startswith("metadata.")} == {"metadata"}
    last = probes[len(valid) + len(invalid) :]
    assert [p.authorization for p in last] == list(UNAUTHENTICATED)
    assert all(p.kind == "unauthenticated" and p.body == minimal() for p in last)


def test_suite_execute_sends_the_key_and_refreshes_valid_uids(contract: Contract) -> None:
    target = FakeTarget()
    suite = Suite(target, contract, Options(api_key="k1"))
    exchange = suite.execute(Probe("valid", minimal(studyInstanceUid="1.2.840.123456789")))
    assert exchange.error == ""
    assert exchange.answer is not None
    sent = target.sent[0]
    assert (sent.method, sent.path) == ("POST", CREATE_PATH)
    assert sent.headers == {"Content-Type": "application/json", "Authorization": "Bearer k1"}
    body = json.loads(sent.content)
    assert body == exchange.probe.body
    assert body[UID] != "1.2.840.123456789"
    assert body[UID].startswith("1.2.840.")
    assert len(body[UID]) == len("1.2.840.123456789")
    assert suite.report.requests == 1


def test_suite_execute_keeps_the_uid_a_probe_is_about(contract: Contract) -> None:
    target = FakeTarget()
    suite = Suite(target, contract, Options())
    probe = Probe(
        "invalid", minimal(studyInstanceUid="1.02.3"), rule="studyInstanceUid.leading-zero"
    )
    assert suite.execute(probe).probe.body[UID] == "1.02.3"
    assert json.loads(target.sent[0].content)[UID] == "1.02.3"


def test_suite_execute_sends_unicode_as_utf8_and_non_objects(contract: Contract) -> None:
    target = FakeTarget()
    suite = Suite(target, contract, Options())
    suite.execute(Probe("valid", minimal(studyDescription="脳 \U0001fa7b")))
    suite.execute(Probe("invalid", [minimal()], rule="body.type"))
    assert "脳 \U0001fa7b".encode() in target.sent[0].content
    assert json.loads(target.sent[1].content) == [minimal()]


@pytest.mark.parametrize("header", UNAUTHENTICATED)
def test_suite_execute_unauthenticated_sends_its_own_header(
    header: str | None, contract: Contract
) -> None:
    target = FakeTarget()
    suite = Suite(target, contract, Options(api_key="k1"))
    suite.execute(Probe("unauthenticated", minimal(), authorization=header))
    assert target.sent[0].headers.get("Authorization") == header


def test_suite_verdict_fails_stated_and_warns_inferred(contract: Contract) -> None:
    warn = Suite(FakeTarget(), contract, Options(inferred="warn"))
    fail = Suite(FakeTarget(), contract, Options(inferred="fail"))
    stated, inferred = Finding("r", "stated", "m"), Finding("r", "inferred", "m")
    assert (warn.verdict(stated), warn.verdict(inferred)) == ("failed", "warned")
    assert (fail.verdict(stated), fail.verdict(inferred)) == ("failed", "failed")


def test_suite_without_seed_draws_one(contract: Contract) -> None:
    seeds = {Suite(FakeTarget(), contract, Options()).seed for _ in range(5)}
    assert len(seeds) > 1
    assert all(0 <= seed < 2**32 for seed in seeds)
    assert Suite(FakeTarget(), contract, Options(seed=0)).seed == 0


# --- the phase of the other operations -------------------------------------------------------


def _by_operation(suite: RecordingSuite) -> dict[str, list[Exchange]]:
    found: dict[str, list[Exchange]] = {}
    for exchange in suite.exchanges:
        found.setdefault(exchange.probe.operation, []).append(exchange)
    return found


def _status(exchange: Exchange) -> int:
    assert exchange.answer is not None
    return exchange.answer.status


@pytest.mark.parametrize("seed", [1, 2])
def test_run_suite_mock_passes_every_operation_without_warnings(
    seed: int, contract: Contract
) -> None:
    suite, report = recorded_run(
        create_app(), contract, max_examples=BATCH, seed=seed, inferred="fail"
    )
    assert report.breaches == [], [b.finding for b in report.breaches]
    assert all(c.failed == c.warned == 0 for c in report.counts.values())
    by_operation = _by_operation(suite)
    assert set(by_operation) == {CREATE, *other_operations()}
    for name in other_operations():
        exchanges = by_operation[name]
        valid = [e for e in exchanges if e.probe.kind == "valid"]
        invalid = [e for e in exchanges if e.probe.kind == "invalid"]
        assert any(200 <= _status(e) < 300 for e in valid), name
        assert invalid, name
        assert all(_status(e) == 400 for e in invalid), name


@pytest.mark.parametrize("seed", [1, 2])
def test_run_suite_stateless_mock_passes_with_stateless_options(
    seed: int, contract: Contract
) -> None:
    app = create_app(Settings(stateless=True))
    suite, report = recorded_run(
        app, contract, max_examples=BATCH, seed=seed, inferred="fail", stateless=True
    )
    assert report.breaches == [], [b.finding for b in report.breaches]
    assert SETUP not in {e.probe.name for e in suite.exchanges}
    for name in ("echoes_request", "links_references", "new_study_state", "unique_study_ids"):
        assert report.counts[name].passed == report.counts[name].failed == 0
    valid = [e for e in suite.exchanges if e.probe.kind == "valid"]
    assert valid
    assert all(200 <= _status(e) < 300 for e in valid)


def test_run_suite_sets_up_what_valid_calls_name(contract: Contract) -> None:
    suite, _ = recorded_run(
        create_app(), contract, max_examples=BATCH, seed=SEED, operations=(RETRIEVE_STUDY,)
    )
    setup = [e for e in suite.exchanges if e.probe.name == SETUP]
    assert [e.probe.operation for e in setup] == [
        CREATE,
        "viewer.users.invite",
        "viewer.users.invitations.list",
    ]
    assert all(200 <= _status(e) < 300 for e in setup)
    assert suite.phase is not None
    known = suite.phase.probes.known
    assert set(known) == {"studyId", "studyInstanceUid", "userId", "invitationId"}
    retrieved = [e for e in _by_operation(suite)[RETRIEVE_STUDY] if e.probe.kind == "valid"]
    assert retrieved
    assert all(
        e.probe.call and e.probe.call.path == {"studyId": known["studyId"]} for e in retrieved
    )
    assert all(_status(e) == 200 for e in retrieved)


def refuse_invites(app: ASGIApp) -> ASGIApp:
    """The mock, but it answers 503 to every invite (set-up cannot make a user)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST" and scope["path"] == "/v1/viewer/users":
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        await app(scope, receive, send)

    return wrapped


def test_run_suite_without_set_up_allows_the_404_of_drawn_ids(contract: Contract) -> None:
    suite, report = recorded_run(
        refuse_invites(create_app()), contract, max_examples=BATCH, seed=SEED
    )
    assert suite.phase is not None
    assert "userId" not in suite.phase.probes.known
    retrieved = [
        e for e in _by_operation(suite)["viewer.users.retrieve"] if e.probe.kind == "valid"
    ]
    assert retrieved
    assert all(_status(e) == 404 for e in retrieved)
    refused = {b.exchange.probe.operation for b in report.breaches if b.check == "accepts_valid"}
    assert refused == {"viewer.users.invite"}


def answer_errors_as_text(app: ASGIApp) -> ASGIApp:
    """The mock, but every 400 body is plain text (no error body anywhere)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if start["status"] != 400:
                await send(start)
                await send(message)
                return
            await send({**start, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Bad request"})

        await app(scope, receive, rewrite)

    return wrapped


def test_run_suite_reports_a_breach_for_each_operation(contract: Contract) -> None:
    operations = ("viewer.users.list", "viewer.users.update")
    _, report = recorded_run(
        answer_errors_as_text(create_app()),
        contract,
        max_examples=0,
        seed=SEED,
        operations=operations,
    )
    found = {(b.check, b.finding.rule, b.exchange.probe.operation) for b in report.breaches}
    assert {("error_body", "error.json", name) for name in (CREATE, *operations)} <= found


def test_run_suite_operations_option_limits_the_phase(contract: Contract) -> None:
    suite, report = recorded_run(
        create_app(), contract, max_examples=BATCH, seed=SEED, operations=("viewer.users.list",)
    )
    assert not report.failed
    assert set(_by_operation(suite)) == {
        CREATE,
        "viewer.users.invite",
        "viewer.users.invitations.list",
        "viewer.users.list",
    }
    alone, _ = recorded_run(create_app(), contract, max_examples=BATCH, seed=SEED, **ALONE)
    assert set(_by_operation(alone)) == {CREATE}


def test_run_suite_probes_every_rule_of_every_operation_once_at_least(contract: Contract) -> None:
    suite, report = recorded_run(create_app(), contract, max_examples=0, seed=SEED)
    assert not report.failed
    assert suite.phase is not None
    dead = {(case.operation, case.label) for case in suite.phase.state.dead}
    # A pattern of YYYY-MM-DD broken alone is never a date the calendar format accepts.
    assert dead == {("viewer.users.invitations.list", "date.format")}
    for name, exchanges in _by_operation(suite).items():
        if name == CREATE or name not in other_operations():
            continue
        labels = {case.label for case in suite.phase.probes.cases(name)}
        sent = {e.probe.rule for e in exchanges if e.probe.kind == "invalid"}
        assert sent == labels - {"valid"} - {label for op, label in dead if op == name}, name
