"""The study store: by id and by UID, duplicates refused, nothing lost."""

from __future__ import annotations

import pytest

from mockserver.errors import Conflict
from mockserver.store import StudyStore


def test_store_keeps_studies_by_id_and_uid() -> None:
    store = StudyStore()
    store.add("stu_1", "1.2", b'{"studyId":"stu_1"}')
    assert store.get("stu_1") == b'{"studyId":"stu_1"}'
    assert store.get_by_uid("1.2") == b'{"studyId":"stu_1"}'
    assert store.get("stu_2") is None
    assert store.get_by_uid("9") is None
    assert list(store.studies()) == [{"studyId": "stu_1"}]


def test_store_refuses_a_duplicate_uid_and_keeps_the_first() -> None:
    store = StudyStore()
    store.add("stu_1", "1.2", b"{}")
    with pytest.raises(Conflict, match="stu_1"):
        store.add("stu_2", "1.2", b"[]")
    assert len(store) == 1
    assert store.get_by_uid("1.2") == b"{}"


def test_store_clear_forgets_everything() -> None:
    store = StudyStore()
    store.add("stu_1", "1.2", b"{}")
    store.clear()
    assert len(store) == 0
    store.add("stu_1", "1.2", b"{}")
    assert len(store) == 1
