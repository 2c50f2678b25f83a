"""The admin API under /_mock/: reset, state, journal and faults, in-process; a stateless mock
has no state, and the control plane never shows up in its own journal."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from openapi_spec_validator import validate

from mockserver import Settings, create_app
from mockserver.control.state import ScenarioError
from tests.state_world import STUDIES, USERS, created, lived_in, mock, ok, put_state, state_bytes

FAULT = {
    "method": "POST",
    "path": "/v1/viewer/studies",
    "first": 1,
    "respond": {"status": 503, "headers": {"retry-after-ms": "5"}},
}


def test_admin_reset_goes_back_to_the_seeded_start_and_clears_faults_and_journal() -> None:
    with mock(seed=4) as client:
        start = state_bytes(client)
        lived_in(client)
        ok(client.post("/_mock/faults", json=FAULT))
        assert ok(client.get("/_mock/requests"))["requests"]
        answer = ok(client.post("/_mock/reset"))
        assert answer["success"] is True
        assert "no studies" in answer["message"]
        assert state_bytes(client) == start
        assert ok(client.get("/_mock/faults")) == {"faults": []}
        assert ok(client.get("/_mock/requests")) == {"requests": []}


def test_admin_reset_with_a_scenario_goes_back_to_the_scenario(tmp_path: Path) -> None:
    with mock(seed=4) as busy:
        lived_in(busy)
        scenario = state_bytes(busy)
    path = tmp_path / "scenario.json"
    path.write_bytes(scenario)
    with mock(seed=4, scenario=str(path)) as client:
        assert state_bytes(client) == scenario
        created(client, "2.25.555")
        ok(client.post("/_mock/reset"))
        assert state_bytes(client) == scenario


def test_admin_a_bad_scenario_stops_the_mock_from_being_built(tmp_path: Path) -> None:
    with mock(seed=4) as client:
        document = orjson.loads(state_bytes(client))
    document["users"][3]["email"] = document["users"][0]["email"]
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(ScenarioError, match=r"users\.3\.email must be unique"):
        create_app(Settings(scenario=str(path)))


def test_admin_put_state_answers_what_it_loaded_and_get_answers_it_back() -> None:
    with mock(seed=4) as busy, mock() as client:
        lived_in(busy)
        exported = state_bytes(busy)
        answer = ok(put_state(client, exported))
        assert answer == {"success": True, "message": "Loaded 3 studies, 12 users, 10 invitations."}
        assert state_bytes(client) == exported
        assert client.get(STUDIES).json()["studies"][0]["studyInstanceUid"] == "2.25.1003"


def test_admin_a_bad_state_leaves_studies_users_and_faults_as_they_were() -> None:
    with mock(seed=4) as client:
        lived_in(client)
        fault = ok(client.post("/_mock/faults", json={**FAULT, "path": "/v1/viewer/users"}))
        before = state_bytes(client)
        document = orjson.loads(before)
        document["studies"][2]["studyInstanceUid"] = document["studies"][0]["studyInstanceUid"]
        document["studies"].append({"studyId": "stu_1"})
        answer = put_state(client, orjson.dumps(document))
        assert answer.status_code == 400
        fields = {e["field"] for e in answer.json()["error"]["errors"]}
        assert "studies.3.studyId" in fields
        assert state_bytes(client) == before
        assert ok(client.get("/_mock/faults"))["faults"][0]["id"] == fault["id"]


def test_admin_stateless_mock_has_no_state_but_a_journal_and_faults() -> None:
    with mock(stateless=True) as client:
        for answer in (client.get("/_mock/state"), client.put("/_mock/state", json={})):
            assert answer.status_code == 409
            error = answer.json()["error"]
            assert error["type"] == "conflict"
            assert "stores nothing" in error["message"]
        fault = ok(client.post("/_mock/faults", json=FAULT))
        refused = client.post(
            STUDIES,
            json={"studyInstanceUid": "2.25.1", "severity": "high", "studyDescription": "x"},
        )
        assert refused.status_code == 503
        assert ok(client.get("/_mock/requests"))["requests"][0]["fault"] == fault["id"]


def test_admin_faults_are_added_listed_removed_and_cleared() -> None:
    with mock(seed=4) as client:
        added = client.post("/_mock/faults", json=FAULT)
        assert added.status_code == 201
        fault = added.json()
        assert fault["id"].startswith("flt_")
        assert fault["hits"] == 0
        second = ok(client.post("/_mock/faults", json={**FAULT, "path": "/v1/viewer/*"}))
        assert [f["id"] for f in ok(client.get("/_mock/faults"))["faults"]] == [
            fault["id"],
            second["id"],
        ]
        assert ok(client.delete(f"/_mock/faults/{fault['id']}"))["id"] == fault["id"]
        missing = client.delete(f"/_mock/faults/{fault['id']}")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found"
        assert ok(client.delete("/_mock/faults"))["message"] == "Removed 1 fault."
        assert ok(client.get("/_mock/faults")) == {"faults": []}


def test_admin_a_bad_fault_is_a_400_naming_the_field_and_adds_nothing() -> None:
    with mock(seed=4) as client:
        answer = client.post("/_mock/faults", json={**FAULT, "first": "two"})
        assert answer.status_code == 400
        assert {e["field"] for e in answer.json()["error"]["errors"]} == {"first"}
        assert ok(client.get("/_mock/faults")) == {"faults": []}


def test_admin_journal_filters_and_clears_and_never_shows_the_control_plane() -> None:
    with mock(seed=4) as client:
        created(client, "2.25.1")
        client.get(f"{STUDIES}/stu_{'0' * 32}")
        ok(client.get(USERS))
        ok(client.get("/_mock/state"))
        everything = ok(client.get("/_mock/requests"))["requests"]
        assert [(e["method"], e["status"]) for e in everything] == [
            ("POST", 201),
            ("GET", 404),
            ("GET", 200),
        ]
        assert all(not e["path"].startswith("/_mock") for e in everything)
        found = ok(client.get("/_mock/requests", params={"method": "get", "status": "404"}))
        assert [e["path"] for e in found["requests"]] == [f"{STUDIES}/stu_{'0' * 32}"]
        since = ok(client.get("/_mock/requests", params={"since": str(everything[1]["id"])}))
        assert [e["path"] for e in since["requests"]] == [USERS]
        bad = client.get("/_mock/requests", params={"status": "many"})
        assert bad.status_code == 400
        assert bad.json()["error"]["errors"][0]["field"] == "status"
        assert ok(client.delete("/_mock/requests"))["success"] is True
        assert ok(client.get("/_mock/requests")) == {"requests": []}


def test_admin_openapi_is_valid_and_covers_every_admin_route() -> None:
    with mock() as client:
        answer = client.get("/_mock/openapi.json")
        public = client.get("/openapi.json").json()
        routes = [r for r in client.app.routes if getattr(r, "path", "").startswith("/_mock")]
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    assert "urn:" not in answer.text
    schemas = document["components"]["schemas"]
    assert {"MockState", "MockFault", "MockJournalQuery", "Study", "User"} <= set(schemas)
    refs = {ref for ref in _refs(document)}
    assert {
        ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas
    } == set()
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    dashboard = {"/_mock/", "/_mock/fragments/requests"}
    served = {
        (method.lower(), route.path)
        for route in routes
        for method in route.methods
        if method != "HEAD" and (route.path in dashboard or "dashboard" not in route.path)
    }
    assert served - {("get", "/_mock/fragments/requests")} <= documented
    assert not [path for path in public["paths"] if path.startswith("/_mock")]
    assert not [name for name in public["components"]["schemas"] if name.startswith("Mock")]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for child in node.values() for ref in _refs(child)]
    if isinstance(node, list):
        return [ref for child in node for ref in _refs(child)]
    return []


def test_admin_stateless_reset_clears_faults_and_journal_and_restarts_the_draws() -> None:
    body = {"studyInstanceUid": "2.25.1", "severity": "high", "studyDescription": "x"}
    with mock(stateless=True, seed=3) as client:
        first = client.post(STUDIES, json=body).json()
        ok(client.post("/_mock/faults", json=FAULT))
        reset = client.post("/_mock/reset")
        assert reset.status_code == 200
        assert "stateless" in reset.json()["message"]
        assert ok(client.get("/_mock/faults"))["faults"] == []
        assert ok(client.get("/_mock/requests"))["requests"] == []
        assert client.post(STUDIES, json=body).json() == first
