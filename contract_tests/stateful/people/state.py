"""The state of the people model: what one sequence knows of the users and invitations it
invited, the facts it learnt from the server, and the contract tables it reads.

``PeopleState`` is the base of ``PeopleModel`` (``people_model``, users calls) through
``InvitationCalls`` (``people_invitations``, invitations calls); it holds no rule of a call.
What the API does is read from schemas/: which fields an update may send and what a null does
(x-null-means), what a new user echoes (x-echo, x-on-create, with their tags), the rules and
the statuses they give (x-stateful-rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from contract_tests.stateful.people.entities import Entity, Expectation
from contract_tests.stateful.studies.values import instant
from mockserver.contract import Contract, Rule

USER = "user"
INVITATION = "invitation"
INVITE = "user-invite-request"
INVITE_ANSWER = "user-invite-response"
USER_UPDATE = "user-update-request"
ACCESS = "user-access-request"
USER_PATH = "user-path"
USER_LIST = "user-list-query"
INVITATION_UPDATE = "invitation-update-request"
REVOKE = "invitation-revoke-request"
INVITATION_PATH = "invitation-path"
INVITATION_LIST = "invitation-list-query"
DOCUMENTS = (
    *(USER, INVITE, USER_UPDATE, ACCESS, USER_PATH, USER_LIST),
    *(INVITATION, INVITATION_UPDATE, REVOKE, INVITATION_PATH, INVITATION_LIST),
)
"""The schema documents whose ``x-stateful-rules`` the people invariants report."""
SHARED = "error"
REFUSAL = "refusal.changes-nothing"
"""The shared rule (inferred, in the error document) that a refusal changes nothing."""
DOMAIN = "contract.example.org"
"""Where the machine's people get mail: a name under example.org (RFC 2606), never real."""
SENT, REVOKED, ADMIN = "sent", "revoked", "admin"
REVOKE_CHANGES = ("status", "updatedAt")
"""What a revoke may change of an invitation."""
TIME_TOLERANCE = timedelta(minutes=1)
"""How far apart two timestamps one call makes may be (a user's createdAt and its
invitation's), and an expiry from its lifetime."""
CLOCK_MARGIN = timedelta(days=1)
"""How far the server's now may be past the latest timestamp it answered."""


