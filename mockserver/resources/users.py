"""The users resource: the rules of every viewer.users call, on the clinic's users.

What each request may hold comes from its schema's field rules (``user_requests.py``); this
module adds the rules that need the clinic or several fields, each named, with its message
and status, in a schema's ``x-stateful-rules``. What a new user holds is read from the invite
answer's ``x-echo`` / ``x-on-create``, what a null does in an update from ``x-null-means``.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import ApiError, Conflict, InvalidRequest, NotFound
from mockserver.resources.user_requests import (
    ACCESS,
    INVITE,
    PATH,
    UPDATE,
    USER_LIST_QUERY,
    UserRequests,
)
from mockserver.settings import Settings
from mockserver.validation import Location, violation
from mockserver.world.clinic import Clinic
from mockserver.world.clock import Clock, later_than, rfc3339
from mockserver.world.cursors import CursorCodec, UnknownCursor
from mockserver.world.records import DuplicateKey, Record
from mockserver.world.references import ReferenceFactory

INVITE_ANSWER = "user-invite-response"
INVITATION = "invitation"
ADMIN, OWNER = "admin", "owner"
SENT = "sent"
ERRORS: dict[int, type[ApiError]] = {404: NotFound, 409: Conflict}
"""The error of a stateful rule whose ``status`` is not 400."""
CONTAINS = "contains-ignoring-case"
EQUALS = "equals"


class Users(Protocol):
    """What the routes of viewer.users call, in both modes. Each takes the parsed request (a
    path parameter, a JSON body, the query's decoded pairs) and returns the JSON answer's
    bytes, or raises an ApiError; none of them sees HTTP."""

    def retrieve(self, user_id: str) -> bytes:
        """GET /v1/viewer/users/{userId}."""
        ...

    def update(self, user_id: str, body: Any) -> bytes:
        """PATCH /v1/viewer/users/{userId}."""
        ...

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """GET /v1/viewer/users: one page."""
        ...

    def invite(self, body: Any, api_key: str) -> bytes:
        """POST /v1/viewer/users (answered 201); ``api_key`` is the caller's bearer key."""
        ...

    def reactivate(self, body: Any) -> bytes:
        """POST /v1/viewer/users/reactivate."""
        ...

    def revoke_access(self, body: Any) -> bytes:
        """POST /v1/viewer/users/revoke-access."""
        ...

    def reset(self) -> None:
        """Back to the start: the seeded clinic, seeded ids."""
        ...


class UserService:
    """Owns the rules of the calls on the clinic's users; the clinic holds them."""

    def __init__(self, contract: Contract, settings: Settings, clinic: Clinic, clock: Clock):
        self._clinic = clinic
        self._clock = clock
        self._seed = settings.seed
        self._random = random.Random()
        self.reset_ids()
        self._requests = UserRequests(contract, lenient=settings.lenient)
        self._cursors = CursorCodec(settings.seed)
        self._references = ReferenceFactory(settings.seed)
        documents = (INVITE, UPDATE, ACCESS, PATH, USER_LIST_QUERY)
        self._rules: dict[str, Rule] = {}
        self._statuses: dict[str, int] = {}
        for name in documents:
            self._rules.update(contract.stateful_rules(name))
            for rule_id, spec in contract.documents[name].get("x-stateful-rules", {}).items():
                self._statuses[rule_id] = int(spec.get("status", 400))
        rule = contract.documents[INVITE]["x-stateful-rules"]["invite.expiry"]
        self._lifetime = timedelta(days=rule["days"])
        # Field order as the documents write it (``resolved`` sorts keys).
        self._answer_fields = tuple(contract.documents[INVITE_ANSWER]["properties"])
        self._echo = contract.annotated(INVITE_ANSWER, "x-echo")
        self._on_create = contract.annotated(INVITE_ANSWER, "x-on-create")
        unmade = set(self._answer_fields) - {*self._echo, *self._on_create, "userId", "createdAt"}
        if unmade:
            raise ValueError(f"{INVITE_ANSWER}: no rule says what a new user's {unmade} is")
        self._invitation_fields = tuple(contract.documents[INVITATION]["properties"])
        self._null_means = contract.annotated(UPDATE, "x-null-means")
        self._update_fields = tuple(contract.documents[UPDATE]["properties"])
        self._filters = _filters(contract)

    def retrieve(self, user_id: str) -> bytes:
        """A user by id; 404 names the id."""
        return orjson.dumps(self._user(self._requests.user_id(user_id), "user.not-found"))

    def update(self, user_id: str, body: Any) -> bytes:
        """Apply the fields sent; refuse what would break an owner or an admin."""
        self._requests.user_id(user_id)
        sent = self._requests.update(body)
        user = self._user(user_id, "user.not-found")
        changes: Record = {}
        for field in self._update_fields:
            if field not in sent:
                continue
            if sent[field] is None and self._null_means.get(field, {}).get("effect") == "keep":
                continue
            if user.get(field) != sent[field]:
                changes[field] = sent[field]
        if user["level"] == OWNER and "level" in changes:
            raise self._refused("userUpdate.owner-level", "level")
        merged = {**user, **changes}
        if merged["level"] == ADMIN and not merged["hasDashboardAccess"]:
            field = "hasDashboardAccess" if "hasDashboardAccess" in sent else "level"
            raise self._refused("userUpdate.admin-dashboard-access", field)
        if changes:
            self._clinic.users.replace(merged)
            self._follow(user_id, changes)
            self._clinic.changed(user_id)
        return orjson.dumps(merged)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One page, newest first, after the cursor's position."""
        params = self._requests.list_query(query)
        limit = int(params.get("limit", self._requests.default_limit))
        after = self._position(params["cursor"]) if "cursor" in params else None
        tests = [test(params[name]) for name, test in self._filters.items() if name in params]
        page = self._clinic.users.page(lambda user: all(t(user) for t in tests), after, limit)
        cursor = None if page.next_after is None else self._cursors.encode(page.next_after)
        return orjson.dumps(
            {"users": page.records, "cursor": cursor, "hasMore": cursor is not None}
        )

    def invite(self, body: Any, api_key: str) -> bytes:
        """A new user of the clinic, and the invitation sent to them; answers the user."""
        sent = self._requests.invite(body)
        if sent["level"] == ADMIN and not sent["hasDashboardAccess"]:
            raise self._refused("invite.admin-dashboard-access", "hasDashboardAccess")
        email = sent["email"].casefold()
        taken = self._clinic.users.find(lambda user: user["email"].casefold() == email)
        if taken is not None:
            detail = f"{taken['userId']} has it"
            raise self._refused("invite.email-taken", "email", detail=detail)
        now = self._clock.now()
        user: Record = {}
        for field in self._answer_fields:
            if field in self._echo:
                user[field] = sent.get(self._echo[field]["from"])
            elif field in self._on_create:
                user[field] = self._on_create[field]["const"]
        user.update(userId=self._fresh("usr", self._clinic.users.get), createdAt=now)
        user = {field: user[field] for field in self._answer_fields}
        try:
            with self._clinic.atomic():
                self._clinic.users.add(user)
                self._clinic.invitations.add(self._invitation(user, api_key, now))
        except DuplicateKey:
            # Another process sharing the state file invited the address since the check.
            holder = self._clinic.users.find(lambda user: user["email"].casefold() == email)
            known = None if holder is None else f"{holder['userId']} has it"
            raise self._refused("invite.email-taken", "email", detail=known) from None
        return orjson.dumps(user)

    def reactivate(self, body: Any) -> bytes:
        """Give a user access again; a user who has access keeps it, and is told so."""
        user = self._user(self._requests.access(body), "userAccess.not-found", "body")
        if user["userId"] not in self._clinic.revoked:
            return _done(f"User {user['userId']} has access already; nothing changed.")
        self._clinic.revoked.discard(user["userId"])
        return _done()

    def revoke_access(self, body: Any) -> bytes:
        """Turn a user's access off (not the owner's); a user without access is told so."""
        user = self._user(self._requests.access(body), "userAccess.not-found", "body")
        if user["level"] == OWNER:
            raise self._refused("revokeAccess.owner", "userId", "body")
        if user["userId"] in self._clinic.revoked:
            return _done(f"User {user['userId']}'s access was revoked already; nothing changed.")
        self._clinic.revoked.add(user["userId"])
        return _done()

    def reset(self) -> None:
        """Back to the seeded clinic and the first seeded id."""
        self._clinic.reset()
        self.reset_ids()

    def reset_ids(self) -> None:
        """Seeded, new ids start again from ``users <seed>``; unseeded, from OS randomness."""
        seed = self._seed
        self._random.seed(f"users {seed}" if seed is not None else os.urandom(16))

    # --- helpers -----------------------------------------------------------------------------

    def _user(self, user_id: str, rule_id: str, location: Location = "path") -> Record:
        user = self._clinic.users.get(user_id)
        if user is None:
            raise self._refused(rule_id, "userId", location, detail=user_id)
        return user

    def _fresh(self, prefix: str, stored: Callable[[str], Record | None]) -> str:
        """A new id no stored record has (a clash of 128 random bits is only in theory)."""
        while True:
            made = self._clinic.new_id(prefix, self._random)
            if stored(made) is None:
                return made

    def _invitation(self, user: Record, api_key: str, now: str) -> Record:
        """The invitation an API invite sends (invite.creates-invitation, invite.inviter)."""
        key_id = str(self._references.api_key(api_key)["apiKeyId"])
        moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        made: Record = {
            "invitationId": self._fresh("inv", self._clinic.invitations.get),
            "clinicId": self._clinic.clinic_id,
            "status": SENT,
            "inviterId": self._inviter(key_id),
            "invitedByApiKeyId": key_id,
            "expiry": rfc3339(moment + self._lifetime),
            "updatedAt": now,
        }
        return {
            field: made[field] if field in made else user[field]
            for field in self._invitation_fields
        }

    def _inviter(self, key_id: str) -> str:
        """The ``usr_`` id that stands for an API key as the sender of its invitations."""
        digest = hashlib.sha256(f"avara-mock inviter {self._seed} {key_id}".encode()).hexdigest()
        return f"usr_{digest[:32]}"

    def _follow(self, user_id: str, changes: Record) -> None:
        """A pending invitation takes the user's changes (userUpdate.updates-invitation)."""
        pending = self._clinic.invitations.find(
            lambda invitation: invitation["userId"] == user_id and invitation["status"] == SENT
        )
        if pending is None:
            return
        followed = {k: v for k, v in changes.items() if k in self._invitation_fields}
        if followed:
            pending.update(followed)
            pending["updatedAt"] = later_than(pending.get("updatedAt"), self._clock.now())
            self._clinic.invitations.replace(pending)

    def _position(self, cursor: str) -> str:
        """The list position a cursor of ours names; another's (a studies cursor) is refused."""
        try:
            position = self._cursors.decode(cursor)
        except UnknownCursor:
            position = ""
        if not position.rpartition("|")[2].startswith("usr_"):
            raise self._refused("cursor.unknown", "cursor", "query")
        return position

    def _refused(
        self, rule_id: str, field: str, location: Location = "body", detail: str | None = None
    ) -> ApiError:
        """The error of a stateful rule, with the status its schema gives (400 if none)."""
        found = violation(field, self._rules[rule_id], detail, location)
        error = ERRORS.get(self._statuses[rule_id])
        if error is None:
            return InvalidRequest.from_violations([found])
        return error(found.message, [found])


def _filters(contract: Contract) -> dict[str, Callable[[Any], Callable[[Record], bool]]]:
    """Query parameter -> a test of a user, from each parameter's ``x-filter``."""
    made: dict[str, Callable[[Any], Callable[[Record], bool]]] = {}
    for name, spec in contract.annotated(USER_LIST_QUERY, "x-filter").items():
        field, match = spec["field"], spec["match"]
        if len(field) != 1 or match not in (EQUALS, CONTAINS):
            raise ValueError(f"{USER_LIST_QUERY}: cannot filter users by {name}: {spec}")
        made[name] = _equals(field[0]) if match == EQUALS else _contains(field[0])
    return made


def _equals(field: str) -> Callable[[Any], Callable[[Record], bool]]:
    return lambda value: lambda user: user.get(field) == value


def _contains(field: str) -> Callable[[Any], Callable[[Record], bool]]:
    def test(value: Any) -> Callable[[Record], bool]:
        part = str(value).casefold()
        return lambda user: part in str(user.get(field) or "").casefold()

    return test


def _done(message: str | None = None) -> bytes:
    answer: dict[str, Any] = {"success": True}
    if message is not None:
        answer["message"] = message
    return orjson.dumps(answer)
