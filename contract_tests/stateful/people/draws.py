"""What the people part of the machine draws, read from the contract: invite and update
bodies, list filters, ids of nobody, and one-rule-invalid bodies with the rule each breaks.

Names are short ASCII on purpose: ASCII letters fold the same under every reading of
"ignoring case", so a name filter's expectation holds under all of them. Every last name
holds the sequence's token (the users list filters by it: a contains-match, stated), and
every e-mail too (``PeopleModel.email``), so a server holding other people never breaks an
expectation and an earlier run's e-mail is never taken.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from contract_tests.operations.values import Values
from contract_tests.stateful.people.state import (
    ADMIN,
    INVITATION,
    INVITATION_LIST,
    INVITATION_PATH,
    INVITATION_UPDATE,
    INVITE,
    USER,
    USER_LIST,
    USER_PATH,
    USER_UPDATE,
)
from mockserver.contract import Contract, Rule

HEX = "0123456789abcdef"

NAMES = st.text(string.ascii_letters, min_size=1, max_size=8)
LOCAL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
OPTIONAL = ("middleName", "suffix1", "suffix2", "phoneNumber")
"""The invite's optional fields (drawn present or absent, never null: x-null-as-absent is
our reading)."""


@dataclass(frozen=True)
class Invalid:
    """A body that breaks one rule: the rule, and the fields that break it."""

    rule: Rule | None
    fields: Mapping[str, Any]
    """``rule`` None: the model finds the rule itself (a rule across fields)."""


class PeopleDraws:
    """The strategies of the people part, built once per run from the contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        invite = contract.resolved(INVITE)["properties"]
        self.roles: tuple[str, ...] = tuple(invite["clinicRole"]["enum"])
        self.levels: tuple[str, ...] = tuple(invite["level"]["enum"])
        self.all_levels: tuple[str, ...] = tuple(
            contract.resolved(USER)["properties"]["level"]["enum"]
        )
        self.sources: tuple[str, ...] = tuple(
            contract.resolved(USER)["properties"]["invitedSource"]["enum"]
        )
        invitation = contract.resolved(INVITATION)["properties"]
        self.statuses: tuple[str, ...] = tuple(invitation["status"]["enum"])
        expired = contract.resolved(INVITATION_LIST)["properties"]["expired"]
        self.expiries: tuple[str, ...] = tuple(expired["allOf"][0]["enum"])
        self.phone_min: int = contract.rule_value(INVITE, "phoneNumber.min-digits")
        self.phone_max: int = contract.rule_value(INVITE, "phoneNumber.max-digits")
        self.limit_min: int = contract.rule_value(USER_LIST, "limit.minimum")
        self.limit_max: int = contract.rule_value(USER_LIST, "limit.maximum")
        self.owner_level = next(level for level in self.all_levels if level not in self.levels)
        """A level the contract has but the API may not assign (owner)."""
        self._values = Values(contract)
        self._updates: dict[tuple[str, ...], st.SearchStrategy[dict[str, Any]]] = {}
        optional = {
            "middleName": NAMES,
            "suffix1": NAMES,
            "suffix2": NAMES,
            "phoneNumber": self.phone(),
        }
        self._invite = st.fixed_dictionaries(
            {
                "canManageStudies": st.booleans(),
                "clinicRole": st.sampled_from(self.roles),
                "firstName": NAMES,
                "hasDashboardAccess": st.booleans(),
                "lastName": NAMES,
                "level": st.sampled_from(self.levels),
            },
            optional={name: optional[name] for name in OPTIONAL},
        ).map(_admin_with_dashboard)
        paths = {
            "userId": contract.resolved(USER_PATH)["properties"]["userId"],
            "invitationId": contract.resolved(INVITATION_PATH)["properties"]["invitationId"],
        }
        self._fresh = random.Random(secrets.randbits(64))
        self._unknown = {
            name: self._values.of(node, types=frozenset({"string"})) for name, node in paths.items()
        }

    # --- valid ----------------------------------------------------------------------------

    def phone(self) -> st.SearchStrategy[str]:
        """Digits only, of a length within the stated limits."""
        return st.text(string.digits, min_size=self.phone_min, max_size=self.phone_max)

    def invite(self, email: str, token: str) -> st.SearchStrategy[dict[str, Any]]:
        """A valid invite with this e-mail, its last name holding the token; an admin always
        with dashboard access (the stated rule)."""
        return self._invite.map(
            lambda body: {**body, "email": email, "lastName": f"{body['lastName']} {token}"}
        )

    def update(
        self, fields: tuple[str, ...], token: str, stored: Mapping[str, Any]
    ) -> st.SearchStrategy[dict[str, Any]]:
        """A valid update of some of ``fields`` (nulls where the SDK types allow them), a
        last name holding the token, that leaves an admin with dashboard access given what
        is ``stored``."""
        if fields not in self._updates:
            values: dict[str, st.SearchStrategy[Any]] = {
                "canManageStudies": st.booleans(),
                "clinicRole": st.one_of(st.none(), st.sampled_from(self.roles)),
                "firstName": NAMES,
                "hasDashboardAccess": st.booleans(),
                "lastName": NAMES,
                "level": st.sampled_from(self.levels),
                "middleName": st.one_of(st.none(), NAMES),
                "phoneNumber": st.one_of(st.none(), self.phone()),
                "suffix1": st.one_of(st.none(), NAMES),
                "suffix2": st.one_of(st.none(), NAMES),
            }
            chosen = {name: values[name] for name in fields if name in values}
            self._updates[fields] = st.fixed_dictionaries({}, optional=chosen)
        return self._updates[fields].map(lambda sent: _completed(sent, token, stored))

    def unknown_id(self, field: str) -> st.SearchStrategy[str]:
        """A well-formed userId or invitationId (every rule of its path schema holds), its
        hex digits drawn afresh: hypothesis's simplest ids (``usr_000…``) are the ones other
        tests, or this run's own call-by-call phase, make a server know."""
        return self._unknown[field].map(self._freshened)

    def _freshened(self, drawn: str) -> str:
        """The id with every hex digit after its prefix replaced by a fresh one."""
        prefix, underscore, rest = drawn.partition("_")
        if not underscore:
            return drawn
        digits = "".join(self._fresh.choice(HEX) if c in string.hexdigits else c for c in rest)
        return f"{prefix}_{digits}"

    def limit(self, most: int = 5) -> st.SearchStrategy[int]:
        """A small page size for walks."""
        return st.integers(self.limit_min, max(self.limit_min, min(most, self.limit_max)))

    def days_around(self, day: date) -> st.SearchStrategy[str]:
        """A day near a known createdAt's (YYYY-MM-DD): the day before, of, or after."""
        return st.sampled_from([day - timedelta(days=1), day, day + timedelta(days=1)]).map(
            date.isoformat
        )

    # --- one rule broken ------------------------------------------------------------------

    def invalid_invite(self) -> st.SearchStrategy[Invalid]:
        """An owner level (not assignable), too few phone digits, an empty first name, or an
        admin without dashboard access."""
        return st.sampled_from(
            [
                Invalid(
                    self._rule(INVITE, "assignableUserLevel.enum"), {"level": self.owner_level}
                ),
                Invalid(
                    self._rule(INVITE, "phoneNumber.min-digits"),
                    {"phoneNumber": "5" * (self.phone_min - 1)},
                ),
                Invalid(self._rule(INVITE, "firstName.non-empty"), {"firstName": ""}),
                Invalid(None, {"level": ADMIN, "hasDashboardAccess": False}),
            ]
        )

    def invalid_update(self, document: str) -> st.SearchStrategy[Invalid]:
        """An owner level, too many phone digits, an empty last name, an admin without
        dashboard access; for a user, an e-mail (which an update cannot change)."""
        options = [
            Invalid(self._rule(document, "assignableUserLevel.enum"), {"level": self.owner_level}),
            Invalid(
                self._rule(document, "phoneNumber.max-digits"),
                {"phoneNumber": "5" * (self.phone_max + 1)},
            ),
            Invalid(self._rule(document, "lastName.non-empty"), {"lastName": ""}),
            Invalid(None, {"level": ADMIN, "hasDashboardAccess": False}),
        ]
        if document == USER_UPDATE:
            email = Invalid(
                self._rule(USER_UPDATE, "userUpdate.email-immutable"),
                {"email": "someone@example.org"},
            )
            options.append(email)
        elif document != INVITATION_UPDATE:
            raise ValueError(f"no invalid updates of {document}")
        return st.sampled_from(options)

    def _rule(self, document: str, rule_id: str) -> Rule:
        """A field rule (x-rules) of a document by id."""
        for found in self.contract.rules(document):
            if found.rule.id == rule_id:
                return found.rule
        raise KeyError(f"no rule {rule_id!r} in {document}")


def _admin_with_dashboard(body: dict[str, Any]) -> dict[str, Any]:
    if body["level"] == ADMIN:
        body["hasDashboardAccess"] = True
    return body


def _completed(sent: dict[str, Any], token: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """An update with the token in its last name, that keeps an admin's dashboard access."""
    sent = dict(sent)
    if "lastName" in sent:
        sent["lastName"] = f"{sent['lastName']} {token}"
    level = sent.get("level", stored.get("level"))
    access = sent.get("hasDashboardAccess", stored.get("hasDashboardAccess"))
    if level == ADMIN and access is False:
        sent["hasDashboardAccess"] = True
    return sent
