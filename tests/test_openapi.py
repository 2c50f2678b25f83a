"""The OpenAPI document: valid, in step with the app's routes, the SDK's calls and schemas/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from avara import Avara
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.contract import Contract
from mockserver.openapi import build_openapi

COMPONENTS = "#/components/schemas/"
SELF = "/openapi.json"
PAGE = "/viewer/studies/{token}"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PARAMETER = re.compile(r"\{[^}]*\}")
STUDIES = "/v1/viewer/studies"

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
}


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
        if route.path == SELF:
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


def test_openapi_operation_ids_are_the_sdk_studies_methods(document: dict[str, Any]) -> None:
    studies = Avara(api_key="x", base_url="http://127.0.0.1:9").viewer.studies
    ids = [op["operationId"] for _, _, op in _operations(document) if "operationId" in op]
    assert len(ids) == len(set(ids))
    names = {operation_id.removeprefix("viewer.studies.") for operation_id in ids}
    assert all(operation_id.startswith("viewer.studies.") for operation_id in ids)
    assert all(callable(getattr(studies, name, None)) for name in names), names
    public = {name for name in dir(studies) if not name.startswith(("_", "with_"))}
    assert names == public


def test_openapi_operations_are_tagged_by_who_serves_them(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if path == PAGE:
            assert (operation["tags"], "operationId" in operation) == (["avara-mock"], False)
        else:
            assert operation["tags"] == ["viewer.studies"], (method, path)
    assert {tag["name"] for tag in document["tags"]} == {"viewer.studies", "avara-mock"}


def test_openapi_list_parameters_are_the_query_schema_properties(
    document: dict[str, Any], contract: Contract
) -> None:
    schemas = document["components"]["schemas"]
    properties = contract.documents["study-list-query"]["properties"]
    parameters = document["paths"][STUDIES]["get"]["parameters"]
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
        expected = own or schemas[prop["$ref"].rsplit("/", 1)[1]]["description"]
        assert parameter["description"] == expected
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"]["maximum"] == contract.rule_value("study-list-query", "limit.maximum")


def test_openapi_path_parameters_are_the_study_path_properties(
    document: dict[str, Any], contract: Contract
) -> None:
    properties = contract.documents["study-path"]["properties"]
    seen = set()
    for _, path, operation in _operations(document):
        if path == PAGE:
            continue
        in_path = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert [p["name"] for p in in_path] == [name[1:-1] for name in PARAMETER.findall(path)]
        for parameter in in_path:
            seen.add(parameter["name"])
            assert parameter["required"] is True
            assert [r.rsplit("/", 1)[1] for r in _refs(parameter["schema"])] == [
                r.rsplit("/", 1)[1] for r in _refs(properties[parameter["name"]])
            ]
            assert parameter["description"]
    assert seen == set(properties)


def test_openapi_bodies_and_answers_reference_their_components(document: dict[str, Any]) -> None:
    found = {}
    for method, path, operation in _operations(document):
        if path == PAGE:
            continue
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
    for method, path, operation in _operations(document):
        if path == PAGE:
            continue
        errors = {code: a for code, a in operation["responses"].items() if code[0] in "45"}
        assert {_json_ref(answer) for answer in errors.values()} == {COMPONENTS + "Error"}
        has_body = "requestBody" in operation
        assert {"400", "401"} <= set(errors), (method, path)
        assert ("404" in errors) == (path != STUDIES), (method, path)  # every other names a study
        assert ("409" in errors) == ((method, path) == ("post", STUDIES))
        assert ("413" in errors, "415" in errors) == (has_body, has_body), (method, path)


def test_openapi_viewer_page_answers_html_without_auth(document: dict[str, Any]) -> None:
    page = document["paths"][PAGE]["get"]
    assert page["security"] == []
    assert [p["name"] for p in page["parameters"]] == ["token"]
    assert set(page["responses"]) == {"200", "404"}
    for answer in page["responses"].values():
        assert list(answer["content"]) == ["text/html"]
