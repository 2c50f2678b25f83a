"""Checking requests against their schemas: bodies, path and query parameters, nulls, defaults."""

from __future__ import annotations

import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.resources.request_checks import RequestChecks


def refused(call: object) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidRequest) as caught:
        call()  # type: ignore[operator]
    return [(v.field, v.rule, v.location) for v in caught.value.violations]


def test_request_checks_body_lists_every_violation(contract: Contract) -> None:
    checks = RequestChecks(contract)
    assert checks.body("study-selector", {"studyId": "stu_" + "a" * 32})["studyId"]
    assert refused(lambda: checks.body("study-selector", {"studyId": "x", "other": 1})) == [
        ("other", "selector.unknown-field", "body"),
        ("studyId", "studyId.format", "body"),
    ]


def test_request_checks_lenient_ignores_unknown_fields_but_not_in_paths(
    contract: Contract,
) -> None:
    lenient = RequestChecks(contract, lenient=True)
    assert lenient.body("study-selector", {"other": 1}) == {"other": 1}
    assert refused(lambda: lenient.path("user-path", "userId", "usr_1")) == [
        ("userId", "userId.format", "path")
    ]


def test_request_checks_present_drops_nulls_read_as_absent(contract: Contract) -> None:
    checks = RequestChecks(contract)
    body = {"studyId": None, "studyInstanceUid": "1.2.3"}
    assert checks.present("study-selector", body) == {"studyInstanceUid": "1.2.3"}


def test_request_checks_query_reads_and_refuses_with_locations(contract: Contract) -> None:
    checks = RequestChecks(contract)
    assert checks.query("invitation-list-query", [("status", "sent,revoked")])["status"] == [
        "sent",
        "revoked",
    ]
    assert refused(lambda: checks.query("user-list-query", [("limit", "0"), ("limit", "1")])) == [
        ("limit", "limit.minimum", "query"),
        ("limit", "query.repeated-parameter", "query"),
    ]


def test_request_checks_default_is_the_schemas(contract: Contract) -> None:
    limit = contract.resolved("study-list-query")["properties"]["limit"]["default"]
    assert RequestChecks(contract).default("study-list-query", "limit") == limit
