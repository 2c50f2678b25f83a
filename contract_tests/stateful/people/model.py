"""The users and invitations the state machine invited, and what each call must do to them.

A plain model, no HTTP. ``PeopleModel`` holds every user one sequence invited (its fields as
the server last answered them, and whether its access is on), the invitation each invite
sent, and the e-mails in use (``people_state``). For each call it says what the answer must
be (``expect_*``: an ``Expectation``, success or refusal and the rule that says so); told the
answer, it says what is wrong with it (``Mismatch`` with its rule) and moves the world on.
Each value rests on a rule (``people_entities``), so a breach carries the tag of the reading
it depends on. The users calls are here, the invitations calls in ``people_invitations``.

It asserts only about people it invited: the server also holds a seeded clinic and data from
earlier runs, which only the lists judge, by their own fields. E-mails carry the sequence's
token, so no earlier run has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contract_tests.stateful.people.entities import Expectation, Later, Mismatch, same
from contract_tests.stateful.people.invitations import InvitationCalls
from contract_tests.stateful.people.state import (
    ADMIN,
    INVITATION,
    REFUSAL,
    SENT,
    TIME_TOLERANCE,
    USER,
    USER_UPDATE,
)
from contract_tests.stateful.studies.values import instant
from mockserver.contract import Rule


class PeopleModel(InvitationCalls):
    """The users and invitations one sequence invited, and the rules of every users and
    invitations call on them (module docstring)."""

    # --- users.invite ---------------------------------------------------------------------

    def expect_invite(self, body: Mapping[str, Any], broken: Rule | None = None) -> Expectation:
        """Refused if the body breaks a rule (``broken``: the one a drawn invalid body
        breaks), makes an admin without dashboard access, or has a known user's e-mail
        (ignoring case); else a new user."""
        if broken is not None:
            return Expectation(False, broken)
        if body.get("level") == ADMIN and body.get("hasDashboardAccess") is False:
            return Expectation(False, self.rule("invite.admin-dashboard-access"))
        email = body.get("email")
        if isinstance(email, str) and self.holder(email) is not None:
            return self.refusal("invite.email-taken")
        return Expectation(True, self.rule("invite.creates-user"))

    def invited(
        self, body: Mapping[str, Any], expectation: Expectation, status: int, answer: Any
    ) -> tuple[list[Mismatch], str | None]:
        """Judge an invite's answer. A user the server made (even one it should have
        refused) becomes known. Returns the mismatches and the new user's id."""
        found = expectation.judge("invite", status)
        if not 200 <= status < 300 or not isinstance(answer, dict):
            return found, None
        user_id = answer.get("userId")
        if not isinstance(user_id, str):
            return found, None
        creates = self.rule("invite.creates-user")
        if user_id in self.users:
            found.append(Mismatch(creates, "invite userId", "an id no user has", user_id))
            return found, None
        if expectation.success:
            predicted = self.new_entity(USER, user_id, {}, creates)
            for name, spec in self._echo.items():
                value = body.get(spec["from"]) if "from" in spec else spec["const"]
                rule = creates if spec["tag"] == "stated" else self.rule("invite.echoes")
                predicted.expect(name, value, rule)
            found += predicted.differences(answer)
        self.users[user_id] = self.new_entity(
            USER, user_id, answer, self.rule("user.read-your-writes")
        )
        self.access[user_id] = True
        for email in (answer.get("email"), body.get("email")):
            if isinstance(email, str):
                self.emails[email.casefold()] = user_id
        self.saw(answer.get("createdAt"))
        return found, user_id

    def invitation_listed(self, user_id: str, items: list[Any]) -> list[Mismatch]:
        """Judge the invitations listed for a new user (the ``userId`` filter): the one its
        invite sent, with the user's fields, status sent and the key's sender facts. It
        becomes known."""
        creates = self.rule("invite.creates-invitation")
        mine = [i for i in items if isinstance(i, dict) and i.get("userId") == user_id]
        if len(mine) != 1 or not isinstance(mine[0].get("invitationId"), str):
            return [Mismatch(creates, f"invitations of {user_id}", "one invitation", len(mine))]
        invitation, user = mine[0], self.users[user_id]
        key = invitation["invitationId"]
        predicted = self.new_entity(INVITATION, key, {"status": SENT}, creates)
        for name in self.person:
            predicted.expect(name, user.values.get(name), creates)
        source = self.rule("invitation.source-fields")
        predicted.expect("invitedSource", self.api_source, source)
        found = predicted.differences(invitation)
        found += self._sender(invitation, source)
        found += self._times(user.values.get("createdAt"), invitation)
        read = self.rule("invitation.read-your-writes")
        self.invitations[key] = self.new_entity(INVITATION, key, invitation, read)
        self.invitation_of[user_id] = key
        self.saw(invitation.get("createdAt"), invitation.get("updatedAt"))
        return found

    def _sender(self, invitation: Mapping[str, Any], source: Rule) -> list[Mismatch]:
        """The key's UUID and the inviter id: set, and the same on every invitation."""
        found: list[Mismatch] = []
        for name, rule in (
            ("invitedByApiKeyId", source),
            ("inviterId", self.rule("invite.inviter")),
        ):
            value = invitation.get(name)
            first = self.sender.setdefault(name, value)
            if value is None or value != first:
                expected = first if first is not None else "the calling key's"
                found.append(Mismatch(rule, f"invitation {name}", expected, value))
        return found

    def _times(self, created: Any, invitation: Mapping[str, Any]) -> list[Mismatch]:
        """One moment for the user and its invitation (invite.times), and an expiry the
        lifetime after it (invite.expiry)."""
        found: list[Mismatch] = []
        user_time = instant(created)
        for name in ("createdAt", "updatedAt"):
            moment = instant(invitation.get(name))
            if user_time and moment and abs(moment - user_time) > TIME_TOLERANCE:
                found.append(
                    Mismatch(
                        self.rule("invite.times"), f"invitation {name}", created, invitation[name]
                    )
                )
        sent, expiry = instant(invitation.get("createdAt")), instant(invitation.get("expiry"))
        if sent is not None and (
            expiry is None or abs(expiry - sent - self.lifetime) > TIME_TOLERANCE
        ):
            expected = f"{self.lifetime.days} days after {invitation.get('createdAt')}"
            rule = self.rule("invite.expiry")
            found.append(Mismatch(rule, "invitation expiry", expected, invitation.get("expiry")))
        return found

    # --- reads ----------------------------------------------------------------------------

    def user_read(self, user_id: str, status: int, answer: Any) -> list[Mismatch]:
        """A retrieve of a user: a known one is answered as the model holds it; a well-formed
        id nobody has gets 404 (user.not-found)."""
        user = self.users.get(user_id)
        if user is None:
            return self.refusal("user.not-found").judge(f"user {user_id}", status)
        found = Expectation(True, user.exists).judge(f"user {user_id}", status)
        if 200 <= status < 300 and isinstance(answer, dict):
            found += user.observe(answer, self.rule("user.read-your-writes"))
        return found

    def invitation_read(self, invitation_id: str, status: int, answer: Any) -> list[Mismatch]:
        """A retrieve of an invitation, as ``user_read`` (invitation.not-found)."""
        invitation = self.invitations.get(invitation_id)
        subject = f"invitation {invitation_id}"
        if invitation is None:
            return self.refusal("invitation.not-found").judge(subject, status)
        found = Expectation(True, invitation.exists).judge(subject, status)
        if 200 <= status < 300 and isinstance(answer, dict):
            found += invitation.observe(answer, self.rule("invitation.read-your-writes"))
            self.saw(answer.get("updatedAt"))
        return found

    def listed_user(self, user_id: str, items: Iterable[Mapping[str, Any]]) -> list[Mismatch]:
        """A known user as a list shows it, read back after a write: compared with the
        model, then taken (a user the list leaves out is judged by nothing here: whether a
        list shows invitees is our reading)."""
        for item in items:
            if item.get("userId") == user_id:
                return self.users[user_id].observe(item, self.rule("user.read-your-writes"))
        return []

    # --- users.update ---------------------------------------------------------------------

    def expect_user_update(
        self, user_id: str, body: Mapping[str, Any], broken: Rule | None = None
    ) -> Expectation:
        """Refused if the body breaks a rule or would leave an admin without dashboard
        access (sent or stored); else applied, to a user whose access is revoked too."""
        if broken is not None:
            return Expectation(False, broken)
        merged = self.merged(self.users[user_id].values, body, USER_UPDATE)
        if merged.get("level") == ADMIN and merged.get("hasDashboardAccess") is False:
            return Expectation(False, self.rule("userUpdate.admin-dashboard-access"))
        if not self.access[user_id]:
            return Expectation(True, self.rule("userUpdate.revoked-allowed"))
        return Expectation(True, self.rule("userUpdate.applies"))

    def user_updated(
        self,
        user_id: str,
        body: Mapping[str, Any],
        expectation: Expectation,
        status: int,
        answer: Any,
    ) -> list[Mismatch]:
        """Judge an update's answer: the fields sent applied (a null as x-null-means says),
        the others and the identity kept. The user is then as answered, and a pending
        invitation must follow (userUpdate.updates-invitation)."""
        user = self.users[user_id]
        found = expectation.judge(f"update of {user_id}", status)
        if not 200 <= status < 300:
            user.rest(self.rule(REFUSAL), body)
            self._rest_invitation(user_id, self.rule(REFUSAL), body)
            return found
        if not isinstance(answer, dict):
            return found
        read = self.rule("user.read-your-writes")
        if not expectation.success:
            user.observe(answer, read)
            self._rest_invitation(user_id, expectation.rule, body)
            return found
        before = dict(user.values)
        applies = self.rule("userUpdate.applies")
        user.rest(self.rule("userUpdate.keeps-identity"))
        user.rest(applies, self.user_updates)
        self.apply(user, body, self.user_updates, USER_UPDATE, applies, "userUpdate.null-means")
        found += user.observe(answer, read)
        self._follow_user(user_id, before)
        return found

    def _follow_user(self, user_id: str, before: Mapping[str, Any]) -> None:
        """A pending invitation takes the fields the update changed, and a later updatedAt;
        another invitation stays as it was."""
        invitation = self.invitation(user_id)
        if invitation is None:
            return
        follows = self.rule("userUpdate.updates-invitation")
        after = self.users[user_id].values
        changed = [
            name
            for name in self.user_updates
            if name in self.person and not same(before.get(name), after.get(name))
        ]
        invitation.rest(follows, [*changed, "updatedAt"])
        if self.pending(invitation.values["invitationId"]) is not True:
            return
        for name in changed:
            invitation.expect(name, after.get(name), follows)
        if changed:
            invitation.expect("updatedAt", Later(invitation.values.get("updatedAt")), follows)

    def _rest_invitation(self, user_id: str, rule: Rule, fields: Iterable[str]) -> None:
        """The user's invitation keeps these fields (and its updatedAt), now by ``rule``."""
        invitation = self.invitation(user_id)
        if invitation is not None:
            invitation.rest(rule, [*fields, "updatedAt"])

    # --- users.revoke_access / users.reactivate -------------------------------------------

    def expect_access(self, revoke: bool, user_id: str) -> Expectation:
        """A known user's access switches (stated), or stays with a message when it is as
        asked already (idempotent, inferred); an owner's cannot be revoked (409); an id
        nobody has gets 404."""
        if revoke and user_id in self.owners:
            return self.refusal("revokeAccess.owner")
        if user_id not in self.users:
            return self.refusal("userAccess.not-found")
        has = self.access[user_id]
        if revoke:
            return Expectation(
                True, self.rule("revokeAccess.deactivates" if has else "revokeAccess.idempotent")
            )
        return Expectation(
            True, self.rule("reactivate.idempotent" if has else "reactivate.restores")
        )

    def access_switched(
        self, revoke: bool, user_id: str, expectation: Expectation, status: int, answer: Any
    ) -> list[Mismatch]:
        """Judge the answer of revoke_access / reactivate: success true, and a message when
        nothing changed. The user's fields then rest on the switch's rule until read (its
        data is kept, stated), its invitation on userAccess.keeps-invitation."""
        name = "revoke_access" if revoke else "reactivate"
        found = expectation.judge(f"{name} of {user_id}", status)
        user = self.users.get(user_id)
        if user is None or not 200 <= status < 300:
            return found
        document = answer if isinstance(answer, dict) else {}
        if document.get("success") is not True:
            found.append(
                Mismatch(expectation.rule, f"{name} success", True, document.get("success"))
            )
        if expectation.rule.id.endswith(".idempotent") and not document.get("message"):
            found.append(
                Mismatch(expectation.rule, f"{name} message", "a message", document.get("message"))
            )
        self.access[user_id] = not revoke
        user.rest(self.rule("revokeAccess.deactivates" if revoke else "reactivate.restores"))
        self._rest_invitation(user_id, self.rule("userAccess.keeps-invitation"), ["status"])
        return found
