"""The request journal: a bounded ring of entries, filters, redaction, lazy reading."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.control.journal import Entry, Journal, instant_ms
from mockserver.errors import InvalidRequest
from tests.control_apps import CONTRACT

NOON_MS = 1_767_268_800_000  # 2026-01-01T12:00:00.000Z


def entry(journal: Journal, **fields: Any) -> Entry:
    """An entry with the journal's next id, as the middleware makes them."""
    made: dict[str, Any] = {
        "id": journal.next_id(),
        "method": "GET",
        "path": "/v1/viewer/studies",
        "status": 200,
        "duration_ms": 1.0,
        "fault": None,
        "arrived_ms": NOON_MS,
        "raw_query": b"",
        "raw_headers": [],
        "raw_body": b"",
        "raw_answer": b"",
    }
    made.update(fields)
    found = Entry(**made)
    journal.record(found)
    return found


def test_journal_keeps_the_latest_size_entries_and_never_reuses_ids() -> None:
    journal = Journal(3, CONTRACT)
    for _ in range(5):
        entry(journal)
    assert [e.id for e in journal.entries()] == [3, 4, 5]
    journal.clear()
    assert journal.entries() == []
    assert entry(journal).id == 6


def test_journal_entries_come_by_id_whatever_order_they_finished_in() -> None:
    journal = Journal(10, CONTRACT)
    first, second = journal.next_id(), journal.next_id()
    entry(journal, id=second)
    entry(journal, id=first)
    assert [e.id for e in journal.entries()] == [1, 2]


def test_journal_filters_by_method_path_and_status() -> None:
    journal = Journal(10, CONTRACT)
    entry(journal, method="POST", status=201)
    entry(journal, method="GET", path="/v1/viewer/studies/stu_1", status=404)
    entry(journal, method="GET", path="/v1/viewer/users", status=200)
    assert [e.id for e in journal.entries({"method": "post"})] == [1]
    assert [e.id for e in journal.entries({"path": "/v1/viewer/studies"})] == [1]
    assert [e.id for e in journal.entries({"path": "/v1/viewer/studies*"})] == [1, 2]
    assert [e.id for e in journal.entries({"path": "/v1/*/stu_1"})] == [2]
    assert [e.id for e in journal.entries([("status", "404")])] == [2]
    assert [e.id for e in journal.entries({"method": "GET", "status": 200})] == [3]


def test_journal_since_an_id_or_an_instant() -> None:
    journal = Journal(10, CONTRACT)
    for offset in (0, 1, 2000):
        entry(journal, arrived_ms=NOON_MS + offset)
    assert [e.id for e in journal.entries({"since": "1"})] == [2, 3]
    assert [e.id for e in journal.entries({"since": "2026-01-01T12:00:00.000Z"})] == [2, 3]
    assert [e.id for e in journal.entries({"since": "2026-01-01T13:00:01+01:00"})] == [3]
    assert [e.id for e in journal.entries({"since": "2026-01-01T12:00:00.0015Z"})] == [3]


def test_journal_instant_reads_offsets_and_cuts_below_milliseconds() -> None:
    assert instant_ms("2026-01-01T12:00:00Z") == NOON_MS
    assert instant_ms("2026-01-01t14:30:00.25+02:30") == NOON_MS + 250
    assert instant_ms("2026-01-01T12:00:00.123999Z") == NOON_MS + 123


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"status": "ok"}, "status", "journal.status-integer"),
        ({"status": "700"}, "status", "journal.status-maximum"),
        ({"since": "yesterday"}, "since", "journal.since-form"),
        ({"since": "2026-01-01T12:00:00"}, "since", "journal.since-form"),
        ({"method": "GET/"}, "method", "journal.method-token"),
        ({"path": "studies"}, "path", "journal.path-form"),
        ({"limit": "5"}, "limit", "journal.unknown-parameter"),
        ([("status", "200"), ("status", "201")], "status", "query.repeated-parameter"),
    ],
)
def test_journal_bad_filter_is_a_400_naming_the_parameter(
    query: Any, field: str, rule: str
) -> None:
    journal = Journal(10, CONTRACT)
    with pytest.raises(InvalidRequest) as raised:
        journal.entries(query)
    assert [(v.field, v.rule, v.location) for v in raised.value.violations] == [
        (field, rule, "query")
    ]
    assert f"query parameter {field}" in raised.value.message


def test_journal_loads_the_contract_itself_when_not_given_one() -> None:
    journal = Journal(10)
    entry(journal, status=201)
    assert [e.id for e in journal.entries({"status": 201})] == [1]


def test_journal_entry_document_is_the_wire_form_with_secrets_hidden() -> None:
    journal = Journal(10, CONTRACT)
    headers = [
        (b"authorization", b"Bearer sk-secret"),
        (b"X-Avara-Mock-Token", b"admin-secret"),
        (b"accept", b"application/json"),
        (b"accept", b"text/plain"),
    ]
    found = entry(
        journal,
        method="POST",
        status=201,
        raw_query=b"limit=2&x=%20",
        raw_headers=headers,
        raw_body=b'{"severity": "high"}',
        raw_answer=b'{"studyId": "stu_1"}',
        fault="flt_1",
        duration_ms=1.23456,
    )
    assert found.document() == {
        "id": 1,
        "at": "2026-01-01T12:00:00.000Z",
        "method": "POST",
        "path": "/v1/viewer/studies",
        "query": "limit=2&x=%20",
        "headers": {
            "authorization": "Bearer ***",
            "x-avara-mock-token": "***",
            "accept": "application/json, text/plain",
        },
        "body": {"severity": "high"},
        "status": 201,
        "answer": {"studyId": "stu_1"},
        "durationMs": 1.235,
        "fault": "flt_1",
    }
    assert "sk-secret" not in repr(found.document())


def test_journal_entry_reads_text_when_not_json_and_none_when_empty() -> None:
    journal = Journal(10, CONTRACT)
    found = entry(journal, raw_body=b"not json \xff", raw_answer=b"<p>page</p>", truncated=True)
    assert (found.body, found.answer) == ("not json \ufffd", "<p>page</p>")
    assert found.document()["truncated"] is True
    empty = entry(journal, status=None)
    assert (empty.body, empty.answer, empty.document()["status"]) == (None, None, None)
    assert "truncated" not in empty.document()
