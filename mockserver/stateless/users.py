"""Stateless users: every valid viewer.users request answered from the request alone.

For Prism-style suites (the Stainless-generated SDK tests), which retrieve and update
``usr_1234567890abcdef1234567890abcdef`` that nobody invited, invite one e-mail again and
again and pass cursors this server never made. Each request still meets every field rule
(``UserRequests``: 400 listing each violation, as in stateful mode); no ``x-stateful-rules``
entry applies (no 404 for a well-formed id, no 409 for a taken e-mail, no admin-dashboard
rule, no "unknown cursor"). Answers come from SHA-256 of (seed, operation, request), so the
same request gets the same bytes in every run, another seed another answer.

Ids link where a hash can link them: a userId always names the same person (retrieve,
update, list), whose name and e-mail are the UserReference studies show for that id; an
e-mail always gets the same userId (invite, and list filtered by it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson

from mockserver.contract import Contract, UnsupportedFilter
from mockserver.resources.user_requests import UPDATE, USER_LIST_QUERY, UserRequests
from mockserver.resources.users import ADMIN, CONTAINS, EQUALS, INVITE_ANSWER, OWNER
from mockserver.settings import Settings
from mockserver.stateless.draws import Draws, canonical, later
from mockserver.world.clock import SEEDED_EPOCH, rfc3339
from mockserver.world.references import ReferenceFactory

PAST_MS = 365 * 24 * 3600 * 1000
"""Users that "exist" joined within a year before SEEDED_EPOCH."""
LATER_MS = 24 * 3600 * 1000
"""Invites happen within a day after SEEDED_EPOCH: later than any existing user."""
PAGE_USERS = 3
"""A list page holds this many users, or ``limit`` if fewer."""
UNIQUE = "email"
"""One user per e-mail (invite.email-taken): a page filtered by it holds one user."""


class StatelessUsers:
    """The ``Users`` of stateless mode: field rules only, answers derived from requests."""

    def __init__(self, contract: Contract, settings: Settings) -> None:
        self._seed = 0 if settings.seed is None else settings.seed
        self._requests = UserRequests(contract, lenient=settings.lenient)
        self._references = ReferenceFactory(settings.seed)
        self._roles: tuple[str, ...] = tuple(contract.rule_value("user", "clinicRole.enum"))
        self._levels: tuple[str, ...] = tuple(contract.rule_value("user", "userLevel.enum"))
        self._sources: tuple[str, ...] = tuple(contract.rule_value("user", "invitedSource.enum"))
        self._valid_user = contract.validator("user")
        self._answer_fields = tuple(contract.documents[INVITE_ANSWER]["properties"])
        self._echo = contract.annotated(INVITE_ANSWER, "x-echo")
        self._on_create = contract.annotated(INVITE_ANSWER, "x-on-create")
        self._null_means = contract.annotated(UPDATE, "x-null-means")
        self._update_fields = tuple(contract.documents[UPDATE]["properties"])
        order = contract.resolved(USER_LIST_QUERY)["x-order"]
        self._order: tuple[str, ...] = tuple(order["by"])
        self._newest_first = order["direction"] == "descending"
        self._filters: dict[str, dict[str, Any]] = contract.annotated(USER_LIST_QUERY, "x-filter")
        for name, spec in self._filters.items():
            if len(spec["field"]) != 1 or spec["match"] not in (EQUALS, CONTAINS):
                raise UnsupportedFilter(f"stateless mode cannot satisfy filter {name}: {spec}")

    # --- the Users protocol ----------------------------------------------------------------

    def retrieve(self, user_id: str) -> bytes:
        """The user this id names; every well-formed id names one."""
        return orjson.dumps(self._user(self._requests.user_id(user_id)))

    def update(self, user_id: str, body: Any) -> bytes:
        """The user of ``retrieve`` with the fields sent applied (no rule across fields)."""
        self._requests.user_id(user_id)
        sent = self._requests.update(body)
        user = self._user(user_id)
        for field in self._update_fields:
            keep = self._null_means.get(field, {}).get("effect") == "keep"
            if field in sent and not (sent[field] is None and keep):
                user[field] = sent[field]
        return orjson.dumps(user)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One last page of a few users, each meeting every filter given; a cursor is read
        for its form only (nothing to page through)."""
        found = self._requests.list_query(query)
        found.setdefault("limit", self._requests.default_limit)
        text = canonical(found)
        count = 1 if UNIQUE in found and UNIQUE in self._filters else PAGE_USERS
        users = []
        for index in range(min(found["limit"], count)):
            if UNIQUE in found and UNIQUE in self._filters:
                user_id = self._id_of(found[UNIQUE])
            else:
                user_id = "usr_" + Draws(self._seed, "list", text, str(index)).hex(32)
            user = self._user(user_id)
            self._satisfy(user, found)
            if not self._valid_user.is_valid(user):
                # A filter no user can meet (an email= that is no e-mail address): no match.
                break
            users.append(user)
        users.sort(key=lambda u: tuple(u[f] for f in self._order), reverse=self._newest_first)
        return orjson.dumps({"users": users, "cursor": None, "hasMore": False})

    def invite(self, body: Any, api_key: str) -> bytes:
        """The new user: its id from its e-mail, its time from the whole request."""
        sent = self._requests.invite(body)
        draws = Draws(self._seed, "invite", canonical(sent))
        user: dict[str, Any] = {}
        for field in self._answer_fields:
            if field in self._echo:
                user[field] = sent.get(self._echo[field]["from"])
            elif field in self._on_create:
                user[field] = self._on_create[field]["const"]
            elif field == "userId":
                user[field] = self._id_of(sent["email"])
            elif field == "createdAt":
                user[field] = later(SEEDED_EPOCH, draws.below(LATER_MS))
        return orjson.dumps(user)

    def reactivate(self, body: Any) -> bytes:
        """Success, and a message saying nothing is stored."""
        return self._success(body, "has access again")

    def revoke_access(self, body: Any) -> bytes:
        """Success, and a message saying nothing is stored."""
        return self._success(body, "has lost access")

    def reset(self) -> None:
        """Nothing to forget: every answer is made from its request."""

    # --- deterministic users ---------------------------------------------------------------

    def _id_of(self, email: str) -> str:
        return "usr_" + Draws(self._seed, "user-of-email", email.casefold()).hex(32)

    def _user(self, user_id: str) -> dict[str, Any]:
        """The user a well-formed id names: the person of its UserReference, at a level, with
        a role and permissions (an admin with dashboard access), joined in the past year."""
        draws = Draws(self._seed, "user", user_id)
        person = self._references.user(user_id)
        level = draws.choice(self._levels)
        age = 1 + draws.below(PAST_MS)
        created = SEEDED_EPOCH - timedelta(milliseconds=age)
        return {
            "userId": user_id,
            "email": person["email"],
            "firstName": person["firstName"],
            "lastName": person["lastName"],
            "middleName": person["middleName"],
            "suffix1": person["suffix1"],
            "suffix2": person["suffix2"],
            "phoneNumber": f"555{draws.below(10**7):07d}" if draws.below(4) else None,
            "canManageStudies": level in (ADMIN, OWNER) or draws.below(2) == 0,
            "hasDashboardAccess": level in (ADMIN, OWNER) or draws.below(3) == 0,
            "clinicRole": draws.choice(self._roles),
            "level": level,
            "invitedSource": draws.choice(self._sources),
            "createdAt": rfc3339(created),
            "lastLoginAt": later(created, draws.below(age)) if draws.below(5) else None,
        }

    def _satisfy(self, user: dict[str, Any], query: dict[str, Any]) -> None:
        """Change ``user`` so that it meets every filter of the query (x-filter)."""
        for name, spec in self._filters.items():
            if name not in query:
                continue
            field, value = spec["field"][0], query[name]
            if spec["match"] == EQUALS or not _contains(str(user[field]), str(value)):
                user[field] = value
        if user["level"] == ADMIN:
            user["hasDashboardAccess"] = True

    def _success(self, body: Any, done: str) -> bytes:
        user_id = self._requests.access(body)
        message = f"avara-mock is stateless: user {user_id} {done}, but nothing is stored."
        return orjson.dumps({"success": True, "message": message})


def _contains(text: str, part: str) -> bool:
    """Whether ``part`` is in ``text`` ignoring case, by either reading of "ignoring case"."""
    return part.lower() in text.lower() and part.casefold() in text.casefold()
