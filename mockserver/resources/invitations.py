"""The invitations resource: the rules of every viewer.users.invitations call, on the clinic.

Invitations live in ``clinic.invitations`` (the seeded clinic's accepted ones, and the ``sent``
ones an invite adds); the invited person is the user of ``clinic.users`` with the invitation's
``userId``. What each request may hold comes from the field rules (``invitation_requests.py``);
this module adds the rules that need the clinic or several fields, each named in a schema's
``x-stateful-rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from typing import Any, Protocol

import orjson

from mockserver.contract import Contract, Rule, UnsupportedFilter
from mockserver.errors import ApiError, Conflict, InvalidRequest, NotFound
from mockserver.resources.invitation_requests import (
    LIST_QUERY,
    PATH,
    REVOKE,
    UPDATE,
    InvitationRequests,
)
from mockserver.settings import Settings
from mockserver.validation import Location, violation
from mockserver.world.clinic import Clinic
from mockserver.world.clock import Clock, later_than
from mockserver.world.cursors import CursorCodec, UnknownCursor
from mockserver.world.records import Record

PENDING = "sent"
REVOKED = "revoked"
SCOPE = "invitations "
"""Cursor positions of this list start so, so a cursor of another list is refused."""
Match = Callable[[Record], bool]


class Invitations(Protocol):
    """What the routes of viewer.users.invitations call; the stateful service and the
    stateless one both are one. Each takes the parsed request and returns the JSON answer's
    bytes, or raises an ApiError; none of them sees HTTP."""

    def retrieve(self, invitation_id: str) -> bytes:
        """GET /v1/viewer/users/invitations/{invitationId}."""
        ...

    def update(self, invitation_id: str, body: Any) -> bytes:
        """PATCH /v1/viewer/users/invitations/{invitationId}."""
        ...

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """GET /v1/viewer/users/invitations: one page, newest first."""
        ...

    def revoke(self, body: Any) -> bytes:
        """POST /v1/viewer/users/invitations/revoke."""
        ...

    def reset(self) -> None:
        """As new."""
        ...


class InvitationService:
    """Owns the rules of the calls on the clinic's invitations; HTTP handlers only call it."""

    def __init__(self, contract: Contract, settings: Settings, clinic: Clinic, clock: Clock):
        self._clinic = clinic
        self._clock = clock
        self._cursors = CursorCodec(settings.seed)
        self._requests = InvitationRequests(contract, lenient=settings.lenient)
        self._filters: dict[str, dict[str, Any]] = contract.annotated(LIST_QUERY, "x-filter")
        for name, spec in self._filters.items():
            if spec["match"] not in MATCHES or len(spec["field"]) != 1:
                raise UnsupportedFilter(f"cannot apply filter {name}: {spec}")
        self._rules: dict[str, Rule] = {
            name: rule
            for doc in (PATH, UPDATE, REVOKE, LIST_QUERY)
            for name, rule in contract.stateful_rules(doc).items()
        }

    def retrieve(self, invitation_id: str) -> bytes:
        """An invitation by id; 404 names the id."""
        return orjson.dumps(self._stored(self._requests.invitation_id(invitation_id)))

    def update(self, invitation_id: str, body: Any) -> bytes:
        """Change a pending invitation and its user alike; an update of nothing changes
        nothing (not even ``updatedAt``)."""
        self._requests.invitation_id(invitation_id)
        update = self._requests.update(body)
        invitation = self._stored(invitation_id)
        if not self._pending(invitation, self._clock.now()):
            detail = f"{invitation_id} has status {invitation['status']!r}" + (
                ", and has expired" if invitation["status"] == PENDING else ""
            )
            rule = "invitationUpdate.pending-only"
            raise self._refused(Conflict, "invitationId", rule, "path", detail)
        changes = self._changes(invitation, update)
        after = {**invitation, **changes}
        if after["level"] == "admin" and not after["hasDashboardAccess"]:
            field = "hasDashboardAccess" if "hasDashboardAccess" in update else "level"
            rule = "invitationUpdate.admin-dashboard-access"
            raise self._refused(InvalidRequest, field, rule, "body")
        if not changes:
            return orjson.dumps(invitation)
        after["updatedAt"] = later_than(invitation.get("updatedAt"), self._clock.now())
        self._clinic.invitations.replace(after)
        user = self._clinic.users.get(invitation["userId"])
        if user is not None:
            user.update({k: v for k, v in changes.items() if k in user})
            self._clinic.users.replace(user)
            self._clinic.changed(user["userId"])
        return orjson.dumps(after)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One page of the invitations meeting every filter, newest first, after the
        cursor's position."""
        params = self._requests.list_query(query)
        start, end = params.get("startDate"), params.get("endDate")
        if start is not None and end is not None and start > end:
            detail = f"startDate {start} is after endDate {end}"
            raise self._refused(
                InvalidRequest, "startDate", "invitationList.date-order", "query", detail
            )
        limit = int(params.get("limit", self._requests.default_limit))
        after = self._position(params["cursor"]) if "cursor" in params else None
        page = self._clinic.invitations.page(self._match(params), after, limit)
        more = page.next_after is not None
        cursor = self._cursors.encode(SCOPE + page.next_after) if page.next_after else None
        return orjson.dumps({"invitations": page.records, "cursor": cursor, "hasMore": more})

    def revoke(self, body: Any) -> bytes:
        """Revoke the named pending invitation; revoking a revoked one changes nothing. The
        user it was sent for stays as they were."""
        named = self._requests.revoke(body)
        invitation = self._named(named)
        invitation_id = invitation["invitationId"]
        if invitation["status"] == REVOKED:
            return _done(f"Invitation {invitation_id} was already revoked; nothing changed.")
        if invitation["status"] != PENDING:
            detail = f"{invitation_id} has status {invitation['status']!r}"
            field = "invitationId" if "invitationId" in named else "userId"
            raise self._refused(Conflict, field, "invitationRevoke.pending-only", "body", detail)
        invitation["status"] = REVOKED
        invitation["updatedAt"] = later_than(invitation.get("updatedAt"), self._clock.now())
        self._clinic.invitations.replace(invitation)
        return _done()

    def reset(self) -> None:
        """The seeded clinic again (its users too, as it holds both) and the clock's start."""
        self._clinic.reset()
        self._clock.reset()

    # --- rules that need the clinic ---------------------------------------------------------

    def _stored(self, invitation_id: str) -> Record:
        invitation = self._clinic.invitations.get(invitation_id)
        if invitation is None:
            raise self._not_found("invitationId", invitation_id, "invitation.not-found", "path")
        return invitation

    def _named(self, body: dict[str, Any]) -> Record:
        """The invitation a revoke body names: by invitationId, by userId (that user's
        pending invitation), or by both when they agree."""
        invitation_id, user_id = body.get("invitationId"), body.get("userId")
        if invitation_id is None and user_id is None:
            raise self._refused(InvalidRequest, "", "invitationRevoke.names-invitation", "body")
        pending = None
        if user_id is not None:
            pending = self._clinic.invitations.find(
                lambda r: r["userId"] == user_id and r["status"] == PENDING
            )
        if invitation_id is None:
            if pending is None:
                raise self._not_found("userId", user_id, "invitationRevoke.not-found", "body")
            return pending
        found = self._clinic.invitations.get(invitation_id)
        if found is None:
            raise self._not_found(
                "invitationId", invitation_id, "invitationRevoke.not-found", "body"
            )
        if user_id is not None and (
            found["userId"] != user_id or (pending and pending["invitationId"] != invitation_id)
        ):
            named = pending["invitationId"] if pending else "no pending invitation"
            detail = f"userId {user_id} names {named}; {invitation_id} is of {found['userId']}"
            raise self._refused(
                InvalidRequest, "userId", "invitationRevoke.same-invitation", "body", detail
            )
        return found

    def _pending(self, invitation: Record, now: str) -> bool:
        """Sent, and not expired (an expiry not later than now has passed)."""
        expiry = invitation.get("expiry")
        return invitation["status"] == PENDING and (
            expiry is None or _moment(expiry) > _moment(now)
        )

    def _changes(self, invitation: Record, update: dict[str, Any]) -> dict[str, Any]:
        """The fields a valid update sets to a new value; a null keeps or clears by the
        field's x-null-means."""
        found: dict[str, Any] = {}
        for field in self._requests.update_fields:
            if field not in update:
                continue
            value = update[field]
            if value is None and self._requests.null_means.get(field) == "keep":
                continue
            if invitation.get(field) != value:
                found[field] = value
        return found

    def _match(self, params: dict[str, Any]) -> Match:
        """One predicate for every filter given (x-filter); they combine with AND."""
        tests: list[Match] = []
        now: str | None = None
        for name, spec in self._filters.items():
            value = params.get(name)
            if value is None:
                continue
            if spec["match"] == "expired" and value != self._requests.default_expired:
                now = now or self._clock.now()
            tests.extend(MATCHES[spec["match"]](spec["field"][0], value, now))
        return lambda record: all(test(record) for test in tests)

    def _position(self, cursor: str) -> str:
        try:
            position = self._cursors.decode(cursor)
        except UnknownCursor:
            position = ""
        if not position.startswith(SCOPE):
            raise self._refused(InvalidRequest, "cursor", "cursor.unknown", "query")
        return position.removeprefix(SCOPE)

    def _refused(
        self,
        error: type[ApiError],
        field: str,
        rule_id: str,
        location: Location,
        detail: str | None = None,
    ) -> ApiError:
        found = violation(field, self._rules[rule_id], detail, location)
        if error is InvalidRequest:
            return InvalidRequest.from_violations([found])
        return error(found.message[:1].upper() + found.message[1:], [found])

    def _not_found(self, field: str, value: Any, rule_id: str, location: Location) -> NotFound:
        found = violation(field, self._rules[rule_id], f"no invitation for {value}", location)
        return NotFound(
            f"No invitation has {field} {value!r}; check the {field} (invitations are listed "
            "by GET /v1/viewer/users/invitations).",
            [found],
        )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _day(text: str) -> date:
    return _moment(text).date()


