"""Bearer authentication: 401 with a JSON error that says what to send."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from contract_tests.create.cases import minimal
from mockserver import Settings, create_app
from mockserver.errors import Unauthorized
from mockserver.http.auth import Authenticator

URL = "/v1/viewer/studies"


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "Missing Authorization header"),
        ({"Authorization": "Bearer "}, "empty"),
        ({"Authorization": "Bearer"}, "empty"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer scheme"),
        ({"Authorization": "sk-live-123"}, "Bearer scheme"),
    ],
)
def test_auth_missing_or_malformed_bearer_is_401(headers: dict[str, str], needle: str) -> None:
    with TestClient(create_app()) as client:
        response = client.post(URL, json=minimal(), headers=headers)
        retrieve = client.get(f"{URL}/stu_{'0' * 32}", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"
    assert needle in response.json()["error"]["message"]
    assert retrieve.status_code == 401


def test_auth_any_non_empty_key_is_accepted_by_default() -> None:
    assert Authenticator().key(b"Bearer anything") == "anything"
    assert Authenticator().key(b"bearer  spaced ") == "spaced"


def test_auth_api_keys_restrict_the_accepted_keys() -> None:
    with TestClient(create_app(Settings(api_keys=("good", "also-good")))) as client:
        bad = client.post(URL, json=minimal(), headers={"Authorization": "Bearer other"})
        good = client.post(URL, json=minimal(), headers={"Authorization": "Bearer also-good"})
    assert bad.status_code == 401
    assert "--api-key" in bad.json()["error"]["message"]
    assert good.status_code == 201


def test_auth_runs_before_the_body_is_read() -> None:
    with TestClient(create_app()) as client:
        response = client.post(URL, content=b"{", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401


def test_auth_error_is_specific() -> None:
    with pytest.raises(Unauthorized):
        Authenticator(["k"]).key(b"Bearer x")
