"""The users service without HTTP: the seeded clinic, invite, update, access, list, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import ApiError, Conflict, InvalidRequest, NotFound
from mockserver.resources.users import UserService
from mockserver.settings import Settings
from mockserver.world.clinic import STAFF, Clinic
from mockserver.world.clock import SteppingClock
from mockserver.world.cursors import CursorCodec
from mockserver.world.references import ReferenceFactory

CONTRACT = Contract.load()
KEY = "test-key"
SEED = 7
UNKNOWN = "usr_" + "0" * 32
INVITE: dict[str, Any] = CONTRACT.documents["user-invite-request"]["examples"][0]
"""The minimal invite the schema shows (the SDK's own example values)."""
EXPIRY_DAYS: int = CONTRACT.documents["user-invite-request"]["x-stateful-rules"]["invite.expiry"][
    "days"
]
Json = dict[str, Any]


def build(seed: int | None = SEED, *, lenient: bool = False) -> tuple[UserService, Clinic]:
    """The service and the clinic it works on, as the app wires them."""
    clinic = Clinic(CONTRACT, seed)
    settings = Settings(seed=seed, lenient=lenient)
    return UserService(CONTRACT, settings, clinic, SteppingClock()), clinic


def service(seed: int | None = SEED, *, lenient: bool = False) -> UserService:
    return build(seed, lenient=lenient)[0]


def conforms(name: str, answer: bytes) -> Json:
    """The answer parsed, once it is known to be valid against its schema."""
    document = orjson.loads(answer)
    errors = [e.message for e in CONTRACT.validator(name).iter_errors(document)]
    assert errors == [], errors
    assert isinstance(document, dict)
    return document


def invite(users: UserService, key: str = KEY, **fields: Any) -> Json:
    return conforms("user-invite-response", users.invite({**INVITE, **fields}, key))


def listing(users: UserService, *pairs: tuple[str, str]) -> Json:
    return conforms("user-list-page", users.list(list(pairs)))


def everyone(users: UserService) -> list[Json]:
    return list(listing(users, ("limit", "100"))["users"])


def by_level(users: UserService, level: str) -> Json:
    return next(u for u in everyone(users) if u["level"] == level)


def violations(error: type[ApiError], call: Callable[[], Any]) -> set[tuple[str, str, str]]:
    with pytest.raises(error) as raised:
        call()
    assert raised.value.status == error.status
    assert conforms("error", raised.value.body())
    return {(v.field, v.rule, v.location) for v in raised.value.violations}


def pending(clinic: Clinic, user_id: str) -> Json:
    found = clinic.invitations.find(lambda i: i["userId"] == user_id)
    assert found is not None
    return conforms("invitation", orjson.dumps(found))


# --- the seeded clinic ---------------------------------------------------------------------


def test_users_first_list_shows_the_seeded_clinic() -> None:
    users = everyone(service())
    assert [u["level"] for u in users].count("owner") == 1
    for level, count in STAFF:
        assert [u["level"] for u in users].count(level) == count
    for user in users:
        conforms("user", orjson.dumps(user))
        assert user["level"] != "admin" or user["hasDashboardAccess"]


def test_users_seeded_clinic_depends_on_the_seed_only() -> None:
    assert service(3).list([]) == service(3).list([])
    assert service(3).list([]) != service(4).list([])


# --- invite --------------------------------------------------------------------------------


def test_users_invite_creates_a_user_first_on_the_list() -> None:
    users = service()
    made = invite(users, middleName="Marie", phoneNumber="5551234567", suffix1="MD")
    assert {k: made[k] for k in INVITE} == INVITE
    assert (made["middleName"], made["phoneNumber"], made["suffix1"]) == (
        "Marie",
        "5551234567",
        "MD",
    )
    assert made["suffix2"] is None
    assert made["invitedSource"] == "api"
    assert made["lastLoginAt"] is None
    assert listing(users, ("limit", "1"))["users"] == [made]
    assert conforms("user", users.retrieve(made["userId"])) == made


def test_users_invite_sends_an_invitation_that_expires() -> None:
    users, clinic = build()
    made = invite(users)
    invitation = pending(clinic, made["userId"])
    assert invitation["status"] == "sent"
    assert invitation["clinicId"] == clinic.clinic_id
    assert invitation["invitedSource"] == "api"
    assert invitation["invitedByApiKeyId"] == ReferenceFactory(SEED).api_key(KEY)["apiKeyId"]
    assert invitation["email"] == made["email"]
    assert invitation["createdAt"] == invitation["updatedAt"] == made["createdAt"]
    created = datetime.fromisoformat(made["createdAt"].replace("Z", "+00:00"))
    expiry = datetime.fromisoformat(invitation["expiry"].replace("Z", "+00:00"))
    assert expiry - created == timedelta(days=EXPIRY_DAYS)


def test_users_invite_inviter_stands_for_the_key() -> None:
    users, clinic = build()
    first = pending(clinic, invite(users, email="a@example.org")["userId"])
    second = pending(clinic, invite(users, email="b@example.org")["userId"])
    other = pending(clinic, invite(users, key="other-key", email="c@example.org")["userId"])
    assert first["inviterId"] == second["inviterId"] != other["inviterId"]
    assert first["inviterId"].startswith("usr_")


def test_users_invite_of_a_taken_email_is_409_ignoring_case() -> None:
    users = service()
    seeded = by_level(users, "member")["email"]
    assert violations(Conflict, lambda: invite(users, email=seeded.upper())) == {
        ("email", "invite.email-taken", "body")
    }
    invite(users, email="new.person@example.org")
    assert violations(Conflict, lambda: invite(users, email="New.Person@example.org"))


def test_users_invite_of_an_admin_without_dashboard_is_refused() -> None:
    users = service()
    found = violations(
        InvalidRequest, lambda: invite(users, level="admin", hasDashboardAccess=False)
    )
    assert found == {("hasDashboardAccess", "invite.admin-dashboard-access", "body")}
    assert invite(users, level="admin")["level"] == "admin"


def test_users_invite_of_an_owner_is_refused_by_the_enum() -> None:
    found = violations(InvalidRequest, lambda: invite(service(), level="owner"))
    assert found == {("level", "assignableUserLevel.enum", "body")}


def test_users_invite_field_rules_list_every_violation() -> None:
    users = service()
    body = {**INVITE, "phoneNumber": "555-123", "firstName": ""}
    del body["email"]
    found = violations(InvalidRequest, lambda: users.invite(body, KEY))
    rules = {rule for _, rule, _ in found}
    assert {"body.required", "firstName.non-empty", "phoneNumber.digits-only"} <= rules
    assert len(everyone(users)) == sum(count for _, count in STAFF)


def test_users_invite_null_optional_is_absent_and_lenient_ignores_unknown() -> None:
    made = invite(service(), middleName=None)
    assert made["middleName"] is None
    refused = violations(InvalidRequest, lambda: invite(service(), nickname="Sal"))
    assert refused == {("nickname", "body.unknown-field", "body")}
    assert "nickname" not in invite(service(lenient=True), nickname="Sal")


# --- update --------------------------------------------------------------------------------


def test_users_update_applies_only_fields_sent() -> None:
    users = service()
    before = by_level(users, "member")
    after = conforms("user", users.update(before["userId"], {"firstName": "Zed", "suffix2": "Jr."}))
    assert after == {**before, "firstName": "Zed", "suffix2": "Jr."}
    assert conforms("user", users.retrieve(before["userId"])) == after


def test_users_update_nulls_clear_names_and_keep_the_role() -> None:
    users = service()
    before = by_level(users, "member")
    body = {"middleName": None, "phoneNumber": None, "clinicRole": None}
    after = conforms("user", users.update(before["userId"], body))
    assert after["middleName"] is None
    assert after["phoneNumber"] is None
    assert after["clinicRole"] == before["clinicRole"]


def test_users_update_of_nothing_changes_nothing() -> None:
    users = service()
    before = by_level(users, "admin")
    assert conforms("user", users.update(before["userId"], {})) == before


def test_users_update_refuses_email_and_unknown_fields() -> None:
    users = service()
    user_id = by_level(users, "member")["userId"]
    body = {"email": "x@example.org", "userId": UNKNOWN}
    assert violations(InvalidRequest, lambda: users.update(user_id, body)) == {
        ("email", "userUpdate.email-immutable", "body"),
        ("userId", "userUpdate.unknown-field", "body"),
    }


def test_users_update_keeps_an_admin_with_dashboard_access() -> None:
    users = service()
    member = next(u for u in everyone(users) if not u["hasDashboardAccess"])
    admin = by_level(users, "admin")
    assert violations(
        InvalidRequest, lambda: users.update(member["userId"], {"level": "admin"})
    ) == {("level", "userUpdate.admin-dashboard-access", "body")}
    body = {"hasDashboardAccess": False}
    assert violations(InvalidRequest, lambda: users.update(admin["userId"], body)) == {
        ("hasDashboardAccess", "userUpdate.admin-dashboard-access", "body")
    }
    promoted = {"level": "admin", "hasDashboardAccess": True}
    assert conforms("user", users.update(member["userId"], promoted))["level"] == "admin"


def test_users_update_cannot_change_the_owner_level() -> None:
    users = service()
    owner = by_level(users, "owner")
    assert violations(Conflict, lambda: users.update(owner["userId"], {"level": "admin"})) == {
        ("level", "userUpdate.owner-level", "body")
    }
    renamed = conforms("user", users.update(owner["userId"], {"lastName": "Owner-Smith"}))
    assert renamed["level"] == "owner"


def test_users_update_follows_a_pending_invitation_only() -> None:
    users, clinic = build()
    made = invite(users)
    sent = pending(clinic, made["userId"])
    users.update(made["userId"], {"firstName": made["firstName"]})
    assert pending(clinic, made["userId"]) == sent
    users.update(made["userId"], {"firstName": "Sally", "level": "admin"})
    followed = pending(clinic, made["userId"])
    assert (followed["firstName"], followed["level"]) == ("Sally", "admin")
    assert followed["updatedAt"] > sent["updatedAt"]
    assert followed["createdAt"] == sent["createdAt"]
    seeded = by_level(users, "member")
    accepted = pending(clinic, seeded["userId"])
    users.update(seeded["userId"], {"firstName": "Other"})
    assert pending(clinic, seeded["userId"]) == accepted


def test_users_update_of_a_revoked_user_is_allowed() -> None:
    users = service()
    user_id = by_level(users, "member")["userId"]
    users.revoke_access({"userId": user_id})
    assert conforms("user", users.update(user_id, {"firstName": "Kept"}))["firstName"] == "Kept"


# --- revoke_access and reactivate ----------------------------------------------------------


def test_users_revoke_and_reactivate_switch_access_idempotently() -> None:
    users, clinic = build()
    user = by_level(users, "member")
    body = {"userId": user["userId"]}
    assert conforms("user-access-response", users.revoke_access(body)) == {"success": True}
    assert user["userId"] in clinic.revoked
    again = conforms("user-access-response", users.revoke_access(body))
    assert again["success"] is True
    assert "nothing changed" in again["message"]
    assert conforms("user", users.retrieve(user["userId"])) == user
    assert user in everyone(users)
    assert conforms("user-access-response", users.reactivate(body)) == {"success": True}
    assert user["userId"] not in clinic.revoked
    again = conforms("user-access-response", users.reactivate(body))
    assert again["success"] is True
    assert "nothing changed" in again["message"]


def test_users_revoke_of_the_owner_is_409() -> None:
    users, clinic = build()
    body = {"userId": by_level(users, "owner")["userId"]}
    assert violations(Conflict, lambda: users.revoke_access(body)) == {
        ("userId", "revokeAccess.owner", "body")
    }
    assert not clinic.revoked


# --- not found and malformed ids -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "location"),
    [
        (lambda u: u.retrieve(UNKNOWN), "path"),
        (lambda u: u.update(UNKNOWN, {"firstName": "X"}), "path"),
        (lambda u: u.revoke_access({"userId": UNKNOWN}), "body"),
        (lambda u: u.reactivate({"userId": UNKNOWN}), "body"),
    ],
)
def test_users_unknown_user_is_404_naming_it(
    call: Callable[[UserService], Any], location: str
) -> None:
    with pytest.raises(NotFound) as raised:
        call(service())
    assert UNKNOWN in raised.value.message
    assert [(v.field, v.location) for v in raised.value.violations] == [("userId", location)]


