"""The steps of the people part: what each rule of ``people.PeoplePart`` sends and judges.

A step asks the model (``people_model``) what each answer must be, sends its calls through the
machine, and hands the invariants what it saw: ``PeopleSeen``, the exchanges and the model's
mismatches. A mismatch is judged by the invariant that owns its rule (``OWNERS``), else by the
step's own, so that one defect breaks one invariant. For the same reason every write step
reads back what it changed, at once (so the next step starts from what the server stores),
through the list filtered to that entity (a user by its e-mail, an invitation by its user),
not through retrieve: a defect of retrieve is left to the retrieve steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.stateful.machine import MachineBase
from contract_tests.stateful.observations import Observation
from contract_tests.stateful.people.draws import LOCAL, Invalid, PeopleDraws
from contract_tests.stateful.people.entities import Mismatch
from contract_tests.stateful.people.lists import Listing
from contract_tests.stateful.people.model import PeopleModel
from contract_tests.stateful.people.state import INVITATION_UPDATE, REFUSAL
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Exchange
from mockserver.contract import Rule

USERS = "viewer.users"
INVITATIONS = "viewer.users.invitations"
READS, INVITES, ACCESS = "users_read_own_writes", "invite_creates", "access_switches"
FOLLOW, EMAILS = "invitations_follow", "emails_unique"
USER_LISTS, INVITATION_LISTS = "users_lists_match", "invitations_lists_match"
USER_WALKS, INVITATION_WALKS = "users_pages_walk", "invitations_pages_walk"
OWNERS: tuple[tuple[str, str], ...] = (
    ("user.read-your-writes", READS),
    ("invitation.read-your-writes", READS),
    ("user.not-found", READS),
    ("invitation.not-found", READS),
    ("userUpdate.updates-invitation", FOLLOW),
    ("userUpdate.", READS),
    ("invite.email-taken", EMAILS),
    ("invite.", INVITES),
    ("invitation.source-fields", INVITES),
    ("revokeAccess.", ACCESS),
    ("reactivate.", ACCESS),
    ("userAccess.", ACCESS),
    ("invitationUpdate.", FOLLOW),
    ("invitationRevoke.", FOLLOW),
    ("userList.", USER_LISTS),
    ("userPage.", USER_WALKS),
    ("invitationList.", INVITATION_LISTS),
    ("invitationPage.", INVITATION_WALKS),
)
"""Which invariant judges a mismatch, by its rule id (an exact id, or a prefix ending in
'.'); a rule of none of them (a field rule an invalid body breaks, refusal.changes-nothing)
is the step's own invariant's."""


def owner(rule_id: str, default: str) -> str:
    """The invariant that judges a mismatch of this rule (``OWNERS``), else ``default``."""
    for key, name in OWNERS:
        if rule_id == key or (key.endswith(".") and rule_id.startswith(key)):
            return name
    return default


@dataclass(frozen=True)
class PeopleSeen(Observation):
    """What a people step saw: its exchanges, the invariant that judges it, and the model's
    mismatches, each with the request it was seen in (``GET /v1/viewer/users/usr_…``)."""

    invariant: str
    mismatches: tuple[tuple[str, Mismatch], ...]


def ok(answer: Answer | None) -> bool:
    """A 2xx answer."""
    return answer is not None and 200 <= answer.status < 300


def items(answer: Answer | None, key: str) -> list[dict[str, Any]]:
    """The objects a list answer holds under ``key`` (none if it is not a page)."""
    document = answer.document if answer is not None else None
    listed = document.get(key) if isinstance(document, dict) else None
    return [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []


class Steps:
    """What every step shares: the machine it runs in, the sequence's model, the run's
    draws and listings, and the exchanges and mismatches of the step in progress."""

    def __init__(self, machine: MachineBase) -> None:
        world, contract = machine.world, machine.world.contract
        self.machine = machine
        self.token = machine.token
        self.model = PeopleModel(contract, machine.token)
        self.draws = world.cached("people-draws", lambda: PeopleDraws(contract))
        self.user_listing = world.cached("user-listing", lambda: Listing(contract, "users"))
        self.invitation_listing = world.cached(
            "invitation-listing", lambda: Listing(contract, "invitations")
        )
        self._seen: list[Exchange] = []
        self._found: list[tuple[str, Mismatch]] = []

    def send(self, call: Call) -> Answer | None:
        """Send a call through the machine; its exchange belongs to the step."""
        answer = self.machine.call(call)
        self._seen.append(self.machine.last)
        return answer

    def note(self, mismatches: Iterable[Mismatch]) -> None:
        """Mismatches seen in the last exchange, for the step's judgement."""
        sent = self.machine.last.sent
        self._found.extend((f"{sent.method} {sent.path}", m) for m in mismatches)

    def judge(self, name: str) -> None:
        """Hand the step's exchanges and mismatches to the invariants: to ``name`` (which
        holds if nothing breaks it) and to the owner of each other rule broken."""
        seen, found = tuple(self._seen), self._found
        self._seen, self._found = [], []
        if not seen:
            return
        groups: dict[str, list[tuple[str, Mismatch]]] = {name: []}
        for where, mismatch in found:
            groups.setdefault(owner(mismatch.rule.id, name), []).append((where, mismatch))
        for invariant_name, judged in groups.items():
            self.machine.judge(PeopleSeen(seen, invariant_name, tuple(judged)))

    def aside(self) -> tuple[list[Exchange], list[tuple[str, Mismatch]]]:
        """Set the step in progress aside (a step run in the middle of another)."""
        kept = self._seen, self._found
        self._seen, self._found = [], []
        return kept

    def resume(self, kept: tuple[list[Exchange], list[tuple[str, Mismatch]]]) -> None:
        """Go on with a step set aside."""
        self._seen, self._found = kept

    def changed(self, user_id: str) -> None:
        """A user's names may have changed: the studies part (when the machine has one)
        judges the references to that user in studies by userId only until it reads them."""
        studies = getattr(self.machine, "studies_model", None)
        if studies is not None:
            studies.user_changed(user_id)

    def user_ids(self) -> list[str]:
        return sorted(self.model.users)

    def invitation_ids(self) -> list[str]:
        return sorted(self.model.invitations)

    def some_user(self, data: st.DataObject) -> str:
        """A known user, or a well-formed id nobody has."""
        known = st.sampled_from(self.user_ids()) if self.model.users else st.nothing()
        return data.draw(known | self.draws.unknown_id("userId"))

    def by_email(self, email: str) -> list[dict[str, Any]]:
        """The users the list by this e-mail answers."""
        query = (("email", email), ("limit", str(self.draws.limit_max)))
        return items(self.send(Call(f"{USERS}.list", query=query)), "users")

    def reread_user(self, user_id: str) -> list[dict[str, Any]]:
        """A user read back after a write, through the list by its e-mail; returns the
        users listed."""
        listed = self.by_email(str(self.model.users[user_id].values.get("email")))
        self.note(self.model.listed_user(user_id, listed))
        return listed

    def reread_invitation(self, invitation_id: str) -> None:
        """An invitation read back after a write, through the list by its user's id."""
        model = self.model
        user_id = str(model.invitations[invitation_id].values.get("userId"))
        query = (("userId", user_id), ("limit", str(self.draws.limit_max)))
        listed = items(self.send(Call(f"{INVITATIONS}.list", query=query)), "invitations")
        self.note(model.listed_invitation(invitation_id, listed))


