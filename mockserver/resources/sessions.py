"""The ephemeral-sessions resource: viewer.ephemeral_sessions.create and the URL it answers.

A session is a customer's ``retrievalId`` with an optional hanging protocol and ``options``,
reachable for a short while through a tokenized URL that the mock serves itself. The field
rules come from the request's schema, with one keyword JSON Schema cannot check:
``x-json-bytes`` caps a value's size as JavaScript's JSON.stringify writes it
(mockserver/stringify.py). Rules across fields (viewports against the layout) are
``x-stateful-rules`` and only the stateful service applies them.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import InvalidRequest
from mockserver.settings import Settings
from mockserver.stringify import stringify_bytes
from mockserver.validation import DocumentValidator, Violation, violation
from mockserver.world.tokens import TokenBook

REQUEST = "ephemeral-session-create-request"
RESPONSE = "ephemeral-session-create-response"
HANGING_PROTOCOL = "ephemeral-hanging-protocol"
SESSION_PATH = "/viewer/sessions/"
BYTES_KEYWORD = "x-json-bytes"
LIFETIME_RULE = "ephemeralSession.token-lifetime"
VIEWPORT_RULE = "hangingProtocol.viewport-count"
LAYOUT_RULE = "viewerLayout.enum"
TRANSPARENT_STEPS = frozenset({"if", "then", "else", "allOf", "anyOf", "oneOf"})
"""Schema steps that stay on the same instance value (a byte cap under them caps that value)."""


class UnsupportedSchema(ValueError):
    """The schema asks for something this module cannot check (a cap it cannot place, a
    layout it cannot count)."""


class Sessions(Protocol):
    """What the routes of viewer.ephemeral_sessions call; the stateful service and the
    stateless one both are one. None of them sees HTTP."""

    def create(self, body: Any, origin: str) -> bytes:
        """POST /v1/viewer/ephemeral-sessions: ``{"url": ...}`` on ``origin``
        (``http://host:port``, where the mock is reached)."""
        ...

    def viewed(self, token: str) -> dict[str, Any] | None:
        """The session's request as stored, while its URL's token lives; else None."""
        ...

    def reset(self) -> None:
        """As new: no sessions, seeded tokens back at their start."""
        ...


@dataclass(frozen=True)
class ByteCap:
    """An ``x-json-bytes`` rule: the value at ``path`` is at most ``limit`` bytes."""

    path: tuple[str, ...]
    limit: int
    rule: Rule

    def violations(self, body: Any) -> Iterator[Violation]:
        """The violation of this cap, if the value at ``path`` is present and over it."""
        value = body
        for step in self.path:
            if not isinstance(value, dict) or step not in value:
                return
            value = value[step]
        if value is None:
            return
        size = stringify_bytes(value)
        if size > self.limit:
            yield violation(".".join(self.path), self.rule, f"got {size} bytes")


class SessionRequests:
    """The field rules of a create request (both modes): the schema's keywords and its byte
    caps, every violation listed in one 400."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._contract = contract
        self._lenient = lenient
        resolved = contract.resolved(REQUEST)
        self.fields: tuple[str, ...] = tuple(resolved["properties"])
        self._nullable = frozenset(contract.annotated(REQUEST, "x-null-as-absent"))
        self.caps = tuple(
            ByteCap(
                _instance_path(found.schema_path),
                int(contract.rule_value(REQUEST, found.rule.id)),
                found.rule,
            )
            for found in contract.rules(REQUEST)
            if found.keyword == BYTES_KEYWORD
        )

    @cached_property
    def _validator(self) -> DocumentValidator:
        return DocumentValidator(self._contract, REQUEST, lenient=self._lenient)

    def create(self, body: Any) -> dict[str, Any]:
        """The valid request's fields (an optional field sent null is absent; lenient, an
        unknown field is dropped)."""
        found = self._validator.violations(body)
        if isinstance(body, dict):
            found.extend(v for cap in self.caps for v in cap.violations(body))
        if found:
            ordered = sorted(set(found), key=lambda v: (v.path, v.rule))
            raise InvalidRequest.from_violations(ordered)
        return {
            name: value
            for name, value in body.items()
            if name in self.fields and not (value is None and name in self._nullable)
        }


def _instance_path(schema_path: tuple[str | int, ...]) -> tuple[str, ...]:
    """Where in a request the node at ``schema_path`` applies: the names after each
    ``properties`` step."""
    path: list[str] = []
    steps = iter(schema_path)
    for step in steps:
        if step == "properties":
            path.append(str(next(steps)))
        elif step not in TRANSPARENT_STEPS and not isinstance(step, int):
            raise UnsupportedSchema(f"cannot place a {BYTES_KEYWORD} cap under {schema_path}")
    return tuple(path)


def viewport_counts(contract: Contract) -> dict[str, int]:
    """Each layout of the schema's enum (``rows x columns``) and its number of viewports."""
    counts: dict[str, int] = {}
    for layout in contract.rule_value(HANGING_PROTOCOL, LAYOUT_RULE):
        rows, _, columns = str(layout).partition("x")
        if not (rows.isdigit() and columns.isdigit()):
            raise UnsupportedSchema(f"layout {layout!r} is not rows x columns, like '2x2'")
        counts[str(layout)] = int(rows) * int(columns)
    return counts


