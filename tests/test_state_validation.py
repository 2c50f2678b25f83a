"""Loading a state document checks all of it first: a 400 names each field at fault, and a
refused document leaves the running mock exactly as it was."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.contract import Contract
from mockserver.control.state import STATE
from mockserver.validation import DocumentValidator
from tests.state_world import STATE as STATE_PATH
from tests.state_world import lived_in, mock, put_state, state_bytes
from tests.test_schemas import _constraints

Edit = Callable[[dict[str, Any]], None]
CONTRACT = Contract.load()


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    """A lived-in world's state document (studies, users, invitations, a revoked user)."""
    with mock(seed=5) as client:
        lived_in(client)
        document: dict[str, Any] = orjson.loads(state_bytes(client))
    return document


def _refusal(client: TestClient, document: Any) -> set[tuple[str, str]]:
    answer = put_state(client, orjson.dumps(document))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request"
    found = {(e["field"], e["rule"]) for e in error["errors"]}
    assert all(e["message"].startswith(e["field"]) for e in error["errors"] if e["field"])
    return found


def _first_of(document: dict[str, Any], level: str) -> int:
    return next(i for i, user in enumerate(document["users"]) if user["level"] == level)


def _assigned(document: dict[str, Any]) -> int:
    return next(i for i, s in enumerate(document["studies"]) if s["assignedTo"] is not None)


