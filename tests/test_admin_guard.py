"""The guard of /_mock/: open on a loopback mock, refused (403, saying why) on another address
without --admin-token, and with a token only to who shows it. The non-loopback mock is built
in-process from its settings: no test binds anything but 127.0.0.1."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.control.guard import COOKIE, is_loopback
from mockserver.validation import DocumentValidator
from tests.state_world import STUDIES

ADMIN_ROUTES = [
    ("POST", "/_mock/reset"),
    ("GET", "/_mock/state"),
    ("PUT", "/_mock/state"),
    ("GET", "/_mock/requests"),
    ("DELETE", "/_mock/requests"),
    ("POST", "/_mock/faults"),
    ("GET", "/_mock/faults"),
    ("DELETE", "/_mock/faults"),
    ("DELETE", "/_mock/faults/flt_" + "0" * 32),
    ("GET", "/_mock/openapi.json"),
    ("GET", "/_mock/"),
]
CREATE = {"studyInstanceUid": "2.25.1", "severity": "high", "studyDescription": "CT"}


def _client(**options: object) -> TestClient:
    return TestClient(create_app(Settings(**options)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_guard_refuses_every_route_on_an_open_address_without_a_token(
    method: str, path: str
) -> None:
    with _client(host="0.0.0.0") as client:
        answer = client.request(method, path)
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["type"] == "forbidden"
    assert "--admin-token" in error["message"]
    assert "127.0.0.1" in error["message"]
    assert "0.0.0.0" in error["message"]


def test_admin_guard_403_has_the_mock_error_shape(contract: Contract) -> None:
    with _client(host="0.0.0.0") as client:
        body = client.get("/_mock/state").json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message"}
    problems = DocumentValidator(contract, "error").violations(body)
    assert problems == []


def test_admin_guard_leaves_the_api_alone_on_an_open_address() -> None:
    with _client(host="0.0.0.0") as client:
        answer = client.post(STUDIES, json=CREATE, headers={"Authorization": "Bearer k"})
    assert answer.status_code == 201


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_admin_guard_is_open_on_a_loopback_address_without_a_token(host: str) -> None:
    assert is_loopback(host)
    with _client(host=host) as client:
        assert client.get("/_mock/faults").status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "mock.internal", ""])
def test_admin_guard_counts_other_addresses_and_names_as_reachable(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_admin_guard_with_a_token_wants_it_everywhere(host: str) -> None:
    with _client(host=host, admin_token="s3cret") as client:
        missing = client.get("/_mock/faults")
        wrong = client.get("/_mock/faults", headers={"Authorization": "Bearer nope"})
        bearer = client.get("/_mock/faults", headers={"Authorization": "Bearer s3cret"})
        header = client.get("/_mock/faults", headers={"X-Avara-Mock-Token": "s3cret"})
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorized"
        assert "--admin-token" in refused.json()["error"]["message"]
    assert bearer.status_code == header.status_code == 200


def test_admin_guard_token_in_the_query_sets_a_cookie_that_opens_the_next_pages() -> None:
    with _client(host="0.0.0.0", admin_token="a b;c") as client:
        first = client.get("/_mock/faults", params={"token": "a b;c"})
        assert first.status_code == 200
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/_mock" in cookie
        assert client.get("/_mock/faults").status_code == 200  # the cookie, kept by the client
        client.cookies.clear()
        assert client.get("/_mock/faults").status_code == 401


def test_admin_guard_takes_the_token_out_of_the_query_it_hands_on() -> None:
    with _client(admin_token="t") as client:
        answer = client.get("/_mock/requests", params={"token": "t", "method": "GET"})
    assert answer.status_code == 200
    assert answer.json() == {"requests": []}


def test_admin_guard_does_not_journal_refused_admin_requests() -> None:
    with _client(admin_token="t") as client:
        assert client.get("/_mock/state").status_code == 401
        answer = client.get("/_mock/requests", headers={"X-Avara-Mock-Token": "t"})
    assert answer.json() == {"requests": []}