class PeopleState:
    """The users and invitations one sequence invited, what it learnt, and the contract's
    tables; the rules of the calls are in the subclasses."""

    def __init__(self, contract: Contract, token: str) -> None:
        self.token = token
        self.rules: dict[str, Rule] = {REFUSAL: contract.stateful_rule(SHARED, REFUSAL)}
        self._statuses: dict[str, int] = {}
        for name in DOCUMENTS:
            self.rules.update(contract.stateful_rules(name))
            for rule_id, spec in contract.documents[name].get("x-stateful-rules", {}).items():
                if "status" in spec:
                    self._statuses[rule_id] = int(spec["status"])
        self.users: dict[str, Entity] = {}
        self.access: dict[str, bool] = {}
        self.invitations: dict[str, Entity] = {}
        self.invitation_of: dict[str, str] = {}
        self.emails: dict[str, str] = {}
        self.owners: set[str] = set()
        self.sender: dict[str, Any] = {}
        """What every invitation of the calling key has in common, once seen."""
        self.latest: datetime | None = None
        self._mails = 0
        self._echo = {
            **contract.annotated(INVITE_ANSWER, "x-echo"),
            **contract.annotated(INVITE_ANSWER, "x-on-create"),
        }
        self._user_times = _timestamps(contract, USER)
        self._invitation_times = _timestamps(contract, INVITATION)
        answer = contract.resolved(INVITE_ANSWER)["properties"]
        invitation = contract.resolved(INVITATION)["properties"]
        self.person = tuple(f for f in invitation if f in answer and f != "userId")
        """The fields an invitation shares with its user (e-mail, names, permissions...)."""
        self.user_updates = _update_fields(contract, USER_UPDATE)
        self.invitation_updates = _update_fields(contract, INVITATION_UPDATE)
        self._nulls = {
            USER_UPDATE: _null_effects(contract, USER_UPDATE),
            INVITATION_UPDATE: _null_effects(contract, INVITATION_UPDATE),
        }
        self.api_source = self._echo["invitedSource"]["const"]
        """The invitedSource of what the API makes (x-on-create of the invite answer)."""
        expiry = contract.documents[INVITE]["x-stateful-rules"]["invite.expiry"]
        self.lifetime = timedelta(days=int(expiry["days"]))

    # --- facts ----------------------------------------------------------------------------

    def email(self, local: str) -> str:
        """A new e-mail of this sequence: the drawn local part, the token, a counter."""
        self._mails += 1
        return f"{local}.{self.token}.{self._mails}@{DOMAIN}"

    def holder(self, email: str) -> str | None:
        """The known user whose e-mail this is, ignoring case (invite.email-taken)."""
        return self.emails.get(email.casefold())

    def saw(self, *values: Any) -> None:
        """Timestamps the server answered: the latest is a lower bound of the server's now."""
        for value in values:
            moment = instant(value)
            if moment is not None and (self.latest is None or moment > self.latest):
                self.latest = moment

    def rule(self, rule_id: str) -> Rule:
        """A rule of the people documents (or the shared refusal rule) by id."""
        return self.rules[rule_id]

    def invitation(self, user_id: str) -> Entity | None:
        """The invitation the invite of this user sent, once found."""
        found = self.invitation_of.get(user_id)
        return None if found is None else self.invitations[found]

    def pending(self, invitation_id: str) -> bool | None:
        """Sent and not expired; None when the server's clock, known only as the latest
        timestamp it answered, could put the expiry either side of its now."""
        values = self.invitations[invitation_id].values
        if values.get("status") != SENT:
            return False
        expiry = instant(values.get("expiry"))
        if expiry is None:
            return True
        if self.latest is None:
            return None
        if expiry > self.latest + CLOCK_MARGIN:
            return True
        return False if expiry <= self.latest else None

    def new_entity(self, kind: str, key: str, values: Mapping[str, Any], basis: Rule) -> Entity:
        """A user (``kind`` USER) or an invitation with these values, all by ``basis``."""
        times = self._user_times if kind == USER else self._invitation_times
        return Entity(f"{kind} {key}", values, basis, times)

    # --- helpers shared by the calls ------------------------------------------------------

    def refusal(self, rule_id: str) -> Expectation:
        """A refusal by a stateful rule, with its exact status when the rule is inferred."""
        rule = self.rule(rule_id)
        return Expectation(
            False, rule, self._statuses.get(rule_id) if rule.tag == "inferred" else None
        )

    def merged(
        self, values: Mapping[str, Any], body: Mapping[str, Any], document: str
    ) -> dict[str, Any]:
        """The fields after an update, each null as its x-null-means says."""
        merged = dict(values)
        for name, value in body.items():
            effect = self._nulls[document].get(name)
            if value is None and effect == "keep":
                continue
            merged[name] = value
        return merged

    def apply(
        self,
        entity: Entity,
        body: Mapping[str, Any],
        fields: tuple[str, ...],
        document: str,
        applies: Rule,
        null_rule: str,
    ) -> None:
        """Expect the fields an update sent: its value, or what its null means."""
        for name, value in body.items():
            if name not in fields:
                continue
            effect = self._nulls[document].get(name)
            if value is None and effect is not None:
                kept = entity.values.get(name) if effect == "keep" else None
                entity.expect(name, kept, self.rule(null_rule))
            else:
                entity.expect(name, value, applies)


def _timestamps(contract: Contract, name: str) -> frozenset[str]:
    """The fields of a document that hold RFC 3339 timestamps (format date-time)."""
    props = contract.resolved(name)["properties"]
    return frozenset(f for f, schema in props.items() if _has_format(schema, "date-time"))


def _has_format(node: Any, format_: str) -> bool:
    if isinstance(node, dict):
        return node.get("format") == format_ or any(_has_format(v, format_) for v in node.values())
    if isinstance(node, list):
        return any(_has_format(v, format_) for v in node)
    return False


def _update_fields(contract: Contract, name: str) -> tuple[str, ...]:
    """The fields an update may send: every property but those no value may take."""
    props = contract.resolved(name)["properties"]
    return tuple(f for f, schema in props.items() if schema.get("not") != {})


def _null_effects(contract: Contract, name: str) -> dict[str, str]:
    """Field -> what a null does in an update (``keep`` or ``clear``), from x-null-means."""
    return {f: spec["effect"] for f, spec in contract.annotated(name, "x-null-means").items()}
