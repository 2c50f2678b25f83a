"""The state machine against a server: our mock passes over several seeds without a finding,
a server holding other studies does not confuse it, and a server broken in one way is caught
by the invariant and rule of that defect, with a short script that names the calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from contract_tests.stateful.machine import MachineOptions, run_machine
from contract_tests.stateful.parts import INVARIANTS, PARTS
from contract_tests.stateful.studies.part import StudiesPart
from contract_tests.suite import Breach, Report
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Sent
from contract_tests.transport.target import Outcome, Target, asgi_target
from mockserver import Settings, create_app
from mockserver.contract import Contract

STUDIES = (StudiesPart,)
SEQUENCES, STEPS = 8, 20
MOCK_SEED = 7
"""Broken mocks are seeded (ids and clock), so that each run draws the same sequences."""
KEY = "avara-mock-contract"
Rewrite = Callable[[Sent, Any], Any]


class Broken:
    """A target in front of another that changes what it sends or answers (one defect)."""

    def __init__(
        self,
        inner: Target,
        answer: Rewrite | None = None,
        request: Callable[[Sent], Sent] | None = None,
    ) -> None:
        self.inner = inner
        self.base_url = inner.base_url
        self.timeout = inner.timeout
        self._answer = answer
        self._request = request

    def send(self, sent: Sent) -> Outcome:
        if self._request is not None:
            sent = self._request(sent)
        answer, error = self.inner.send(sent)
        if answer is None or self._answer is None or not answer.is_json:
            return answer, error
        document = self._answer(sent, answer.document)
        return Answer.of(answer.status, answer.headers, json.dumps(document).encode()), error


def _run(
    target: Target,
    contract: Contract,
    seed: int = 1,
    parts: tuple[Any, ...] = STUDIES,
    **options: Any,
) -> Report:
    settings = {"sequences": SEQUENCES, "steps": STEPS, **options}
    return run_machine(target, contract, MachineOptions(seed=seed, **settings), parts=parts)


def _breaches(report: Report) -> set[tuple[str, str, str]]:
    return {(b.check, b.finding.rule, b.verdict) for b in report.breaches}


def _only(report: Report) -> Breach:
    (breach,) = report.breaches
    return breach


# --- the correct mock ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stateful_machine_mock_passes_studies(contract: Contract, seed: int) -> None:
    with asgi_target(create_app(Settings())) as target:
        report = _run(target, contract, seed)
    assert report.breaches == []
    assert not report.failed
    assert all(c.failed == c.warned == 0 for c in report.counts.values())
    judged = {name for name, c in report.counts.items() if c.passed}
    studies = {n for n in INVARIANTS if not n.startswith(("users_", "invit", "access", "emails"))}
    assert studies <= judged
    assert report.requests > SEQUENCES * STEPS
    assert report.seed == seed


def test_stateful_machine_mock_passes_every_part(contract: Contract) -> None:
    with asgi_target(create_app(Settings())) as target:
        report = _run(target, contract, 4, parts=PARTS)
    assert report.breaches == []
    assert set(INVARIANTS) <= set(report.counts)


def test_stateful_machine_defaults_are_the_cli_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's machine and ``avara-mock contract`` run the same 25 x 30 by default
    (its speed is a figure of ``bench/contract.py``)."""
    from contract_tests.cli import build_parser

    monkeypatch.delenv("AVARA_CONTRACT_SEQUENCES", raising=False)
    monkeypatch.delenv("AVARA_CONTRACT_STEPS", raising=False)
    args = build_parser().parse_args(["contract"])
    options = MachineOptions()
    assert (options.sequences, options.steps) == (args.sequences, args.steps) == (25, 30)


def test_stateful_machine_ignores_studies_it_did_not_make(contract: Contract) -> None:
    app = create_app(Settings())
    with asgi_target(app) as target:
        for number in range(40):
            body = {
                "severity": ("normal", "high", "stat")[number % 3],
                "studyDescription": f"ct-{number:012x} earlier run",
                "studyInstanceUid": f"2.25.{7_000 + number}",
            }
            sent = Call("viewer.studies.create", body=body).sent(f"Bearer {KEY}")
            answer, _ = target.send(sent)
            assert answer is not None
            assert answer.status == 201
        report = _run(target, contract, 6)
    assert report.breaches == []


def test_stateful_machine_no_sequences_sends_nothing(contract: Contract) -> None:
    with asgi_target(create_app(Settings())) as target:
        report = _run(target, contract, sequences=0)
    assert report.requests == 0
    assert report.breaches == []


# --- broken servers -----------------------------------------------------------------------


