"""The study store: by id and by UID, duplicates refused, nothing lost."""

from __future__ import annotations

import pytest

from mockserver.errors import Conflict
from mockserver.world.store import StudyStore, join

KEY = b'{"apiKeyId":"k"}'


def test_store_keeps_studies_by_id_and_uid() -> None:
    store = StudyStore()
    full = store.add("stu_1", "1.2", b'{"studyId":"stu_1"}', KEY)
    assert full == b'{"studyId":"stu_1","createdByApiKey":{"apiKeyId":"k"}}'
    assert store.get("stu_1") == full
    assert store.get_by_uid("1.2") == full
    assert store.get("stu_2") is None
    assert store.get_by_uid("9") is None
    assert list(store.studies()) == [{"studyId": "stu_1", "createdByApiKey": {"apiKeyId": "k"}}]


def test_store_join_appends_the_reference_as_last_field() -> None:
    assert join(b'{"a":1}', b"null") == b'{"a":1,"createdByApiKey":null}'


def test_store_refuses_a_duplicate_uid_and_keeps_the_first() -> None:
    store = StudyStore()
    first = store.add("stu_1", "1.2", b"{}", KEY)
    with pytest.raises(Conflict, match="stu_1"):
        store.add("stu_2", "1.2", b"[]", KEY)
    assert len(store) == 1
    assert store.get_by_uid("1.2") == first


def test_store_clear_forgets_everything() -> None:
    store = StudyStore()
    store.add("stu_1", "1.2", b"{}", KEY)
    store.clear()
    assert len(store) == 0
    store.add("stu_1", "1.2", b"{}", KEY)
    assert len(store) == 1