@pytest.mark.parametrize(
    ("user_id", "rule"),
    [
        ("usr_" + "A" * 32, "id.lowercase-hex"),
        ("usr_123", "userId.format"),
        ("42", "userId.format"),
    ],
)
def test_users_malformed_ids_are_400(user_id: str, rule: str) -> None:
    users = service()
    assert violations(InvalidRequest, lambda: users.retrieve(user_id)) == {("userId", rule, "path")}
    assert violations(InvalidRequest, lambda: users.update(user_id, {})) == {
        ("userId", rule, "path")
    }
    assert violations(InvalidRequest, lambda: users.reactivate({"userId": user_id})) == {
        ("userId", rule, "body")
    }
    assert violations(InvalidRequest, lambda: users.revoke_access({})) == {
        ("userId", "body.required", "body")
    }


# --- list ----------------------------------------------------------------------------------


def test_users_list_filters_combine() -> None:
    users = service()
    made = invite(users, firstName="Quentin", lastName="Zanzibar")
    all_users = everyone(users)
    admins = listing(users, ("level", "admin"), ("limit", "100"))["users"]
    assert admins == [u for u in all_users if u["level"] == "admin"]
    assert admins
    assert listing(users, ("invitedSource", "api"))["users"] == [made]
    assert listing(users, ("firstName", "qUEN"), ("lastName", "zib"))["users"] == [made]
    assert listing(users, ("firstName", "quen"), ("level", "admin"))["users"] == []
    seeded = by_level(users, "member")
    assert listing(users, ("email", seeded["email"]))["users"] == [seeded]
    assert listing(users, ("email", seeded["email"].upper()))["users"] == []