class PeopleSteps(Steps):
    """The steps of invite, users, access and invitations."""

    def __init__(self, machine: MachineBase) -> None:
        super().__init__(machine)
        self.owner_probed = False

    # --- invite ---------------------------------------------------------------------------

    def invite(self, data: st.DataObject) -> None:
        """Invite a new person: a new user and its sent invitation."""
        self._invite(data.draw(self.draws.invite(self._email(data), self.token)), None)
        self.judge(INVITES)

    def invite_invalid(self, data: st.DataObject) -> None:
        """An invite that breaks one rule: refused, and nobody has its e-mail after."""
        body = data.draw(self.draws.invite(self._email(data), self.token))
        broken: Invalid = data.draw(self.draws.invalid_invite())
        body.update(broken.fields)
        if self._invite(body, broken.rule) is None:
            self._nobody_has(body["email"], None, self.model.rule(REFUSAL))
        self.judge(INVITES)

    def invite_taken(self, data: st.DataObject) -> None:
        """Invite again with a known user's e-mail, in some case: refused; that user stays
        as it was and nobody else has the e-mail."""
        model = self.model
        user_id = data.draw(st.sampled_from(self.user_ids()))
        email = str(model.users[user_id].values.get("email"))
        local, _, domain = email.partition("@")
        cases = [email, email.upper(), f"{local.upper()}@{domain}", email.swapcase()]
        variant = data.draw(st.sampled_from(cases))
        made = self._invite(data.draw(self.draws.invite(variant, self.token)), None)
        rule = model.rule(REFUSAL if made is None else "invite.email-taken")
        model.users[user_id].rest(rule)
        self._nobody_has(email, user_id, rule, also=made, listed=self.reread_user(user_id))
        if variant != email:
            self._nobody_has(variant, user_id, rule, also=made)
        self.judge(EMAILS)

    def _email(self, data: st.DataObject) -> str:
        return self.model.email(data.draw(LOCAL))

    def _invite(self, body: dict[str, Any], broken: Rule | None) -> str | None:
        """Send an invite, judge its answer and find the invitation it sent (by the list's
        ``userId`` filter: a page of other users' invitations says nothing of it)."""
        model = self.model
        expectation = model.expect_invite(body, broken)
        answer = self.send(Call(f"{USERS}.invite", body=body))
        if answer is None:
            return None
        found, user_id = model.invited(body, expectation, answer.status, answer.document)
        self.note(found)
        if user_id is None:
            return None
        self.reread_user(user_id)
        query = (("userId", user_id), ("limit", str(self.draws.limit_max)))
        page = self.send(Call(f"{INVITATIONS}.list", query=query))
        listed = items(page, "invitations")
        foreign = [i for i in listed if i.get("userId") != user_id]
        if ok(page) and not (foreign and len(foreign) == len(listed)):
            self.note(model.invitation_listed(user_id, listed))
        return user_id

    def _nobody_has(
        self,
        email: str,
        holder: str | None,
        rule: Rule,
        also: str | None = None,
        listed: list[dict[str, Any]] | None = None,
    ) -> None:
        """No user but ``holder`` (and ``also``, one the server made anyway) has the e-mail
        in any case, among ``listed`` or those the list by that e-mail answers."""
        for item in self.by_email(email) if listed is None else listed:
            same_mail = str(item.get("email", "")).casefold() == email.casefold()
            if same_mail and item.get("userId") not in (holder, also):
                self.note([Mismatch(rule, f"user {item.get('userId')}", "nobody new", email)])

    # --- users ----------------------------------------------------------------------------

    def retrieve_user(self, data: st.DataObject) -> None:
        """Read a known user (exactly as the model holds it), or an id of nobody (404)."""
        user_id = self.some_user(data)
        answer = self.send(Call(f"{USERS}.retrieve", {"userId": user_id}))
        if answer is not None:
            self.note(self.model.user_read(user_id, answer.status, answer.document))
        self.judge(READS)

    def update_user(self, data: st.DataObject, broken: Invalid | None = None) -> None:
        """Update a known user (valid fields, plus ``broken``'s), read it back; after a
        valid update, read its invitation back too (it must follow)."""
        model = self.model
        user_id = data.draw(st.sampled_from(self.user_ids()))
        stored = model.users[user_id].values
        body = data.draw(self.draws.update(model.user_updates, self.token, stored))
        if broken is not None:
            body.update(broken.fields)
        expectation = model.expect_user_update(user_id, body, broken.rule if broken else None)
        answer = self.send(Call(f"{USERS}.update", {"userId": user_id}, body=body))
        if answer is None:
            return
        self.note(model.user_updated(user_id, body, expectation, answer.status, answer.document))
        self.changed(user_id)
        if ok(answer):
            self.reread_user(user_id)
        self.judge(READS)
        invitation = model.invitation(user_id)
        if expectation.success and invitation is not None and ok(answer):
            self.reread_invitation(str(invitation.values["invitationId"]))
            self.judge(FOLLOW)

    # --- access ---------------------------------------------------------------------------

    def switch_access(self, data: st.DataObject) -> None:
        """Revoke or reactivate a known user's access (read back: its data kept), or an id
        of nobody's (404)."""
        model = self.model
        revoke = data.draw(st.booleans())
        user_id = self.some_user(data)
        expectation = model.expect_access(revoke, user_id)
        operation = "revoke_access" if revoke else "reactivate"
        answer = self.send(Call(f"{USERS}.{operation}", body={"userId": user_id}))
        if answer is not None:
            status, document = answer.status, answer.document
            self.note(model.access_switched(revoke, user_id, expectation, status, document))
            if user_id in model.users and ok(answer):
                self.reread_user(user_id)
        self.judge(ACCESS)

    def revoke_owner(self) -> None:
        """Revoking an owner's access is refused; an owner revoked anyway is reactivated at
        once, so a live clinic keeps its owner."""
        self.owner_probed = True
        model, level = self.model, self.draws.owner_level
        query = (("level", level), ("limit", "1"))
        listed = items(self.machine.call(Call(f"{USERS}.list", query=query)), "users")
        owners = [u["userId"] for u in listed if u.get("level") == level and "userId" in u]
        if not owners or not isinstance(owners[0], str):
            return
        model.owners.add(owners[0])
        expectation = model.expect_access(True, owners[0])
        answer = self.send(Call(f"{USERS}.revoke_access", body={"userId": owners[0]}))
        if answer is None:
            return
        self.note(expectation.judge(f"revoke_access of the owner {owners[0]}", answer.status))
        if ok(answer):
            self.machine.call(Call(f"{USERS}.reactivate", body={"userId": owners[0]}))
        self.judge(ACCESS)

    # --- invitations ----------------------------------------------------------------------

    def retrieve_invitation(self, data: st.DataObject) -> None:
        """Read a known invitation (as the model holds it), or an id of nobody's (404)."""
        known = self.invitation_ids()
        choice = st.sampled_from(known) if known else st.nothing()
        invitation_id = data.draw(choice | self.draws.unknown_id("invitationId"))
        answer = self.send(Call(f"{INVITATIONS}.retrieve", {"invitationId": invitation_id}))
        if answer is not None:
            read = self.model.invitation_read(invitation_id, answer.status, answer.document)
            self.note(read)
        self.judge(READS)

    def update_invitation(self, data: st.DataObject, broken: Invalid | None = None) -> None:
        """Update a known invitation (valid fields, plus ``broken``'s): applied if pending,
        and its user follows (read back); 409 if not pending."""
        model = self.model
        invitation_id = data.draw(st.sampled_from(self.invitation_ids()))
        if model.pending(invitation_id) is None:
            return
        stored = model.invitations[invitation_id].values
        body = data.draw(self.draws.update(model.invitation_updates, self.token, stored))
        if broken is not None:
            body.update(broken.fields)
        rule = broken.rule if broken is not None else None
        expectation = model.expect_invitation_update(invitation_id, body, rule)
        call = Call(f"{INVITATIONS}.update", {"invitationId": invitation_id}, body=body)
        answer = self.send(call)
        if answer is None:
            return
        status, document = answer.status, answer.document
        self.note(model.invitation_updated(invitation_id, body, expectation, status, document))
        user_id = stored.get("userId")
        if isinstance(user_id, str):
            self.changed(user_id)
        if ok(answer):
            self.reread_invitation(invitation_id)
        if expectation.success and ok(answer) and user_id in model.users:
            self.reread_user(str(user_id))
        self.judge(FOLLOW)

    def invalid_invitation_update(self, data: st.DataObject) -> None:
        """An invitation update that breaks one rule: refused."""
        self.update_invitation(data, data.draw(self.draws.invalid_update(INVITATION_UPDATE)))

    def revoke_invitation(self, data: st.DataObject) -> None:
        """Revoke a known invitation by its id, its user's id or both (read back: revoked,
        the user kept), or a revoked one again (a message, or 404 by the user's id)."""
        model = self.model
        invitation_id = data.draw(st.sampled_from(self.invitation_ids()))
        user_id = model.invitations[invitation_id].values.get("userId")
        how = data.draw(st.sampled_from(["invitationId", "userId", "both"]))
        body: dict[str, Any] = {}
        if how != "userId":
            body["invitationId"] = invitation_id
        if how != "invitationId":
            body["userId"] = user_id
        self._revoke(body)
        self.judge(FOLLOW)

    def revoke_invitation_invalid(self, data: st.DataObject) -> None:
        """A revoke naming nothing, two different invitations, or an id of nobody's."""
        draws, known = self.draws, self.invitation_ids()
        options: list[st.SearchStrategy[dict[str, Any]]] = [
            st.just({}),
            draws.unknown_id("invitationId").map(lambda i: {"invitationId": i}),
            draws.unknown_id("userId").map(lambda u: {"userId": u}),
        ]
        if len(known) >= 2:
            pairs = st.lists(st.sampled_from(known), min_size=2, max_size=2, unique=True)
            options.append(pairs.map(self._crossed))
        self._revoke(data.draw(st.one_of(options)))
        self.judge(FOLLOW)

    def _crossed(self, pair: list[str]) -> dict[str, Any]:
        """One invitation's id with another invitation's user."""
        other = self.model.invitations[pair[1]].values.get("userId")
        return {"invitationId": pair[0], "userId": other}

    def _revoke(self, body: dict[str, Any]) -> None:
        model = self.model
        _, revoked = model.expect_revoke(body)
        answer = self.send(Call(f"{INVITATIONS}.revoke", body=body))
        if answer is None:
            return
        self.note(model.revoked(body, answer.status, answer.document))
        if revoked is not None and ok(answer):
            self.reread_invitation(revoked)
            user_id = model.invitations[revoked].values.get("userId")
            if isinstance(user_id, str) and user_id in model.users:
                self.reread_user(user_id)
