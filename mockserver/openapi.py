"""The OpenAPI 3.1 document of the mock, built from schemas/ (never a second copy by hand).

Components are the schema documents and their ``$defs``; query parameters are the properties
of a query schema, path parameters those of the resource's path schema (``user-path``). A call
answers 404 or 409 where an ``x-stateful-rules`` entry of its path, body or query schema says
so with a ``status``. Only what no schema holds is written here: the table of resources and
their calls (method, path, SDK name, summary, body, answers) and the pages the mock serves.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mockserver.contract import ID_PREFIX, STATEFUL, Contract
from mockserver.resources.sessions import SESSION_PATH
from mockserver.resources.studies import VIEW_PATH

COMPONENTS = "#/components/schemas/"
MOCK_TAG = "avara-mock"
PARAMETER = re.compile(r"\{([^}]+)\}")

ERRORS = {
    400: "Invalid request: error.errors lists every violation, naming its field, its rule "
    "and where it is (body, query or path).",
    401: "No usable Authorization: Bearer <api key> header.",
    413: "The body is over the mock's size limit.",
    415: "The body is not declared as application/json.",
}
# Any call may be refused (400) or unauthorized (401); a body may be too large or not JSON.
ALWAYS, BODY = (400, 401), (413, 415)
# The studies' schemas put no "status" on their rules: their 404 and 409 are written here.
NO_STUDY = ((404, "No such study."),)
TAKEN_UID = ((409, "A study with this Study Instance UID exists already."),)


@dataclass(frozen=True)
class Operation:
    """One call of an SDK resource; schemas are named by document, ``errors`` are the
    statuses (and their descriptions) that no schema rule carries."""

    method: str
    path: str
    name: str
    summary: str
    answer: tuple[int, str]
    body: str | None = None
    query: str | None = None
    errors: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Resource:
    """A resource of the SDK's client (``client.viewer.users``), its calls, and the schema
    document whose properties are the parameters of its paths."""

    name: str
    path_parameters: str | None
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Page:
    """A page the mock serves itself, at the URL of an answer (a schema document)."""

    path: str
    answer: str
    summary: str
    shows: str


STUDIES, USERS = "/v1/viewer/studies", "/v1/viewer/users"
INVITATIONS = USERS + "/invitations"
# fmt: off
RESOURCES: tuple[Resource, ...] = (
    Resource("viewer.studies", "study-path", (
        Operation("post", STUDIES, "create", "Create a study",
                  (201, "study"), body="study-create-request", errors=TAKEN_UID),
        Operation("get", STUDIES, "list", "List studies, newest first, a page at a time",
                  (200, "study-list-page"), query="study-list-query"),
        Operation("get", STUDIES + "/{studyId}", "retrieve", "Retrieve a study by id",
                  (200, "study"), errors=NO_STUDY),
        Operation("patch", STUDIES + "/{studyId}", "update",
                  "Update a study; a field left out is left as it is",
                  (200, "study"), body="study-update-request", errors=NO_STUDY),
        Operation("get", STUDIES + "/by-uid/{studyInstanceUid}", "retrieve_by_uid",
                  "Retrieve a study by Study Instance UID", (200, "study"), errors=NO_STUDY),
        Operation("post", STUDIES + "/cancel", "cancel", "Cancel a study",
                  (200, "study-cancel-response"), body="study-selector", errors=NO_STUDY),
        Operation("post", STUDIES + "/uncancel", "uncancel", "Uncancel a study",
                  (200, "study-cancel-response"), body="study-selector", errors=NO_STUDY),
        Operation("post", STUDIES + "/reroute-url", "reroute_url",
                  "Make a short-lived URL that opens the study in the Viewer",
                  (200, "study-reroute-url-response"), body="study-selector", errors=NO_STUDY),
    )),
    Resource("viewer.users", "user-path", (
        Operation("get", USERS + "/{userId}", "retrieve", "Retrieve a user by id", (200, "user")),
        Operation("patch", USERS + "/{userId}", "update",
                  "Update a user; a field left out is left as it is",
                  (200, "user"), body="user-update-request"),
        Operation("get", USERS, "list", "List the clinic's users, newest first, a page at a time",
                  (200, "user-list-page"), query="user-list-query"),
        Operation("post", USERS, "invite", "Create a user and send them an invitation",
                  (200, "user-invite-response"), body="user-invite-request"),
        Operation("post", USERS + "/reactivate", "reactivate", "Give a user access again",
                  (200, "user-access-response"), body="user-access-request"),
        Operation("post", USERS + "/revoke-access", "revoke_access",
                  "Revoke a user's access; the user's data is kept",
                  (200, "user-access-response"), body="user-access-request"),
    )),
    Resource("viewer.users.invitations", "invitation-path", (
        Operation("get", INVITATIONS + "/{invitationId}", "retrieve",
                  "Retrieve an invitation by id", (200, "invitation")),
        Operation("patch", INVITATIONS + "/{invitationId}", "update",
                  "Update a pending invitation and the user it was sent for",
                  (200, "invitation"), body="invitation-update-request"),
        Operation("get", INVITATIONS, "list", "List invitations, newest first, a page at a time",
                  (200, "invitation-list-page"), query="invitation-list-query"),
        Operation("post", INVITATIONS + "/revoke", "revoke", "Revoke a pending invitation",
                  (200, "invitation-revoke-response"), body="invitation-revoke-request"),
    )),
    Resource("viewer.ephemeral_sessions", None, (
        Operation("post", "/v1/viewer/ephemeral-sessions", "create",
                  "Make a short-lived URL that opens a customer's study in the Viewer",
                  (200, "ephemeral-session-create-response"),
                  body="ephemeral-session-create-request"),
    )),
)
PAGES: tuple[Page, ...] = (
    Page(VIEW_PATH + "{token}", "study-reroute-url-response",
         "The page a reroute URL opens (served by avara-mock, not by Avara)",
         "A small HTML page of the study."),
    Page(SESSION_PATH + "{token}", "ephemeral-session-create-response",
         "The page an ephemeral session URL opens (served by avara-mock, not by Avara)",
         "A small HTML page naming the session's retrievalId."),
)
# fmt: on


def build_openapi(contract: Contract) -> dict[str, Any]:
    """Every schema document becomes a component; references are rewritten to point at them."""
    refs = References(contract)
    paths: dict[str, dict[str, Any]] = {}
    for resource in RESOURCES:
        for operation in resource.operations:
            described = _operation(resource, operation, refs)
            paths.setdefault(operation.path, {})[operation.method] = described
    for page in PAGES:
        paths[page.path] = {"get": _page(page, contract)}
    names = ", ".join(resource.name for resource in RESOURCES)
    tags = [
        {"name": r.name, "description": f"The calls of the SDK's client.{r.name}."}
        for r in RESOURCES
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Avara Viewer API (avara-mock)",
            "version": _version(),
            "description": f"The Viewer endpoints ({names}) as avara-mock serves them, "
            "generated from its schemas/. x-rules annotations name each rule and tag it "
            "stated or inferred; x-stateful-rules name the rules that need the store.",
        },
        "servers": [{"url": "http://127.0.0.1:4010"}],
        "security": [{"bearer": []}],
        "tags": [
            *tags,
            {"name": MOCK_TAG, "description": "Served by the mock, not part of Avara's API."},
        ],
        "paths": paths,
        "components": {
            "schemas": refs.components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


class References:
    """Rewrites the schemas' ``urn:`` references into ``#/components/schemas/`` ones, and
    makes the components of some documents (the Viewer API's unless told which: the control
    plane's ``mock-*`` documents are not the Viewer API's)."""

    def __init__(self, contract: Contract, documents: Iterable[str] | None = None) -> None:
        self.contract = contract
        self.documents = list(contract.viewer_documents if documents is None else documents)
        self.titles = {name: doc["title"] for name, doc in contract.documents.items()}

    def component(self, document: str) -> dict[str, str]:
        """A reference to the component of a schema document."""
        return {"$ref": COMPONENTS + self.titles[document]}

    def rewrite(self, node: Any) -> Any:
        """A copy of a schema node whose references point into the components."""
        node = copy.deepcopy(node)
        self._rewrite_refs(node)
        return node

    def components(self) -> dict[str, Any]:
        """Each document's ``$defs`` and each document that describes a value."""
        schemas: dict[str, Any] = {}
        for name in self.documents:
            doc = self.contract.documents[name]
            named = dict(doc.get("$defs", {}))
            if doc.get("type") or doc.get("properties"):
                named[doc["title"]] = {
                    k: v for k, v in doc.items() if k not in ("$schema", "$id", "$defs", "x-sdk")
                }
            for title, schema in named.items():
                if title in schemas:
                    raise ValueError(f"two schemas of schemas/ are both named {title!r}")
                schemas[title] = self.rewrite(schema)
        return schemas

    def _rewrite_refs(self, node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                document, _, pointer = ref.partition("#")
                if pointer.startswith("/$defs/"):
                    node["$ref"] = COMPONENTS + pointer.removeprefix("/$defs/")
                elif document.startswith(ID_PREFIX):
                    node["$ref"] = COMPONENTS + self.titles[document.removeprefix(ID_PREFIX)]
            for child in node.values():
                self._rewrite_refs(child)
        elif isinstance(node, list):
            for child in node:
                self._rewrite_refs(child)


def _operation(resource: Resource, operation: Operation, refs: References) -> dict[str, Any]:
    status, answer = operation.answer
    in_path = PARAMETER.findall(operation.path)
    path_document = resource.path_parameters if in_path else None
    parameters = [_parameter(refs, path_document, name, "path", required=True) for name in in_path]
    if operation.query:
        query = refs.contract.documents[operation.query]
        required = query.get("required", [])
        parameters += [
            _parameter(refs, operation.query, name, "query", required=name in required)
            for name in query["properties"]
        ]
    described: dict[str, Any] = {
        "operationId": f"{resource.name}.{operation.name}",
        "summary": operation.summary,
        "tags": [resource.name],
    }
    if parameters:
        described["parameters"] = parameters
    if operation.body:
        described["requestBody"] = {"required": True, **_json(refs.component(operation.body))}
    others = {_camel(other.name) for other in resource.operations if other is not operation}
    documents = [doc for doc in (path_document, operation.body, operation.query) if doc]
    errors = {code: ERRORS[code] for code in ALWAYS + (BODY if operation.body else ())}
    errors.update(operation.errors)
    errors.update(_rule_errors(refs.contract, documents, others))
    described["responses"] = {
        str(status): {"description": refs.titles[answer], **_json(refs.component(answer))},
        **{str(code): _error(refs, errors[code]) for code in sorted(errors)},
    }
    return described


def _rule_errors(contract: Contract, documents: list[str], others: set[str]) -> dict[int, str]:
    """The statuses the documents' stateful rules answer with, described by those rules. A
    rule whose id begins with another call's name (``revokeAccess.`` on reactivate) is that
    call's alone."""
    found: dict[int, list[str]] = {}
    for document in documents:
        for rule_id, spec in contract.documents[document].get(STATEFUL, {}).items():
            if "status" in spec and rule_id.partition(".")[0] not in others:
                found.setdefault(spec["status"], []).append(f"`{rule_id}`: {spec['message']}")
    return {status: "\n".join(f"- {line}" for line in lines) for status, lines in found.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _parameter(
    refs: References, document: str | None, name: str, where: str, *, required: bool
) -> dict[str, Any]:
    """A parameter from a property of a schema document, described by it."""
    if document is None:
        raise ValueError(f"no schema document holds the parameter {name!r}")
    schema = refs.contract.documents[document]["properties"][name]
    parameter: dict[str, Any] = {"name": name, "in": where, "required": required}
    description = _description(refs.contract.resolved(document)["properties"][name])
    if description:
        parameter["description"] = description
    if schema.get("x-query", {}).get("read") == "comma":  # one parameter: status=sent,revoked
        parameter |= {"style": "form", "explode": False}
    return {**parameter, "schema": refs.rewrite(schema)}


def _description(schema: dict[str, Any]) -> str | None:
    """A resolved schema's description, else that of the first ``allOf`` member with one."""
    found = schema.get("description")
    for member in schema.get("allOf", []):
        found = found or member.get("description")
    return found if isinstance(found, str) else None


def _json(schema: dict[str, str]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(refs: References, description: str) -> dict[str, Any]:
    return {"description": description, **_json(refs.component("error"))}


def _page(page: Page, contract: Contract) -> dict[str, Any]:
    """A page for offline browser flows; its token lives as long as the one stateful rule of
    the answer with ``seconds`` says."""
    rules = contract.documents[page.answer].get(STATEFUL, {})
    lifetimes = [rule_id for rule_id, spec in rules.items() if "seconds" in spec]
    if len(lifetimes) != 1:
        raise ValueError(f"{page.answer} must have one x-stateful-rules entry with seconds")
    lifetime = contract.stateful_rule(page.answer, lifetimes[0])
    title = contract.documents[page.answer]["title"]
    html = {"text/html": {"schema": {"type": "string"}}}
    token = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
    token["description"] = f"The token in the URL of a {title}: {lifetime.message}."
    return {
        "summary": page.summary,
        "tags": [MOCK_TAG],
        "security": [],
        "parameters": [token],
        "responses": {
            "200": {"description": page.shows, "content": html},
            "404": {"description": "The token is unknown or expired.", "content": html},
        },
    }


def _version() -> str:
    try:
        return version("avara-mock")
    except PackageNotFoundError:
        return "0+unknown"
