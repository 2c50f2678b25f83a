"""The OpenAPI document: valid, in step with the app's routes, the SDK's calls and schemas/."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from avara import APIStatusError, Avara
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.contract import Contract
from mockserver.openapi import build_openapi

COMPONENTS = "#/components/schemas/"
SELF = "/openapi.json"
PAGES = {
    "/viewer/studies/{token}": "study-reroute-url-response",
    "/viewer/sessions/{token}": "ephemeral-session-create-response",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PARAMETER = re.compile(r"\{[^}]*\}")
STUDIES, USERS = "/v1/viewer/studies", "/v1/viewer/users"
INVITATIONS = USERS + "/invitations"
SESSIONS = "/v1/viewer/ephemeral-sessions"
CLIENT = Avara(api_key="x", base_url="http://127.0.0.1:9")
RESOURCES = (
    "viewer.studies",
    "viewer.users",
    "viewer.users.invitations",
    "viewer.ephemeral_sessions",
)
PATH_DOCUMENTS = {
    "viewer.studies": "study-path",
    "viewer.users": "user-path",
    "viewer.users.invitations": "invitation-path",
}
LIST_QUERIES = {
    STUDIES: "study-list-query",
    USERS: "user-list-query",
    INVITATIONS: "invitation-list-query",
}

# What the brief and the SDK say each call sends and answers: (request body, 2xx status, answer).
EXPECTED = {
    ("post", STUDIES): ("StudyCreateRequest", "201", "Study"),
    ("get", STUDIES): (None, "200", "StudyListPage"),
    ("get", STUDIES + "/{studyId}"): (None, "200", "Study"),
    ("patch", STUDIES + "/{studyId}"): ("StudyUpdateRequest", "200", "Study"),
    ("get", STUDIES + "/by-uid/{studyInstanceUid}"): (None, "200", "Study"),
    ("post", STUDIES + "/cancel"): ("StudySelector", "200", "StudyCancelResponse"),
    ("post", STUDIES + "/uncancel"): ("StudySelector", "200", "StudyCancelResponse"),
    ("post", STUDIES + "/reroute-url"): ("StudySelector", "200", "StudyRerouteURLResponse"),
    ("get", USERS + "/{userId}"): (None, "200", "User"),
    ("patch", USERS + "/{userId}"): ("UserUpdateParams", "200", "User"),
    ("get", USERS): (None, "200", "SyncCursorUsers"),
    ("post", USERS): ("UserInviteParams", "200", "UserInviteResponse"),
    ("post", USERS + "/reactivate"): ("UserAccessParams", "200", "UserAccessResponse"),
    ("post", USERS + "/revoke-access"): ("UserAccessParams", "200", "UserAccessResponse"),
    ("get", INVITATIONS + "/{invitationId}"): (None, "200", "Invitation"),
    ("patch", INVITATIONS + "/{invitationId}"): ("InvitationUpdateParams", "200", "Invitation"),
    ("get", INVITATIONS): (None, "200", "SyncCursorInvitations"),
    ("post", INVITATIONS + "/revoke"): (
        "InvitationRevokeParams",
        "200",
        "InvitationRevokeResponse",
    ),
    ("post", SESSIONS): (
        "EphemeralSessionCreateParams",
        "200",
        "EphemeralSessionCreateResponse",
    ),
}
# Which calls may find nothing (404) or conflict (409): the brief's reading of the schemas' rules.
NOT_FOUND = {
    "viewer.studies." + name
    for name in ("retrieve", "update", "retrieve_by_uid", "cancel", "uncancel", "reroute_url")
} | {
    "viewer.users.retrieve",
    "viewer.users.update",
    "viewer.users.reactivate",
    "viewer.users.revoke_access",
    "viewer.users.invitations.retrieve",
    "viewer.users.invitations.update",
    "viewer.users.invitations.revoke",
}
CONFLICT = {
    "viewer.studies.create",
    "viewer.users.update",
    "viewer.users.invite",
    "viewer.users.revoke_access",
    "viewer.users.invitations.update",
    "viewer.users.invitations.revoke",
}
RULE_ID = re.compile(r"`([^`]+)`")


@pytest.fixture(scope="module")
def document(contract: Contract) -> dict[str, Any]:
    """The document as built from schemas/."""
    return build_openapi(contract)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def _refs(node: Any) -> list[str]:
    """Every ``$ref`` under a node, depth first."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for child in node.values() for ref in _refs(child)]
    if isinstance(node, list):
        return [ref for child in node for ref in _refs(child)]
    return []


def _json_ref(part: dict[str, Any]) -> str:
    return str(part["content"]["application/json"]["schema"]["$ref"])