def _forget_cancelled_at(sent: Sent, document: Any) -> Any:
    if sent.method == "GET" and isinstance(document, dict) and "cancelledAt" in document:
        return {**document, "cancelledAt": None}
    return document


def _ignore_severity(sent: Sent) -> Sent:
    """An update to severity stat leaves severity as it was (other values apply)."""
    if sent.method != "PATCH":
        return sent
    body = json.loads(sent.content or b"{}")
    if not isinstance(body, dict) or body.get("severity") != "stat":
        return sent
    body.pop("severity")
    return replace(sent, content=json.dumps(body).encode())


def _drop_last(sent: Sent, document: Any) -> Any:
    """A list read at the largest page size leaves out its last study (walks are intact)."""
    studies = document.get("studies") if isinstance(document, dict) else None
    if sent.method == "GET" and "limit=100" in sent.path and isinstance(studies, list):
        return {**document, "studies": studies[:-1] if len(studies) > 1 else studies}
    return document


def _keep_updated_at(sent: Sent, document: Any) -> Any:
    """Every study answered says updatedAt = createdAt: a server whose updatedAt never moves."""
    if isinstance(document, dict) and isinstance(document.get("studies"), list):
        return {**document, "studies": [_keep_updated_at(sent, s) for s in document["studies"]]}
    if isinstance(document, dict) and "createdAt" in document:
        return {**document, "updatedAt": document["createdAt"]}
    return document


def test_stateful_machine_catches_cancel_without_cancelled_at(contract: Contract) -> None:
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        report = _run(Broken(inner, _forget_cancelled_at), contract, steps=30)
    breach = _only(report)
    assert (breach.check, breach.finding.rule, breach.verdict) == (
        "cancel_transitions",
        "cancel.sets-cancelled",
        "failed",
    )
    assert report.failed
    assert breach.shrunk
    lines = [line for line in breach.script.splitlines() if line.startswith("curl ")]
    assert "/v1/viewer/studies/cancel" in lines[-2]
    assert lines[-1].startswith("curl -sS -i -X GET")
    assert len(lines) <= 6
    assert "client.viewer.studies.cancel(" in breach.script
    assert "client.viewer.studies.retrieve(" in breach.script
    assert f"--seed {report.seed}" in breach.script


def test_stateful_machine_catches_update_that_ignores_a_field(contract: Contract) -> None:
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        report = _run(Broken(inner, request=_ignore_severity), contract, sequences=12, steps=25)
    breach = _only(report)
    assert (breach.check, breach.finding.rule) == ("writes_answer_model", "update.applies")
    assert "severity" in breach.finding.message
    assert "client.viewer.studies.update(study_" in breach.script


def test_stateful_machine_catches_list_that_drops_a_study(contract: Contract) -> None:
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        report = _run(Broken(inner, _drop_last), contract, sequences=12, steps=25)
    (breach,) = [b for b in report.breaches if b.verdict == "failed"]
    assert (breach.check, breach.finding.rule) == ("lists_match", "list.filters")
    # A list by the description in other case may rightly miss it: that only warns.
    assert {b.check for b in report.breaches} == {"lists_match"}
    assert {b.finding.rule for b in report.breaches} <= {"list.filters", "list.ignores-case"}
    assert "missing stu_" in breach.finding.message
    assert "client.viewer.studies.list(" in breach.script


def test_stateful_machine_inferred_breach_warns_or_fails(contract: Contract) -> None:
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        warned = _run(Broken(inner, _keep_updated_at), contract)
    assert {b[0] for b in _breaches(warned)} == {"updated_at_moves"}
    assert {b[2] for b in _breaches(warned)} == {"warned"}
    assert ("updated_at_moves", "update.moves-updatedAt", "warned") in _breaches(warned)
    assert not warned.failed
    assert warned.counts["updated_at_moves"].warned > 1
    assert all(b.script for b in warned.breaches)
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        failed = _run(Broken(inner, _keep_updated_at), contract, inferred="fail")
    breach = _only(failed)
    assert (breach.check, breach.verdict) == ("updated_at_moves", "failed")
    assert failed.failed


def test_stateful_machine_without_shrink_keeps_the_first_failing_run(contract: Contract) -> None:
    with asgi_target(create_app(Settings(seed=MOCK_SEED))) as inner:
        report = _run(Broken(inner, _forget_cancelled_at), contract, steps=30, shrink=False)
    breach = _only(report)
    assert breach.finding.rule == "cancel.sets-cancelled"
    assert not breach.shrunk
    assert "/v1/viewer/studies/cancel" in breach.script
