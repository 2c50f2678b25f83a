"""Faults: validation of fault documents, matching, firing, their answers."""

from __future__ import annotations

import random
import re
from typing import Any

import orjson
import pytest

from mockserver import Settings
from mockserver.control.faults import Faults, error_answer, path_matcher
from mockserver.control.plane import control_of
from mockserver.errors import InvalidRequest, NotFound
from tests.control_apps import CONTRACT

RESPOND = {"respond": {"status": 503}}


def faults(seed: int = 1) -> Faults:
    return Faults(CONTRACT, random.Random(seed))


def fired(found: Faults, method: str, path: str, times: int) -> list[str | None]:
    """Which fault acted on each of ``times`` identical requests."""
    return [acting.id if (acting := found.matching(method, path)) else None for _ in range(times)]


def test_faults_add_gives_an_id_and_the_document_with_counts() -> None:
    found = faults()
    fault = found.add({"path": "/v1/viewer/studies", "first": 2, **RESPOND})
    assert re.fullmatch(r"flt_[0-9a-f]{32}", fault.id)
    assert fault.document() == {
        "id": fault.id,
        "method": "*",
        "path": "/v1/viewer/studies",
        "first": 2,
        "respond": {"status": 503},
        "hits": 0,
        "fired": 0,
    }
    assert found.add({"method": "patch", "path": "/x", **RESPOND}).spec["method"] == "PATCH"
    assert found.list()[0] is fault


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], {("", "fault.object")}),
        ({"respond": {"status": 500}}, {("path", "fault.path-required")}),
        ({"path": "/v1/viewer/studies"}, {("", "fault.action-required")}),
        ({"path": "studies", **RESPOND}, {("path", "fault.path-form")}),
        ({"path": "/v1/{a}b", **RESPOND}, {("path", "fault.path-form")}),
        ({"path": "/_mock/faults", **RESPOND}, {("path", "fault.path-control")}),
        ({"path": "/x", "method": "GE T", **RESPOND}, {("method", "fault.method-token")}),
        ({"path": "/x", "first": 0, **RESPOND}, {("first", "fault.first-minimum")}),
        ({"path": "/x", "after": 1.5, **RESPOND}, {("after", "fault.after-integer")}),
        (
            {"path": "/x", "probability": 2, **RESPOND},
            {("probability", "fault.probability-maximum")},
        ),
        ({"path": "/x", "respond": {"status": 99}}, {("respond.status", "fault.status-minimum")}),
        ({"path": "/x", "respond": {"status": 600}}, {("respond.status", "fault.status-maximum")}),
        ({"path": "/x", "respond": {}}, {("respond.status", "fault.respond-status-required")}),
        (
            {"path": "/x", "respond": {"status": 429, "headers": {"retry-after-ms": 10}}},
            {("respond.headers.retry-after-ms", "fault.header-text")},
        ),
        (
            {"path": "/x", "respond": {"status": 429, "headers": {"Content-Length": "1"}}},
            {("respond.headers.Content-Length", "fault.header-framing")},
        ),
        (
            {"path": "/x", "respond": {"status": 429, "headers": {"a b": "1"}}},
            {("respond.headers.a b", "fault.header-name")},
        ),
        (
            {"path": "/x", "respond": {"status": 429, "headers": {"x": "a\r\nb"}}},
            {("respond.headers.x", "fault.header-printable")},
        ),
        ({"path": "/x", "delay": {"ms": 60001}}, {("delay.ms", "fault.delay-ms-maximum")}),
        ({"path": "/x", "delay": {}}, {("delay.ms", "fault.delay-ms-required")}),
        ({"path": "/x", "drop": "later"}, {("drop", "fault.drop-enum")}),
        ({"path": "/x", "drop": "after", "colour": 1}, {("colour", "fault.unknown-field")}),
        (
            {"path": "/x", "drop": "after", "delay": {"ms": 1}, **RESPOND},
            {("delay", "fault.one-action"), ("drop", "fault.one-action")},
        ),
        (
            {"path": "/x", "first": 1, "probability": 0.5, **RESPOND},
            {("probability", "fault.one-trigger")},
        ),
    ],
)
def test_faults_bad_document_is_a_400_naming_each_field_and_adds_nothing(
    document: Any, expected: set[tuple[str, str]]
) -> None:
    found = faults()
    with pytest.raises(InvalidRequest) as raised:
        found.add(document)
    assert {(v.field, v.rule) for v in raised.value.violations} == expected
    assert raised.value.status == 400
    assert found.list() == []


def test_faults_messages_say_what_to_do() -> None:
    with pytest.raises(InvalidRequest) as raised:
        faults().add({"path": "/x", "first": 1, "after": 2, "drop": "before", **RESPOND})
    messages = [v.message for v in raised.value.violations]
    assert messages == [
        "after is a second trigger: a fault fires one way, give at most one of first, after, "
        "probability (none: every match) (with first).",
        "drop is a second action: a fault does one thing, give exactly one of respond, "
        "delay, drop (with respond).",
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/v1/viewer/studies/{studyId}", "/v1/viewer/studies/stu_1", True),
        ("/v1/viewer/studies/{studyId}", "/v1/viewer/studies/stu_1/x", False),
        ("/v1/viewer/studies/{studyId}", "/v1/viewer/studies/", False),
        ("/v1/viewer/studies/{studyId}", "/v1/viewer/studies", False),
        ("/v1/viewer/{kind}/{id}", "/v1/viewer/users/usr_1", True),
        ("/v1/*/studies/{studyId}", "/v1/viewer/studies/stu_1", True),
        ("/v1/viewer/*", "/v1/viewer/studies/stu_1/deep", True),
        ("/v1/viewer/*", "/v2/viewer/studies", False),
        ("/v1/viewer/studies", "/v1/viewer/studies", True),
        ("/v1/viewer/studies", "/v1/viewer/studies/cancel", False),
        ("/v1/viewer/Studies", "/v1/viewer/studies", False),
    ],
)
def test_faults_path_is_a_route_template_or_a_glob(pattern: str, path: str, matches: bool) -> None:
    assert path_matcher(pattern)(path) is matches