def _in(field: str, value: Any, now: str | None) -> list[Match]:
    return [lambda r: r.get(field) in value] if value else []


def _equals(field: str, value: Any, now: str | None) -> list[Match]:
    return [lambda r: r.get(field) == value]


def _on_or_after(field: str, value: Any, now: str | None) -> list[Match]:
    first = date.fromisoformat(value)
    return [lambda r: r.get(field) is not None and _day(r[field]) >= first]


def _on_or_before(field: str, value: Any, now: str | None) -> list[Match]:
    last = date.fromisoformat(value)
    return [lambda r: r.get(field) is not None and _day(r[field]) <= last]


def _expired(field: str, value: Any, now: str | None) -> list[Match]:
    if now is None:
        return []
    moment = _moment(now)
    if value == "expired":
        return [lambda r: r.get(field) is not None and _moment(r[field]) <= moment]
    return [lambda r: r.get(field) is None or _moment(r[field]) > moment]


MATCHES: dict[str, Callable[[str, Any, str | None], list[Match]]] = {
    "in": _in,
    "equals": _equals,
    "on-or-after": _on_or_after,
    "on-or-before": _on_or_before,
    "expired": _expired,
}
"""x-filter ``match`` -> the tests a parameter's value makes (none: filters nothing out)."""


def _done(message: str | None = None) -> bytes:
    answer: dict[str, Any] = {"success": True}
    if message is not None:
        answer["message"] = message
    return orjson.dumps(answer)