def _set(section: str, index: Callable[[dict[str, Any]], int], field: str, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        document[section][index(document)][field] = value

    return edit


def _copy_of(section: str, k: int, field: str, source: int = 0) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        document[section][k][field] = document[section][source][field]

    return edit


def _member(document: dict[str, Any]) -> int:
    return _first_of(document, "member")


def _user_email_upper(document: dict[str, Any]) -> None:
    document["users"][1]["email"] = document["users"][0]["email"].upper()


def _stranger_assigned(document: dict[str, Any]) -> None:
    document["studies"][_assigned(document)]["assignedTo"]["userId"] = "usr_" + "9" * 32


def _assigned_renamed(document: dict[str, Any]) -> None:
    document["studies"][_assigned(document)]["assignedTo"]["lastName"] = "Somebody Else"


def _admin_without_dashboard(document: dict[str, Any]) -> None:
    document["users"][_first_of(document, "admin")]["hasDashboardAccess"] = False


def _owner_revoked(document: dict[str, Any]) -> None:
    document["revokedAccess"].append(document["users"][_first_of(document, "owner")]["userId"])


def _stranger_revoked(document: dict[str, Any]) -> None:
    document["revokedAccess"].append("usr_" + "8" * 32)


def _api_invitation_without_key(document: dict[str, Any]) -> None:
    k = next(i for i, inv in enumerate(document["invitations"]) if inv["invitedSource"] == "api")
    document["invitations"][k]["invitedByApiKeyId"] = None


CROSS_FIELD: list[tuple[Edit, set[tuple[str, str]] | None]] = [
    (_copy_of("studies", 2, "studyId"), {("studies.2.studyId", "state.unique-study-id")}),
    (
        _copy_of("studies", 1, "studyInstanceUid"),
        {("studies.1.studyInstanceUid", "state.unique-study-uid")},
    ),
    (_copy_of("users", 3, "userId"), {("users.3.userId", "state.unique-user-id")}),
    (_user_email_upper, {("users.1.email", "state.unique-user-email")}),
    (
        _copy_of("invitations", 4, "invitationId"),
        {("invitations.4.invitationId", "state.unique-invitation-id")},
    ),
    (
        _set("invitations", lambda d: 0, "userId", "usr_" + "7" * 32),
        {("invitations.0.userId", "state.invitation-user")},
    ),
    (
        _set("invitations", lambda d: 2, "clinicId", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        {("invitations.2.clinicId", "state.invitation-clinic")},
    ),
    (_api_invitation_without_key, None),  # the field is found below
    (_stranger_assigned, None),
    (_assigned_renamed, None),
    (_admin_without_dashboard, None),
    (_owner_revoked, None),
    (_stranger_revoked, None),
]


def _expected(edit: Edit, document: dict[str, Any]) -> set[tuple[str, str]]:
    """The violation a cross-field edit makes, where its place depends on the document."""
    if edit is _api_invitation_without_key:
        k = next(i for i, v in enumerate(document["invitations"]) if v["invitedSource"] == "api")
        return {(f"invitations.{k}.invitedByApiKeyId", "invitation.source-fields")}
    if edit is _stranger_assigned:
        return {(f"studies.{_assigned(document)}.assignedTo.userId", "state.assigned-user")}
    if edit is _assigned_renamed:
        return {(f"studies.{_assigned(document)}.assignedTo", "state.assigned-user-current")}
    if edit is _admin_without_dashboard:
        k = _first_of(document, "admin")
        return {(f"users.{k}.hasDashboardAccess", "user.admin-dashboard-access")}
    last = len(document["revokedAccess"]) - 1
    rule = "state.revoked-owner" if edit is _owner_revoked else "state.revoked-user"
    return {(f"revokedAccess.{last}", rule)}


@pytest.mark.parametrize(("edit", "expected"), CROSS_FIELD)
def test_state_cross_field_rule_names_the_field_and_changes_nothing(
    world: dict[str, Any], edit: Edit, expected: set[tuple[str, str]] | None
) -> None:
    document = copy.deepcopy(world)
    edit(document)
    with mock(seed=5) as client:
        lived_in(client)
        before = state_bytes(client)
        found = _refusal(client, document)
        assert (expected or _expected(edit, document)) <= found
        assert state_bytes(client) == before


SCHEMA_EDITS: list[tuple[str, Edit, tuple[str, str]]] = [
    ("version", lambda d: d.update(version=2), ("version", "state.version")),
    ("unknown top field", lambda d: d.update(extra=1), ("extra", "state.unknown-field")),
    ("missing clock", lambda d: d.pop("clock"), ("clock", "state.required")),
    (
        "createdAt without milliseconds",
        _set("studies", lambda d: 2, "createdAt", "2026-01-05T09:00:00Z"),
        ("studies.2.createdAt", "state.instant-form"),
    ),
    (
        "a study's unknown field",
        _set("studies", lambda d: 0, "studyDescripton", "typo"),
        ("studies.0.studyDescripton", "state.study-unknown-field"),
    ),
    (
        "a study without its createdByApiKey",
        lambda d: d["studies"][1].pop("createdByApiKey"),
        ("studies.1.createdByApiKey", "state.study-field-required"),
    ),
    (
        "a study's severity",
        _set("studies", lambda d: 0, "severity", "urgent"),
        ("studies.0.severity", "severity.enum"),
    ),
    (
        "a user's level",
        _set("users", lambda d: 2, "level", "boss"),
        ("users.2.level", "userLevel.enum"),
    ),
    (
        "an invitation's status",
        _set("invitations", lambda d: 0, "status", "lost"),
        ("invitations.0.status", "invitationStatus.enum"),
    ),
    (
        "a stepping clock without next",
        lambda d: d.update(clock={"kind": "stepping", "stepMs": 1000}),
        ("clock.next", "state.stepping-clock-fields"),
    ),
    (
        "a system clock with a next",
        lambda d: d.update(clock={"kind": "system", "next": "2026-01-05T09:00:00.000Z"}),
        ("clock", "state.system-clock-alone"),
    ),
    (
        "a revoked user twice",
        lambda d: d["revokedAccess"].append(d["revokedAccess"][0]),
        ("revokedAccess", "state.revokedAccess-unique"),
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in SCHEMA_EDITS],
                         ids=[name for name, _, _ in SCHEMA_EDITS])  # fmt: skip
def test_state_schema_rule_names_the_field_and_changes_nothing(
    world: dict[str, Any], edit: Edit, expected: tuple[str, str]
) -> None:
    document = copy.deepcopy(world)
    edit(document)
    with mock(seed=5) as client:
        created = client.post(
            "/v1/viewer/studies",
            json={"studyInstanceUid": "2.25.4", "severity": "high", "studyDescription": "CT"},
        )
        assert created.status_code == 201
        before = state_bytes(client)
        assert expected in _refusal(client, document)
        assert state_bytes(client) == before


@pytest.mark.parametrize("body", [b"[]", b"null", b'"state"', b"{}"])
def test_state_a_document_that_is_no_object_or_empty_is_refused(body: bytes) -> None:
    with mock(seed=5) as client:
        before = state_bytes(client)
        answer = put_state(client, body)
        assert answer.status_code == 400
        assert answer.json()["error"]["errors"][0]["rule"] in ("state.object", "state.required")
        assert state_bytes(client) == before


def test_state_a_body_that_is_not_json_is_refused_as_the_api_refuses_it() -> None:
    with mock(seed=5) as client:
        assert put_state(client, b"{").status_code == 400
        plain = client.put(STATE_PATH, content=b"{}", headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415


def test_state_schema_annotates_every_constraint() -> None:
    paths = list(_constraints(CONTRACT.resolved(STATE)))
    assert paths
    assert [p for p in paths if CONTRACT.rule_at(STATE, list(p)) is None] == []


def test_state_schema_examples_are_loadable_states() -> None:
    examples = CONTRACT.documents[STATE]["examples"]
    assert examples
    with mock() as client:
        for example in examples:
            assert DocumentValidator(CONTRACT, STATE).violations(example) == []
            assert put_state(client, orjson.dumps(example)).status_code == 200
            assert orjson.loads(state_bytes(client)) == example


@pytest.mark.parametrize(
    ("definition", "document"),
    [("StateStudy", "study"), ("StateUser", "user"), ("StateInvitation", "invitation")],
)
def test_state_records_need_every_field_of_their_document_and_no_other(
    definition: str, document: str
) -> None:
    """What a state record requires on top of its API document is the rest of its fields,
    so a field added to the API's document shows up here instead of breaking round trips."""
    wrapper = CONTRACT.documents[STATE]["$defs"][definition]
    answered = CONTRACT.documents[document]
    assert set(wrapper["required"]) | set(answered["required"]) == set(answered["properties"])
    assert set(wrapper["required"]) & set(answered["required"]) == set()
    assert set(wrapper["properties"]) == set(answered["properties"])
