"""The invitations calls of the people model: update and revoke, and an invitation read
back through a list.

``InvitationCalls`` says what each must answer (``expect_*``) and, told the answer, what is
wrong with it and how the invitation and its user move on (``people_state`` has the state,
``people_model`` the users calls and the whole model).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contract_tests.stateful.people.entities import Expectation, Later, Mismatch, same
from contract_tests.stateful.people.state import (
    ADMIN,
    INVITATION_UPDATE,
    REFUSAL,
    REVOKE_CHANGES,
    REVOKED,
    SENT,
    PeopleState,
)
from mockserver.contract import Rule


class InvitationCalls(PeopleState):
    """The rules of invitations.update and invitations.revoke on the known invitations."""

    def listed_invitation(
        self, invitation_id: str, items: Iterable[Mapping[str, Any]]
    ) -> list[Mismatch]:
        """A known invitation as a list shows it, read back after a write, as ``listed_user``."""
        for item in items:
            if item.get("invitationId") == invitation_id:
                read = self.rule("invitation.read-your-writes")
                found = self.invitations[invitation_id].observe(item, read)
                self.saw(item.get("updatedAt"))
                return found
        return []

    # --- invitations.update ---------------------------------------------------------------

    def expect_invitation_update(
        self, invitation_id: str, body: Mapping[str, Any], broken: Rule | None = None
    ) -> Expectation:
        """Refused if the body breaks a rule, if the invitation is not pending (409), or if
        it would leave an admin invitation without dashboard access; else applied."""
        if broken is not None:
            return Expectation(False, broken)
        if self.pending(invitation_id) is False:
            return Expectation(False, self.rule("invitationUpdate.pending-only"))
        merged = self.merged(self.invitations[invitation_id].values, body, INVITATION_UPDATE)
        if merged.get("level") == ADMIN and merged.get("hasDashboardAccess") is False:
            return Expectation(False, self.rule("invitationUpdate.admin-dashboard-access"))
        return Expectation(True, self.rule("invitationUpdate.applies"))

    def invitation_updated(
        self,
        invitation_id: str,
        body: Mapping[str, Any],
        expectation: Expectation,
        status: int,
        answer: Any,
    ) -> list[Mismatch]:
        """Judge an invitation update's answer: the fields sent applied, the others and the
        identity kept, updatedAt moved exactly when something changed. The user it was sent
        for must follow (invitationUpdate.updates-user)."""
        invitation = self.invitations[invitation_id]
        user = self.users.get(str(invitation.values.get("userId")))
        found = expectation.judge(f"update of {invitation_id}", status)
        if not 200 <= status < 300:
            invitation.rest(self.rule(REFUSAL), [*body, "updatedAt"])
            if user is not None:
                user.rest(self.rule(REFUSAL), body)
            return found
        if not isinstance(answer, dict):
            return found
        read = self.rule("invitation.read-your-writes")
        if not expectation.success:
            invitation.observe(answer, read)
            if user is not None:
                user.rest(expectation.rule, body)
            return found
        before = dict(invitation.values)
        applies = self.rule("invitationUpdate.applies")
        invitation.rest(self.rule("invitationUpdate.keeps-identity"))
        invitation.rest(self.rule("invitationUpdate.leaves-absent"), self.invitation_updates)
        nulls = "invitationUpdate.null-means"
        self.apply(invitation, body, self.invitation_updates, INVITATION_UPDATE, applies, nulls)
        changed = [
            n for n in self.invitation_updates if not same(before.get(n), invitation.values.get(n))
        ]
        stamp = before.get("updatedAt")
        moves = self.rule("invitationUpdate.moves-updatedAt")
        invitation.expect("updatedAt", Later(stamp) if changed else stamp, moves)
        found += invitation.observe(answer, read)
        self.saw(answer.get("updatedAt"))
        if user is not None:
            follows = self.rule("invitationUpdate.updates-user")
            for name in changed:
                if name in user.values:
                    user.expect(name, invitation.values.get(name), follows)
        return found

    # --- invitations.revoke ---------------------------------------------------------------

    def expect_revoke(self, body: Mapping[str, Any]) -> tuple[Expectation, str | None]:
        """What a revoke body must answer, and the invitation it revokes: 400 for naming
        none or two, 404 for nothing to revoke, success (a message if revoked already)."""
        invitation_id, user_id = body.get("invitationId"), body.get("userId")
        if invitation_id is None and user_id is None:
            return Expectation(False, self.rule("invitationRevoke.names-invitation")), None
        own = self.invitation_of.get(str(user_id))
        pending = (
            own if own is not None and self.invitations[own].values.get("status") == SENT else None
        )
        if invitation_id is None:
            if pending is None:
                return self.refusal("invitationRevoke.not-found"), None
            return Expectation(True, self.rule("invitationRevoke.revokes")), pending
        if invitation_id not in self.invitations:
            return self.refusal("invitationRevoke.not-found"), None
        invitation = self.invitations[invitation_id].values
        if user_id is not None and (
            invitation.get("userId") != user_id or pending not in (None, invitation_id)
        ):
            return Expectation(False, self.rule("invitationRevoke.same-invitation")), None
        if invitation.get("status") == REVOKED:
            return Expectation(True, self.rule("invitationRevoke.idempotent")), invitation_id
        return Expectation(True, self.rule("invitationRevoke.revokes")), invitation_id

    def revoked(self, body: Mapping[str, Any], status: int, answer: Any) -> list[Mismatch]:
        """Judge a revoke's answer: a revoked invitation has status revoked and a later
        updatedAt (invitationRevoke.sets-revoked), its user stays as it was. A revoke that
        should have been refused and was not leaves what it named uncertain: those
        invitations rest on the refusal's rule until read."""
        expectation, invitation_id = self.expect_revoke(body)
        found = expectation.judge("invitations.revoke", status)
        named = self._named(body)
        if not 200 <= status < 300:
            for key in named:
                self.invitations[key].rest(self.rule(REFUSAL), REVOKE_CHANGES)
            return found
        if invitation_id is None:
            for key in named:
                self.invitations[key].rest(expectation.rule, REVOKE_CHANGES)
            return found
        invitation = self.invitations[invitation_id]
        document = answer if isinstance(answer, dict) else {}
        if document.get("success") is not True:
            found.append(
                Mismatch(expectation.rule, "revoke success", True, document.get("success"))
            )
        if expectation.rule.id == "invitationRevoke.idempotent":
            if not document.get("message"):
                found.append(
                    Mismatch(
                        expectation.rule, "revoke message", "a message", document.get("message")
                    )
                )
            invitation.rest(expectation.rule, REVOKE_CHANGES)
            return found
        sets = self.rule("invitationRevoke.sets-revoked")
        invitation.expect("status", REVOKED, sets)
        invitation.expect("updatedAt", Later(invitation.values.get("updatedAt")), sets)
        user = self.users.get(str(invitation.values.get("userId")))
        if user is not None:
            stays = self.rule("invitationRevoke.user-stays")
            user.rest(stays)
            user.exists = stays
        return found

    def _named(self, body: Mapping[str, Any]) -> set[str]:
        """The known invitations a revoke body names, by either field."""
        named = {body.get("invitationId"), self.invitation_of.get(str(body.get("userId")))}
        return {key for key in named if isinstance(key, str) and key in self.invitations}