def test_users_list_walk_visits_everyone_once_newest_first() -> None:
    users = service()
    for n in range(5):
        invite(users, email=f"walker{n}@example.org")
    expected = everyone(users)
    seen: list[Json] = []
    page = listing(users, ("limit", "3"))
    while True:
        assert len(page["users"]) <= 3
        seen.extend(page["users"])
        if not page["hasMore"]:
            assert page["cursor"] is None
            break
        invite(users, email=f"during{len(seen)}@example.org")
        page = listing(users, ("limit", "3"), ("cursor", page["cursor"]))
    assert seen == expected
    order = [(u["createdAt"], u["userId"]) for u in seen]
    assert order == sorted(order, reverse=True)


@pytest.mark.parametrize(
    "cursor",
    [
        CursorCodec(SEED).encode("2026-01-05T09:00:00.000Z|stu_" + "1" * 32),
        CursorCodec(SEED + 1).encode("2026-01-05T09:00:00.000Z|usr_" + "1" * 32),
        base64.b64encode(b"hello").decode(),
    ],
    ids=["a-studies-cursor", "another-seed", "garbage"],
)
def test_users_list_refuses_cursors_it_did_not_make(cursor: str) -> None:
    users = service()
    assert violations(InvalidRequest, lambda: users.list([("cursor", cursor)])) == {
        ("cursor", "cursor.unknown", "query")
    }


