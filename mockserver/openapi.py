"""The OpenAPI 3.1 document of the mock, built from schemas/ (never a second copy by hand).

Components are the schema documents and their ``$defs``; query parameters are the properties
of a query schema, path parameters the properties of ``study-path``. Only what no schema holds
is written here: the table of operations (method, path, SDK name, summary, body, answers).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mockserver.contract import ID_PREFIX, Contract
from mockserver.resources.studies import VIEW_PATH

COMPONENTS = "#/components/schemas/"
RESOURCE = "viewer.studies"
MOCK_TAG = "avara-mock"
PATH_PARAMETERS = "study-path"
TOKEN_LIFETIME = ("study-reroute-url-response", "reroute.token-lifetime")
PARAMETER = re.compile(r"\{([^}]+)\}")

ERRORS = {
    400: "Invalid request: error.errors lists every violation, naming its field, its rule "
    "and where it is (body, query or path).",
    401: "No usable Authorization: Bearer <api key> header.",
    404: "No such study.",
    409: "A study with this Study Instance UID exists already.",
    413: "The body is over the mock's size limit.",
    415: "The body is not declared as application/json.",
}
# Error answers: any call may be refused (400) or unauthorized (401); a call naming a study may
# find none (404); create may conflict (409); a body may be too large (413) or not JSON (415).
LIST, CREATE, FIND, BODY = (400, 401), (400, 401, 409), (400, 401, 404), (413, 415)


@dataclass(frozen=True)
class Operation:
    """One call of the SDK's ``client.viewer.studies``; schemas are named by document."""

    method: str
    path: str
    name: str
    summary: str
    answer: tuple[int, str]
    errors: tuple[int, ...]
    body: str | None = None
    query: str | None = None


# fmt: off
OPERATIONS: tuple[Operation, ...] = (
    Operation("post", "/v1/viewer/studies", "create", "Create a study",
              (201, "study"), CREATE + BODY, body="study-create-request"),
    Operation("get", "/v1/viewer/studies", "list", "List studies, newest first, a page at a time",
              (200, "study-list-page"), LIST, query="study-list-query"),
    Operation("get", "/v1/viewer/studies/{studyId}", "retrieve", "Retrieve a study by id",
              (200, "study"), FIND),
    Operation("patch", "/v1/viewer/studies/{studyId}", "update",
              "Update a study; a field left out is left as it is",
              (200, "study"), FIND + BODY, body="study-update-request"),
    Operation("get", "/v1/viewer/studies/by-uid/{studyInstanceUid}", "retrieve_by_uid",
              "Retrieve a study by Study Instance UID", (200, "study"), FIND),
    Operation("post", "/v1/viewer/studies/cancel", "cancel", "Cancel a study",
              (200, "study-cancel-response"), FIND + BODY, body="study-selector"),
    Operation("post", "/v1/viewer/studies/uncancel", "uncancel", "Uncancel a study",
              (200, "study-cancel-response"), FIND + BODY, body="study-selector"),
    Operation("post", "/v1/viewer/studies/reroute-url", "reroute_url",
              "Make a short-lived URL that opens the study in the Viewer",
              (200, "study-reroute-url-response"), FIND + BODY, body="study-selector"),
)
# fmt: on


