"""The people part of the state machine against a server: our mock passes it over several
seeds without a finding, and a mock broken in one way is caught by the invariant (and the rule)
of that defect and by no other."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.stateful.machine import MachineOptions, run_machine
from contract_tests.stateful.parts import INVARIANTS
from contract_tests.stateful.people.part import PeoplePart
from contract_tests.stateful.people.steps import OWNERS
from contract_tests.suite import Report
from contract_tests.transport.target import asgi_target
from mockserver import create_app
from mockserver.contract import Contract
from mockserver.settings import Settings

PEOPLE = (PeoplePart,)
SEEDS = range(4)
SEQUENCES, STEPS = 8, 25
DEFECT_SEED, DEFECT_SEQUENCES, DEFECT_STEPS = 2, 12, 25
INVARIANT_NAMES = {name for _, name in OWNERS}
SMALL_PAGE = 6
"""Walks draw page sizes below this; lists read at the largest."""
Rewrite = Callable[[str, str, Any], Any]


@cache
def _contract() -> Contract:
    return Contract.load()


def _run(app: ASGIApp, seed: int, sequences: int, steps: int, inferred: bool = False) -> Report:
    """The people part alone, in-process; ``inferred``: inferred breaches fail too."""
    verdict: Literal["warn", "fail"] = "fail" if inferred else "warn"
    options = MachineOptions(seed, sequences, steps, verdict, shrink=False)
    with asgi_target(app) as target:
        return run_machine(target, _contract(), options, parts=PEOPLE)


def _judged(report: Report) -> dict[str, tuple[int, int, int]]:
    """passed, failed, warned per people invariant."""
    return {
        name: (counts.passed, counts.failed, counts.warned)
        for name, counts in report.counts.items()
        if name in INVARIANT_NAMES
    }


# --- the correct mock -------------------------------------------------------------------------


@cache
def _mock_report(seed: int) -> Report:
    """The people part against our mock (seeded on odd seeds, on the wall clock on even)."""
    app = create_app(Settings(seed=seed)) if seed % 2 else create_app()
    return _run(app, seed, SEQUENCES, STEPS)


@pytest.mark.parametrize("seed", SEEDS)
def test_stateful_people_mock_passes_without_failure_or_warning(seed: int) -> None:
    report = _mock_report(seed)
    assert [(b.check, b.finding.rule, b.finding.message) for b in report.breaches] == []
    judged = _judged(report)
    assert all(failed == warned == 0 for _, failed, warned in judged.values())
    assert report.requests > SEQUENCES


def test_stateful_people_every_invariant_is_judged_on_the_mock() -> None:
    passed: dict[str, int] = dict.fromkeys(INVARIANT_NAMES, 0)
    for seed in SEEDS:
        for name, (count, _, _) in _judged(_mock_report(seed)).items():
            passed[name] += count
    assert {name for name, count in passed.items() if count == 0} == set()


def test_stateful_people_owners_are_registered_invariants() -> None:
    assert set(INVARIANTS) >= INVARIANT_NAMES
    assert len(INVARIANT_NAMES) == 9


# --- broken mocks -----------------------------------------------------------------------------


def rewriting(app: ASGIApp, rewrite: Rewrite) -> ASGIApp:
    """The app behind a wrapper that rewrites the JSON body of its answers:
    ``rewrite(method, path, document)`` returns the document to send instead."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            with contextlib.suppress(ValueError):
                document = rewrite(scope["method"], scope["path"], json.loads(body))
                body = json.dumps(document).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def _stale_first_name(method: str, path: str, document: Any) -> Any:
    """GET /v1/viewer/users/{userId} answers a first name that no write gave."""
    if method == "GET" and path.startswith("/v1/viewer/users/usr_") and isinstance(document, dict):
        return {**document, "firstName": f"{document.get('firstName')}x"}
    return document


def _short_walk(method: str, path: str, document: Any) -> Any:
    """A page of users smaller than the largest says it is the last one."""
    users = path == "/v1/viewer/users" and isinstance(document, dict)
    if users and document.get("hasMore") and len(document.get("users", [])) < SMALL_PAGE:
        return {**document, "hasMore": False, "cursor": None}
    return document


def _revoke_keeps_status() -> ASGIApp:
    """invitations.revoke answers success and leaves the invitation sent."""
    app = create_app(Settings(seed=DEFECT_SEED))
    services = app.state.services
    invitations, clinic = services.invitations, services.clinic
    original = invitations.revoke

    def revoke(body: Any) -> bytes:
        before = {i["invitationId"]: i["status"] for i in clinic.invitations.records()}
        answer: bytes = original(body)
        for invitation in clinic.invitations.records():
            if before.get(invitation["invitationId"], invitation["status"]) != invitation["status"]:
                invitation["status"] = before[invitation["invitationId"]]
                clinic.invitations.replace(invitation)
        return answer

    vars(invitations)["revoke"] = revoke
    return app


def _email_case_sensitive() -> ASGIApp:
    """invite compares e-mails as they are written: another case is a new person."""
    app = create_app(Settings(seed=DEFECT_SEED))
    users, store = app.state.services.users, app.state.services.clinic.users
    original, find = users.invite, store.find

    def invite(body: Any, api_key: str) -> bytes:
        email = body.get("email") if isinstance(body, dict) else None
        vars(store)["find"] = lambda match: find(lambda u: match(u) and u["email"] == email)
        try:
            answer: bytes = original(body, api_key)
        finally:
            del vars(store)["find"]
        return answer

    vars(users)["invite"] = invite
    return app


BROKEN: dict[str, tuple[Callable[[], ASGIApp], str, str, bool]] = {
    "retrieve-stale-first-name": (
        lambda: rewriting(create_app(Settings(seed=DEFECT_SEED)), _stale_first_name),
        "users_read_own_writes",
        "user.read-your-writes",
        False,
    ),
    "walk-stops-early": (
        lambda: rewriting(create_app(Settings(seed=DEFECT_SEED)), _short_walk),
        "users_pages_walk",
        "userPage.walk",
        True,
    ),
    "revoke-keeps-status": (
        _revoke_keeps_status,
        "invitations_follow",
        "invitationRevoke.sets-revoked",
        True,
    ),
    "email-case-sensitive": (
        _email_case_sensitive,
        "emails_unique",
        "invite.email-taken",
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_stateful_people_catches_a_defect_by_its_invariant_and_rule_only(name: str) -> None:
    build, invariant_name, rule_id, inferred = BROKEN[name]
    report = _run(build(), DEFECT_SEED, DEFECT_SEQUENCES, DEFECT_STEPS, inferred)
    failed = {n for n, (_, count, _) in _judged(report).items() if count}
    assert failed == {invariant_name}
    rules = {b.finding.rule for b in report.breaches if b.check == invariant_name}
    assert rule_id in rules
    assert {b.check for b in report.breaches} == {invariant_name}
    tag = "inferred" if inferred else "stated"
    assert {b.finding.tag for b in report.breaches if b.finding.rule == rule_id} == {tag}
