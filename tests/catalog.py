"""A catalog of deliberately broken implementations: the proof that the contract suite has teeth.

Each entry is our mock with exactly one defect, made by one of three small mechanisms:

(a) ``edited(rule, operand)``: the mock driven by a copy of the contract in which the keyword
    of one ``x-rules`` rule, where that rule lives, has another operand: a limit one off, a
    pattern too lax, an enum too wide or too narrow, a field no longer required;
(b) ``rewritten(change)``: the mock behind a wrapper that rewrites the JSON body of its 2xx
    answers (of its 400 answers for one entry), or their Content-Type;
(c) ``Flow``: the mock behind a wrapper that changes status codes, lets requests without
    credentials in, or never answers some requests.

Each entry names the check (a key of ``contract_tests.checks.CHECKS``) that must fail, the rule
of that check's finding when the defect has one specific rule, and whether the defect breaks
only an inferred rule (a warning by default, a failure with ``inferred="fail"``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import unicodedata
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import create_app
from mockserver.contract import Contract

Build = Callable[[], ASGIApp]
Change = Callable[[Any], Any]
TIMEOUT = 0.5
HANG_SECONDS = 10 * TIMEOUT
CREATED = range(200, 300)


@cache
def _contract() -> Contract:
    return Contract.load()


# --- (a) the mock driven by an edited copy of the contract ----------------------------------


def rule_nodes(node: Any, rule_id: str) -> list[tuple[dict[str, Any], str]]:
    """Every (schema node, keyword) whose ``x-rules`` annotation gives that keyword ``rule_id``."""
    found: list[tuple[dict[str, Any], str]] = []
    if isinstance(node, dict):
        found += [(node, k) for k, spec in node.get("x-rules", {}).items() if spec["id"] == rule_id]
        for key, child in node.items():
            if key != "x-rules":
                found += rule_nodes(child, rule_id)
    elif isinstance(node, list):
        for child in node:
            found += rule_nodes(child, rule_id)
    return found


def edited(rule_id: str, operand: Any, document: str = "study-create-request") -> Build:
    """The mock whose contract gives the keyword of ``rule_id`` this ``operand`` instead."""

    def build() -> ASGIApp:
        documents = copy.deepcopy(_contract().documents)
        # The document's own node first (create's request by default), else the shared one.
        found = rule_nodes(documents[document], rule_id)
        ((node, keyword),) = found or rule_nodes(documents["common"], rule_id)
        node[keyword] = operand
        return create_app(contract=Contract(documents))

    return build


# --- (b) the mock with the JSON body of its answers rewritten -------------------------------


Where = Callable[[str, str], bool]
"""Which requests (method, path) a wrapper changes the answers of."""


def everywhere(method: str, path: str) -> bool:
    return True


def route(method: str, pattern: str) -> Where:
    """The requests of one route (``{…}`` a path parameter)."""
    shape = re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(pattern)) + "$")
    return lambda m, path: m == method and shape.match(path) is not None


@dataclass
class Rewritten:
    """The mock; the JSON body of each answer whose status is in ``statuses`` goes through
    ``change`` (bytes it returns are sent as they are), and is labelled ``content_type`` when
    one is given; ``where`` picks the requests."""

    change: Change
    statuses: Container[int] = CREATED
    content_type: str | None = None
    app: ASGIApp = field(default_factory=create_app)
    where: Where = everywhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []
        if not self.where(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            if start.get("status") not in self.statuses:
                await send(message)
                return
            if message["type"] != "http.response.body":
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            changed = self.change(json.loads(b"".join(chunks)))
            body = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            if self.content_type is not None:
                headers = [(k, v) for k, v in headers if k != b"content-type"]
                headers.append((b"content-type", self.content_type.encode()))
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


def rewritten(
    change: Change,
    statuses: Container[int] = CREATED,
    content_type: str | None = None,
    where: Where = everywhere,
) -> Build:
    """A builder of the mock whose answers (of the requests ``where`` picks) go through
    ``change``."""
    return lambda: Rewritten(change, statuses, content_type, where=where)


def setting(name: str, value: Change) -> Change:
    """A change of a study: ``name`` set to ``value(study)``."""
    return lambda study: {**study, name: value(study)}


def without(name: str) -> Change:
    """A change of a study: ``name`` left out."""
    return lambda study: {k: v for k, v in study.items() if k != name}


def in_reference(name: str, prop: str, value: Any) -> Change:
    """A change of a study: ``prop`` of the nested reference ``name`` (when there is one) set."""
    return setting(name, lambda study: study[name] and {**study[name], prop: value})


def uuid_v1(study: Any) -> Any:
    """The api key reference with the version digit of its UUID turned into 1."""
    key = study["createdByApiKey"]["apiKeyId"]
    return {**study["createdByApiKey"], "apiKeyId": key[:14] + "1" + key[15:]}


def next_severity(study: Any) -> str:
    order = ["normal", "high", "stat"]
    return order[(order.index(study["severity"]) + 1) % len(order)]


GENERIC_ERROR = {"error": {"type": "invalid_request", "message": "Bad request."}}


def errors_in(where: str) -> Change:
    """A change of an error body: every violation said to be in ``where``."""

    def change(body: Any) -> Any:
        errors = body.get("error", {}).get("errors", [])
        return {"error": {**body["error"], "errors": [{**e, "in": where} for e in errors]}}

    return change


# --- (c) the mock with its status codes or flow changed -------------------------------------


@dataclass
class Flow:
    """The mock behind a wrapper: ``status`` maps a status the mock answers to the one sent
    instead; ``authorize`` lets requests in whatever their credentials; ``hang`` never answers
    the request bodies (parsed JSON) it is true of; ``where`` picks the requests."""

    status: dict[int, int] = field(default_factory=dict)
    authorize: bool = False
    hang: Callable[[Any], bool] = lambda body: False
    app: ASGIApp = field(default_factory=create_app)
    where: Where = everywhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.where(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        request = await receive()
        try:
            body = json.loads(request.get("body", b""))
        except ValueError:
            body = None
        if self.hang(body):
            await asyncio.sleep(HANG_SECONDS)
        if self.authorize:
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", b"Bearer anyone")]}

        async def replay() -> Message:
            return request

        async def restatus(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "status": self.status.get(status, status)}
            await send(message)

        await self.app(scope, replay, restatus)


def many_pairs(body: Any) -> bool:
    """A body with more than 40 metadata pairs (the hang is kept to few requests: each costs
    the whole timeout)."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return isinstance(metadata, dict) and len(metadata) > 40


