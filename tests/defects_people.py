"""Stateful defects of the catalog in users and invitations, made by mechanism (b): the mock
with one method of its users or invitations service (``app.state.services``) shadowed, on that
instance only, by a wrapper around the original that does one thing wrong with the clinic
(tests/catalog_stateful.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.resources.invitations import InvitationService
from mockserver.resources.users import UserService
from mockserver.services import Services
from mockserver.world.clinic import Clinic
from tests.defects_patched import Build, patched, shadow

Json = Any
Patch = Callable[[UserService, InvitationService, Clinic], None]


def on_people(change: Patch) -> Build:
    """A builder of the mock whose users and invitations services ``change`` patched."""

    def people(services: Services) -> None:
        users, invitations, clinic = services.users, services.invitations, services.clinic
        if not isinstance(users, UserService) or not isinstance(invitations, InvitationService):
            raise TypeError("the catalog patches the stateful users and invitations services")
        if clinic is None:
            raise TypeError("the catalog patches a mock with a clinic")
        change(users, invitations, clinic)

    return patched(people)


def _user_id(body: Any) -> str | None:
    value = body.get("userId") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


# --- access ---------------------------------------------------------------------------------


def revoke_keeps_access(users: UserService, invitations: InvitationService, clinic: Clinic) -> None:
    """revoke_access answers success, and the user keeps access."""
    original = users.revoke_access

    def revoke_access(body: Any) -> bytes:
        answer = original(body)
        clinic.revoked.discard(_user_id(body) or "")
        return answer

    shadow(users, "revoke_access", revoke_access)


def reactivate_again_silent(
    users: UserService, invitations: InvitationService, clinic: Clinic
) -> None:
    """reactivate of a user who has access answers success without saying nothing changed."""
    original = users.reactivate

    def reactivate(body: Any) -> bytes:
        user_id = _user_id(body)
        had_access = user_id is not None and user_id not in clinic.revoked
        answer = original(body)
        return b'{"success":true}' if had_access else answer

    shadow(users, "reactivate", reactivate)


# --- invite and e-mails ---------------------------------------------------------------------


def invitation_of_owner(users: UserService, invitations: InvitationService, clinic: Clinic) -> None:
    """The invitation an invite sends names the clinic's owner as its user."""
    original = users._invitation

    def invitation(user: dict[str, Json], api_key: str, now: str) -> dict[str, Json]:
        return {**original(user, api_key, now), "userId": clinic.owner_id}

    shadow(users, "_invitation", invitation)


def email_case_sensitive(
    users: UserService, invitations: InvitationService, clinic: Clinic
) -> None:
    """The e-mail of an invite is compared with the users' case-sensitively: the same address
    in other case makes a second user."""
    original = users.invite

    def invite(body: Any, api_key: str) -> bytes:
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str):
            return original(body, api_key)
        folded = email.casefold()
        other = clinic.users.find(lambda u: u["email"] != email and u["email"].casefold() == folded)
        if other is None:
            return original(body, api_key)
        clinic.users.replace({**other, "email": other["email"] + ".hidden"})
        try:
            return original(body, api_key)
        finally:
            clinic.users.replace(other)

    shadow(users, "invite", invite)


# --- a user and its invitation ----------------------------------------------------------------


def revoke_leaves_sent(users: UserService, invitations: InvitationService, clinic: Clinic) -> None:
    """Revoking a pending invitation answers success and moves its updatedAt, but its status
    stays sent."""
    original = invitations.revoke

    def revoke(body: Any) -> bytes:
        named = invitations._named(invitations._requests.revoke(body))
        answer = original(body)
        now = clinic.invitations.get(named["invitationId"])
        if now is not None and now["status"] != named["status"]:
            clinic.invitations.replace({**now, "status": named["status"]})
        return answer

    shadow(invitations, "revoke", revoke)


def user_update_not_followed(
    users: UserService, invitations: InvitationService, clinic: Clinic
) -> None:
    """A user's update never reaches their pending invitation."""
    shadow(users, "_follow", lambda user_id, changes: None)


def invitation_update_not_followed(
    users: UserService, invitations: InvitationService, clinic: Clinic
) -> None:
    """An invitation's update never reaches its user."""
    original = invitations.update

    def update(invitation_id: str, body: Any) -> bytes:
        invitation = clinic.invitations.get(invitation_id)
        user = None if invitation is None else clinic.users.get(invitation["userId"])
        answer = original(invitation_id, body)
        if user is not None:
            clinic.users.replace(user)
            clinic.changed(user["userId"])
        return answer

    shadow(invitations, "update", update)


def user_update_drops(field_name: str) -> Build:
    """A user update that validates its body, then forgets ``field_name``."""

    def change(users: UserService, invitations: InvitationService, clinic: Clinic) -> None:
        original = users.update

        def update(user_id: str, body: Any) -> bytes:
            users._requests.update(body)
            if isinstance(body, dict) and field_name in body:
                body = {k: v for k, v in body.items() if k != field_name}
            return original(user_id, body)

        shadow(users, "update", update)

    return on_people(change)
