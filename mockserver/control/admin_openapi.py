"""``GET /_mock/openapi.json``: the control plane's own OpenAPI 3.1 document.

Built from the ``mock-*`` schema documents and the Viewer documents they refer to (a state
document holds Studies, Users and Invitations), so it cannot drift from what the admin routes
validate; only the table of routes below is written by hand. The public ``/openapi.json``
leaves all of this out: the control plane is not part of the Avara API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.contract import ID_PREFIX, Contract
from mockserver.openapi import References

TAG = "avara-mock control plane"
ERROR = "error"
STATE, FAULT, JOURNAL_QUERY = "mock-state", "mock-fault", "mock-journal-query"
SUCCESS: dict[str, Any] = {
    "type": "object",
    "required": ["success"],
    "properties": {"success": {"const": True}, "message": {"type": "string"}},
}
ENTRY: dict[str, Any] = {
    "type": "object",
    "description": "One API request as the mock saw it: id (arrival order), at (RFC 3339), "
    "method, path, query (raw), headers (names in lower case, Authorization redacted), body, "
    "status (null: the connection was closed without an answer), answer, durationMs, fault "
    "(the id of the fault that acted on it, or null); truncated when a body passed 64 KiB.",
}
FAULT_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["id", "method", "path", "hits", "fired"],
    "description": "A fault as added (the fields of MockFault, method in upper case), with its "
    "id, how many requests it matched (hits) and how many it acted on (fired).",
    "properties": {
        "id": {"type": "string", "pattern": "^flt_[0-9a-f]{32}$"},
        "hits": {"type": "integer", "minimum": 0},
        "fired": {"type": "integer", "minimum": 0},
    },
}


@dataclass(frozen=True)
class AdminOperation:
    """One admin route: its request body and its answer are schema documents (by name) or
    inline schemas; ``errors`` are the statuses it may answer besides the guard's."""

    method: str
    path: str
    summary: str
    answer: tuple[int, str | dict[str, Any]]
    body: str | None = None
    query: str | None = None
    errors: tuple[tuple[int, str], ...] = ()


STATELESS = (409, "The mock runs stateless: it stores nothing, so it has no state.")
INVALID = (400, "The document breaks rules of its schema: error.errors names every field.")
# fmt: off
OPERATIONS: tuple[AdminOperation, ...] = (
    AdminOperation("post", "/_mock/reset", "Back to the start state (the seeded clinic and "
                   "clock, or the --scenario document); clears faults and the journal",
                   (200, SUCCESS), errors=(STATELESS,)),
    AdminOperation("get", "/_mock/state", "The whole world as one document",
                   (200, STATE), errors=(STATELESS,)),
    AdminOperation("put", "/_mock/state", "Replace the whole world; a bad document changes "
                   "nothing", (200, SUCCESS), body=STATE, errors=(INVALID, STATELESS)),
    AdminOperation("get", "/_mock/requests", "The request journal, oldest first",
                   (200, {"type": "object", "required": ["requests"],
                          "properties": {"requests": {"type": "array", "items": ENTRY}}}),
                   query=JOURNAL_QUERY, errors=((400, "A filter is not valid."),)),
    AdminOperation("delete", "/_mock/requests", "Empty the journal (ids go on increasing)",
                   (200, SUCCESS)),
    AdminOperation("post", "/_mock/faults", "Add a fault", (201, FAULT_ANSWER), body=FAULT,
                   errors=(INVALID,)),
    AdminOperation("get", "/_mock/faults", "The active faults, oldest first",
                   (200, {"type": "object", "required": ["faults"],
                          "properties": {"faults": {"type": "array", "items": FAULT_ANSWER}}})),
    AdminOperation("delete", "/_mock/faults", "Remove every fault", (200, SUCCESS)),
    AdminOperation("delete", "/_mock/faults/{faultId}", "Remove one fault; answers it",
                   (200, FAULT_ANSWER), errors=((404, "No active fault has this id."),)),
)
# fmt: on
PAGES = (
    ("/_mock/", "The dashboard: studies, users, latest requests and active faults (HTML)"),
    ("/_mock/openapi.json", "This document"),
)


def build_admin_openapi(contract: Contract) -> dict[str, Any]:
    """The document: every admin route, components from the control documents down."""
    refs = References(contract, _reachable(contract, [*contract.control_documents, ERROR]))
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, refs)
    for path, summary in PAGES:
        media = "application/json" if path.endswith(".json") else "text/html"
        paths[path] = {
            "get": {
                "summary": summary,
                "tags": [TAG],
                "responses": {"200": {"description": summary, "content": {media: {}}}},
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "avara-mock control plane",
            "version": "1",
            "description": "The routes under /_mock/ with which tests and people set up and "
            "watch the mock: its state, its request journal and its faults. Not part of the "
            "Avara API (see /openapi.json for that). Open without a token when the mock binds "
            "a loopback address; with --admin-token, send it as a bearer token or in "
            "X-Avara-Mock-Token.",
        },
        "servers": [{"url": "http://127.0.0.1:4010"}],
        "security": [{}, {"adminToken": []}, {"adminHeader": []}],
        "tags": [{"name": TAG, "description": "Served by avara-mock about itself."}],
        "paths": paths,
        "components": {
            "schemas": refs.components(),
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer"},
                "adminHeader": {"type": "apiKey", "in": "header", "name": "X-Avara-Mock-Token"},
            },
        },
    }


def _operation(operation: AdminOperation, refs: References) -> dict[str, Any]:
    status, answer = operation.answer
    schema = refs.component(answer) if isinstance(answer, str) else refs.rewrite(answer)
    described: dict[str, Any] = {"summary": operation.summary, "tags": [TAG]}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_parameters(operation.path)
    ]
    if operation.query:
        for name, spec in refs.contract.documents[operation.query]["properties"].items():
            query = {k: v for k, v in spec.items() if not k.startswith("x-")}
            parameter = {"name": name, "in": "query", "required": False}
            if "description" in query:
                parameter["description"] = query.pop("description")
            parameters.append({**parameter, "schema": refs.rewrite(query)})
    if parameters:
        described["parameters"] = parameters
    if operation.body:
        described["requestBody"] = {"required": True, **_json(refs.component(operation.body))}
    errors = dict(operation.errors)
    errors[401] = "--admin-token is set and the request does not show it."
    errors[403] = "The mock binds an address others reach and has no --admin-token."
    error = refs.component(ERROR)
    described["responses"] = {
        str(status): {"description": operation.summary, **_json(schema)},
        **{str(code): {"description": errors[code], **_json(error)} for code in sorted(errors)},
    }
    return described


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _reachable(contract: Contract, roots: list[str]) -> list[str]:
    """The documents named and every one they refer to, in a stable order."""
    found: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in found:
            continue
        found.append(name)
        todo.extend(_referred(contract.documents[name]))
    return sorted(found)


def _referred(node: Any) -> list[str]:
    if isinstance(node, dict):
        names = []
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(ID_PREFIX):
            names.append(ref.removeprefix(ID_PREFIX).partition("#")[0])
        for child in node.values():
            names.extend(_referred(child))
        return names
    if isinstance(node, list):
        return [name for child in node for name in _referred(child)]
    return []