def test_faults_method_matches_in_any_case_or_any_method() -> None:
    found = faults()
    post = found.add({"method": "post", "path": "/x", **RESPOND})
    assert (post.matches("POST", "/x"), post.matches("post", "/x")) == (True, True)
    assert post.matches("GET", "/x") is False
    anything = found.add({"path": "/x", **RESPOND})
    assert all(anything.matches(method, "/x") for method in ("GET", "DELETE", "PATCH"))


def test_faults_first_fires_on_matches_one_to_n() -> None:
    found = faults()
    fault = found.add({"path": "/x", "first": 2, **RESPOND})
    assert fired(found, "GET", "/x", 4) == [fault.id, fault.id, None, None]
    assert found.matching("GET", "/y") is None
    assert (fault.hits, fault.fired) == (4, 2)


def test_faults_after_fires_from_match_n_plus_one() -> None:
    found = faults()
    fault = found.add({"path": "/x", "after": 2, **RESPOND})
    assert fired(found, "GET", "/x", 4) == [None, None, fault.id, fault.id]
    assert (fault.hits, fault.fired) == (4, 2)


def test_faults_without_a_trigger_fire_on_every_match() -> None:
    found = faults()
    fault = found.add({"path": "/x", **RESPOND})
    assert fired(found, "GET", "/x", 3) == [fault.id] * 3


def test_faults_probability_draws_from_the_seeded_random() -> None:
    def pattern(seed: int) -> list[bool]:
        found = faults(seed)
        found.add({"path": "/x", "probability": 0.5, **RESPOND})
        return [acting is not None for acting in fired(found, "GET", "/x", 40)]

    assert pattern(3) == pattern(3)
    assert 5 < sum(pattern(3)) < 35
    never, always = faults(), faults()
    never.add({"path": "/x", "probability": 0, **RESPOND})
    always.add({"path": "/x", "probability": 1, **RESPOND})
    assert fired(never, "GET", "/x", 5) == [None] * 5
    assert None not in fired(always, "GET", "/x", 5)


def test_faults_the_first_added_that_fires_wins_and_every_match_counts() -> None:
    found = faults()
    early = found.add({"path": "/x", "after": 1, **RESPOND})
    late = found.add({"path": "/*", "first": 2, "drop": "before"})
    assert fired(found, "GET", "/x", 3) == [late.id, early.id, early.id]
    assert (early.hits, early.fired, late.hits, late.fired) == (3, 2, 3, 1)


def test_faults_remove_one_or_all() -> None:
    found = faults()
    one = found.add({"path": "/x", **RESPOND})
    other = found.add({"path": "/y", **RESPOND})
    assert found.remove(one.id) is one
    assert found.list() == [other]
    with pytest.raises(NotFound, match="GET /_mock/faults"):
        found.remove(one.id)
    found.clear()
    assert (found.list(), bool(found)) == ([], False)


def test_faults_respond_answers_the_mocks_error_shape_by_default() -> None:
    fault = faults().add(
        {"path": "/x", "respond": {"status": 429, "headers": {"Retry-After-Ms": "20"}}}
    )
    assert fault.answer is not None
    assert fault.answer.status == 429
    assert (b"retry-after-ms", b"20") in fault.answer.headers
    assert (b"content-type", b"application/json") in fault.answer.headers
    body = orjson.loads(fault.answer.body)
    assert body["error"]["type"] == "rate_limited"
    assert fault.id in body["error"]["message"]
    assert CONTRACT.validator("error").is_valid(body)


def test_faults_respond_answers_the_body_and_content_type_given() -> None:
    fault = faults().add(
        {
            "path": "/x",
            "respond": {"status": 200, "body": ["a"], "headers": {"content-type": "text/x"}},
        }
    )
    assert fault.answer is not None
    assert fault.answer.body == b'["a"]'
    assert [v for k, v in fault.answer.headers if k == b"content-type"] == [b"text/x"]
    empty = faults().add({"path": "/x", "respond": {"status": 204, "body": {"a": 1}}})
    assert empty.answer is not None
    assert (empty.answer.body, empty.answer.headers) == (b"", [])


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request"), (404, "not_found"), (500, "internal_error"), (502, "fault")],
)
def test_faults_error_answer_type_follows_the_status(status: int, kind: str) -> None:
    body = orjson.loads(error_answer(status, "said").body)
    assert body == {"error": {"type": kind, "message": "said"}}
    assert CONTRACT.validator("error").is_valid(body)


def test_faults_ids_repeat_after_a_reset_of_a_seeded_plane() -> None:
    plane = control_of(Settings(seed=9), CONTRACT)
    first = [plane.faults.add({"path": "/x", **RESPOND}).id for _ in range(2)]
    plane.reset()
    assert plane.faults.list() == []
    assert [plane.faults.add({"path": "/x", **RESPOND}).id for _ in range(2)] == first
    unseeded = control_of(Settings(), CONTRACT)
    assert unseeded.faults.add({"path": "/x", **RESPOND}).id not in first
