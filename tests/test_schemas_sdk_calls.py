"""What the SDK's generated tests (tests/api_resources/viewer/) send for users, invitations and
ephemeral sessions passes the schemas, and a broken variant of it is refused by its rule. The
SDK runs for real against an in-memory transport that answers each document's first example,
which the strict client parses with the SDK's own models."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from avara import Avara

from mockserver.query import QueryReader
from mockserver.validation import Location
from tests.test_schemas import CONTRACT, INV, USR, broken_rules

PARAMETER = re.compile(r"\{([^}]+)\}")


def _sent(answer: str, call: Callable[[Avara], object]) -> httpx.Request:
    """The one request an SDK call makes, answered by the answer document's first example; the
    strict client parses that answer with the SDK's own models."""
    seen: list[httpx.Request] = []
    example = CONTRACT.documents[answer]["examples"][0]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=example)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = Avara(
            api_key="test-key",
            base_url="http://127.0.0.1:9",
            http_client=http,
            max_retries=0,
            _strict_response_validation=True,
        )
        call(client)
    (request,) = seen
    return request


def _read_query(name: str, request: httpx.Request) -> dict[str, Any]:
    """The query as its document reads it (a 'comma' parameter as its list)."""
    found, repeated = QueryReader(CONTRACT, name).read(list(request.url.params.multi_items()))
    assert repeated == []
    return found


UPDATE = dict(
    can_manage_studies=True,
    clinic_role="Radiologist",
    has_dashboard_access=True,
    middle_name="x",
    phone_number="5551234567",
    suffix1="x",
    suffix2="x",
)
INVITE = dict(
    can_manage_studies=True,
    clinic_role="Radiologist",
    email="dr.johnson@hospital.org",
    first_name="Sarah",
    has_dashboard_access=True,
    last_name="Johnson",
    level="member",
)
INVITE_ALL = dict(
    INVITE, middle_name="Marie", phone_number="5551234567", suffix1="MD", suffix2="FACR"
)
USER_LIST = dict(
    cursor="eyJvZmZzZXQiOjIwfQ==",
    email="user@example.com",
    first_name="John",
    invited_source="api",
    last_name="Doe",
    level="member",
    limit=20,
)
INVITATION_LIST = dict(
    cursor="eyJvZmZzZXQiOjIwfQ==",
    end_date="2024-12-31",
    expired="not-expired",
    limit=20,
    start_date="2024-01-01",
    status=["sent"],
    user_id=USR,
)
PROTOCOL = {"layout": "2x2", "viewport_assignments": ["Axial T1", "Axial T2", None, "Sagittal T2"]}
USERS = "/v1/viewer/users"
INVITATIONS = USERS + "/invitations"

