"""Faults on a state file: two mocks on one file in one process stand in for two workers, and
act on the same faults with the same counts, which outlast a restart."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from mockserver import Settings, create_app
from tests.conftest import AUTH
from tests.sqlite_world import two_mocks
from tests.state_world import STUDIES

FAULTS = "/_mock/faults"
TWICE = {"path": STUDIES, "method": "GET", "first": 2, "respond": {"status": 503}}


def test_shared_faults_one_added_through_one_mock_acts_on_the_other(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    added = one.post(FAULTS, json=TWICE)
    assert added.status_code == 201
    assert [f["id"] for f in other.get(FAULTS).json()["faults"]] == [added.json()["id"]]
    assert other.get(STUDIES).status_code == 503


def test_shared_faults_first_n_fires_n_times_in_all_and_counts_every_match(
    tmp_path: Path,
) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    one.post(FAULTS, json=TWICE)
    statuses = [client.get(STUDIES).status_code for client in (one, other, one, other, other)]
    assert statuses == [503, 503, 200, 200, 200]
    for client in (one, other):
        (fault,) = client.get(FAULTS).json()["faults"]
        assert (fault["hits"], fault["fired"]) == (5, 2)


def test_shared_faults_removed_or_reset_through_one_are_gone_from_the_other(
    tmp_path: Path,
) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    fault_id = one.post(FAULTS, json={**TWICE, "first": 100}).json()["id"]
    assert other.delete(f"{FAULTS}/{fault_id}").status_code == 200
    assert one.get(STUDIES).status_code == 200
    assert one.delete(f"{FAULTS}/{fault_id}").status_code == 404
    other.post(FAULTS, json={**TWICE, "first": 100})
    assert one.post("/_mock/reset").status_code == 200
    assert other.get(FAULTS).json() == {"faults": []}
    assert other.get(STUDIES).status_code == 200


def test_shared_faults_outlast_a_restart_with_their_counts(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with TestClient(create_app(Settings(state=str(path))), headers=AUTH) as first:
        first.post(FAULTS, json=TWICE)
        assert first.get(STUDIES).status_code == 503
    with TestClient(create_app(Settings(state=str(path))), headers=AUTH) as again:
        (fault,) = again.get(FAULTS).json()["faults"]
        assert (fault["hits"], fault["fired"]) == (1, 1)
        assert [again.get(STUDIES).status_code for _ in range(2)] == [503, 200]


def test_shared_faults_seeded_mocks_never_give_two_faults_one_id(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db", seed=4)
    ids = [c.post(FAULTS, json=TWICE).json()["id"] for c in (one, other, one, other)]
    assert len(set(ids)) == 4
    assert [f["id"] for f in one.get(FAULTS).json()["faults"]] == ids


def test_shared_faults_a_refused_fault_adds_nothing_to_the_file(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    refused = one.post(FAULTS, json={"path": STUDIES})
    assert refused.status_code == 400
    assert other.get(FAULTS).json() == {"faults": []}
