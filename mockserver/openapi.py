"""The OpenAPI 3.1 document of the mock, built from schemas/ (never a second copy by hand)."""

from __future__ import annotations

import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mockserver.contract import ID_PREFIX, Contract

COMPONENTS = "#/components/schemas/"


def build_openapi(contract: Contract) -> dict[str, Any]:
    """Every schema document becomes a component; references are rewritten to point at them."""
    titles = {name: doc["title"] for name, doc in contract.documents.items()}
    schemas: dict[str, Any] = {}
    for doc in contract.documents.values():
        for def_name, definition in doc.get("$defs", {}).items():
            schemas[def_name] = _rewrite(definition, titles)
        if doc.get("type") or doc.get("properties"):
            body = {k: v for k, v in doc.items() if k not in ("$schema", "$id", "$defs")}
            schemas[doc["title"]] = _rewrite(body, titles)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Avara Viewer API (avara-mock)",
            "version": _version(),
            "description": "The viewer.studies endpoints as avara-mock serves them, "
            "generated from its schemas/. x-rules annotations name each rule and tag it "
            "stated or inferred.",
        },
        "servers": [{"url": "http://127.0.0.1:4010"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _rewrite(node: Any, titles: dict[str, str]) -> Any:
    node = copy.deepcopy(node)
    _rewrite_refs(node, titles)
    return node


def _rewrite_refs(node: Any, titles: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            document, _, pointer = ref.partition("#")
            if pointer.startswith("/$defs/"):
                node["$ref"] = COMPONENTS + pointer.removeprefix("/$defs/")
            else:
                node["$ref"] = COMPONENTS + titles[document.removeprefix(ID_PREFIX)]
        for child in node.values():
            _rewrite_refs(child, titles)
    elif isinstance(node, list):
        for child in node:
            _rewrite_refs(child, titles)


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": COMPONENTS + schema}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "Error", **_json("Error")} for status in statuses}


def _paths() -> dict[str, Any]:
    study = {"description": "The study", **_json("Study")}
    return {
        "/v1/viewer/studies": {
            "post": {
                "operationId": "viewer.studies.create",
                "summary": "Create a study",
                "requestBody": {"required": True, **_json("StudyCreateRequest")},
                "responses": {"201": study, **_errors(400, 401, 409, 413, 415)},
            }
        },
        "/v1/viewer/studies/{studyId}": {
            "get": {
                "operationId": "viewer.studies.retrieve",
                "summary": "Retrieve a study by id",
                "parameters": [_path_param("studyId", "StudyId")],
                "responses": {"200": study, **_errors(401, 404)},
            }
        },
        "/v1/viewer/studies/by-uid/{studyInstanceUid}": {
            "get": {
                "operationId": "viewer.studies.retrieve_by_uid",
                "summary": "Retrieve a study by Study Instance UID",
                "parameters": [_path_param("studyInstanceUid", "DicomUid")],
                "responses": {"200": study, **_errors(401, 404)},
            }
        },
    }


def _path_param(name: str, schema: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"$ref": COMPONENTS + schema}}


def _version() -> str:
    try:
        return version("avara-mock")
    except PackageNotFoundError:
        return "0+unknown"
