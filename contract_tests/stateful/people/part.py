"""The users and invitations part of the machine, and its invariants.

``PeoplePart`` has one rule per viewer.users and viewer.users.invitations operation with valid
inputs, rules with one-rule-invalid bodies and ids of nobody, and walks over the pages of
both lists; each rule runs a step (``people_steps``, ``people_walks``), which asks the model
(``people_model``) what every answer must be and hands the invariants what it saw. Every
sequence starts by inviting two people. The model asserts only about people the sequence
invited; others are judged by their own fields when a list shows them.

The invariants, and the rules their findings break (x-stateful-rules of the user* and
invitation* schemas, with their tags; a field rule for an invalid body):

- ``users_read_own_writes``: retrieve answers a user or an invitation as the model holds it
  (``user.read-your-writes``, ``invitation.read-your-writes``, stated), a well-formed id of
  nobody gets 404 (``user.not-found``, ``invitation.not-found``); an update answers the
  fields sent applied and the others kept (``userUpdate.applies``, stated;
  ``userUpdate.null-means``, ``userUpdate.keeps-identity``, ``userUpdate.revoked-allowed``),
  and refuses an admin without dashboard access (``userUpdate.admin-dashboard-access``,
  stated), an e-mail (``userUpdate.email-immutable``) and any field rule broken.
- ``invite_creates``: an invite answers a new user with the permissions and level sent
  (``invite.creates-user``, stated), the other fields as sent (``invite.echoes``); its
  invitation, found by the ``userId`` filter, is sent and linked (``invite.creates-invitation``)
  with the key's source (``invitation.source-fields``, stated; ``invite.inviter``,
  ``invite.times``, ``invite.expiry``); an invalid invite is refused
  (``invite.admin-dashboard-access``, stated, or the field rule) and nobody has its e-mail.
- ``access_switches``: revoke_access / reactivate of a user with / without access succeed
  (``revokeAccess.deactivates``, ``reactivate.restores``, stated; the user's data read back
  as it was), a repeat answers success with a message (``revokeAccess.idempotent``,
  ``reactivate.idempotent``), an owner is refused (``revokeAccess.owner``, 409; an owner
  revoked anyway is reactivated at once), an id of nobody gets 404 (``userAccess.not-found``);
  the invitation stays (``userAccess.keeps-invitation``).
- ``invitations_follow``: revoking a pending invitation succeeds (``invitationRevoke.revokes``,
  stated) and sets it revoked (``invitationRevoke.sets-revoked``) and keeps its user
  (``invitationRevoke.user-stays``), a repeat says so (``invitationRevoke.idempotent``), and
  bodies naming none, two or nobody are refused (``names-invitation``, ``same-invitation``,
  ``not-found``); an update of a pending invitation applies (``invitationUpdate.applies``,
  stated; ``leaves-absent``, ``null-means``, ``keeps-identity``, ``moves-updatedAt``) and its
  user follows (``invitationUpdate.updates-user``), one of an invitation not pending is refused
  (``invitationUpdate.pending-only``, stated, 409 our reading); a user's update reaches its
  pending invitation (``userUpdate.updates-invitation``).
- ``emails_unique``: an invite with a known user's e-mail, in any case, is refused
  (``invite.email-taken``, 409), that user stays as it was and nobody else has the e-mail
  (``refusal.changes-nothing``).
- ``users_lists_match`` / ``invitations_lists_match``: a list read to its end holds every
  known match (``invitationList.filters``, stated; ``userList.every-user`` for users, since
  every user the machine knows is an invitee) and only entities that meet the filters by
  their own fields (``userList.filters``, ``invitationList.filters``, stated; where only our
  reading of a filter decides, ``*.filter-readings``), in the x-order (``*.order``).
- ``users_pages_walk`` / ``invitations_pages_walk``: small pages (with an update between
  pages for users): at most ``limit`` (``*Page.limit``, stated), ``hasMore`` with a cursor and
  no empty page after it (``*Page.has-more``, stated), the last page's cursor null
  (``*Page.last-cursor``), nobody twice or skipped (``*Page.walk``; an invitation repeated or
  skipped by a walk read to its end with nothing written meanwhile breaks the stated
  ``invitationPage.every-match``).
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from contract_tests.checks import Finding
from contract_tests.stateful.invariants import invariant
from contract_tests.stateful.machine import MachineBase, World
from contract_tests.stateful.observations import Observation
from contract_tests.stateful.people.state import USER_UPDATE
from contract_tests.stateful.people.steps import (
    ACCESS,
    EMAILS,
    FOLLOW,
    INVITATION_LISTS,
    INVITATION_WALKS,
    INVITES,
    READS,
    USER_LISTS,
    USER_WALKS,
    PeopleSeen,
    PeopleSteps,
)
from contract_tests.stateful.people.walks import ListSteps
from mockserver.contract import Contract

BEGIN_WITH = 2
"""People every sequence invites first."""
INVALID_ONE_IN = 4
"""One update in this many sends a body that breaks one rule."""


def _findings(seen: Observation, name: str) -> list[Finding] | None:
    if not isinstance(seen, PeopleSeen) or seen.invariant != name:
        return None
    return [Finding(m.rule.id, m.rule.tag, f"{where}: {m.message}") for where, m in seen.mismatches]


@invariant("retrieve answers a user or invitation as the model holds it; updates apply")
def users_read_own_writes(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, READS)


@invariant("invite answers a new user and sends a linked invitation; invalid invites refused")
def invite_creates(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, INVITES)


@invariant("revoke_access / reactivate switch access, idempotently; an owner is refused")
def access_switches(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, ACCESS)


@invariant("revoke sets revoked; a user and its pending invitation follow each other")
def invitations_follow(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, FOLLOW)


@invariant("a second invite of an e-mail (in any case) is refused and changes nothing")
def emails_unique(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, EMAILS)


@invariant("users list: every known match, and only users that meet the filters, in order")
def users_lists_match(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, USER_LISTS)


@invariant("invitations list: every known match, and only ones that meet the filters, in order")
def invitations_lists_match(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, INVITATION_LISTS)


@invariant("walking the users pages: limit, hasMore, last cursor, no one twice or skipped")
def users_pages_walk(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, USER_WALKS)


@invariant("walking the invitations pages: limit, hasMore, last cursor, none twice or skipped")
def invitations_pages_walk(seen: Observation, contract: Contract) -> list[Finding] | None:
    return _findings(seen, INVITATION_WALKS)


def _has_users(machine: PeoplePart) -> bool:
    return bool(machine.people_steps.model.users)


def _has_invitations(machine: PeoplePart) -> bool:
    return bool(machine.people_steps.model.invitations)


class PeoplePart(MachineBase):
    """Rules of viewer.users and viewer.users.invitations; the steps hold the model.

    Few rules, each drawing which variant it sends (a valid one first, which is what
    shrinking keeps): hypothesis switches whole rules off in some sequences, and with few
    rules every sequence still meets most calls.
    """

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.people_steps = PeopleSteps(self)
        self.people_lists = ListSteps(self.people_steps, self.people_steps.update_user)

    @initialize(data=st.data())
    def begin_people(self, data: st.DataObject) -> None:
        """Two invited people, so that whichever rules a sequence draws have someone to
        work on, and a walk of its users has a page to turn."""
        for _ in range(BEGIN_WITH):
            self.people_steps.invite(data)

    @rule(data=st.data())
    def invite(self, data: st.DataObject) -> None:
        """Invite a new person; or an invite that breaks one rule (refused, nobody made);
        or one with a known user's e-mail in some case (refused, nothing changed)."""
        steps = self.people_steps
        kind = data.draw(st.sampled_from(["valid", "valid", "invalid", "taken"]))
        if kind == "valid":
            steps.invite(data)
        elif kind == "invalid" or not steps.model.users:
            steps.invite_invalid(data)
        else:
            steps.invite_taken(data)

    @rule(data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        """Read a known user or invitation, or an id of nobody's."""
        if data.draw(st.booleans()):
            self.people_steps.retrieve_user(data)
        else:
            self.people_steps.retrieve_invitation(data)

    @precondition(_has_users)
    @rule(data=st.data())
    def update_user(self, data: st.DataObject) -> None:
        """Update a known user (its pending invitation follows), or send an update that
        breaks one rule (refused)."""
        steps = self.people_steps
        broken = None
        if data.draw(st.integers(0, INVALID_ONE_IN - 1)) == 0:
            broken = data.draw(steps.draws.invalid_update(USER_UPDATE))
        steps.update_user(data, broken)

    @rule(data=st.data())
    def switch_access(self, data: st.DataObject) -> None:
        """Revoke or reactivate a user's access."""
        self.people_steps.switch_access(data)

    @precondition(lambda machine: not machine.people_steps.owner_probed)
    @rule()
    def revoke_owner(self) -> None:
        """Revoke the clinic owner's access: refused."""
        self.people_steps.revoke_owner()

    @precondition(_has_invitations)
    @rule(data=st.data())
    def update_invitation(self, data: st.DataObject) -> None:
        """Update a known invitation (applied if pending, its user follows; 409 if not), or
        send an update that breaks one rule (refused)."""
        if data.draw(st.integers(0, INVALID_ONE_IN - 1)):
            self.people_steps.update_invitation(data)
        else:
            self.people_steps.invalid_invitation_update(data)

    @rule(data=st.data())
    def revoke_invitation(self, data: st.DataObject) -> None:
        """Revoke a known invitation (or again) by its id, its user's or both; or a revoke
        that names nothing, two invitations, or nobody's."""
        steps = self.people_steps
        if data.draw(st.booleans()) and steps.model.invitations:
            steps.revoke_invitation(data)
        else:
            steps.revoke_invitation_invalid(data)

    @rule(data=st.data())
    def list_people(self, data: st.DataObject) -> None:
        """List the sequence's users, or the invitations, with filters."""
        if data.draw(st.booleans()):
            self.people_lists.list_users(data)
        else:
            self.people_lists.list_invitations(data)

    @rule(data=st.data())
    def walk_people(self, data: st.DataObject) -> None:
        """Walk the sequence's users, or the invitations, a few at a time."""
        if data.draw(st.booleans()):
            self.people_lists.walk_users(data)
        else:
            self.people_lists.walk_invitations(data)