def token_lifetime(contract: Contract) -> float:
    """The seconds a session URL's token lives, as the answer's schema states them."""
    return float(contract.documents[RESPONSE]["x-stateful-rules"][LIFETIME_RULE]["seconds"])


def session_url(origin: str, token: str) -> bytes:
    """The JSON answer: the landing URL of a token on the mock at ``origin``."""
    return orjson.dumps({"url": f"{origin.rstrip('/')}{SESSION_PATH}{token}"})


class SessionService:
    """Stateful sessions: each create keeps its request behind a new token for the token's
    lifetime. Every API key counts as having the customer study webhook the call needs
    (``ephemeralSession.webhook-required``)."""

    def __init__(
        self,
        contract: Contract,
        settings: Settings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requests = SessionRequests(contract, lenient=settings.lenient)
        self._viewports = viewport_counts(contract)
        self._viewport_rule = contract.stateful_rule(HANGING_PROTOCOL, VIEWPORT_RULE)
        self._tokens = TokenBook(token_lifetime(contract), settings.seed, monotonic)
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def create(self, body: Any, origin: str) -> bytes:
        """Validate, keep the request unchanged (``options`` verbatim), answer its URL."""
        request = self._requests.create(body)
        self._check_viewports(request.get("hangingProtocol"))
        self._forget_expired()
        token = self._tokens.issue(str(request["retrievalId"]))
        self._sessions[token] = copy.deepcopy(request)
        return session_url(origin, token)

    def viewed(self, token: str) -> dict[str, Any] | None:
        if self._tokens.subject(token) is None:
            return None
        session = self._sessions.get(token)
        return None if session is None else copy.deepcopy(session)

    def reset(self) -> None:
        self._sessions.clear()
        self._tokens.reset()

    def _check_viewports(self, protocol: dict[str, Any] | None) -> None:
        """One assignment per viewport of the layout (``hangingProtocol.viewport-count``)."""
        if protocol is None:
            return
        layout, assignments = protocol["layout"], protocol["viewportAssignments"]
        expected = self._viewports[layout]
        if len(assignments) != expected:
            count = len(assignments)
            entries = "entry" if count == 1 else "entries"
            detail = f"got {count} {entries} for layout {layout}, which has {expected} viewports"
            field = "hangingProtocol.viewportAssignments"
            raise InvalidRequest.from_violations([violation(field, self._viewport_rule, detail)])

    def _forget_expired(self) -> None:
        """Sessions are kept in issue order, the order their tokens expire in."""
        while self._sessions:
            token = next(iter(self._sessions))
            if self._tokens.subject(token) is not None:
                return
            del self._sessions[token]
