"""The people model of the state machine without a server: what it expects of each users and
invitations call, the rule (and tag) each mismatch breaks, and the lists' verdicts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from contract_tests.stateful.people.entities import Later, Mismatch
from contract_tests.stateful.people.lists import Listing, Verdict, Walk, combined
from contract_tests.stateful.people.model import PeopleModel
from contract_tests.stateful.people.state import INVITE
from contract_tests.stateful.studies.values import instant
from mockserver.contract import Contract

CONTRACT = Contract.load()
TOKEN = "ct-0123456789ab"
CREATED = "2026-01-05T09:00:00.000Z"
KEY_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
INVITER = "usr_abcdef1234567890abcdef1234567890"
Json = dict[str, Any]


def body(model: PeopleModel, **fields: Any) -> Json:
    """A valid invite of a member (the schema's own example values), with a fresh e-mail."""
    example = CONTRACT.documents[INVITE]["examples"][0]
    return {**example, "email": model.email("p"), "lastName": f"Chen {TOKEN}", **fields}


def answer_of(sent: Json, user_id: str) -> Json:
    """The user a correct server answers to an invite."""
    optional = dict.fromkeys(("middleName", "suffix1", "suffix2", "phoneNumber"))
    return {
        **optional,
        **sent,
        "userId": user_id,
        "invitedSource": "api",
        "createdAt": CREATED,
        "lastLoginAt": None,
    }


def invitation_of(user: Json, invitation_id: str, **fields: Any) -> Json:
    """The invitation a correct server sends with an invite."""
    person = {k: v for k, v in user.items() if k not in ("userId", "createdAt", "lastLoginAt")}
    expiry = (instant(CREATED) or datetime.now(timezone.utc)) + timedelta(days=7)
    return {
        **person,
        "invitationId": invitation_id,
        "userId": user["userId"],
        "clinicId": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "status": "sent",
        "invitedSource": "api",
        "inviterId": INVITER,
        "invitedByApiKeyId": KEY_ID,
        "expiry": expiry.isoformat().replace("+00:00", "Z"),
        "createdAt": CREATED,
        "updatedAt": CREATED,
        **fields,
    }


def rules(found: list[Mismatch]) -> set[tuple[str, str]]:
    return {(m.rule.id, m.rule.tag) for m in found}


def invited(model: PeopleModel, n: int = 1, **fields: Any) -> tuple[str, str, Json]:
    """A person invited into the model as a correct server answers: user id, invitation id
    and the invite's answer."""
    sent = body(model, **fields)
    user_id, invitation_id = f"usr_{n:032x}", f"inv_{n:032x}"
    answer = answer_of(sent, user_id)
    found, made = model.invited(sent, model.expect_invite(sent), 201, answer)
    assert (found, made) == ([], user_id)
    assert model.invitation_listed(user_id, [invitation_of(answer, invitation_id)]) == []
    return user_id, invitation_id, answer


def model() -> PeopleModel:
    return PeopleModel(CONTRACT, TOKEN)


# --- e-mails and invite -----------------------------------------------------------------------


def test_people_model_emails_hold_the_token_are_new_and_valid() -> None:
    people = model()
    first, second = people.email("ab"), people.email("ab")
    assert first != second
    assert TOKEN in first
    validator = CONTRACT.validator(INVITE)
    assert validator.is_valid(body(people, email=first))


def test_people_model_invite_expects_a_user_or_the_rule_that_refuses() -> None:
    people = model()
    assert rules_of(people.expect_invite(body(people))) == ("invite.creates-user", True, None)
    admin = body(people, level="admin", hasDashboardAccess=False)
    expected = ("invite.admin-dashboard-access", False, None)
    assert rules_of(people.expect_invite(admin)) == expected
    _, _, answer = invited(people)
    again = body(people, email=answer["email"].upper())
    assert rules_of(people.expect_invite(again)) == ("invite.email-taken", False, 409)


def rules_of(expectation: Any) -> tuple[str, bool, int | None]:
    return expectation.rule.id, expectation.success, expectation.status


def test_people_model_invite_answer_breaks_the_rule_of_the_echo_tag() -> None:
    people = model()
    sent = body(people)
    answer = answer_of(sent, "usr_" + "1" * 32)
    wrong = {**answer, "level": "admin", "firstName": "Other", "lastLoginAt": CREATED}
    found, made = people.invited(sent, people.expect_invite(sent), 200, wrong)
    assert made == answer["userId"]
    assert rules(found) == {("invite.creates-user", "stated"), ("invite.echoes", "inferred")}
    assert {m.subject.split()[-1] for m in found} == {"level", "firstName", "lastLoginAt"}


def test_people_model_invite_refused_when_expected_to_succeed_breaks_creates_user() -> None:
    people = model()
    sent = body(people)
    found, made = people.invited(sent, people.expect_invite(sent), 400, {"error": {}})
    assert (rules(found), made) == ({("invite.creates-user", "stated")}, None)


def test_people_model_a_user_made_despite_a_refusal_becomes_known() -> None:
    people = model()
    _, _, answer = invited(people)
    again = body(people, email=answer["email"])
    expectation = people.expect_invite(again)
    found, made = people.invited(again, expectation, 201, answer_of(again, "usr_" + "2" * 32))
    assert rules(found) == {("invite.email-taken", "inferred")}
    assert made in people.users


def test_people_model_invitation_listed_judges_status_source_inviter_and_expiry() -> None:
    people = model()
    invited(people, 1)
    sent = body(people)
    user_id = "usr_" + "3" * 32
    answer = answer_of(sent, user_id)
    people.invited(sent, people.expect_invite(sent), 201, answer)
    wrong = invitation_of(
        answer,
        "inv_" + "3" * 32,
        status="accepted",
        invitedByApiKeyId=None,
        inviterId="usr_" + "9" * 32,
        expiry=CREATED,
    )
    found = people.invitation_listed(user_id, [wrong])
    assert rules(found) == {
        ("invite.creates-invitation", "inferred"),
        ("invitation.source-fields", "stated"),
        ("invite.inviter", "inferred"),
        ("invite.expiry", "inferred"),
    }


def test_people_model_invitation_listed_needs_exactly_one_of_the_user() -> None:
    people = model()
    sent = body(people)
    answer = answer_of(sent, "usr_" + "4" * 32)
    people.invited(sent, people.expect_invite(sent), 201, answer)
    assert rules(people.invitation_listed(answer["userId"], [])) == {
        ("invite.creates-invitation", "inferred")
    }


# --- reads ------------------------------------------------------------------------------------


def test_people_model_read_equals_the_last_answer_and_timestamps_compare_as_instants() -> None:
    people = model()
    user_id, _, answer = invited(people)
    same_moment = {**answer, "createdAt": "2026-01-05T09:00:00+00:00"}
    assert people.user_read(user_id, 200, same_moment) == []
    found = people.user_read(user_id, 200, {**answer, "phoneNumber": "5550000000"})
    assert rules(found) == {("user.read-your-writes", "stated")}
    assert rules(people.user_read(user_id, 404, {})) == {("user.read-your-writes", "stated")}


def test_people_model_read_of_nobody_is_404_by_the_inferred_rule() -> None:
    people = model()
    assert people.user_read("usr_" + "0" * 32, 404, {}) == []
    found = people.user_read("usr_" + "0" * 32, 200, {})
    assert rules(found) == {("user.not-found", "inferred")}
    wrong_status = people.invitation_read("inv_" + "0" * 32, 400, {})
    assert [(m.expected, m.actual) for m in wrong_status] == [(404, 400)]


def test_people_model_after_one_finding_the_model_takes_the_server_answer() -> None:
    people = model()
    user_id, _, answer = invited(people)
    changed = {**answer, "firstName": "Changed"}
    assert len(people.user_read(user_id, 200, changed)) == 1
    assert people.user_read(user_id, 200, changed) == []


# --- users.update -----------------------------------------------------------------------------


def update(people: PeopleModel, user_id: str, sent: Json, answer: Json) -> list[Mismatch]:
    expectation = people.expect_user_update(user_id, sent)
    return people.user_updated(user_id, sent, expectation, 200, answer)


def test_people_model_update_applies_sent_fields_and_what_null_means() -> None:
    people = model()
    user_id, _, answer = invited(people, middleName="Marie", clinicRole="Scribe")
    sent = {"firstName": "Ann", "middleName": None, "clinicRole": None}
    right = {**answer, "firstName": "Ann", "middleName": None}
    assert update(people, user_id, sent, right) == []
    other = model()
    other_id, _, other_answer = invited(other, middleName="Marie")
    found = update(other, other_id, {"middleName": None}, other_answer)
    assert rules(found) == {("userUpdate.null-means", "inferred")}


def test_people_model_update_that_touches_an_absent_field_breaks_applies() -> None:
    people = model()
    user_id, _, answer = invited(people)
    found = update(
        people, user_id, {"firstName": "Ann"}, {**answer, "firstName": "Ann", "level": "admin"}
    )
    assert rules(found) == {("userUpdate.applies", "stated")}
    email = update(
        people, user_id, {}, {**answer, "firstName": "Ann", "level": "admin", "email": "x@y.org"}
    )
    assert rules(email) == {("userUpdate.keeps-identity", "inferred")}


def test_people_model_update_leaving_an_admin_without_dashboard_is_refused_stated() -> None:
    people = model()
    user_id, _, _ = invited(people, hasDashboardAccess=False)
    expectation = people.expect_user_update(user_id, {"level": "admin"})
    assert rules_of(expectation) == ("userUpdate.admin-dashboard-access", False, None)
    assert rules_of(
        people.expect_user_update(user_id, {"level": "admin", "hasDashboardAccess": True})
    )[1]


def test_people_model_user_update_reaches_the_pending_invitation() -> None:
    people = model()
    user_id, invitation_id, answer = invited(people)
    update(people, user_id, {"firstName": "Ann"}, {**answer, "firstName": "Ann"})
    invitation = people.invitations[invitation_id]
    assert invitation.values["firstName"] == "Ann"
    assert isinstance(invitation.values["updatedAt"], Later)
    assert invitation.basis["firstName"].id == "userUpdate.updates-invitation"
    assert invitation.basis["lastName"].id == "invitation.read-your-writes"
    stale = invitation_of(answer, invitation_id, updatedAt="2026-01-05T09:00:01Z")
    assert rules(people.listed_invitation(invitation_id, [stale])) == {
        ("userUpdate.updates-invitation", "inferred")
    }


def test_people_model_a_revoked_invitation_does_not_follow_the_user() -> None:
    people = model()
    user_id, invitation_id, answer = invited(people)
    assert people.revoked({"invitationId": invitation_id}, 200, {"success": True}) == []
    revoked = invitation_of(
        answer, invitation_id, status="revoked", updatedAt="2026-01-05T09:00:01Z"
    )
    assert people.listed_invitation(invitation_id, [revoked]) == []
    update(people, user_id, {"firstName": "Ann"}, {**answer, "firstName": "Ann"})
    followed = {**revoked, "firstName": "Ann", "updatedAt": "2026-01-05T09:00:02Z"}
    found = people.listed_invitation(invitation_id, [followed])
    assert {m.subject.split()[-1] for m in found} == {"firstName", "updatedAt"}
    assert rules(found) == {("userUpdate.updates-invitation", "inferred")}


# --- access -----------------------------------------------------------------------------------


def test_people_model_access_switches_then_repeats_with_a_message() -> None:
    people = model()
    user_id, _, _ = invited(people)
    first = people.expect_access(True, user_id)
    assert rules_of(first) == ("revokeAccess.deactivates", True, None)
    assert people.access_switched(True, user_id, first, 200, {"success": True}) == []
    again = people.expect_access(True, user_id)
    assert rules_of(again) == ("revokeAccess.idempotent", True, None)
    found = people.access_switched(True, user_id, again, 200, {"success": True})
    assert rules(found) == {("revokeAccess.idempotent", "inferred")}
    back = people.expect_access(False, user_id)
    assert rules_of(back) == ("reactivate.restores", True, None)
    refused = people.access_switched(False, user_id, back, 200, {"success": False})
    assert rules(refused) == {("reactivate.restores", "stated")}


def test_people_model_access_of_an_owner_and_of_nobody() -> None:
    people = model()
    people.owners.add("usr_" + "e" * 32)
    assert rules_of(people.expect_access(True, "usr_" + "e" * 32)) == (
        "revokeAccess.owner",
        False,
        409,
    )
    nobody = people.expect_access(False, "usr_" + "f" * 32)
    assert rules_of(nobody) == ("userAccess.not-found", False, 404)


# --- invitations ------------------------------------------------------------------------------


def test_people_model_invitation_update_moves_updated_at_only_on_a_change() -> None:
    people = model()
    user_id, invitation_id, answer = invited(people)
    current = invitation_of(answer, invitation_id)
    noop = people.expect_invitation_update(invitation_id, {})
    moved = {**current, "updatedAt": "2026-01-05T09:00:05Z"}
    found = people.invitation_updated(invitation_id, {}, noop, 200, moved)
    assert rules(found) == {("invitationUpdate.moves-updatedAt", "inferred")}
    change = {"lastName": f"Wu {TOKEN}"}
    expectation = people.expect_invitation_update(invitation_id, change)
    unmoved = {**moved, **change}
    found = people.invitation_updated(invitation_id, change, expectation, 200, unmoved)
    assert rules(found) == {("invitationUpdate.moves-updatedAt", "inferred")}
    user = people.users[user_id]
    assert (user.values["lastName"], user.basis["lastName"].id) == (
        f"Wu {TOKEN}",
        "invitationUpdate.updates-user",
    )


def test_people_model_invitation_not_pending_refuses_updates_stated() -> None:
    people = model()
    _, invitation_id, _ = invited(people)
    people.revoked({"invitationId": invitation_id}, 200, {"success": True})
    assert people.pending(invitation_id) is False
    expectation = people.expect_invitation_update(invitation_id, {"firstName": "X"})
    assert rules_of(expectation) == ("invitationUpdate.pending-only", False, None)
    assert expectation.judge("update", 400) == []


def test_people_model_pending_depends_on_what_the_server_time_can_be() -> None:
    people = model()
    _, invitation_id, _ = invited(people)
    assert people.pending(invitation_id) is True
    people.saw("2026-01-12T08:59:00Z")
    assert people.pending(invitation_id) is None
    people.saw("2026-01-12T09:00:00Z")
    assert people.pending(invitation_id) is False


def test_people_model_revoke_names_by_id_user_or_both() -> None:
    people = model()
    user_id, invitation_id, _ = invited(people, 1)
    other, other_invitation, _ = invited(people, 2)
    cases = {
        "none": ({}, "invitationRevoke.names-invitation", False),
        "by user": ({"userId": user_id}, "invitationRevoke.revokes", True),
        "both": (
            {"invitationId": invitation_id, "userId": user_id},
            "invitationRevoke.revokes",
            True,
        ),
        "crossed": (
            {"invitationId": invitation_id, "userId": other},
            "invitationRevoke.same-invitation",
            False,
        ),
        "nobody": ({"invitationId": "inv_" + "0" * 32}, "invitationRevoke.not-found", False),
    }
    for name, (sent, rule_id, success) in cases.items():
        expectation, _ = people.expect_revoke(sent)
        assert (expectation.rule.id, expectation.success) == (rule_id, success), name
    assert people.revoked({"userId": user_id}, 200, {"success": True}) == []
    again, named = people.expect_revoke({"invitationId": invitation_id})
    assert (again.rule.id, named) == ("invitationRevoke.idempotent", invitation_id)
    by_user, _ = people.expect_revoke({"userId": user_id})
    assert (by_user.rule.id, by_user.status) == ("invitationRevoke.not-found", 404)
    assert people.expect_revoke({"userId": other})[1] == other_invitation


def test_people_model_revoke_sets_revoked_and_a_later_updated_at() -> None:
    people = model()
    _, invitation_id, answer = invited(people)
    people.revoked({"invitationId": invitation_id}, 200, {"success": True})
    unchanged = invitation_of(answer, invitation_id)
    found = people.listed_invitation(invitation_id, [unchanged])
    assert {m.subject.split()[-1] for m in found} == {"status", "updatedAt"}
    assert rules(found) == {("invitationRevoke.sets-revoked", "inferred")}


# --- lists ------------------------------------------------------------------------------------


USERS = Listing(CONTRACT, "users")
INVITATIONS = Listing(CONTRACT, "invitations")


def test_people_lists_text_filters_match_under_every_reading_or_only_ours() -> None:
    user = {"lastName": f"Chen {TOKEN}", "firstName": "Sarah", "email": "a@b.org"}
    assert USERS.verdict({"lastName": TOKEN}, user, None) == Verdict(True, True)
    assert USERS.verdict({"firstName": "SAR"}, user, None) == Verdict(True, None)
    assert USERS.verdict({"firstName": "Tom"}, user, None) == Verdict(False, False)
    assert USERS.verdict({"email": "A@B.org"}, user, None) == Verdict(False, None)


def test_people_lists_filters_combine_with_and_settled_only_if_or_agrees() -> None:
    yes, no, either = Verdict(True, True), Verdict(False, False), Verdict(True, None)
    assert combined([yes, yes]) == Verdict(True, True)
    assert combined([yes, no]) == Verdict(False, None)
    assert combined([no, no]) == Verdict(False, False)
    assert combined([no]) == Verdict(False, False)
    assert combined([either, yes]) == Verdict(True, None)


def test_people_lists_days_and_expiry_allow_for_the_readings() -> None:
    late = {"createdAt": "2026-01-05T23:30:00Z", "expiry": "2026-01-12T23:30:00Z"}
    assert INVITATIONS.verdict({"endDate": "2026-01-05"}, late, None) == Verdict(True, None)
    assert INVITATIONS.verdict({"endDate": "2026-01-07"}, late, None) == Verdict(True, True)
    assert INVITATIONS.verdict({"startDate": "2026-01-07"}, late, None) == Verdict(False, False)
    now = instant("2026-01-06T00:00:00Z")
    assert INVITATIONS.verdict({"expired": "not-expired"}, late, now) == Verdict(True, True)
    assert INVITATIONS.verdict({"expired": "expired"}, late, now) == Verdict(False, False)
    assert INVITATIONS.verdict({"expired": "expired"}, late, None) == Verdict(None, None)
    never = {"expiry": None}
    assert INVITATIONS.verdict({"expired": "expired"}, never, now) == Verdict(False, None)
    assert INVITATIONS.verdict({"expired": "all"}, never, now) == Verdict(True, True)


def test_people_lists_listing_judges_listed_ones_by_their_fields_and_known_ones_missing() -> None:
    known = {
        "usr_a": {
            "userId": "usr_a",
            "lastName": f"A {TOKEN}",
            "level": "member",
            "createdAt": CREATED,
        }
    }
    stranger = {"userId": "usr_z", "lastName": "Z", "level": "owner", "createdAt": CREATED}
    found = USERS.judge_listing({"lastName": TOKEN}, [stranger], known, None, complete=True)
    assert rules(found) == {("userList.filters", "stated"), ("userList.every-user", "inferred")}
    partial = USERS.judge_listing({"lastName": TOKEN}, [], known, None, complete=False)
    assert partial == []
    invitation = {"invitationId": "inv_a", "status": "sent", "createdAt": CREATED}
    missing = INVITATIONS.judge_listing({"status": ["sent"]}, [], {"inv_a": invitation}, None, True)
    assert rules(missing) == {("invitationList.filters", "stated")}


def test_people_lists_order_is_newest_first() -> None:
    older = {"userId": "usr_a", "createdAt": "2026-01-05T09:00:00Z"}
    newer = {"userId": "usr_b", "createdAt": "2026-01-05T09:00:01Z"}
    assert USERS.judge_order([newer, older]) == []
    assert rules(USERS.judge_order([older, newer])) == {("userList.order", "inferred")}


def test_people_lists_walk_judges_limit_has_more_cursor_repeats_and_skips() -> None:
    walk = Walk(USERS, 1)
    page = {"users": [{"userId": "usr_a"}, {"userId": "usr_b"}], "hasMore": True, "cursor": None}
    assert rules(walk.page(200, page)) == {
        ("userPage.limit", "stated"),
        ("userPage.has-more", "stated"),
    }
    assert walk.complete
    last = Walk(USERS, 2)
    found = last.page(200, {"users": [{"userId": "usr_a"}], "hasMore": False, "cursor": "abc="})
    assert rules(found) == {("userPage.last-cursor", "inferred")}
    twice = Walk(USERS, 1)
    assert twice.page(200, {"users": [{"userId": "usr_a"}], "hasMore": True, "cursor": "c1="}) == []
    assert twice.cursor == "c1="
    found = twice.page(200, {"users": [{"userId": "usr_a"}], "hasMore": False, "cursor": None})
    assert rules(found) == {("userPage.walk", "inferred")}
    assert rules(twice.finish({"usr_a", "usr_b"})) == {("userPage.walk", "inferred")}
    quiet = Walk(INVITATIONS, 5)
    quiet.page(200, {"invitations": [], "hasMore": False, "cursor": None})
    assert rules(quiet.finish({"inv_a"})) == {("invitationPage.every-match", "stated")}
    quiet.wrote = True
    assert rules(quiet.finish({"inv_a"})) == {("invitationPage.walk", "inferred")}


# --- the rules the model names ------------------------------------------------------------------


def test_people_model_names_only_rules_that_schemas_hold() -> None:
    """Every rule id the people modules name is in some x-stateful-rules (a typo fails here,
    not in the middle of a run)."""
    folder = Path(__file__).parent.parent / "contract_tests" / "stateful" / "people"
    named: set[str] = set()
    for path in folder.glob("*.py"):
        named |= set(re.findall(r'rule\(\s*"([A-Za-z]+\.[a-z-]+)"', path.read_text()))
    held = {
        rule_id
        for name in CONTRACT.documents
        for rule_id in CONTRACT.documents[name].get("x-stateful-rules", {})
    }
    assert named
    assert named - held == set()


@pytest.mark.parametrize("field", ["createdAt", "updatedAt"])
def test_people_model_times_of_an_invitation_must_be_those_of_its_user(field: str) -> None:
    people = model()
    sent = body(people)
    answer = answer_of(sent, "usr_" + "5" * 32)
    people.invited(sent, people.expect_invite(sent), 201, answer)
    late = invitation_of(answer, "inv_" + "5" * 32, **{field: "2026-01-05T10:00:00Z"})
    found = people.invitation_listed(answer["userId"], [late])
    assert ("invite.times", "inferred") in rules(found)


def test_people_model_ids_of_nobody_are_fresh_and_well_formed() -> None:
    """Hypothesis's simplest id (``usr_000…``) is one a server may well know (a study's
    assignee joins the clinic): the ids the machine calls nobody's are drawn afresh, and
    still hold every rule of their path schema."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from contract_tests.stateful.people.draws import PeopleDraws
    from mockserver.validation import DocumentValidator

    draws = PeopleDraws(CONTRACT)
    seen: list[str] = []

    @settings(max_examples=30, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        seen.append(data.draw(draws.unknown_id("userId")))

    draw()
    validator = DocumentValidator(CONTRACT, "user-path")
    assert all(validator.violations({"userId": user_id}) == [] for user_id in seen)
    assert "usr_" + "0" * 32 not in seen
    assert len(set(seen)) == len(seen)