@pytest.mark.parametrize(
    ("pairs", "found"),
    [
        ([("limit", "0")], ("limit", "limit.minimum")),
        ([("limit", "2.5")], ("limit", "limit.integer")),
        ([("level", "boss")], ("level", "userLevel.enum")),
        ([("invitedSource", "email")], ("invitedSource", "invitedSource.enum")),
        ([("role", "x")], ("role", "query.unknown-parameter")),
        ([("level", "admin"), ("level", "member")], ("level", "query.repeated-parameter")),
    ],
)
def test_users_list_query_field_rules(pairs: list[tuple[str, str]], found: tuple[str, str]) -> None:
    users = service()
    assert violations(InvalidRequest, lambda: users.list(pairs)) == {(*found, "query")}


# --- determinism and reset -----------------------------------------------------------------


def script(users: UserService, clinic: Clinic) -> list[bytes]:
    made = orjson.loads(users.invite(INVITE, KEY))
    member = by_level(users, "member")["userId"]
    return [
        orjson.dumps(made),
        users.update(made["userId"], {"lastName": "Smith"}),
        users.revoke_access({"userId": member}),
        users.list([("limit", "4")]),
        orjson.dumps(pending(clinic, made["userId"])),
    ]


def test_users_same_seed_same_bytes() -> None:
    assert script(*build(11)) == script(*build(11))
    assert script(*build(11)) != script(*build(12))


def test_users_reset_brings_back_the_seeded_clinic_and_ids() -> None:
    clinic, clock = Clinic(CONTRACT, SEED), SteppingClock()
    users = UserService(CONTRACT, Settings(seed=SEED), clinic, clock)
    first = script(users, clinic)
    users.reset()
    assert not clinic.revoked
    assert users.list([("limit", "100")]) == service().list([("limit", "100")])
    clock.reset()
    assert script(users, clinic) == first
