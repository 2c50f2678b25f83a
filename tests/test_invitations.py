"""The invitations service on a clinic, without HTTP: list, filters, pages, revoke, update."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from avara._qs import Querystring

from mockserver.contract import Contract
from mockserver.errors import ApiError, Conflict, InvalidRequest, NotFound
from mockserver.query import parse_query
from mockserver.resources.invitations import InvitationService
from mockserver.settings import Settings
from mockserver.world.clinic import Clinic
from mockserver.world.clock import SteppingClock
from mockserver.world.records import Record

CONTRACT = Contract.load()
NOW = "2026-01-05T09:00:00.000Z"
UNKNOWN_INVITATION = "inv_" + "0" * 32
UNKNOWN_USER = "usr_" + "0" * 32
SDK_QUERY = Querystring(array_format="comma")
"""How the Avara client writes a query (its client's querystring): lists joined by ','."""
Json = dict[str, Any]


class StoppedClock:
    """A clock that reads ``at`` until a test moves it."""

    def __init__(self, at: str = NOW) -> None:
        self.at = at

    def now(self) -> str:
        return self.at

    def reset(self) -> None:
        """Nothing to rewind."""


def build(seed: int = 7, clock: Any = None, **settings: Any) -> tuple[InvitationService, Clinic]:
    clinic = Clinic(CONTRACT, seed)
    service = InvitationService(
        CONTRACT, Settings(seed=seed, **settings), clinic, clock or StoppedClock()
    )
    return service, clinic


def send(
    clinic: Clinic,
    created: str,
    *,
    expiry: str | None = "2026-12-31T00:00:00.000Z",
    status: str = "sent",
    level: str = "member",
    dashboard: bool = True,
) -> Record:
    """A user and the invitation an invite through the API would have made for them."""
    draws = random.Random(f"{created} {len(clinic.invitations)}")
    user: Record = {
        "userId": clinic.new_id("usr", draws),
        "email": f"invitee{len(clinic.invitations)}@clinic.example",
        "firstName": "Ada",
        "lastName": "Byron",
        "middleName": "Augusta",
        "suffix1": None,
        "suffix2": None,
        "phoneNumber": None,
        "canManageStudies": False,
        "hasDashboardAccess": dashboard,
        "clinicRole": "Scribe",
        "level": level,
        "invitedSource": "api",
        "createdAt": created,
        "lastLoginAt": None,
    }
    clinic.users.add(user)
    fields = ("email", "firstName", "lastName", "middleName", "suffix1", "suffix2")
    invitation: Record = {
        "invitationId": clinic.new_id("inv", draws),
        "userId": user["userId"],
        "clinicId": clinic.clinic_id,
        "status": status,
        **{field: user[field] for field in fields},
        "phoneNumber": None,
        "canManageStudies": False,
        "hasDashboardAccess": dashboard,
        "clinicRole": "Scribe",
        "level": level,
        "invitedSource": "api",
        "inviterId": clinic.owner_id,
        "invitedByApiKeyId": str(uuid.UUID(int=draws.getrandbits(128), version=4)),
        "expiry": expiry,
        "createdAt": created,
        "updatedAt": created,
    }
    return clinic.invitations.add(invitation)


def listing(service: InvitationService, **params: Any) -> Json:
    """One page, the query written as the Avara client writes it."""
    query = SDK_QUERY.stringify(params)
    page: Json = orjson.loads(service.list(parse_query(query.encode())))
    assert CONTRACT.validator("invitation-list-page").is_valid(page)
    return page


def ids(page: Json) -> list[str]:
    return [invitation["invitationId"] for invitation in page["invitations"]]


def walk(service: InvitationService, cursor: str | None = None, **params: Any) -> list[Json]:
    """Every page from ``cursor`` (the first page if None) on, following cursors."""
    pages = [
        listing(service, **params) if cursor is None else listing(service, **params, cursor=cursor)
    ]
    while pages[-1]["hasMore"]:
        pages.append(listing(service, **params, cursor=pages[-1]["cursor"]))
    return pages


def refused(call: Callable[[], Any], error: type[ApiError] = InvalidRequest) -> set[Any]:
    """The (field, rule, location) of each violation the call is refused with."""
    with pytest.raises(error) as raised:
        call()
    assert raised.value.status == error.status
    assert orjson.loads(raised.value.body())["error"]["errors"]
    return {(v.field, v.rule, v.location) for v in raised.value.violations}


def retrieve(service: InvitationService, invitation_id: str) -> Json:
    found: Json = orjson.loads(service.retrieve(invitation_id))
    return found


# --- the seeded clinic ---------------------------------------------------------------------


def test_invitations_seeded_clinic_lists_its_accepted_invitations_newest_first() -> None:
    service, clinic = build()
    page = listing(service, limit=100)
    invitations = page["invitations"]
    assert len(invitations) == len(clinic.invitations) > 0
    assert {i["status"] for i in invitations} == {"accepted"}
    assert all(clinic.users.get(i["userId"]) is not None for i in invitations)
    keys = [(i["createdAt"], i["invitationId"]) for i in invitations]
    assert keys == sorted(keys, reverse=True)
    assert page["cursor"] is None
    assert page["hasMore"] is False


def test_invitations_retrieve_answers_the_stored_invitation() -> None:
    service, clinic = build()
    for stored in clinic.invitations.records():
        answer = retrieve(service, stored["invitationId"])
        assert answer == stored
        assert CONTRACT.validator("invitation").is_valid(answer)


def test_invitations_retrieve_unknown_is_404_naming_the_id() -> None:
    service, _ = build()
    with pytest.raises(NotFound) as raised:
        service.retrieve(UNKNOWN_INVITATION)
    assert UNKNOWN_INVITATION in raised.value.message
    assert refused(lambda: service.retrieve(UNKNOWN_INVITATION), NotFound) == {
        ("invitationId", "invitation.not-found", "path")
    }


def test_invitations_malformed_id_is_400_in_the_path() -> None:
    service, _ = build()
    assert ("invitationId", "invitationId.format", "path") in refused(
        lambda: service.retrieve("inv_123")
    )
    assert refused(lambda: service.update("inv_" + "A" * 32, {})) == {
        ("invitationId", "id.lowercase-hex", "path")
    }


# --- revoke --------------------------------------------------------------------------------


def test_invitations_revoke_by_id_sets_revoked_and_moves_updated_at() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    user_before = clinic.users.get(sent["userId"])
    answer = orjson.loads(service.revoke({"invitationId": sent["invitationId"]}))
    assert answer == {"success": True}
    assert CONTRACT.validator("invitation-revoke-response").is_valid(answer)
    after = retrieve(service, sent["invitationId"])
    assert after["status"] == "revoked"
    assert after["updatedAt"] == NOW > sent["updatedAt"]
    assert {k: v for k, v in after.items() if k not in ("status", "updatedAt")} == {
        k: v for k, v in sent.items() if k not in ("status", "updatedAt")
    }
    assert clinic.users.get(sent["userId"]) == user_before


def test_invitations_revoke_by_user_id_revokes_that_users_pending_invitation() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    other = send(clinic, "2025-06-02T10:00:00.000Z")
    service.revoke({"userId": sent["userId"], "invitationId": None})
    assert retrieve(service, sent["invitationId"])["status"] == "revoked"
    assert retrieve(service, other["invitationId"])["status"] == "sent"


def test_invitations_revoke_by_both_naming_the_same_invitation() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    body = {"invitationId": sent["invitationId"], "userId": sent["userId"]}
    assert orjson.loads(service.revoke(body)) == {"success": True}
    assert retrieve(service, sent["invitationId"])["status"] == "revoked"


def test_invitations_revoke_again_changes_nothing_and_says_so() -> None:
    clock = StoppedClock()
    service, clinic = build(clock=clock)
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    service.revoke({"invitationId": sent["invitationId"]})
    first = retrieve(service, sent["invitationId"])
    clock.at = "2026-01-06T09:00:00.000Z"
    again = orjson.loads(service.revoke({"invitationId": sent["invitationId"]}))
    assert again["success"] is True
    assert sent["invitationId"] in again["message"]
    assert retrieve(service, sent["invitationId"]) == first


def test_invitations_revoke_names_nothing_is_400() -> None:
    service, _ = build()
    expected = {("", "invitationRevoke.names-invitation", "body")}
    assert refused(lambda: service.revoke({})) == expected
    assert refused(lambda: service.revoke({"invitationId": None, "userId": None})) == expected


def test_invitations_revoke_of_two_different_invitations_is_400() -> None:
    service, clinic = build()
    one = send(clinic, "2025-06-01T10:00:00.000Z")
    two = send(clinic, "2025-06-02T10:00:00.000Z")
    body = {"invitationId": one["invitationId"], "userId": two["userId"]}
    assert refused(lambda: service.revoke(body)) == {
        ("userId", "invitationRevoke.same-invitation", "body")
    }
    assert retrieve(service, one["invitationId"])["status"] == "sent"
    assert retrieve(service, two["invitationId"])["status"] == "sent"


def test_invitations_revoke_unknown_is_404() -> None:
    service, clinic = build()
    accepted = next(clinic.invitations.records())
    for body, field in [
        ({"invitationId": UNKNOWN_INVITATION}, "invitationId"),
        ({"userId": UNKNOWN_USER}, "userId"),
        ({"userId": accepted["userId"]}, "userId"),
    ]:
        found = refused(lambda b=body: service.revoke(b), NotFound)  # type: ignore[misc]
        assert found == {(field, "invitationRevoke.not-found", "body")}


def test_invitations_revoke_of_an_accepted_invitation_is_409() -> None:
    service, clinic = build()
    accepted = next(clinic.invitations.records())
    body = {"invitationId": accepted["invitationId"]}
    assert refused(lambda: service.revoke(body), Conflict) == {
        ("invitationId", "invitationRevoke.pending-only", "body")
    }
    assert retrieve(service, accepted["invitationId"]) == accepted


def test_invitations_revoke_field_rules() -> None:
    service, _ = build()
    assert refused(lambda: service.revoke({"invitationId": "inv_1", "extra": 1})) == {
        ("invitationId", "invitationId.format", "body"),
        ("extra", "body.unknown-field", "body"),
    }
    assert refused(lambda: service.revoke([])) == {("", "body.type", "body")}


# --- update --------------------------------------------------------------------------------


def test_invitations_update_changes_the_invitation_and_its_user() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    body = {"firstName": "Grace", "clinicRole": "Radiologist", "middleName": None}
    answer = orjson.loads(service.update(sent["invitationId"], body))
    assert answer["firstName"] == "Grace"
    assert answer["clinicRole"] == "Radiologist"
    assert answer["middleName"] is None
    assert answer["updatedAt"] == NOW
    assert answer == retrieve(service, sent["invitationId"])
    assert CONTRACT.validator("invitation").is_valid(answer)
    user = clinic.users.get(sent["userId"])
    assert user is not None
    assert (user["firstName"], user["clinicRole"], user["middleName"]) == (
        "Grace",
        "Radiologist",
        None,
    )


def test_invitations_update_keeps_identity_and_null_role_keeps_the_role() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    answer = orjson.loads(service.update(sent["invitationId"], {"clinicRole": None}))
    assert answer == sent
    body = {"level": "admin", "canManageStudies": True, "phoneNumber": "5551234567"}
    answer = orjson.loads(service.update(sent["invitationId"], body))
    for field in ("invitationId", "userId", "clinicId", "email", "status", "expiry", "createdAt"):
        assert answer[field] == sent[field], field


def test_invitations_update_of_nothing_leaves_updated_at() -> None:
    service, clinic = build()
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    for body in ({}, {"firstName": sent["firstName"], "level": sent["level"]}):
        assert orjson.loads(service.update(sent["invitationId"], body)) == sent


@pytest.mark.parametrize("status", ["accepted", "rejected", "revoked"])
def test_invitations_update_of_a_processed_invitation_is_409(status: str) -> None:
    service, clinic = build()
    done = send(clinic, "2025-06-01T10:00:00.000Z", status=status)
    assert refused(lambda: service.update(done["invitationId"], {"firstName": "X"}), Conflict) == {
        ("invitationId", "invitationUpdate.pending-only", "path")
    }
    assert retrieve(service, done["invitationId"]) == done


def test_invitations_update_of_an_expired_invitation_is_409_from_its_expiry_on() -> None:
    clock = StoppedClock("2025-06-08T09:59:59.999Z")
    service, clinic = build(clock=clock)
    sent = send(clinic, "2025-06-01T10:00:00.000Z", expiry="2025-06-08T10:00:00.000Z")
    service.update(sent["invitationId"], {"firstName": "Before"})
    clock.at = "2025-06-08T10:00:00.000Z"
    assert refused(lambda: service.update(sent["invitationId"], {"firstName": "X"}), Conflict) == {
        ("invitationId", "invitationUpdate.pending-only", "path")
    }


def test_invitations_update_refuses_an_admin_without_dashboard_access() -> None:
    service, clinic = build()
    member = send(clinic, "2025-06-01T10:00:00.000Z", dashboard=False)
    admin = send(clinic, "2025-06-02T10:00:00.000Z", level="admin")
    rule = "invitationUpdate.admin-dashboard-access"
    assert refused(lambda: service.update(member["invitationId"], {"level": "admin"})) == {
        ("level", rule, "body")
    }
    body = {"hasDashboardAccess": False}
    assert refused(lambda: service.update(admin["invitationId"], body)) == {
        ("hasDashboardAccess", rule, "body")
    }
    both = {"level": "admin", "hasDashboardAccess": True}
    assert orjson.loads(service.update(member["invitationId"], both))["level"] == "admin"


def test_invitations_update_field_rules_come_before_the_store() -> None:
    service, _ = build()
    body = {"level": "owner", "firstName": "", "phoneNumber": "12"}
    assert refused(lambda: service.update(UNKNOWN_INVITATION, body)) == {
        ("firstName", "firstName.non-empty", "body"),
        ("level", "assignableUserLevel.enum", "body"),
        ("phoneNumber", "phoneNumber.min-digits", "body"),
    }
    assert refused(lambda: service.update(UNKNOWN_INVITATION, {}), NotFound) == {
        ("invitationId", "invitation.not-found", "path")
    }


# --- list filters --------------------------------------------------------------------------


@pytest.fixture
def crowd() -> tuple[InvitationService, Clinic, dict[str, Record]]:
    """The seeded clinic and five more invitations of every status and expiry."""
    service, clinic = build()
    made = {
        "sent": send(clinic, "2025-06-01T00:00:00.000Z"),
        "sent-expired": send(clinic, "2025-06-01T23:59:59.999Z", expiry=NOW),
        "sent-forever": send(clinic, "2025-06-02T00:00:00.000Z", expiry=None),
        "revoked": send(clinic, "2025-06-03T12:00:00.000Z", status="revoked"),
        "rejected": send(clinic, "2025-05-31T23:59:59.999Z", status="rejected"),
    }
    return service, clinic, made


def test_invitations_list_status_filters_one_several_or_none(crowd: Any) -> None:
    service, clinic, made = crowd
    sent = {made[k]["invitationId"] for k in ("sent", "sent-expired", "sent-forever")}
    assert set(ids(listing(service, status=["sent"]))) == sent
    two = set(ids(listing(service, status=["sent", "revoked"])))
    assert two == sent | {made["revoked"]["invitationId"]}
    assert len(ids(listing(service, status=[], limit=100))) == len(clinic.invitations)


def test_invitations_list_user_id_filter(crowd: Any) -> None:
    service, _, made = crowd
    target = made["revoked"]
    assert ids(listing(service, userId=target["userId"])) == [target["invitationId"]]
    assert ids(listing(service, userId=UNKNOWN_USER)) == []


def test_invitations_list_dates_are_whole_utc_days_both_inclusive(crowd: Any) -> None:
    service, _, made = crowd
    june_first = {made["sent"]["invitationId"], made["sent-expired"]["invitationId"]}
    one_day = listing(service, startDate="2025-06-01", endDate="2025-06-01")
    assert set(ids(one_day)) == june_first
    after = set(ids(listing(service, startDate="2025-06-01")))
    assert after == june_first | {made[k]["invitationId"] for k in ("sent-forever", "revoked")}
    before = set(ids(listing(service, endDate="2025-05-31", limit=100)))
    assert made["rejected"]["invitationId"] in before
    assert not before & june_first


def test_invitations_list_expired_reads_expiry_against_now(crowd: Any) -> None:
    service, clinic, made = crowd
    assert ids(listing(service, expired="expired")) == [made["sent-expired"]["invitationId"]]
    not_expired = set(ids(listing(service, expired="not-expired", limit=100)))
    assert made["sent-forever"]["invitationId"] in not_expired
    assert len(not_expired) == len(clinic.invitations) - 1
    assert len(ids(listing(service, expired="all", limit=100))) == len(clinic.invitations)


def test_invitations_list_filters_combine(crowd: Any) -> None:
    service, _, made = crowd
    page = listing(
        service,
        status=["sent", "rejected"],
        expired="not-expired",
        startDate="2025-05-31",
        endDate="2025-06-01",
    )
    assert set(ids(page)) == {made["sent"]["invitationId"], made["rejected"]["invitationId"]}
    target = made["sent"]
    assert ids(listing(service, userId=target["userId"], status=["revoked"])) == []


def test_invitations_list_query_rules() -> None:
    service, _ = build()

    def query(*pairs: tuple[str, str]) -> set[Any]:
        return refused(lambda: service.list(list(pairs)))

    assert query(("status", "sent"), ("status", "revoked")) == {
        ("status", "query.repeated-parameter", "query")
    }
    assert query(("status", "sent,pending")) == {("status.1", "invitationStatus.enum", "query")}
    assert query(("startDate", "2025-02-30")) == {("startDate", "date.calendar", "query")}
    assert ("endDate", "date.format", "query") in query(("endDate", "31/12/2024"))
    assert query(("startDate", "2025-06-02"), ("endDate", "2025-06-01")) == {
        ("startDate", "invitationList.date-order", "query")
    }
    assert query(("expired", "yes"), ("limit", "0")) == {
        ("expired", "invitationExpiredFilter.enum", "query"),
        ("limit", "limit.minimum", "query"),
    }
    assert query(("user_id", UNKNOWN_USER)) == {("user_id", "query.unknown-parameter", "query")}


def test_invitations_lenient_ignores_unknown_parameters() -> None:
    service, _ = build(lenient=True)
    assert orjson.loads(service.list([("user_id", UNKNOWN_USER)]))["invitations"]


# --- pages ---------------------------------------------------------------------------------


def test_invitations_keyset_walk_visits_each_once_in_order(crowd: Any) -> None:
    service, clinic, _ = crowd
    pages = walk(service, limit=3)
    assert all(len(page["invitations"]) <= 3 for page in pages)
    assert [page["hasMore"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[-1]["cursor"] is None
    seen = [i for page in pages for i in page["invitations"]]
    assert [i["invitationId"] for i in seen] == ids(listing(service, limit=100))
    assert len(seen) == len(clinic.invitations)


def test_invitations_keyset_walk_is_not_disturbed_by_new_invitations(crowd: Any) -> None:
    service, clinic, _ = crowd
    seeded = {i["invitationId"] for i in clinic.invitations.records() if i["status"] == "accepted"}
    first = listing(service, limit=4, status=["accepted"])
    newer = send(clinic, "2026-01-01T00:00:00.000Z", status="accepted")
    older = send(clinic, "2020-01-01T00:00:00.000Z", status="accepted")
    rest = walk(service, limit=4, status=["accepted"], cursor=first["cursor"])
    walked = ids(first) + [i for page in rest for i in ids(page)]
    assert len(walked) == len(set(walked))
    assert set(walked) == seeded | {older["invitationId"]}
    assert newer["invitationId"] not in walked


def test_invitations_cursor_not_ours_is_refused() -> None:
    service, _clinic = build()
    other, _ = build(seed=8)
    foreign = listing(other, limit=1)["cursor"]
    assert refused(lambda: service.list([("cursor", foreign)])) == {
        ("cursor", "cursor.unknown", "query")
    }
    assert refused(lambda: service.list([("cursor", "eyJvZmZzZXQiOjIwfQ==")])) == {
        ("cursor", "cursor.unknown", "query")
    }
    assert refused(lambda: service.list([("cursor", "not a cursor!")])) == {
        ("cursor", "cursor.format", "query")
    }


# --- determinism and reset -----------------------------------------------------------------


def session(seed: int) -> list[bytes]:
    service, clinic = build(seed, clock=SteppingClock())
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    first = service.list([("limit", "2")])
    answers = [first, service.list([("limit", "2"), ("cursor", orjson.loads(first)["cursor"])])]
    answers.append(service.update(sent["invitationId"], {"lastName": "Lovelace"}))
    answers.append(service.revoke({"userId": sent["userId"]}))
    answers.append(service.list([("status", "revoked,sent")]))
    return answers


def test_invitations_same_seed_same_bytes() -> None:
    assert session(7) == session(7)
    assert session(7) != session(8)


def test_invitations_reset_brings_the_seeded_clinic_back() -> None:
    service, clinic = build()
    before = service.list([("limit", "100")])
    sent = send(clinic, "2025-06-01T10:00:00.000Z")
    service.revoke({"invitationId": sent["invitationId"]})
    service.reset()
    assert service.list([("limit", "100")]) == before
    assert clinic.users.get(sent["userId"]) is None
