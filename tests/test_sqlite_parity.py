"""The SQLite state file behaves as memory does: the existing tests of the study store, the
studies, users and invitations services, the app's study routes and the state document,
run again here with every store, clinic and mock they build on SQLite instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import Settings
from mockserver.contract import Contract
from mockserver.services import studies_of
from mockserver.settings import Settings as SettingsType
from mockserver.world.clinic import Clinic
from mockserver.world.clock import Clock
from mockserver.world.sqlite.records import SqlitePeople, SqliteRecordStore
from mockserver.world.sqlite.studies import SqliteStudyStore
from mockserver.world.store import FieldPath
from tests import (
    study_calls,
    test_app_studies,
    test_invitations,
    test_memory,
    test_state_roundtrip,
    test_studies,
    test_studies_list,
    test_users,
)
from tests.conftest import AUTH
from tests.sqlite_world import Files, database, sqlite_store

MODULES = (
    test_memory,
    test_studies,
    test_studies_list,
    test_users,
    test_invitations,
    test_app_studies,
    test_state_roundtrip,
)


def _is_fixture(value: object) -> bool:
    return hasattr(value, "_pytestfixturefunction") or type(value).__name__.startswith("Fixture")


# The tests of those modules (and their own fixtures), collected again in this one (the fixture
# below swaps memory for SQLite under them); their names keep their module's prefix, so a
# failure says which it was.
for _module in MODULES:
    for _name, _value in vars(_module).items():
        if _name.startswith("test_") or (_is_fixture(_value) and _name != "client"):
            globals()[_name] = _value


def _sqlite_clinic(contract: Contract, seed: int | None = None) -> Clinic:
    db = database()
    return Clinic(contract, seed, lambda start: SqlitePeople(db, start))


def _sqlite_studies(settings: SettingsType, contract: Contract, clock: Clock | None = None) -> Any:
    return studies_of(settings, contract, clock, store=sqlite_store())


@pytest.fixture(autouse=True)
def on_sqlite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every store, clinic and mock those tests make is made on SQLite."""
    files = Files(tmp_path)

    def store(indexed: tuple[FieldPath, ...] = ()) -> Any:
        return sqlite_store(tuple(indexed))

    monkeypatch.setattr(test_memory, "MemoryStudyStore", store)
    monkeypatch.setattr(study_calls, "studies_of", _sqlite_studies)
    monkeypatch.setattr(test_users, "Clinic", _sqlite_clinic)
    monkeypatch.setattr(test_invitations, "Clinic", _sqlite_clinic)
    monkeypatch.setattr(test_app_studies, "create_app", files.app)
    monkeypatch.setattr(test_state_roundtrip, "create_app", files.app)
    monkeypatch.setattr(test_state_roundtrip, "mock", files.mock)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The app tests' client: a seeded mock, here on a state file."""
    with TestClient(Files(tmp_path).app(Settings(seed=7)), headers=AUTH) as test_client:
        yield test_client


def test_sqlite_parity_the_swapped_stores_are_sqlite_ones() -> None:
    studies = study_calls.service()
    assert isinstance(getattr(studies, "store", None), SqliteStudyStore)
    assert isinstance(vars(test_memory)["MemoryStudyStore"](()), SqliteStudyStore)
    assert isinstance(test_users.build()[1].users, SqliteRecordStore)
    services = test_state_roundtrip.mock().app.state.services  # type: ignore[attr-defined]
    assert isinstance(services.studies.store, SqliteStudyStore)
