"""The app: create answers, routes, determinism under --seed, and no 5xx on any JSON."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from contract_tests.create.cases import CUSTOMER, USER, minimal
from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.world.clock import SteppingClock
from tests.conftest import AUTH, fresh_uid

URL = "/v1/viewer/studies"


def test_app_create_answers_201_with_a_study_echoing_the_request(
    client: TestClient, contract: Contract
) -> None:
    sent = minimal(
        severity="stat",
        studyDescription="IRM cérébrale \U0001fa7b 脳",
        studyInstanceUid=fresh_uid(),
        assignedTo=USER,
        expressCustomerId=CUSTOMER,
        metadata={"部位": "頭部", "k": "v"},
    )
    response = client.post(URL, json=sent)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    study = response.json()
    assert contract.validator("study").is_valid(study)
    for field in ("severity", "studyDescription", "studyInstanceUid", "metadata"):
        assert study[field] == sent[field]
    assert study["assignedTo"]["userId"] == USER
    assert study["expressCustomer"]["expressCustomerId"] == CUSTOMER
    assert (study["isCancelled"], study["cancelledAt"], study["studyViewerStatus"]) == (
        False,
        None,
        "incomplete",
    )
    assert re.fullmatch(r"stu_[0-9a-f]{32}", study["studyId"])
    created = datetime.fromisoformat(study["createdAt"].replace("Z", "+00:00"))
    assert created.utcoffset() == timezone.utc.utcoffset(None)
    assert study["createdAt"].endswith("Z")


def test_app_create_minimal_has_null_references_and_metadata(client: TestClient) -> None:
    study = client.post(URL, json=minimal(studyInstanceUid=fresh_uid())).json()
    assert study["assignedTo"] is None
    assert study["expressCustomer"] is None
    assert study["metadata"] is None
    assert study["createdByUser"] is None
    assert study["createdByApiKey"]["apiKeyId"]


def test_app_optional_null_fields_are_treated_as_absent(client: TestClient) -> None:
    body = minimal(
        studyInstanceUid=fresh_uid(), assignedTo=None, expressCustomerId=None, metadata=None
    )
    study = client.post(URL, json=body).json()
    assert (study["assignedTo"], study["expressCustomer"], study["metadata"]) == (None, None, None)


def test_app_study_ids_are_unique(client: TestClient) -> None:
    ids = {
        client.post(URL, json=minimal(studyInstanceUid=fresh_uid())).json()["studyId"]
        for _ in range(50)
    }
    assert len(ids) == 50


def test_app_duplicate_uid_is_409_and_the_first_study_is_kept(client: TestClient) -> None:
    uid = fresh_uid()
    first = client.post(URL, json=minimal(studyInstanceUid=uid)).json()
    again = client.post(URL, json=minimal(studyInstanceUid=uid, severity="stat"))
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"
    assert first["studyId"] in again.json()["error"]["message"]
    assert client.get(f"{URL}/by-uid/{uid}").json() == first


def test_app_retrieve_by_id_and_uid_return_the_stored_study(client: TestClient) -> None:
    created = client.post(URL, json=minimal(studyInstanceUid=fresh_uid())).json()
    assert client.get(f"{URL}/{created['studyId']}").json() == created
    assert client.get(f"{URL}/by-uid/{created['studyInstanceUid']}").json() == created
    missing = client.get(f"{URL}/stu_{'0' * 32}")
    assert missing.status_code == 404
    assert "create it first" in missing.json()["error"]["message"]


def test_app_invalid_request_is_400_listing_every_violation(client: TestClient) -> None:
    response = client.post(URL, json={"severity": "HIGH", "metadata": {"k": 1}, "extra": True})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert [(e["field"], e["rule"]) for e in error["errors"]] == [
        ("extra", "body.unknown-field"),
        ("metadata.k", "metadata.value-type"),
        ("severity", "severity.enum"),
        ("studyDescription", "body.required"),
        ("studyInstanceUid", "body.required"),
    ]
    assert error["message"].startswith("The request body has 5 problems:")


def test_app_error_bodies_follow_the_error_schema(client: TestClient, contract: Contract) -> None:
    validator = contract.validator("error")
    answers = [
        client.post(URL, json={"severity": "x"}),
        client.post(URL, content=b"{", headers={"Content-Type": "application/json"}),
        client.post(URL, json=minimal(), headers={"Authorization": ""}),
        client.get("/nowhere"),
        client.delete(URL),
    ]
    assert [a.status_code for a in answers] == [400, 400, 401, 404, 405]
    for answer in answers:
        assert validator.is_valid(answer.json()), answer.text


def test_app_lenient_ignores_unknown_fields() -> None:
    with TestClient(create_app(Settings(lenient=True)), headers=AUTH) as lenient:
        response = lenient.post(URL, json=minimal(studyInstanceUid=fresh_uid(), surprise="x"))
    assert response.status_code == 201
    assert "surprise" not in response.json()


def _session(seed: int) -> list[bytes]:
    with TestClient(create_app(Settings(seed=seed)), headers=AUTH) as test_client:
        bodies = [
            minimal(studyInstanceUid="1.2.3", assignedTo=USER, expressCustomerId=CUSTOMER),
            minimal(studyInstanceUid="1.2.4", metadata={"a": "b"}),
            minimal(studyInstanceUid="1.2.3"),
            {"severity": "bad"},
        ]
        return [test_client.post(URL, json=body).content for body in bodies]


def test_app_same_seed_gives_byte_identical_answers() -> None:
    first, second = _session(42), _session(42)
    assert first == second
    assert _session(43)[0] != first[0]


def test_app_seeded_timestamps_advance_and_are_rfc3339() -> None:
    answers = [orjson.loads(body) for body in _session(1)[:2]]
    assert answers[0]["createdAt"] < answers[1]["createdAt"]
    assert answers[0]["createdAt"] == "2026-01-05T09:00:00.000Z"


def test_app_clock_is_injectable() -> None:
    app = create_app(
        Settings(), clock=SteppingClock(start=datetime(2030, 5, 6, tzinfo=timezone.utc))
    )
    with TestClient(app, headers=AUTH) as test_client:
        study = test_client.post(URL, json=minimal()).json()
    assert study["createdAt"] == "2030-05-06T00:00:00.000Z"


def test_app_apps_do_not_share_state() -> None:
    with (
        TestClient(create_app(), headers=AUTH) as one,
        TestClient(create_app(), headers=AUTH) as two,
    ):
        assert one.post(URL, json=minimal()).status_code == 201
        assert two.post(URL, json=minimal()).status_code == 201


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
request_like = st.fixed_dictionaries(
    {},
    optional={
        "severity": st.sampled_from(["normal", "high", "stat", "HIGH"]) | json_values,
        "studyDescription": st.text() | json_values,
        "studyInstanceUid": st.from_regex(r"\A[0-9.]{0,70}\Z") | json_values,
        "assignedTo": st.from_regex(r"\Ausr_[0-9a-f]{30,34}\Z") | json_values,
        "metadata": st.dictionaries(st.text(max_size=110), st.text(max_size=20), max_size=55)
        | json_values,
        "other": json_values,
    },
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=request_like | json_values)
def test_app_never_answers_5xx_to_any_json(client: TestClient, body: Any) -> None:
    response = client.post(
        URL, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (201, 400, 409)
    assert response.headers["content-type"] == "application/json"
    if response.status_code == 400:
        assert response.json()["error"]["errors"] or "JSON" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/viewer/studies/x/y", "/", "/v2/viewer/studies"])
def test_app_unknown_routes_are_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "is not a route of avara-mock" in response.json()["error"]["message"]


def test_app_method_not_allowed_says_which_methods_are(client: TestClient) -> None:
    response = client.put(URL)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_app_unexpected_failure_is_a_json_500() -> None:
    app = create_app()

    def broken(request: Any, api_key: str) -> bytes:
        raise RuntimeError("boom")

    app.state.service.create = broken
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as test_client:
        response = test_client.post(URL, json=minimal())
    assert response.status_code == 500
    assert response.json()["error"] == {
        "type": "internal_error",
        "message": "Internal error in avara-mock.",
    }
