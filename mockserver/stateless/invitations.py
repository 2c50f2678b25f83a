"""Stateless invitations: every valid request answered from the request alone; nothing stored.

For suites written for a Prism-style mock (the generated SDK tests retrieve and update
``inv_1234567890abcdef1234567890abcdef``, which nobody sent, and revoke with an empty body).
Each request meets every field rule (``InvitationRequests``: 400 listing each violation, as in
stateful mode); no rule across fields or requests applies (``x-stateful-rules``: no 404, no
409, no "name the invitation", no "unknown cursor", no date order). Answers come from
``Draws`` of (seed, operation, request): the same request, the same bytes.

The present of this world is SEEDED_EPOCH: an invitation "exists" from the year before it, and
one listed as expired expired by then; one listed as not expired never expires (expiry null),
so it reads as not expired at any time a client compares it with.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.resources.invitation_requests import LIST_QUERY, UPDATE, InvitationRequests
from mockserver.settings import Settings
from mockserver.stateless.draws import Draws, canonical, later
from mockserver.world.clock import SEEDED_EPOCH, rfc3339

YEAR = timedelta(days=365)
DAY = timedelta(days=1)
VALIDITY = timedelta(days=7)
"""How long after it is sent an invitation that expires does."""
MS = timedelta(milliseconds=1)
UTC = timezone.utc
PAGE_INVITATIONS = 3
"""A list page holds this many invitations, or ``limit`` if fewer."""
FIRST = ("Michael", "Sarah", "Priya", "James", "Elena", "Kwame", "Mei", "Omar")
LAST = ("Chen", "Okafor", "Novak", "Garcia", "Patel", "Larsen", "Haddad", "Kim")
SUFFIXES = ("MD", "DO", "PhD", None, None)


class StatelessInvitations:
    """The ``Invitations`` of stateless mode: field rules only, answers derived from requests."""

    def __init__(self, contract: Contract, settings: Settings) -> None:
        self._seed = 0 if settings.seed is None else settings.seed
        self._requests = InvitationRequests(contract, lenient=settings.lenient)
        self._roles: tuple[str, ...] = tuple(contract.rule_value("invitation", "clinicRole.enum"))
        self._statuses: tuple[str, ...] = tuple(
            contract.rule_value("invitation", "invitationStatus.enum")
        )
        self._sources: tuple[str, ...] = tuple(
            contract.rule_value("invitation", "invitedSource.enum")
        )
        self._levels: tuple[str, ...] = tuple(
            contract.rule_value(UPDATE, "assignableUserLevel.enum")
        )
        order = contract.resolved(LIST_QUERY)["x-order"]
        self._order: tuple[str, ...] = tuple(order["by"])
        self._newest_first = order["direction"] == "descending"
        self._clinic_id = _uuid(Draws(self._seed, "clinic"))

    # --- the Invitations protocol ----------------------------------------------------------

    def retrieve(self, invitation_id: str) -> bytes:
        """The invitation this id names; every well-formed id names one."""
        self._requests.invitation_id(invitation_id)
        return orjson.dumps(self._invitation(invitation_id))

    def update(self, invitation_id: str, body: Any) -> bytes:
        """The invitation of ``retrieve`` with the update applied (whatever its status); a
        change moves ``updatedAt``."""
        self._requests.invitation_id(invitation_id)
        update = self._requests.update(body)
        invitation = self._invitation(invitation_id)
        changed = False
        for field in self._requests.update_fields:
            value = update.get(field)
            if field not in update or (value is None and self._keeps(field)):
                continue
            changed = changed or invitation[field] != value
            invitation[field] = value
        if changed:
            draws = Draws(self._seed, "update", invitation_id, canonical(update))
            invitation["updatedAt"] = later(SEEDED_EPOCH, draws.below(DAY // MS))
        return orjson.dumps(invitation)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One last page of a few invitations, each meeting every filter given (none when the
        filters contradict each other); a cursor is read for its form only."""
        found = self._requests.list_query(query)
        found.setdefault("limit", self._requests.default_limit)
        window = _window(found.get("startDate"), found.get("endDate"))
        expired = found.get("expired", self._requests.default_expired)
        invitations: list[dict[str, Any]] = []
        if window is not None and not (expired == "expired" and window[0] > SEEDED_EPOCH):
            text = canonical(found)
            for index in range(min(int(found["limit"]), PAGE_INVITATIONS)):
                draws = Draws(self._seed, "list", text, str(index))
                invitation = self._invitation("inv_" + draws.hex(32))
                self._satisfy(invitation, found, window, expired, draws)
                invitations.append(invitation)
        invitations.sort(key=lambda i: tuple(i[f] for f in self._order), reverse=self._newest_first)
        return orjson.dumps({"invitations": invitations, "cursor": None, "hasMore": False})

    def revoke(self, body: Any) -> bytes:
        """Success, and a message saying nothing is stored."""
        named = self._requests.revoke(body)
        if "invitationId" in named:
            subject = f"invitation {named['invitationId']}"
        elif "userId" in named:
            subject = f"the pending invitation of user {named['userId']}"
        else:
            subject = "the invitation (none was named)"
        message = f"avara-mock is stateless: {subject} is reported revoked, but nothing is stored."
        return orjson.dumps({"success": True, "message": message})

    def reset(self) -> None:
        """Nothing to forget: every answer is made from its request."""

    # --- deterministic invitations ---------------------------------------------------------

    def _keeps(self, field: str) -> bool:
        return self._requests.null_means.get(field) == "keep"

    def _invitation(self, invitation_id: str) -> dict[str, Any]:
        """The invitation a well-formed id names: sent within the year before SEEDED_EPOCH,
        through the dashboard or the API (then with the key's UUID)."""
        draws = Draws(self._seed, "invitation", invitation_id)
        first, last = draws.choice(FIRST), draws.choice(LAST)
        level = draws.choice(self._levels)
        source = draws.choice(self._sources)
        created = SEEDED_EPOCH - timedelta(milliseconds=1 + draws.below(YEAR // MS))
        expires = draws.below(4) > 0
        return {
            "invitationId": invitation_id,
            "userId": "usr_" + draws.hex(32),
            "clinicId": self._clinic_id,
            "status": draws.choice(self._statuses),
            "email": f"{first}.{last}.{draws.hex(4)}@clinic.example".lower(),
            "firstName": first,
            "lastName": last,
            "middleName": draws.choice(FIRST) if draws.below(3) == 0 else None,
            "suffix1": draws.choice(SUFFIXES),
            "suffix2": None,
            "phoneNumber": f"555{draws.below(10**7):07d}" if draws.below(4) else None,
            "canManageStudies": level == "admin" or draws.below(2) == 1,
            "hasDashboardAccess": level == "admin" or draws.below(2) == 1,
            "clinicRole": draws.choice(self._roles),
            "level": level,
            "invitedSource": source,
            "inviterId": "usr_" + draws.hex(32),
            "invitedByApiKeyId": _uuid(draws) if source == "api" else None,
            "expiry": rfc3339(created + VALIDITY) if expires else None,
            "createdAt": rfc3339(created),
            "updatedAt": later(created, draws.below(DAY // MS)),
        }

    def _satisfy(
        self,
        invitation: dict[str, Any],
        query: dict[str, Any],
        window: tuple[datetime, datetime],
        expired: str,
        draws: Draws,
    ) -> None:
        """Change ``invitation`` so that it meets every filter of the query."""
        if query.get("status"):
            invitation["status"] = draws.choice(query["status"])
        if "userId" in query:
            invitation["userId"] = query["userId"]
        low, high = window
        if expired == "expired":
            high = min(high, SEEDED_EPOCH)
        created = low + MS * draws.below((high - low) // MS + 1)
        invitation["createdAt"] = rfc3339(created)
        invitation["updatedAt"] = later(created, draws.below(DAY // MS))
        if expired == "expired":
            invitation["expiry"] = rfc3339(min(created + VALIDITY, SEEDED_EPOCH))
        elif expired != self._requests.default_expired:
            invitation["expiry"] = None
        elif invitation["expiry"] is not None:
            invitation["expiry"] = rfc3339(created + VALIDITY)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """The moments an invitation may be created at to meet startDate and endDate (whole UTC
    days, both inclusive): the year before SEEDED_EPOCH where the bounds allow; None when
    startDate is after endDate."""
    low = None if start is None else datetime.combine(date.fromisoformat(start), time(), UTC)
    high = None if end is None else datetime.combine(date.fromisoformat(end), time(), UTC)
    high = None if high is None else high + DAY - MS
    if low is None and high is None:
        return SEEDED_EPOCH - YEAR, SEEDED_EPOCH
    if low is None and high is not None:
        high = min(high, SEEDED_EPOCH)
        return high - YEAR, high
    if low is not None and high is None:
        return low, SEEDED_EPOCH if low <= SEEDED_EPOCH else low + DAY - MS
    if low is not None and high is not None and low <= high:
        return low, high
    return None


def _uuid(draws: Draws) -> str:
    return str(uuid.UUID(int=draws.bits(128), version=4))