# (route, path document, body or query document, answer document, the call) as the SDK's
# tests/api_resources/viewer/ make it.
# fmt: off
SDK_CALLS: dict[str, tuple[str, str | None, str | None, str, Callable[[Avara], object]]] = {
    "users.retrieve": (USERS + "/{userId}", "user-path", None, "user",
                       lambda c: c.viewer.users.retrieve(USR)),
    "users.update": (USERS + "/{userId}", "user-path", "user-update-request", "user",
                     lambda c: c.viewer.users.update(user_id=USR)),
    "users.update-all": (USERS + "/{userId}", "user-path", "user-update-request", "user",
                         lambda c: c.viewer.users.update(
                             user_id=USR, first_name="Sarah", last_name="Johnson-Smith",
                             level="admin", **UPDATE)),  # type: ignore[arg-type]
    "users.list": (USERS, None, "user-list-query", "user-list-page",
                   lambda c: c.viewer.users.list()),
    "users.list-all": (USERS, None, "user-list-query", "user-list-page",
                       lambda c: c.viewer.users.list(**USER_LIST)),  # type: ignore[arg-type]
    "users.invite": (USERS, None, "user-invite-request", "user-invite-response",
                     lambda c: c.viewer.users.invite(**INVITE)),  # type: ignore[arg-type]
    "users.invite-all": (USERS, None, "user-invite-request", "user-invite-response",
                         lambda c: c.viewer.users.invite(**INVITE_ALL)),  # type: ignore[arg-type]
    "users.reactivate": (USERS + "/reactivate", None, "user-access-request",
                         "user-access-response", lambda c: c.viewer.users.reactivate(user_id=USR)),
    "users.revoke_access": (USERS + "/revoke-access", None, "user-access-request",
                            "user-access-response",
                            lambda c: c.viewer.users.revoke_access(user_id=USR)),
    "invitations.retrieve": (INVITATIONS + "/{invitationId}", "invitation-path", None,
                             "invitation", lambda c: c.viewer.users.invitations.retrieve(INV)),
    "invitations.update": (INVITATIONS + "/{invitationId}", "invitation-path",
                           "invitation-update-request", "invitation",
                           lambda c: c.viewer.users.invitations.update(invitation_id=INV)),
    "invitations.update-all": (INVITATIONS + "/{invitationId}", "invitation-path",
                               "invitation-update-request", "invitation",
                               lambda c: c.viewer.users.invitations.update(
                                   invitation_id=INV, first_name="Michael", last_name="Chen",
                                   level="member", **UPDATE)),  # type: ignore[arg-type]
    "invitations.list": (INVITATIONS, None, "invitation-list-query", "invitation-list-page",
                         lambda c: c.viewer.users.invitations.list()),
    "invitations.list-all": (INVITATIONS, None, "invitation-list-query", "invitation-list-page",
                             lambda c: c.viewer.users.invitations.list(
                                 **INVITATION_LIST)),  # type: ignore[arg-type]
    "invitations.revoke": (INVITATIONS + "/revoke", None, "invitation-revoke-request",
                           "invitation-revoke-response",
                           lambda c: c.viewer.users.invitations.revoke()),
    "invitations.revoke-all": (INVITATIONS + "/revoke", None, "invitation-revoke-request",
                               "invitation-revoke-response",
                               lambda c: c.viewer.users.invitations.revoke(
                                   invitation_id=INV, user_id=USR)),
    "ephemeral_sessions.create": ("/v1/viewer/ephemeral-sessions", None,
                                  "ephemeral-session-create-request",
                                  "ephemeral-session-create-response",
                                  lambda c: c.viewer.ephemeral_sessions.create(
                                      retrieval_id="order-12345")),
    "ephemeral_sessions.create-all": ("/v1/viewer/ephemeral-sessions", None,
                                      "ephemeral-session-create-request",
                                      "ephemeral-session-create-response",
                                      lambda c: c.viewer.ephemeral_sessions.create(
                                          retrieval_id="order-12345",
                                          hanging_protocol=PROTOCOL,  # type: ignore[arg-type]
                                          options={"studyInstanceUids": "bar"})),
}
# fmt: on


def _captured(case: str) -> tuple[dict[str, str], Any, Location]:
    """What the SDK sent for a case: its path parameters, and its body or read query."""
    route, _, document, answer, call = SDK_CALLS[case]
    request = _sent(answer, call)
    names = PARAMETER.findall(route)
    pattern = re.escape(route)
    for name in names:
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
    matched = re.fullmatch(pattern, request.url.path)
    assert matched, (request.url.path, route)
    if request.method == "GET":
        query = _read_query(document, request) if document else {}
        return matched.groupdict(), query, "query"
    return matched.groupdict(), json.loads(request.content or b"{}"), "body"


@pytest.mark.parametrize("case", SDK_CALLS)
def test_schemas_accept_what_the_sdk_tests_send(case: str) -> None:
    _, path_document, document, _, _ = SDK_CALLS[case]
    path, sent, location = _captured(case)
    if path_document:
        assert broken_rules(path_document, path, "path") == set()
    if document:
        assert broken_rules(document, sent, location) == set()


def test_schemas_sdk_sends_a_status_list_comma_separated() -> None:
    request = _sent(
        "invitation-list-page",
        lambda c: c.viewer.users.invitations.list(status=["sent", "revoked"]),
    )
    assert request.url.params.get_list("status") == ["sent,revoked"]
    assert _read_query("invitation-list-query", request) == {"status": ["sent", "revoked"]}
    status = CONTRACT.documents["invitation-list-query"]["properties"]["status"]
    assert status["x-query"]["read"] == "comma"


