"""The meta values a state file's connection keeps: never one another connection changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.world.sqlite.database import Database
from tests.sqlite_world import database


def rolled_back_write(db: Database) -> None:
    """Set the clock's meta value in a write that then fails."""
    with db.write():
        db.set_meta("clock", "rolled back")
        raise LookupError("refused")


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two connections to one state file, as two workers have."""
    path = str(tmp_path / "state.db")
    one, other = database(path), database(path)
    yield one, other
    one.close()
    other.close()


def test_sqlite_database_meta_reads_what_another_connection_committed(
    two: tuple[Database, Database],
) -> None:
    one, other = two
    one.set_meta("clock", "a")
    assert other.meta("clock") == "a"
    one.set_meta("clock", "b")
    assert other.meta("clock") == "b"


def test_sqlite_database_meta_in_a_transaction_sees_commits_before_it(
    two: tuple[Database, Database],
) -> None:
    one, other = two
    other.set_meta("clock", "a")
    assert one.meta("clock") == "a"
    other.set_meta("clock", "b")
    with one.write():
        assert one.meta("clock") == "b"
        one.set_meta("clock", "c")
        assert one.meta("clock") == "c"
    assert other.meta("clock") == "c"


def test_sqlite_database_meta_forgets_a_write_rolled_back(tmp_path: Path) -> None:
    db = database(str(tmp_path / "state.db"))
    db.set_meta("clock", "kept")
    with pytest.raises(LookupError):
        rolled_back_write(db)
    assert db.meta("clock") == "kept"
    db.close()
