"""Stateless users: the generated SDK suite's requests answered, field rules kept, no state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.settings import Settings
from mockserver.stateless.users import StatelessUsers
from mockserver.world.references import ReferenceFactory

CONTRACT = Contract.load()
KEY = "test-key"
FIXED_ID = "usr_1234567890abcdef1234567890abcdef"
INVITE: dict[str, Any] = CONTRACT.documents["user-invite-request"]["examples"][0]
"""The minimal invite the schema shows (the SDK's own example values)."""
INVITE_ALL: dict[str, Any] = CONTRACT.documents["user-invite-request"]["examples"][1]
UPDATE_ALL = {
    "canManageStudies": True,
    "clinicRole": "Radiologist",
    "firstName": "Sarah",
    "hasDashboardAccess": True,
    "lastName": "Johnson-Smith",
    "level": "admin",
    "middleName": "x",
    "phoneNumber": "5551234567",
    "suffix1": "x",
    "suffix2": "x",
}
LIST_ALL = [
    ("cursor", "eyJvZmZzZXQiOjIwfQ=="),
    ("email", "user@example.com"),
    ("firstName", "John"),
    ("invitedSource", "api"),
    ("lastName", "Doe"),
    ("level", "member"),
    ("limit", "20"),
]
Json = dict[str, Any]


def stateless(seed: int | None = 7, *, lenient: bool = False) -> StatelessUsers:
    return StatelessUsers(CONTRACT, Settings(seed=seed, lenient=lenient, stateless=True))


def conforms(name: str, answer: bytes) -> Json:
    document = orjson.loads(answer)
    errors = [e.message for e in CONTRACT.validator(name).iter_errors(document)]
    assert errors == [], errors
    assert isinstance(document, dict)
    return document


def refused(call: Callable[[], Any]) -> set[tuple[str, str, str]]:
    with pytest.raises(InvalidRequest) as raised:
        call()
    return {(v.field, v.rule, v.location) for v in raised.value.violations}


# --- the generated suite's requests --------------------------------------------------------


def test_stateless_users_retrieve_answers_a_fixed_id() -> None:
    user = conforms("user", stateless().retrieve(FIXED_ID))
    assert user["userId"] == FIXED_ID
    person = ReferenceFactory(7).user(FIXED_ID)
    assert {k: user[k] for k in person} == person


@pytest.mark.parametrize("body", [{}, UPDATE_ALL], ids=["empty", "all-params"])
def test_stateless_users_update_answers_the_fields_sent(body: Json) -> None:
    users = stateless()
    before = conforms("user", users.retrieve(FIXED_ID))
    after = conforms("user", users.update(FIXED_ID, body))
    assert after == {**before, **body}


def test_stateless_users_update_null_role_keeps_it() -> None:
    users = stateless()
    before = conforms("user", users.retrieve(FIXED_ID))
    after = conforms("user", users.update(FIXED_ID, {"clinicRole": None, "middleName": None}))
    assert after == {**before, "middleName": None}


@pytest.mark.parametrize("pairs", [[], LIST_ALL], ids=["no-params", "all-params"])
def test_stateless_users_list_answers_users_meeting_every_filter(
    pairs: list[tuple[str, str]],
) -> None:
    page = conforms("user-list-page", stateless().list(pairs))
    assert page["users"]
    assert (page["cursor"], page["hasMore"]) == (None, False)
    query = dict(pairs)
    for user in page["users"]:
        assert user["email"] == query.get("email", user["email"])
        assert query.get("firstName", "").lower() in user["firstName"].lower()
        assert query.get("lastName", "").lower() in user["lastName"].lower()
        assert user["level"] == query.get("level", user["level"])
        assert user["invitedSource"] == query.get("invitedSource", user["invitedSource"])
        assert user["level"] != "admin" or user["hasDashboardAccess"]
    order = [(u["createdAt"], u["userId"]) for u in page["users"]]
    assert order == sorted(order, reverse=True)


def test_stateless_users_list_of_admins_gives_them_dashboard_access() -> None:
    users = stateless()
    for n in range(10):
        page = conforms("user-list-page", users.list([("level", "admin"), ("lastName", f"{n}")]))
        assert all(u["level"] == "admin" and u["hasDashboardAccess"] for u in page["users"])


def test_stateless_users_list_by_a_text_no_user_can_have_is_empty() -> None:
    page = conforms("user-list-page", stateless().list([("email", "not an address")]))
    assert page == {"users": [], "cursor": None, "hasMore": False}


def test_stateless_users_list_items_are_the_retrieved_users() -> None:
    users = stateless()
    page = conforms("user-list-page", users.list([("limit", "2")]))
    assert len(page["users"]) == 2
    for user in page["users"]:
        assert conforms("user", users.retrieve(user["userId"])) == user


@pytest.mark.parametrize("body", [INVITE, INVITE_ALL], ids=["required", "all-params"])
def test_stateless_users_invite_echoes_and_allows_the_same_email_again(body: Json) -> None:
    users = stateless()
    first = conforms("user-invite-response", users.invite(body, KEY))
    assert {k: first[k] for k in body} == body
    assert (first["invitedSource"], first["lastLoginAt"]) == ("api", None)
    assert users.invite(body, KEY) == users.invite(body, KEY)
    other = conforms("user-invite-response", users.invite({**body, "lastName": "Jones"}, KEY))
    assert other["userId"] == first["userId"]
    listed = conforms("user-list-page", users.list([("email", body["email"])]))
    assert [u["userId"] for u in listed["users"]] == [first["userId"]]


@pytest.mark.parametrize("call", ["reactivate", "revoke_access"])
def test_stateless_users_access_calls_answer_success(call: str) -> None:
    answer = conforms("user-access-response", getattr(stateless(), call)({"userId": FIXED_ID}))
    assert answer["success"] is True
    assert FIXED_ID in answer["message"]


# --- field rules still refuse; stateful rules do not ------------------------------------------


@pytest.mark.parametrize(
    ("call", "found"),
    [
        (lambda u: u.retrieve("usr_123"), ("userId", "userId.format", "path")),
        (
            lambda u: u.update(FIXED_ID, {"email": "a@b.org"}),
            ("email", "userUpdate.email-immutable", "body"),
        ),
        (
            lambda u: u.update(FIXED_ID, {"level": "owner"}),
            ("level", "assignableUserLevel.enum", "body"),
        ),
        (
            lambda u: u.invite({**INVITE, "level": "owner"}, KEY),
            ("level", "assignableUserLevel.enum", "body"),
        ),
        (lambda u: u.invite({**INVITE, "email": "nope"}, KEY), ("email", "email.format", "body")),
        (lambda u: u.list([("limit", "101")]), ("limit", "limit.maximum", "query")),
        (lambda u: u.list([("cursor", "not base64!")]), ("cursor", "cursor.format", "query")),
        (lambda u: u.revoke_access({}), ("userId", "body.required", "body")),
        (
            lambda u: u.reactivate({"userId": "usr_" + "A" * 32}),
            ("userId", "id.lowercase-hex", "body"),
        ),
    ],
)
def test_stateless_users_field_rules_still_refuse(
    call: Callable[[StatelessUsers], Any], found: tuple[str, str, str]
) -> None:
    assert found in refused(lambda: call(stateless()))


def test_stateless_users_apply_no_stateful_rule() -> None:
    users = stateless()
    admin = {**INVITE, "level": "admin", "hasDashboardAccess": False}
    assert conforms("user-invite-response", users.invite(admin, KEY))["level"] == "admin"
    foreign = "c3RyYW5nZXI="
    assert conforms("user-list-page", users.list([("cursor", foreign)]))["users"]
    conforms("user-access-response", users.revoke_access({"userId": "usr_" + "0" * 32}))


def test_stateless_users_lenient_ignores_unknown_fields() -> None:
    assert refused(lambda: stateless().invite({**INVITE, "nickname": "S"}, KEY)) == {
        ("nickname", "body.unknown-field", "body")
    }
    made = conforms(
        "user-invite-response", stateless(lenient=True).invite({**INVITE, "nickname": "S"}, KEY)
    )
    assert "nickname" not in made


# --- determinism ---------------------------------------------------------------------------


def answers(users: StatelessUsers) -> list[bytes]:
    return [
        users.retrieve(FIXED_ID),
        users.update(FIXED_ID, UPDATE_ALL),
        users.list([]),
        users.list(LIST_ALL),
        users.invite(INVITE_ALL, KEY),
        users.revoke_access({"userId": FIXED_ID}),
    ]


def test_stateless_users_same_request_same_bytes_across_instances() -> None:
    assert answers(stateless(3)) == answers(stateless(3))
    assert answers(stateless(None)) == answers(stateless(None))


def test_stateless_users_another_seed_another_answer() -> None:
    assert stateless(3).retrieve(FIXED_ID) != stateless(4).retrieve(FIXED_ID)
    assert stateless(3).invite(INVITE, KEY) != stateless(4).invite(INVITE, KEY)


def test_stateless_users_key_order_does_not_change_the_answer() -> None:
    users = stateless()
    reordered = dict(reversed(list(INVITE_ALL.items())))
    assert users.invite(reordered, KEY) == users.invite(INVITE_ALL, KEY)