# (case, what to change in what the SDK sent, the violations expected: field and rule)
UPPER_USR = "usr_" + USR.removeprefix("usr_").upper()
BROKEN: list[tuple[str, dict[str, Any], set[tuple[str, str]]]] = [
    ("users.invite-all", {"phoneNumber": "555-123-4567"},
     {("phoneNumber", "phoneNumber.digits-only")}),
    ("users.invite-all", {"phoneNumber": "555123456"}, {("phoneNumber", "phoneNumber.min-digits")}),
    ("users.invite-all", {"phoneNumber": "5" * 16}, {("phoneNumber", "phoneNumber.max-digits")}),
    ("users.invite-all", {"level": "owner"}, {("level", "assignableUserLevel.enum")}),
    ("users.invite-all", {"clinicRole": "radiologist"}, {("clinicRole", "clinicRole.enum")}),
    ("users.invite-all", {"email": "dr.johnson"}, {("email", "email.format")}),
    ("users.invite-all", {"firstName": ""}, {("firstName", "firstName.non-empty")}),
    ("users.invite-all", {"userId": USR}, {("userId", "body.unknown-field")}),
    ("users.update-all", {"level": "owner"}, {("level", "assignableUserLevel.enum")}),
    ("users.update-all", {"email": "new@hospital.org"}, {("email", "userUpdate.email-immutable")}),
    ("users.update-all", {"phoneNumber": "+15551234567"},
     {("phoneNumber", "phoneNumber.digits-only")}),
    ("users.update-all", {"canManageStudies": None},
     {("canManageStudies", "canManageStudies.type")}),
    ("users.reactivate", {"userId": "usr_123"}, {("userId", "userId.format")}),
    ("users.revoke_access", {"userId": UPPER_USR}, {("userId", "id.lowercase-hex")}),
    ("invitations.update-all", {"level": "owner"}, {("level", "assignableUserLevel.enum")}),
    ("invitations.revoke-all", {"invitationId": "inv_123"},
     {("invitationId", "invitationId.format")}),
    ("invitations.list-all", {"startDate": "12/31/2024"},
     {("startDate", "date.format"), ("startDate", "date.calendar")}),
    ("invitations.list-all", {"endDate": "2024-02-30"}, {("endDate", "date.calendar")}),
    ("invitations.list-all", {"status": ["pending"]}, {("status.0", "invitationStatus.enum")}),
    ("invitations.list-all", {"status": "sent"}, {("status", "invitationList.status-type")}),
    ("invitations.list-all", {"expired": "yes"}, {("expired", "invitationExpiredFilter.enum")}),
    ("invitations.list-all", {"limit": 101}, {("limit", "limit.maximum")}),
    ("invitations.list-all", {"userId": "usr_123"}, {("userId", "userId.format")}),
    ("users.list-all", {"level": "root"}, {("level", "userLevel.enum")}),
    ("users.list-all", {"limit": 2.5}, {("limit", "limit.integer")}),
    ("ephemeral_sessions.create-all",
     {"hangingProtocol": {"layout": "5x5", "viewportAssignments": []}},
     {("hangingProtocol.layout", "viewerLayout.enum")}),
    ("ephemeral_sessions.create-all", {"hangingProtocol": {"layout": "1x1"}},
     {("hangingProtocol.viewportAssignments", "hangingProtocol.required")}),
    ("ephemeral_sessions.create-all",
     {"hangingProtocol": {"layout": "1x1", "viewportAssignments": [1]}},
     {("hangingProtocol.viewportAssignments.0", "hangingProtocol.assignment-type")}),
    ("ephemeral_sessions.create-all", {"options": ["bar"]},
     {("options", "ephemeralSession.options-type")}),
    ("ephemeral_sessions.create-all", {"retrievalId": ""},
     {("retrievalId", "ephemeralSession.retrievalId-non-empty")}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "expected"), BROKEN)
def test_schemas_refuse_a_broken_variant_by_its_rule(
    case: str, change: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    _, _, document, _, _ = SDK_CALLS[case]
    _, sent, location = _captured(case)
    assert document
    assert broken_rules(document, sent, location) == set()
    assert broken_rules(document, {**sent, **change}, location) == expected
