"""Mocks and stores on SQLite state files, for the tests of the state file."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.resources.studies import filters_of
from mockserver.world.sqlite.database import Database
from mockserver.world.sqlite.file import layout_of
from mockserver.world.sqlite.studies import SqliteStudyStore
from mockserver.world.store import FieldPath
from tests.conftest import AUTH

CONTRACT = Contract.load()
INDEXED: tuple[FieldPath, ...] = tuple(filters_of(CONTRACT).values())
_files = itertools.count(1)


def database(path: str = ":memory:", indexed: tuple[FieldPath, ...] = INDEXED) -> Database:
    """A state file's database (in memory by default: the store's SQL, without a disk)."""
    return Database(path, layout_of(indexed), len(indexed))


def sqlite_store(indexed: tuple[FieldPath, ...] = INDEXED) -> SqliteStudyStore:
    """A SQLite study store with these indexed fields, on a database in memory."""
    return SqliteStudyStore(database(indexed=indexed), indexed)


class Files:
    """New state files in one folder, one per mock asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new(self) -> str:
        return str(self.folder / f"state-{next(_files)}.db")

    def app(self, settings: Settings | None = None, **options: Any) -> Starlette:
        """``create_app`` on a new state file unless the settings name one."""
        settings = settings or Settings()
        if settings.state is None and not settings.stateless:
            settings = Settings(**{**settings.__dict__, "state": self.new()})
        return create_app(settings, **options)

    def mock(self, **options: Any) -> TestClient:
        """A mock on a new state file with a client that sends a bearer key."""
        return TestClient(self.app(Settings(**options)), headers=AUTH)


def two_mocks(path: Path, seed: int | None = None) -> tuple[TestClient, TestClient]:
    """Two mocks on one state file in one process, standing in for two workers."""
    settings = Settings(seed=seed, state=str(path))
    return (
        TestClient(create_app(settings), headers=AUTH),
        TestClient(create_app(settings), headers=AUTH),
    )
