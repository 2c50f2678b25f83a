"""Ephemeral sessions, stateless: the field rules, no rule across fields, a URL per request."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.resources.sessions import REQUEST, RESPONSE, SESSION_PATH, Sessions
from mockserver.settings import Settings
from mockserver.stateless.sessions import StatelessSessions
from tests.session_calls import FULL, ORIGIN, SDK_CALLS, options_of, sdk_body

CAP_RULE = "ephemeralSession.options-max-bytes"


def stateless(contract: Contract, seed: int | None = 7, **options: Any) -> Sessions:
    return StatelessSessions(contract, Settings(seed=seed, stateless=True, **options))


def url(sessions: Sessions, body: Any) -> str:
    return str(orjson.loads(sessions.create(body, ORIGIN))["url"])


def rules(sessions: Sessions, body: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequest) as caught:
        sessions.create(body, ORIGIN)
    return [(v.field, v.rule) for v in caught.value.violations]


def cap(contract: Contract) -> int:
    return int(contract.rule_value(REQUEST, CAP_RULE))


@pytest.mark.parametrize("kwargs", SDK_CALLS, ids=["required", "all-params"])
def test_stateless_sessions_accept_the_generated_suites_values(
    contract: Contract, kwargs: dict[str, Any]
) -> None:
    answer = orjson.loads(stateless(contract).create(sdk_body(kwargs), ORIGIN))
    assert contract.validator(RESPONSE).is_valid(answer)
    assert re.fullmatch(re.escape(ORIGIN + SESSION_PATH) + "[0-9a-f]{40}", answer["url"])


def test_stateless_sessions_same_request_same_url(contract: Contract) -> None:
    assert url(stateless(contract), FULL) == url(stateless(contract), FULL)


def test_stateless_sessions_key_order_does_not_change_the_url(contract: Contract) -> None:
    reordered = dict(reversed(list(FULL.items())))
    assert url(stateless(contract), reordered) == url(stateless(contract), FULL)


def test_stateless_sessions_null_is_absent_for_the_url(contract: Contract) -> None:
    sessions = stateless(contract)
    assert url(sessions, {"retrievalId": "r", "options": None}) == url(
        sessions, {"retrievalId": "r"}
    )


def test_stateless_sessions_other_request_or_seed_other_url(contract: Contract) -> None:
    sessions = stateless(contract)
    assert url(sessions, {"retrievalId": "a"}) != url(sessions, {"retrievalId": "b"})
    assert url(stateless(contract, seed=8), FULL) != url(sessions, FULL)


def test_stateless_sessions_unseeded_is_seed_zero(contract: Contract) -> None:
    assert url(stateless(contract, seed=None), FULL) == url(stateless(contract, seed=0), FULL)


def test_stateless_sessions_view_nothing(contract: Contract) -> None:
    sessions = stateless(contract)
    token = url(sessions, FULL).rsplit("/", 1)[1]
    assert sessions.viewed(token) is None
    sessions.reset()
    assert url(sessions, FULL).endswith(token)


def test_stateless_sessions_apply_the_field_rules(contract: Contract) -> None:
    sessions = stateless(contract)
    assert rules(sessions, {"retrievalId": ""}) == [
        ("retrievalId", "ephemeralSession.retrievalId-non-empty")
    ]
    assert rules(sessions, {"retrievalId": "r", "x": 1}) == [("x", "body.unknown-field")]


@pytest.mark.parametrize("char", ["a", "€", "😀"])
def test_stateless_sessions_apply_the_byte_cap(contract: Contract, char: str) -> None:
    sessions = stateless(contract)
    url(sessions, {"retrievalId": "r", "options": options_of(cap(contract), char)})
    body = {"retrievalId": "r", "options": options_of(cap(contract) + 1, char)}
    assert rules(sessions, body) == [("options", CAP_RULE)]


def test_stateless_sessions_do_not_count_viewports(contract: Contract) -> None:
    protocol = {"layout": "2x2", "viewportAssignments": ["Axial T1"]}
    assert url(stateless(contract), {"retrievalId": "r", "hangingProtocol": protocol})


def test_stateless_sessions_lenient_ignores_unknown_fields(contract: Contract) -> None:
    sessions = stateless(contract, lenient=True)
    assert url(sessions, {"retrievalId": "r", "x": 1}) == url(sessions, {"retrievalId": "r"})


def test_stateless_sessions_token_from_values_orjson_refuses(contract: Contract) -> None:
    """A lone surrogate cannot come through HTTP, but an in-process caller may send one."""
    body = {"retrievalId": "r", "options": {"k": "\ud800"}}
    assert url(stateless(contract), body) == url(stateless(contract), body)
