"""Hostile bodies: each gets a clear 4xx naming the problem, and the mock keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from contract_tests.create.cases import minimal
from mockserver import Settings, create_app
from mockserver.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from mockserver.http.body import check_media_type, parse_json, read_body
from tests.conftest import AUTH, fresh_uid

URL = "/v1/viewer/studies"
JSON_TYPE = {"Content-Type": "application/json"}


def _post_raw(client: TestClient, content: bytes, headers: dict[str, str] | None = None) -> Any:
    response = client.post(
        URL, content=content, headers=headers if headers is not None else JSON_TYPE
    )
    assert response.headers["content-type"] == "application/json"
    return response


def _still_serves(client: TestClient) -> None:
    response = client.post(URL, json=minimal(studyInstanceUid=fresh_uid()))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{", "not valid JSON"),
        (b'{"severity": "high",}', "not valid JSON"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'{"studyDescription": "\xff\xfe"}', "UTF-8"),
        (b'{"studyDescription": "\\ud800"}', "surrogate"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"NaN", "not valid JSON"),
    ],
)
def test_body_malformed_json_is_refused_with_400(
    client: TestClient, content: bytes, needle: str
) -> None:
    response = _post_raw(client, content)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request"
    assert needle in response.json()["error"]["message"]
    _still_serves(client)


@pytest.mark.parametrize("content", [b"[]", b'"x"', b"3", b"null", b"true"])
def test_body_json_that_is_not_an_object_names_the_body(client: TestClient, content: bytes) -> None:
    response = _post_raw(client, content)
    assert response.status_code == 400
    (error,) = response.json()["error"]["errors"]
    assert (error["field"], error["rule"]) == ("", "body.type")
    assert error["message"].startswith("the request body must be a JSON object")


def test_body_deep_nesting_inside_the_limit_is_refused_by_type(client: TestClient) -> None:
    deep = b'{"severity":"high","studyDescription":"x","studyInstanceUid":"1.2","metadata":{"k":'
    deep += b"[" * 1000 + b"]" * 1000 + b"}}"
    response = _post_raw(client, deep)
    assert response.status_code == 400
    (error,) = response.json()["error"]["errors"]
    assert (error["field"], error["rule"]) == ("metadata.k", "metadata.value-type")
    assert len(response.content) < 2000


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "no Content-Type"),
        ({"Content-Type": "text/plain"}, "'text/plain' is not supported"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "not supported"),
        ({"Content-Type": "application/json; charset=latin-1"}, "charset"),
    ],
)
def test_body_wrong_or_missing_content_type_is_415(
    client: TestClient, headers: dict[str, str], needle: str
) -> None:
    response = _post_raw(client, b'{"severity": "high"}', headers)
    assert response.status_code == 415
    assert response.json()["error"]["type"] == "unsupported_media_type"
    assert needle in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        'application/json;charset="UTF-8"',
    ],
)
def test_body_json_media_type_variants_are_accepted(value: str) -> None:
    check_media_type(value.encode())


def test_body_over_limit_by_content_length_is_413(client: TestClient) -> None:
    limit = Settings().max_body_bytes
    response = _post_raw(client, b" " * (limit + 1))
    assert response.status_code == 413
    assert str(limit) in response.json()["error"]["message"]
    _still_serves(client)


def test_body_at_limit_is_read() -> None:
    limit = Settings().max_body_bytes
    body = b'{"a": "' + b"x" * (limit - 9) + b'"}'
    assert len(body) == limit

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    assert anyio.run(read_body, [], receive, limit) == body


def test_body_streamed_over_limit_stops_reading_at_the_limit() -> None:
    chunk = b"x" * 65536
    served = 0

    async def receive() -> dict[str, Any]:
        nonlocal served
        served += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    with pytest.raises(PayloadTooLarge):
        anyio.run(read_body, [], receive, 1024 * 1024)
    assert served == 17  # 16 chunks fill 1 MiB exactly; the 17th passes it and reading stops


def test_body_client_disconnect_is_a_clean_error() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(InvalidRequest, match="disconnected"):
        anyio.run(read_body, [], receive, 100)


def test_body_parse_json_error_says_where() -> None:
    with pytest.raises(InvalidRequest, match="line 1, column"):
        parse_json(b'{"a": }')


def test_body_unsupported_media_type_is_specific() -> None:
    with pytest.raises(UnsupportedMediaType):
        check_media_type(b"text/json")


@pytest.fixture
def small_limit_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_body_bytes=64)), headers=AUTH) as client:
        yield client


def test_body_limit_is_a_setting(small_limit_client: TestClient) -> None:
    response = small_limit_client.post(URL, json=minimal(studyDescription="x" * 100))
    assert response.status_code == 413
    assert small_limit_client.post(URL, json={"severity": "high"}).status_code == 400
