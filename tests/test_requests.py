"""Field rules of each viewer.studies call: every violation named by field, rule and location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.resources.requests import LIST_QUERY, StudyRequests

UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
STUDY_ID = "stu_" + "0123456789abcdef" * 2
USER = "usr_" + "ab" * 16
CUSTOMER = "cus_" + "cd" * 16
VALID_CREATE = {"severity": "high", "studyDescription": "Chest CT", "studyInstanceUid": UID}
Found = set[tuple[str, str, str]]


@pytest.fixture(scope="module")
def requests(contract: Contract) -> StudyRequests:
    return StudyRequests(contract)


@pytest.fixture(scope="module")
def lenient(contract: Contract) -> StudyRequests:
    return StudyRequests(contract, lenient=True)


def refused(call: Callable[[Any], Any], value: Any) -> Found:
    """Every (field, rule, location) of the 400 a call answers; fails if it accepts."""
    with pytest.raises(InvalidRequest) as raised:
        call(value)
    error = raised.value
    assert error.status == 400
    wire = orjson.loads(error.body())["error"]["errors"]
    assert [(e["field"], e["rule"], e["in"]) for e in wire] == [
        (v.field, v.rule, v.location) for v in error.violations
    ]
    return {(v.field, v.rule, v.location) for v in error.violations}


def test_requests_create_valid_is_returned(requests: StudyRequests) -> None:
    body = {**VALID_CREATE, "assignedTo": USER, "expressCustomerId": CUSTOMER, "metadata": {}}
    assert requests.create(body) == body
    assert requests.create({**VALID_CREATE, "assignedTo": None}) == {
        **VALID_CREATE,
        "assignedTo": None,
    }


def test_requests_create_lists_every_violation_in_body(requests: StudyRequests) -> None:
    body = {
        "severity": "HIGH",
        "studyDescription": "",
        "studyInstanceUid": "01.2",
        "assignedTo": "usr_" + "AB" * 16,
        "expressCustomerId": "cus_1",
        "metadata": {"": "x", "k": 1},
        "isCancelled": False,
    }
    assert refused(requests.create, body) == {
        ("severity", "severity.enum", "body"),
        ("studyDescription", "studyDescription.non-empty", "body"),
        ("studyInstanceUid", "studyInstanceUid.leading-zero", "body"),
        ("assignedTo", "id.lowercase-hex", "body"),
        ("expressCustomerId", "expressCustomerId.format", "body"),
        ("metadata.", "metadata.key-non-empty", "body"),
        ("metadata.k", "metadata.value-type", "body"),
        ("isCancelled", "body.unknown-field", "body"),
    }


def test_requests_create_missing_fields_and_wrong_type(requests: StudyRequests) -> None:
    assert refused(requests.create, {}) == {
        (name, "body.required", "body")
        for name in ("severity", "studyDescription", "studyInstanceUid")
    }
    assert refused(requests.create, []) == {("", "body.type", "body")}


def test_requests_error_summary_names_location_and_count(requests: StudyRequests) -> None:
    with pytest.raises(InvalidRequest) as raised:
        requests.create({**VALID_CREATE, "severity": "x", "studyDescription": ""})
    assert raised.value.message.startswith("The request body has 2 problems: ")
    assert "See errors[] for all 2." in raised.value.message


def test_requests_update_valid_and_nulls(requests: StudyRequests) -> None:
    assert requests.update({}) == {}
    assert requests.update({"assignedTo": None, "metadata": None}) == {
        "assignedTo": None,
        "metadata": None,
    }
    body = {"severity": "stat", "studyViewerStatus": "complete", "metadata": {"a": "b"}}
    assert requests.update(body) == body


def test_requests_update_violations(requests: StudyRequests) -> None:
    body = {
        "severity": "urgent",
        "studyViewerStatus": "done",
        "studyDescription": "",
        "assignedTo": "usr_short",
        "metadata": {"k": "v" * 1001},
        "studyInstanceUid": UID,
    }
    assert refused(requests.update, body) == {
        ("severity", "severity.enum", "body"),
        ("studyViewerStatus", "studyViewerStatus.enum", "body"),
        ("studyDescription", "studyDescription.non-empty", "body"),
        ("assignedTo", "userId.format", "body"),
        ("metadata.k", "metadata.value-max-length", "body"),
        ("studyInstanceUid", "update.unknown-field", "body"),
    }
    assert refused(requests.update, "x") == {("", "body.type", "body")}


def test_requests_selector_accepts_either_both_or_neither(requests: StudyRequests) -> None:
    assert requests.selector({}) == {}
    both = {"studyId": STUDY_ID, "studyInstanceUid": UID}
    assert requests.selector(both) == both


def test_requests_selector_violations(requests: StudyRequests) -> None:
    body = {"studyId": "stu_" + "F" * 32, "studyInstanceUid": "1..2", "id": STUDY_ID}
    assert refused(requests.selector, body) == {
        ("studyId", "id.lowercase-hex", "body"),
        ("studyInstanceUid", "studyInstanceUid.empty-component", "body"),
        ("id", "selector.unknown-field", "body"),
    }
    assert refused(requests.selector, None) == {("", "body.type", "body")}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("nope", "studyId.format"),
        ("stu_" + "A" * 32, "id.lowercase-hex"),
        (STUDY_ID + "0", "studyId.format"),
        ("", "studyId.format"),
    ],
)
def test_requests_study_id_path_violations(requests: StudyRequests, value: str, rule: str) -> None:
    assert refused(requests.study_id, value) == {("studyId", rule, "path")}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1..2", "studyInstanceUid.empty-component"),
        ("a.b", "studyInstanceUid.charset"),
        ("1.02", "studyInstanceUid.leading-zero"),
        ("1." * 32 + "1", "studyInstanceUid.max-length"),
    ],
)
def test_requests_uid_path_violations(requests: StudyRequests, value: str, rule: str) -> None:
    assert refused(requests.uid, value) == {("studyInstanceUid", rule, "path")}


def test_requests_path_valid_values_returned(requests: StudyRequests) -> None:
    assert requests.study_id(STUDY_ID) == STUDY_ID
    assert requests.uid(UID) == UID


def test_requests_path_message_says_path_parameter(requests: StudyRequests) -> None:
    with pytest.raises(InvalidRequest) as raised:
        requests.study_id("nope")
    assert raised.value.message.startswith("The path has 1 problem: path parameter studyId ")


def test_requests_list_query_valid_reads_values(requests: StudyRequests) -> None:
    pairs = [
        ("limit", "7.0"),
        ("assignedTo", "null"),
        ("expressCustomerId", CUSTOMER),
        ("isCancelled", "false"),
        ("severity", "stat"),
        ("studyViewerStatus", "complete"),
        ("studyDescription", ""),
    ]
    assert requests.list_query(pairs) == {
        "limit": 7,
        "assignedTo": None,
        "expressCustomerId": CUSTOMER,
        "isCancelled": False,
        "severity": "stat",
        "studyViewerStatus": "complete",
        "studyDescription": "",
    }
    assert requests.list_query([]) == {}


def test_requests_list_query_violations(requests: StudyRequests) -> None:
    pairs = [
        ("limit", "0"),
        ("limit", "3"),
        ("severity", "HIGH"),
        ("isCancelled", "True"),
        ("assignedTo", "usr_x"),
        ("expressCustomerId", "NULL"),
        ("cursor", "!!"),
        ("studyViewerStatus", "x"),
        ("page", "2"),
    ]
    assert refused(requests.list_query, pairs) == {
        ("limit", "limit.minimum", "query"),
        ("limit", "query.repeated-parameter", "query"),
        ("severity", "severity.enum", "query"),
        ("isCancelled", "isCancelled.type", "query"),
        ("assignedTo", "userId.format", "query"),
        ("expressCustomerId", "expressCustomerId.format", "query"),
        ("cursor", "cursor.format", "query"),
        ("studyViewerStatus", "studyViewerStatus.enum", "query"),
        ("page", "query.unknown-parameter", "query"),
    }


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("2.5", "limit.integer"),
        ("abc", "limit.integer"),
        ("", "limit.integer"),
        ("101", "limit.maximum"),
        ("-1", "limit.minimum"),
        ("1e400", None),
    ],
)
def test_requests_list_query_limit(requests: StudyRequests, text: str, rule: str | None) -> None:
    found = refused(requests.list_query, [("limit", text)])
    assert {(field, location) for field, _, location in found} == {("limit", "query")}
    if rule is not None:
        assert found == {("limit", rule, "query")}


def test_requests_list_query_violations_sorted_by_field(requests: StudyRequests) -> None:
    with pytest.raises(InvalidRequest) as raised:
        requests.list_query([("severity", "x"), ("limit", "0"), ("cursor", "!")])
    assert [v.field for v in raised.value.violations] == ["cursor", "limit", "severity"]


def test_requests_default_limit_is_the_schemas(contract: Contract, requests: StudyRequests) -> None:
    assert requests.default_limit == contract.resolved(LIST_QUERY)["properties"]["limit"]["default"]
    assert isinstance(requests.default_limit, int)


def test_requests_lenient_ignores_unknown_fields_only(lenient: StudyRequests) -> None:
    assert lenient.create({**VALID_CREATE, "extra": 1})["extra"] == 1
    assert lenient.update({"isCancelled": True}) == {"isCancelled": True}
    assert lenient.selector({"id": 1}) == {"id": 1}
    assert lenient.list_query([("page", "2")]) == {"page": "2"}
    assert refused(lenient.update, {"extra": 1, "severity": "x"}) == {
        ("severity", "severity.enum", "body")
    }
    assert refused(lenient.list_query, [("page", "2"), ("limit", "0")]) == {
        ("limit", "limit.minimum", "query")
    }
