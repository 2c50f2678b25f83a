"""Stateless invitations: the field rules of stateful mode, no other rule, answers made from
requests (the generated SDK suite's calls answered with the right shapes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from avara._qs import Querystring
from avara.types.viewer.users import (
    InvitationListResponse,
    InvitationRetrieveResponse,
    InvitationRevokeResponse,
    InvitationUpdateResponse,
)

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.query import parse_query
from mockserver.resources.invitations import Invitations, InvitationService
from mockserver.settings import Settings
from mockserver.stateless.invitations import StatelessInvitations
from mockserver.world.clinic import Clinic
from mockserver.world.clock import SteppingClock

CONTRACT = Contract.load()
FIXED_ID = "inv_1234567890abcdef1234567890abcdef"
USER = "usr_1234567890abcdef1234567890abcdef"
SDK_QUERY = Querystring(array_format="comma")
ALL_UPDATE = {
    "canManageStudies": True,
    "clinicRole": "Radiologist",
    "firstName": "Michael",
    "hasDashboardAccess": True,
    "lastName": "Chen",
    "level": "member",
    "middleName": "x",
    "phoneNumber": "5551234567",
    "suffix1": "x",
    "suffix2": "x",
}
ALL_LIST = {
    "cursor": "eyJvZmZzZXQiOjIwfQ==",
    "endDate": "2024-12-31",
    "expired": "not-expired",
    "limit": 20,
    "startDate": "2024-01-01",
    "status": ["sent"],
    "userId": USER,
}
Json = dict[str, Any]


@pytest.fixture(scope="module")
def invitations() -> Invitations:
    return StatelessInvitations(CONTRACT, Settings(stateless=True))


def valid(document: str, answer: bytes) -> Json:
    found: Json = orjson.loads(answer)
    errors = [e.message for e in CONTRACT.validator(document).iter_errors(found)]
    assert errors == []
    return found


def sdk_pairs(**params: Any) -> list[tuple[str, str]]:
    """The query as the Avara client writes it (floats for limit, lists joined by ',')."""
    if "limit" in params:
        params["limit"] = float(params["limit"])
    return parse_query(SDK_QUERY.stringify(params).encode())


def listed(invitations: Invitations, **params: Any) -> list[Json]:
    page = valid("invitation-list-page", invitations.list(sdk_pairs(**params)))
    assert page["cursor"] is None
    assert page["hasMore"] is False
    items: list[Json] = page["invitations"]
    return items


def day(timestamp: str) -> str:
    return timestamp[:10]


def moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# --- the generated suite's calls -----------------------------------------------------------


def test_stateless_invitations_retrieve_of_an_id_nobody_sent(invitations: Invitations) -> None:
    answer = valid("invitation", invitations.retrieve(FIXED_ID))
    assert answer["invitationId"] == FIXED_ID
    assert InvitationRetrieveResponse.model_validate(answer).invitation_id == FIXED_ID
    assert (answer["invitedSource"] == "api") == (answer["invitedByApiKeyId"] is not None)


def test_stateless_invitations_update_of_nothing_is_the_retrieved_one(
    invitations: Invitations,
) -> None:
    assert invitations.update(FIXED_ID, {}) == invitations.retrieve(FIXED_ID)


def test_stateless_invitations_update_with_all_params_applies_them(
    invitations: Invitations,
) -> None:
    before = orjson.loads(invitations.retrieve(FIXED_ID))
    answer = valid("invitation", invitations.update(FIXED_ID, ALL_UPDATE))
    assert {k: answer[k] for k in ALL_UPDATE} == ALL_UPDATE
    assert answer["updatedAt"] > before["updatedAt"]
    for field in ("invitationId", "userId", "clinicId", "status", "expiry", "createdAt"):
        assert answer[field] == before[field]
    InvitationUpdateResponse.model_validate(answer)


def test_stateless_invitations_update_nulls_keep_the_role_and_clear_the_rest(
    invitations: Invitations,
) -> None:
    stored = orjson.loads(invitations.retrieve(FIXED_ID))
    nulls = {"clinicRole": None, "middleName": None, "phoneNumber": None, "suffix1": None}
    answer = valid("invitation", invitations.update(FIXED_ID, {**ALL_UPDATE, **nulls}))
    assert answer["clinicRole"] == stored["clinicRole"] != ALL_UPDATE["clinicRole"]
    assert answer["middleName"] is answer["phoneNumber"] is answer["suffix1"] is None


def test_stateless_invitations_list_answers_a_few_invitations(invitations: Invitations) -> None:
    items = listed(invitations)
    assert 0 < len(items) <= 20
    keys = [(i["createdAt"], i["invitationId"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    for item in items:
        InvitationListResponse.model_validate(item)


def test_stateless_invitations_list_with_every_sdk_param_meets_every_filter(
    invitations: Invitations,
) -> None:
    items = listed(invitations, **ALL_LIST)
    assert items
    now = datetime.now(timezone.utc)
    for item in items:
        assert item["status"] == "sent"
        assert item["userId"] == USER
        assert "2024-01-01" <= day(item["createdAt"]) <= "2024-12-31"
        assert item["expiry"] is None or moment(item["expiry"]) > now


@pytest.mark.parametrize(
    "params",
    [
        {"expired": "expired"},
        {"expired": "expired", "endDate": "2025-03-01", "status": ["revoked", "rejected"]},
        {"expired": "expired", "startDate": "2026-01-05"},
        {"expired": "not-expired", "startDate": "2030-02-01"},
        {"startDate": "2026-06-30", "endDate": "2026-06-30"},
        {"endDate": "2019-01-01", "status": ["accepted"], "limit": 1},
        {"status": []},
    ],
)
def test_stateless_invitations_list_meets_each_filter_combination(
    invitations: Invitations, params: Json
) -> None:
    items = listed(invitations, **params)
    assert 0 < len(items) <= params.get("limit", 20)
    for item in items:
        assert day(item["createdAt"]) >= params.get("startDate", "0000")
        assert day(item["createdAt"]) <= params.get("endDate", "9999")
        if params.get("status"):
            assert item["status"] in params["status"]
        if params.get("expired") == "expired":
            assert item["expiry"] is not None
            assert item["createdAt"] <= item["expiry"] <= "2026-01-05T09:00:00.000Z"
        if params.get("expired") == "not-expired":
            assert item["expiry"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"startDate": "2025-02-01", "endDate": "2025-01-31"},
        {"expired": "expired", "startDate": "2030-01-01"},
    ],
)
def test_stateless_invitations_list_of_contradicting_filters_is_empty(
    invitations: Invitations, params: Json
) -> None:
    assert listed(invitations, **params) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"invitationId": FIXED_ID, "userId": USER}, {"userId": USER}, {"invitationId": None}],
)
def test_stateless_invitations_revoke_succeeds_whatever_is_named(
    invitations: Invitations, body: Json
) -> None:
    answer = valid("invitation-revoke-response", invitations.revoke(body))
    assert answer["success"] is True
    assert "stateless" in answer["message"]
    assert InvitationRevokeResponse.model_validate(answer).success is True


# --- field rules, and only those -----------------------------------------------------------


REFUSED: list[tuple[str, Any]] = [
    ("retrieve", "inv_123"),
    ("update", {"level": "owner", "firstName": "", "extra": 1}),
    ("update", {"phoneNumber": "+1 555 123 4567", "canManageStudies": "yes"}),
    ("list", [("status", "sent,pending"), ("limit", "101")]),
    ("list", [("status", "sent"), ("status", "revoked")]),
    ("list", [("startDate", "2025-02-30"), ("cursor", "not base64!")]),
    ("revoke", {"invitationId": "inv_" + "A" * 32, "userId": 5}),
    ("revoke", []),
]


def call(service: Invitations, operation: str, argument: Any) -> bytes:
    if operation == "retrieve":
        return service.retrieve(argument)
    if operation == "update":
        return service.update(FIXED_ID, argument)
    if operation == "list":
        return service.list(argument)
    return service.revoke(argument)


@pytest.mark.parametrize(("operation", "argument"), REFUSED)
def test_stateless_invitations_refuse_what_the_field_rules_refuse_as_stateful_mode_does(
    invitations: Invitations, operation: str, argument: Any
) -> None:
    stateful = InvitationService(CONTRACT, Settings(seed=1), Clinic(CONTRACT, 1), SteppingClock())
    with pytest.raises(InvalidRequest) as stateless_error:
        call(invitations, operation, argument)
    with pytest.raises(InvalidRequest) as stateful_error:
        call(stateful, operation, argument)
    assert stateless_error.value.violations
    assert stateless_error.value.body() == stateful_error.value.body()


def test_stateless_invitations_apply_no_stateful_rule(invitations: Invitations) -> None:
    admin_without_dashboard = {"level": "admin", "hasDashboardAccess": False}
    answer = orjson.loads(invitations.update(FIXED_ID, admin_without_dashboard))
    assert (answer["level"], answer["hasDashboardAccess"]) == ("admin", False)
    assert listed(invitations, cursor="c29tZXdoZXJlIGVsc2U=")
    assert orjson.loads(invitations.revoke({}))["success"] is True


def test_stateless_invitations_lenient_ignores_unknown_fields() -> None:
    lenient = StatelessInvitations(CONTRACT, Settings(stateless=True, lenient=True))
    assert orjson.loads(lenient.update(FIXED_ID, {"nickname": "x"}))["invitationId"] == FIXED_ID
    assert orjson.loads(lenient.list([("user_id", USER)]))["invitations"]


# --- determinism ---------------------------------------------------------------------------


def answers(seed: int | None) -> list[bytes]:
    service = StatelessInvitations(CONTRACT, Settings(stateless=True, seed=seed))
    return [
        service.retrieve(FIXED_ID),
        service.update(FIXED_ID, ALL_UPDATE),
        service.list(sdk_pairs(**ALL_LIST)),
        service.list([]),
        service.revoke({"userId": USER}),
    ]


def test_stateless_invitations_same_request_same_bytes_another_seed_other_answers() -> None:
    assert answers(None) == answers(None) == answers(0)
    other = answers(5)
    assert [a != b for a, b in zip(answers(None), other, strict=True)][:4] == [True] * 4


def test_stateless_invitations_key_order_does_not_change_an_answer(
    invitations: Invitations,
) -> None:
    reordered = dict(reversed(list(ALL_UPDATE.items())))
    assert invitations.update(FIXED_ID, reordered) == invitations.update(FIXED_ID, ALL_UPDATE)
    shuffled = list(reversed(sdk_pairs(**ALL_LIST)))
    assert invitations.list(shuffled) == invitations.list(sdk_pairs(**ALL_LIST))
