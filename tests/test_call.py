"""A Call: an SDK operation and its inputs, turned into the HTTP request a target receives."""

from __future__ import annotations

import pytest

from contract_tests.transport.call import NO_BODY, Call, UnknownOperation, operation, operations
from mockserver.openapi import RESOURCES


def test_call_operations_are_every_call_of_the_openapi_table() -> None:
    expected = {f"{r.name}.{op.name}" for r in RESOURCES for op in r.operations}
    assert set(operations()) == expected
    update = operation("viewer.studies.update")
    assert (update.method, update.body, update.parameters) == (
        "PATCH",
        "study-update-request",
        ("studyId",),
    )


def test_call_an_unknown_operation_names_the_known_ones() -> None:
    with pytest.raises(UnknownOperation, match=r"viewer\.studies\.create"):
        operation("viewer.studies.delete")


def test_call_sent_fills_the_route_encodes_parameters_and_sends_json() -> None:
    call = Call("viewer.studies.update", {"studyId": "stu_1/2"}, (), {"severity": "high"})
    sent = call.sent("Bearer k")
    assert (sent.method, sent.path) == ("PATCH", "/v1/viewer/studies/stu_1%2F2")
    assert sent.headers == {"Content-Type": "application/json", "Authorization": "Bearer k"}
    assert sent.content == b'{"severity": "high"}'


def test_call_without_a_body_sends_no_content_type_and_curl_no_data() -> None:
    call = Call("viewer.studies.list", query=(("limit", "2"), ("severity", "stat")))
    assert call.body is NO_BODY
    sent = call.sent(None)
    assert (sent.path, sent.headers, sent.content) == (
        "/v1/viewer/studies?limit=2&severity=stat",
        {},
        b"",
    )
    assert "--data-binary" not in sent.curl("http://127.0.0.1:4010")