def _api_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The calls of Avara's API, the mock's own pages left out."""
    for method, path, operation in _operations(document):
        if path not in PAGES:
            yield method, path, operation


def _resource(operation: dict[str, Any]) -> str:
    return str(operation["operationId"]).rpartition(".")[0]


def _sdk(dotted: str, client: Any = CLIENT) -> Any:
    """The SDK client's attribute at a dotted name: an operationId names its method."""
    return functools.reduce(getattr, dotted.split("."), client)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _sent(operation_id: str, *args: str) -> httpx.Request:
    """The one request an SDK method sends, its required keywords given as None."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(418, json={})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = Avara(api_key="x", base_url="http://127.0.0.1:9", http_client=http, max_retries=0)
        call = _sdk(operation_id, client)
        required = {
            p.name: None
            for p in inspect.signature(call).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.default is p.empty
        }
        with pytest.raises(APIStatusError):
            call(*args, **required)
    (request,) = seen
    return request


def test_openapi_served_document_is_valid(client: TestClient) -> None:
    response = client.get(SELF)
    assert response.status_code == 200
    document = response.json()
    validate(document)
    create = document["paths"][STUDIES]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StudyCreateRequest"
    }
    assert "Study" in document["components"]["schemas"]
    assert "urn:" not in response.text


def test_openapi_every_reference_names_a_component(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document references no component"
    assert {ref for ref in refs if ref.removeprefix(COMPONENTS) not in schemas} == set()


def test_openapi_paths_are_the_routes_of_the_app(document: dict[str, Any]) -> None:
    served: dict[str, set[str]] = {}
    for route in create_app().routes:
        assert isinstance(route, Route), f"{route!r} is not a Route; teach this test to read it"
        if route.path == SELF or route.path.startswith("/_mock"):  # the control plane's own
            continue
        methods = {method.lower() for method in route.methods or ()}
        if "get" in methods:
            methods.discard("head")  # Starlette adds HEAD to every GET route
        served.setdefault(PARAMETER.sub("{}", route.path), set()).update(methods)
    documented = {
        PARAMETER.sub("{}", path): {method for method in item if method in HTTP_METHODS}
        for path, item in document["paths"].items()
    }
    assert served == documented


def test_openapi_operation_ids_are_the_sdk_resources_methods(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(document) if "operationId" in op]
    assert len(ids) == len(set(ids)) == 19
    documented: dict[str, set[str]] = {}
    for operation_id in ids:
        resource, _, name = operation_id.rpartition(".")
        documented.setdefault(resource, set()).add(name)
    assert set(documented) == set(RESOURCES)
    for resource, names in documented.items():
        sdk = _sdk(resource)
        methods = {
            n for n in dir(sdk) if not n.startswith("_") and inspect.ismethod(getattr(sdk, n))
        }
        assert names == methods, resource


def test_openapi_operations_are_what_the_sdk_sends(document: dict[str, Any]) -> None:
    for method, path, operation in _api_operations(document):
        call = _sdk(operation["operationId"])
        placeholders = [name[1:-1] for name in PARAMETER.findall(path)]
        positional = [
            p.name
            for p in inspect.signature(call).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        assert [_camel(name) for name in positional] == placeholders, operation["operationId"]
        request = _sent(operation["operationId"], *placeholders)
        sent_path = path.replace("{", "").replace("}", "")
        assert (request.method.lower(), request.url.path) == (method, sent_path)


def test_openapi_operations_are_tagged_by_who_serves_them(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if path in PAGES:
            assert (operation["tags"], "operationId" in operation) == (["avara-mock"], False)
        else:
            assert operation["tags"] == [_resource(operation)], (method, path)
    assert [tag["name"] for tag in document["tags"]] == [*RESOURCES, "avara-mock"]


@pytest.mark.parametrize(("path", "query"), LIST_QUERIES.items())
def test_openapi_list_parameters_are_the_query_schema_properties(
    document: dict[str, Any], contract: Contract, path: str, query: str
) -> None:
    schemas = document["components"]["schemas"]
    properties = contract.documents[query]["properties"]
    parameters = document["paths"][path]["get"]["parameters"]
    assert [p["name"] for p in parameters] == list(properties)
    for parameter in parameters:
        prop = properties[parameter["name"]]
        assert (parameter["in"], parameter["required"]) == ("query", False)
        assert parameter["schema"]["x-query"] == prop["x-query"]
        assert parameter["schema"].get("x-filter") == prop.get("x-filter")
        assert [r.rsplit("/", 1)[1] for r in _refs(parameter["schema"])] == [
            r.rsplit("/", 1)[1] for r in _refs(prop)
        ]
        own = prop.get("description")
        members = [prop, *prop.get("allOf", [])]
        linked = [
            schemas[m["$ref"].rsplit("/", 1)[1]].get("description") for m in members if "$ref" in m
        ]
        expected = own or next(d for d in linked if d)
        assert parameter["description"] == expected
        comma = prop["x-query"]["read"] == "comma"
        assert (parameter.get("style"), parameter.get("explode")) == (
            ("form", False) if comma else (None, None)
        ), parameter["name"]
    limit = next(p for p in parameters if p["name"] == "limit")
    limit_schema = limit["schema"]
    if "$ref" in limit_schema:
        limit_schema = schemas[limit_schema["$ref"].rsplit("/", 1)[1]]
    assert limit_schema["maximum"] == contract.rule_value(query, "limit.maximum")


def test_openapi_invitation_status_list_is_sent_comma_separated(document: dict[str, Any]) -> None:
    parameters = document["paths"][INVITATIONS]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    assert (status["style"], status["explode"]) == ("form", False)  # status=sent,revoked
    assert status["schema"]["type"] == "array"


def test_openapi_path_parameters_are_the_path_schema_properties(
    document: dict[str, Any], contract: Contract
) -> None:
    seen: dict[str, set[str]] = {}
    for _, path, operation in _api_operations(document):
        in_path = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert [p["name"] for p in in_path] == [name[1:-1] for name in PARAMETER.findall(path)]
        if not in_path:
            continue
        resource = _resource(operation)
        properties = contract.documents[PATH_DOCUMENTS[resource]]["properties"]
        for parameter in in_path:
            seen.setdefault(resource, set()).add(parameter["name"])
            assert parameter["required"] is True
            assert [r.rsplit("/", 1)[1] for r in _refs(parameter["schema"])] == [
                r.rsplit("/", 1)[1] for r in _refs(properties[parameter["name"]])
            ]
            assert parameter["description"]
    assert seen == {
        resource: set(contract.documents[name]["properties"])
        for resource, name in PATH_DOCUMENTS.items()
    }


def test_openapi_bodies_and_answers_reference_their_components(document: dict[str, Any]) -> None:
    found = {}
    for method, path, operation in _api_operations(document):
        body = operation.get("requestBody")
        answers = {code: a for code, a in operation["responses"].items() if code.startswith("2")}
        assert len(answers) == 1, (method, path)
        ((status, answer),) = answers.items()
        found[method, path] = (
            _json_ref(body).removeprefix(COMPONENTS) if body else None,
            status,
            _json_ref(answer).removeprefix(COMPONENTS),
        )
    assert found == EXPECTED


def test_openapi_errors_reference_the_error_component(document: dict[str, Any]) -> None:
    for method, path, operation in _api_operations(document):
        operation_id = operation["operationId"]
        errors = {code: a for code, a in operation["responses"].items() if code[0] in "45"}
        assert {_json_ref(answer) for answer in errors.values()} == {COMPONENTS + "Error"}
        has_body = "requestBody" in operation
        assert {"400", "401"} <= set(errors), (method, path)
        assert ("404" in errors) == (operation_id in NOT_FOUND), operation_id
        assert ("409" in errors) == (operation_id in CONFLICT), operation_id
        assert ("413" in errors, "415" in errors) == (has_body, has_body), (method, path)
        assert set(errors) <= {"400", "401", "404", "409", "413", "415"}, operation_id


def test_openapi_store_errors_are_described_by_their_rules(
    document: dict[str, Any], contract: Contract
) -> None:
    """A 404 or 409 of users, invitations lists the rules that answer it, with their messages."""
    rules = {
        rule_id: (spec["status"], spec["message"])
        for doc in contract.viewer_documents.values()
        for rule_id, spec in doc.get("x-stateful-rules", {}).items()
        if "status" in spec
    }
    named: set[str] = set()
    for _, _, operation in _api_operations(document):
        if _resource(operation) == "viewer.studies":
            continue
        for code in ("404", "409"):
            if code in operation["responses"]:
                description = operation["responses"][code]["description"]
                ids = RULE_ID.findall(description)
                assert ids, operation["operationId"]
                for rule_id in ids:
                    assert rules[rule_id][0] == int(code), rule_id
                    assert rules[rule_id][1] in description
                named.update(ids)
    assert named == set(rules)
    revoke = document["paths"][USERS + "/revoke-access"]["post"]["responses"]["409"]
    reactivate = document["paths"][USERS + "/reactivate"]["post"]["responses"]
    assert ("revokeAccess.owner" in revoke["description"], "409" in reactivate) == (True, False)


@pytest.mark.parametrize(("path", "answer"), PAGES.items())
def test_openapi_viewer_pages_answer_html_without_auth(
    document: dict[str, Any], contract: Contract, path: str, answer: str
) -> None:
    page = document["paths"][path]["get"]
    assert page["security"] == []
    assert [p["name"] for p in page["parameters"]] == ["token"]
    (lifetime,) = (
        spec
        for spec in contract.documents[answer]["x-stateful-rules"].values()
        if "seconds" in spec
    )
    assert lifetime["message"] in page["parameters"][0]["description"]
    assert set(page["responses"]) == {"200", "404"}
    for response in page["responses"].values():
        assert list(response["content"]) == ["text/html"]