def build_openapi(contract: Contract) -> dict[str, Any]:
    """Every schema document becomes a component; references are rewritten to point at them."""
    refs = _References(contract)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, refs)
    paths.update(_viewer_page(contract))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Avara Viewer API (avara-mock)",
            "version": _version(),
            "description": "The viewer.studies endpoints as avara-mock serves them, "
            "generated from its schemas/. x-rules annotations name each rule and tag it "
            "stated or inferred; x-stateful-rules name the rules that need the store.",
        },
        "servers": [{"url": "http://127.0.0.1:4010"}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": RESOURCE, "description": "The calls of the SDK's client.viewer.studies."},
            {"name": MOCK_TAG, "description": "Served by the mock, not part of Avara's API."},
        ],
        "paths": paths,
        "components": {
            "schemas": refs.components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


class _References:
    """Rewrites the schemas' ``urn:`` references into ``#/components/schemas/`` ones."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
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
        for doc in self.contract.documents.values():
            named = dict(doc.get("$defs", {}))
            if doc.get("type") or doc.get("properties"):
                named[doc["title"]] = {
                    k: v for k, v in doc.items() if k not in ("$schema", "$id", "$defs", "x-sdk")
                }
            for name, schema in named.items():
                if name in schemas:
                    raise ValueError(f"two schemas of schemas/ are both named {name!r}")
                schemas[name] = self.rewrite(schema)
        return schemas

    def _rewrite_refs(self, node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                document, _, pointer = ref.partition("#")
                if pointer.startswith("/$defs/"):
                    node["$ref"] = COMPONENTS + pointer.removeprefix("/$defs/")
                else:
                    node["$ref"] = COMPONENTS + self.titles[document.removeprefix(ID_PREFIX)]
            for child in node.values():
                self._rewrite_refs(child)
        elif isinstance(node, list):
            for child in node:
                self._rewrite_refs(child)


def _operation(operation: Operation, refs: _References) -> dict[str, Any]:
    status, answer = operation.answer
    parameters = [
        _parameter(refs, PATH_PARAMETERS, name, "path", required=True)
        for name in PARAMETER.findall(operation.path)
    ]
    if operation.query:
        query = refs.contract.documents[operation.query]
        required = query.get("required", [])
        parameters += [
            _parameter(refs, operation.query, name, "query", required=name in required)
            for name in query["properties"]
        ]
    described: dict[str, Any] = {
        "operationId": f"{RESOURCE}.{operation.name}",
        "summary": operation.summary,
        "tags": [RESOURCE],
    }
    if parameters:
        described["parameters"] = parameters
    if operation.body:
        described["requestBody"] = {"required": True, **_json(refs.component(operation.body))}
    described["responses"] = {
        str(status): {"description": refs.titles[answer], **_json(refs.component(answer))},
        **{str(code): _error(refs, code) for code in operation.errors},
    }
    return described


def _parameter(
    refs: _References, document: str, name: str, where: str, *, required: bool
) -> dict[str, Any]:
    """A parameter from a property of a schema document, described by it."""
    schema = refs.contract.documents[document]["properties"][name]
    parameter = {"name": name, "in": where, "required": required}
    description = _description(refs.contract.resolved(document)["properties"][name])
    if description:
        parameter["description"] = description
    return {**parameter, "schema": refs.rewrite(schema)}


def _description(schema: dict[str, Any]) -> str | None:
    """A resolved schema's description, else that of the first ``allOf`` member with one."""
    found = schema.get("description")
    for member in schema.get("allOf", []):
        found = found or member.get("description")
    return found if isinstance(found, str) else None


def _json(schema: dict[str, str]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(refs: _References, status: int) -> dict[str, Any]:
    return {"description": ERRORS[status], **_json(refs.component("error"))}


def _viewer_page(contract: Contract) -> dict[str, Any]:
    """The page a reroute URL opens: the mock's own, for offline browser flows."""
    lifetime = contract.stateful_rule(*TOKEN_LIFETIME)
    html = {"text/html": {"schema": {"type": "string"}}}
    return {
        f"{VIEW_PATH}{{token}}": {
            "get": {
                "summary": "The page a reroute URL opens (served by avara-mock, not by Avara)",
                "tags": [MOCK_TAG],
                "security": [],
                "parameters": [
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "description": f"The token of a reroute_url answer: {lifetime.message}.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {"description": "A small HTML page of the study.", "content": html},
                    "404": {"description": "The token is unknown or expired.", "content": html},
                },
            }
        }
    }


def _version() -> str:
    try:
        return version("avara-mock")
    except PackageNotFoundError:
        return "0+unknown"