# --- the catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """One broken implementation: its single defect, the check that must catch it, and the
    operations besides create the suite probes it with (a defect of create: none)."""

    name: str
    build: Build
    check: str
    rule: str | None = None
    inferred: bool = False
    operations: tuple[str, ...] = ()


REFUSES, ACCEPTS, SCHEMA = "refuses_invalid", "accepts_valid", "answer_schema"
ECHO, LINK, STATE = "echoes_request", "links_references", "new_study_state"
ACCEPTED = "create.accepts-valid"
SEVERITIES_ANY_CASE = ["normal", "high", "stat", "NORMAL", "HIGH", "STAT"]
WORD_CHARS = r"^[\w.]*$"  # \w lets letters through, not only digits
ANY_COMPONENT = r"^(0|[^.]*)(\.(0|[^.]*))*$"  # forgot that a component must not start with 0
EMPTY_COMPONENTS = r"^[^.]*(\.[^.]*)*$"  # * where + was meant
STATUSES_ANY_CASE = [
    *_contract().rule_value("invitation-list-query", "invitationStatus.enum"),
    *(s.upper() for s in _contract().rule_value("invitation-list-query", "invitationStatus.enum")),
]
STUDIES, USERS = "/v1/viewer/studies", "/v1/viewer/users"
INVITATIONS, SESSIONS = USERS + "/invitations", "/v1/viewer/ephemeral-sessions"
LIST_USERS, RETRIEVE_USER = "viewer.users.list", "viewer.users.retrieve"
LIST_INVITATIONS = "viewer.users.invitations.list"
RETRIEVE_INVITATION = "viewer.users.invitations.retrieve"
CREATE_SESSION, CANCEL = "viewer.ephemeral_sessions.create", "viewer.studies.cancel"

# fmt: off
CATALOG: tuple[Broken, ...] = (
    # (a) a request rule one off at its limit, too lax or too strict
    Broken("pairs-51-accepted", edited("metadata.max-pairs", 51), REFUSES, "metadata.max-pairs"),
    Broken("pairs-49-max", edited("metadata.max-pairs", 49), ACCEPTS, ACCEPTED),
    Broken("key-101-accepted", edited("metadata.key-max-length", 101), REFUSES,
           "metadata.key-max-length"),
    Broken("key-99-max", edited("metadata.key-max-length", 99), ACCEPTS, ACCEPTED),
    Broken("value-1001-accepted", edited("metadata.value-max-length", 1001), REFUSES,
           "metadata.value-max-length"),
    Broken("value-999-max", edited("metadata.value-max-length", 999), ACCEPTS, ACCEPTED),
    Broken("uid-65-accepted", edited("studyInstanceUid.max-length", 65), REFUSES,
           "studyInstanceUid.max-length"),
    Broken("uid-63-max", edited("studyInstanceUid.max-length", 63), ACCEPTS, ACCEPTED),
    Broken("uid-letters-accepted", edited("studyInstanceUid.charset", WORD_CHARS), REFUSES,
           "studyInstanceUid.charset"),
    Broken("uid-leading-zero-accepted", edited("studyInstanceUid.leading-zero", ANY_COMPONENT),
           REFUSES, "studyInstanceUid.leading-zero"),
    Broken("uid-empty-component-accepted",
           edited("studyInstanceUid.empty-component", EMPTY_COMPONENTS), REFUSES,
           "studyInstanceUid.empty-component"),
    Broken("severity-upper-case-accepted", edited("severity.enum", SEVERITIES_ANY_CASE), REFUSES,
           "severity.enum"),
    Broken("severity-stat-refused", edited("severity.enum", ["normal", "high"]), ACCEPTS,
           ACCEPTED),
    Broken("description-not-required", edited("body.required", ["severity", "studyInstanceUid"]),
           REFUSES, "body.required"),
    Broken("metadata-number-value-accepted", edited("metadata.value-type", ["string", "number"]),
           REFUSES, "metadata.value-type"),
    Broken("assigned-to-31-hex-accepted", edited("userId.format", "^usr_[0-9a-fA-F]{31,32}$"),
           REFUSES, "userId.format"),
    Broken("assigned-to-any-id-kind-accepted",
           edited("userId.format", "^[a-z]{3}_[0-9a-fA-F]{32}$"), REFUSES, "userId.format"),
    Broken("customer-id-any-suffix-accepted", edited("expressCustomerId.format", "^cus_"),
           REFUSES, "expressCustomerId.format"),
    Broken("upper-case-hex-accepted", edited("id.lowercase-hex", ".*"), REFUSES, "id.lowercase-hex",
           inferred=True),
    Broken("empty-description-accepted", edited("studyDescription.non-empty", 0), REFUSES,
           "studyDescription.non-empty", inferred=True),
    Broken("unknown-field-accepted", edited("body.unknown-field", True), REFUSES,
           "body.unknown-field", inferred=True),
    # (b) the answer's body or Content-Type wrong
    Broken("study-id-not-stu", rewritten(setting("studyId", lambda s: "std_" + s["studyId"][4:])),
           SCHEMA, "studyId.format"),
    Broken("created-at-without-offset", rewritten(setting("createdAt",
           lambda s: s["createdAt"].removesuffix("Z"))), SCHEMA, "timestamp.format"),
    Broken("api-key-id-uuid-v1", rewritten(setting("createdByApiKey", uuid_v1)), SCHEMA,
           "apiKeyReference.id-format"),
    Broken("viewer-status-viewed", rewritten(setting("studyViewerStatus", lambda s: "viewed")),
           SCHEMA, "studyViewerStatus.enum"),
    Broken("is-cancelled-missing", rewritten(without("isCancelled")), SCHEMA, "study.required"),
    Broken("assignee-email-invalid", rewritten(in_reference("assignedTo", "email", "nobody")),
           SCHEMA, "userReference.email-format"),
    Broken("cancelled-at-set", rewritten(setting("cancelledAt", lambda s: s["createdAt"])), STATE,
           "study.on-create.cancelledAt"),
    Broken("content-type-text-plain", rewritten(lambda s: s, content_type="text/plain"),
           "json_content_type", "http.json"),
    Broken("severity-echoed-wrongly", rewritten(setting("severity", next_severity)), ECHO,
           "study.echo.severity", inferred=True),
    Broken("description-nfc-normalized", rewritten(setting("studyDescription",
           lambda s: unicodedata.normalize("NFC", s["studyDescription"]))), ECHO,
           "study.echo.studyDescription", inferred=True),
    Broken("metadata-dropped", rewritten(setting("metadata", lambda s: None)), ECHO,
           "study.echo.metadata", inferred=True),
    Broken("assignee-other-user", rewritten(in_reference("assignedTo", "userId",
           "usr_" + "f" * 32)), LINK, "study.link.assignedTo", inferred=True),
    Broken("customer-dropped", rewritten(setting("expressCustomer", lambda s: None)), LINK,
           "study.link.expressCustomer", inferred=True),
    Broken("is-cancelled-true", rewritten(setting("isCancelled", lambda s: True)), STATE,
           "study.on-create.isCancelled", inferred=True),
    Broken("viewer-status-complete", rewritten(setting("studyViewerStatus",
           lambda s: "complete")), STATE, "study.on-create.studyViewerStatus", inferred=True),
    Broken("same-study-id", rewritten(setting("studyId", lambda s: "stu_" + "0" * 32)),
           "unique_study_ids", "studyId.unique", inferred=True),
    Broken("created-in-1970", rewritten(setting("createdAt", lambda s: "1970-01-01T00:00:00Z")),
           "sane_timestamps", "timestamp.sane", inferred=True),
    Broken("updated-before-created", rewritten(setting("updatedAt",
           lambda s: "2001-01-01T00:00:00Z")), "sane_timestamps", "timestamp.order",
           inferred=True),
    Broken("error-names-no-field", rewritten(lambda e: GENERIC_ERROR, statuses=(400,)),
           "error_names_field", "error.names-field", inferred=True),
    # (c) status codes and flow
    Broken("500-on-invalid", lambda: Flow({400: 500}), REFUSES, "http.no-5xx"),
    Broken("200-on-invalid", lambda: Flow({400: 200}), REFUSES),
    Broken("403-on-invalid", lambda: Flow({400: 403}), REFUSES, "create.refusal-status",
           inferred=True),
    Broken("409-on-valid", lambda: Flow({201: 409}), ACCEPTS, ACCEPTED),
    Broken("no-auth", lambda: Flow(authorize=True), "requires_auth", "auth.required"),
    Broken("403-without-credentials", lambda: Flow({401: 403}), "requires_auth",
           "auth.status-401", inferred=True),
    Broken("hangs-on-many-pairs", lambda: Flow(hang=many_pairs), "answers", "http.answers"),
    # the other operations
    Broken("user-page-has-more-text", rewritten(setting("hasMore", lambda p: "no"),
           where=route("GET", USERS)), SCHEMA, "page.hasMore-type", operations=(LIST_USERS,)),
    Broken("user-level-superuser", rewritten(setting("level", lambda u: "superuser"),
           where=route("GET", USERS + "/{userId}")), SCHEMA, "userLevel.enum",
           operations=(RETRIEVE_USER,)),
    Broken("invitation-status-pending", rewritten(setting("status", lambda i: "pending"),
           where=route("GET", INVITATIONS + "/{invitationId}")), SCHEMA,
           "invitationStatus.enum", operations=(RETRIEVE_INVITATION,)),
    Broken("session-url-relative", rewritten(setting("url", lambda s: "/viewer/sessions/x"),
           where=route("POST", SESSIONS)), SCHEMA, "ephemeral-response.url-absolute",
           inferred=True, operations=(CREATE_SESSION,)),
    Broken("user-limit-unbounded", edited("limit.maximum", 10**6, "user-list-query"), REFUSES,
           "limit.maximum", operations=(LIST_USERS,)),
    Broken("invitation-status-any-case-accepted", edited("invitationStatus.enum",
           STATUSES_ANY_CASE, "invitation-list-query"), REFUSES, "invitationStatus.enum",
           operations=(LIST_INVITATIONS,)),
    Broken("cancel-refused", lambda: Flow({200: 400}, where=route("POST", STUDIES + "/cancel")),
           ACCEPTS, "request.accepts-valid", operations=(CANCEL,)),
    Broken("query-error-said-in-body", rewritten(errors_in("body"), statuses=(400,)),
           "error_names_field", "error.names-field", inferred=True, operations=(LIST_USERS,)),
    Broken("401-as-text", rewritten(lambda e: b"Unauthorized", statuses=(401,),
           content_type="text/plain"), "error_body", "error.json", inferred=True,
           operations=(RETRIEVE_USER,)),
)
# fmt: on
