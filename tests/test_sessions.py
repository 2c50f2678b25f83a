"""Ephemeral sessions, stateful: field rules, the options byte cap, viewports, URL tokens."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.resources.sessions import (
    REQUEST,
    RESPONSE,
    SESSION_PATH,
    Sessions,
    SessionService,
)
from mockserver.settings import Settings
from tests.session_calls import FULL, ORIGIN, SDK_CALLS, FakeMonotonic, options_of, sdk_body

CAP_RULE = "ephemeralSession.options-max-bytes"
VIEWPORT_RULE = "hangingProtocol.viewport-count"


def service(
    contract: Contract, seed: int | None = 7, clock: FakeMonotonic | None = None, **options: Any
) -> SessionService:
    return SessionService(contract, Settings(seed=seed, **options), clock or FakeMonotonic())


def token_of(answer: bytes) -> str:
    url = orjson.loads(answer)["url"]
    return str(url.rsplit("/", 1)[1])


def refused(sessions: Sessions, body: Any) -> list[dict[str, Any]]:
    with pytest.raises(InvalidRequest) as caught:
        sessions.create(body, ORIGIN)
    assert caught.value.status == 400
    return [v.as_json() for v in caught.value.violations]


def cap(contract: Contract) -> int:
    return int(contract.rule_value(REQUEST, CAP_RULE))


# --- the answer and its page -----------------------------------------------------------------


def test_sessions_create_answers_a_token_url_on_the_origin(contract: Contract) -> None:
    answer = orjson.loads(service(contract).create({"retrievalId": "r-1"}, ORIGIN + "/"))
    assert set(answer) == {"url"}
    assert re.fullmatch(re.escape(ORIGIN + SESSION_PATH) + "[0-9a-f]{40}", answer["url"])


def test_sessions_answer_matches_the_response_schema(contract: Contract) -> None:
    answer = orjson.loads(service(contract).create(FULL, ORIGIN))
    assert contract.validator(RESPONSE).is_valid(answer)


@pytest.mark.parametrize("kwargs", SDK_CALLS, ids=["required", "all-params"])
def test_sessions_accept_the_generated_suites_values(
    contract: Contract, kwargs: dict[str, Any]
) -> None:
    body = sdk_body(kwargs)
    sessions = service(contract)
    assert sessions.viewed(token_of(sessions.create(body, ORIGIN))) == body


def test_sessions_viewed_is_the_request_as_sent(contract: Contract) -> None:
    sessions = service(contract)
    token = token_of(sessions.create(FULL, ORIGIN))
    seen = sessions.viewed(token)
    assert seen == FULL
    assert seen is not None
    assert list(seen["options"]) == list(FULL["options"])  # verbatim: key order too


def test_sessions_viewed_is_a_copy(contract: Contract) -> None:
    sessions = service(contract)
    token = token_of(sessions.create(FULL, ORIGIN))
    first = sessions.viewed(token)
    assert first is not None
    first["options"]["internal"]["n"] = 99
    assert sessions.viewed(token) == FULL


def test_sessions_null_optional_fields_are_absent(contract: Contract) -> None:
    sessions = service(contract)
    token = token_of(
        sessions.create({"retrievalId": "r", "hangingProtocol": None, "options": None}, ORIGIN)
    )
    assert sessions.viewed(token) == {"retrievalId": "r"}


def test_sessions_each_create_gets_its_own_token(contract: Contract) -> None:
    sessions = service(contract)
    first = token_of(sessions.create({"retrievalId": "a"}, ORIGIN))
    second = token_of(sessions.create({"retrievalId": "b"}, ORIGIN))
    assert first != second
    assert sessions.viewed(first) == {"retrievalId": "a"}
    assert sessions.viewed(second) == {"retrievalId": "b"}


def test_sessions_unknown_token_views_nothing(contract: Contract) -> None:
    sessions = service(contract)
    sessions.create({"retrievalId": "a"}, ORIGIN)
    assert sessions.viewed("0" * 40) is None
    assert sessions.viewed("") is None


def test_sessions_token_lives_for_the_schemas_seconds(contract: Contract) -> None:
    lifetime = contract.documents[RESPONSE]["x-stateful-rules"]["ephemeralSession.token-lifetime"]
    seconds = float(lifetime["seconds"])
    clock = FakeMonotonic()
    sessions = service(contract, clock=clock)
    token = token_of(sessions.create({"retrievalId": "a"}, ORIGIN))
    clock.now += seconds - 0.001
    assert sessions.viewed(token) == {"retrievalId": "a"}
    clock.now += 0.001
    assert sessions.viewed(token) is None
    sessions.create({"retrievalId": "b"}, ORIGIN)  # forgets the expired one
    clock.now -= 1  # even if time could go back, the forgotten session stays gone
    assert sessions.viewed(token) is None


def test_sessions_seeded_tokens_repeat_and_reset_repeats_them(contract: Contract) -> None:
    first, second = service(contract, seed=5), service(contract, seed=5)
    urls = [first.create({"retrievalId": str(i)}, ORIGIN) for i in range(3)]
    assert [second.create({"retrievalId": str(i)}, ORIGIN) for i in range(3)] == urls
    first.reset()
    assert first.viewed(token_of(urls[0])) is None
    assert first.create({"retrievalId": "0"}, ORIGIN) == urls[0]


def test_sessions_other_seed_other_tokens(contract: Contract) -> None:
    body = {"retrievalId": "a"}
    assert service(contract, seed=5).create(body, ORIGIN) != service(contract, seed=6).create(
        body, ORIGIN
    )


def test_sessions_unseeded_tokens_differ(contract: Contract) -> None:
    body = {"retrievalId": "a"}
    assert service(contract, seed=None).create(body, ORIGIN) != service(contract, seed=None).create(
        body, ORIGIN
    )


# --- field rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({}, "retrievalId", "body.required"),
        ({"retrievalId": ""}, "retrievalId", "ephemeralSession.retrievalId-non-empty"),
        ({"retrievalId": 12345}, "retrievalId", "ephemeralSession.retrievalId-type"),
        ({"retrievalId": "r", "retrieval_id": "r"}, "retrieval_id", "body.unknown-field"),
        ({"retrievalId": "r", "options": []}, "options", "ephemeralSession.options-type"),
        ({"retrievalId": "r", "options": "{}"}, "options", "ephemeralSession.options-type"),
        (
            {"retrievalId": "r", "hangingProtocol": {"layout": "5x5", "viewportAssignments": []}},
            "hangingProtocol.layout",
            "viewerLayout.enum",
        ),
        (
            {"retrievalId": "r", "hangingProtocol": {"layout": "1x1"}},
            "hangingProtocol.viewportAssignments",
            "hangingProtocol.required",
        ),
        (
            {"retrievalId": "r", "hangingProtocol": {"layout": "1x1", "viewportAssignments": [1]}},
            "hangingProtocol.viewportAssignments.0",
            "hangingProtocol.assignment-type",
        ),
        (
            {
                "retrievalId": "r",
                "hangingProtocol": {"layout": "1x1", "viewportAssignments": [None], "x": 1},
            },
            "hangingProtocol.x",
            "hangingProtocol.unknown-field",
        ),
    ],
)
def test_sessions_refuse_what_the_field_rules_refuse(
    contract: Contract, body: dict[str, Any], field: str, rule: str
) -> None:
    assert [(v["field"], v["rule"], v["in"]) for v in refused(service(contract), body)] == [
        (field, rule, "body")
    ]


def test_sessions_refuse_a_body_that_is_not_an_object(contract: Contract) -> None:
    assert [v["rule"] for v in refused(service(contract), ["retrievalId"])] == ["body.type"]


def test_sessions_list_every_violation_with_the_byte_cap(contract: Contract) -> None:
    body = {"options": options_of(cap(contract) + 1, "a"), "extra": 1}
    rules = {(v["field"], v["rule"]) for v in refused(service(contract), body)}
    assert rules == {
        ("extra", "body.unknown-field"),
        ("options", CAP_RULE),
        ("retrievalId", "body.required"),
    }


def test_sessions_lenient_drops_unknown_fields(contract: Contract) -> None:
    sessions = service(contract, lenient=True)
    token = token_of(sessions.create({"retrievalId": "r", "extra": 1}, ORIGIN))
    assert sessions.viewed(token) == {"retrievalId": "r"}


# --- the options byte cap --------------------------------------------------------------------


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"], ids=["ascii", "2-byte", "3-byte", "4-byte"])
def test_sessions_options_at_the_cap_are_kept(contract: Contract, char: str) -> None:
    options = options_of(cap(contract), char)
    sessions = service(contract)
    token = token_of(sessions.create({"retrievalId": "r", "options": options}, ORIGIN))
    assert sessions.viewed(token) == {"retrievalId": "r", "options": options}


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"], ids=["ascii", "2-byte", "3-byte", "4-byte"])
def test_sessions_options_a_byte_over_the_cap_are_refused(contract: Contract, char: str) -> None:
    limit = cap(contract)
    body = {"retrievalId": "r", "options": options_of(limit + 1, char)}
    [found] = refused(service(contract), body)
    assert (found["field"], found["rule"], found["tag"]) == ("options", CAP_RULE, "stated")
    assert f"at most {limit} bytes" in found["message"]
    assert f"got {limit + 1} bytes" in found["message"]


def test_sessions_options_cap_counts_bytes_not_characters(contract: Contract) -> None:
    limit = cap(contract)
    options = options_of(limit + 1, "😀")
    assert len(json.dumps(options, ensure_ascii=False, separators=(",", ":"))) < limit
    assert [
        v["rule"] for v in refused(service(contract), {"retrievalId": "r", "options": options})
    ] == [CAP_RULE]


def test_sessions_options_cap_counts_numbers_as_javascript_writes_them(contract: Contract) -> None:
    """``1.0`` is ``1`` to JSON.stringify: two bytes fewer than orjson's ``1.0``, and ``-0.0``
    is ``0``, three fewer; both sides of the cap are measured the JavaScript way."""
    limit = cap(contract)
    frame = len(b'{"k":"","n":1,"z":0}')
    options: dict[str, Any] = {"k": "a" * (limit - frame), "n": 1.0, "z": -0.0}
    assert len(orjson.dumps(options)) == limit + 5
    sessions = service(contract)
    assert sessions.viewed(
        token_of(sessions.create({"retrievalId": "r", "options": options}, ORIGIN))
    )
    options["k"] += "a"
    assert [v["rule"] for v in refused(sessions, {"retrievalId": "r", "options": options})] == [
        CAP_RULE
    ]


def test_sessions_options_cap_is_read_from_the_schema(contract: Contract) -> None:
    document = json.loads(json.dumps(contract.documents[REQUEST]))
    document["properties"]["options"]["else"]["x-json-bytes"] = 11
    edited = Contract({**contract.documents, REQUEST: document})
    assert refused(service(edited), {"retrievalId": "r", "options": {"k": "abcd"}})[0]["rule"] == (
        CAP_RULE
    )
    service(edited).create({"retrievalId": "r", "options": {"k": "abc"}}, ORIGIN)


# --- viewports against the layout (a stateful rule) ----------------------------------------


@pytest.mark.parametrize(("layout", "count"), [("1x1", 1), ("2x3", 6), ("4x4", 16), ("3x1", 3)])
def test_sessions_one_assignment_per_viewport_is_kept(
    contract: Contract, layout: str, count: int
) -> None:
    protocol = {"layout": layout, "viewportAssignments": [None] * (count - 1) + ["Axial T1"]}
    sessions = service(contract)
    token = token_of(sessions.create({"retrievalId": "r", "hangingProtocol": protocol}, ORIGIN))
    assert sessions.viewed(token) == {"retrievalId": "r", "hangingProtocol": protocol}


@pytest.mark.parametrize("count", [0, 3, 5])
def test_sessions_other_viewport_counts_are_refused(contract: Contract, count: int) -> None:
    protocol = {"layout": "2x2", "viewportAssignments": ["Axial T1"] * count}
    [found] = refused(service(contract), {"retrievalId": "r", "hangingProtocol": protocol})
    assert (found["field"], found["rule"]) == ("hangingProtocol.viewportAssignments", VIEWPORT_RULE)
    assert f"got {count} " in found["message"]
    assert "which has 4 viewports" in found["message"]
