"""Valid values of any schema node: they validate, reach the node's limits, and say what
accepting them rests on (a length counted in code points, a null read as absent)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.operations.flat import UnsupportedSchema, flatten
from contract_tests.operations.patterns import UnsupportedPattern, matching
from contract_tests.operations.values import Values, alphabet
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

CONTRACT = Contract.load()
VALUES = Values(CONTRACT)
SOME = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
REQUESTS = sorted(
    name
    for name, doc in CONTRACT.documents.items()
    if name.endswith(("-request", "-query", "-path", "-selector"))
)
LIMIT = "metadata.value-max-length"
COMMON_PATTERNS = [
    r"^usr_[0-9a-fA-F]{32}$",
    r"^[A-Za-z0-9+/_-]+={0,2}$",
    r"^(0|[^0.][^.]*|)(\.(0|[^0.][^.]*|))*$",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    r"^[^.]+(\.[^.]+)*$",
]


def test_values_requests_are_every_input_document() -> None:
    assert "study-update-request" in REQUESTS
    assert "invitation-list-query" in REQUESTS
    assert "user-path" in REQUESTS
    assert "study-selector" in REQUESTS


@pytest.mark.parametrize("name", REQUESTS)
def test_values_of_a_document_validate(name: str) -> None:
    validator = DocumentValidator(CONTRACT, name)
    drawn: list[Any] = []

    @SOME
    @given(VALUES.of(CONTRACT.resolved(name), types=frozenset({"object"})))
    def check(value: Any) -> None:
        drawn.append(value)
        assert validator.violations(value) == [], value

    check()
    assert all(isinstance(value, dict) for value in drawn)


def test_values_minimal_object_holds_only_required_fields() -> None:
    node = CONTRACT.resolved("user-invite-request")

    @SOME
    @given(VALUES.of(node, minimal=True, types=frozenset({"object"})))
    def check(value: dict[str, Any]) -> None:
        assert set(value) == set(node["required"])

    check()


def test_values_reach_the_limits_of_a_long_text() -> None:
    node = CONTRACT.resolved("study-update-request")["properties"]["metadata"]
    limit = CONTRACT.rule_value("study-update-request", LIMIT)
    lengths: set[int] = set()

    @settings(SOME, max_examples=120)
    @given(VALUES.of(node, types=frozenset({"object"})))
    def check(value: dict[str, str]) -> None:
        lengths.update(len(v) for v in value.values())

    check()
    assert limit in lengths
    assert max(lengths) == limit


def test_values_optional_field_is_sometimes_null() -> None:
    node = CONTRACT.resolved("study-selector")["properties"]["studyId"]
    seen: set[bool] = set()

    @SOME
    @given(VALUES.of(node))
    def check(value: Any) -> None:
        seen.add(value is None)

    check()
    assert seen == {True, False}


def test_values_of_a_node_no_value_may_have_draw_nothing() -> None:
    node = CONTRACT.resolved("user-update-request")["properties"]["email"]
    assert flatten(node) == []
    assert not VALUES.satisfiable(node)
    assert VALUES.of(node).is_empty


def test_values_flatten_merges_all_of_and_splits_null() -> None:
    node = CONTRACT.resolved("study-selector")["properties"]["studyId"]
    alternatives = flatten(node)
    assert [sorted(a.types) for a in alternatives] == [["null"], ["string"]]
    string = alternatives[1]
    assert set(string.patterns) == {"^stu_[0-9a-fA-F]{32}$", "^[^A-F]*$"}


def test_values_unsupported_keyword_is_refused() -> None:
    with pytest.raises(UnsupportedSchema, match="multipleOf"):
        VALUES.of({"type": "integer", "multipleOf": 3})


def test_values_alphabet_of_character_class_patterns() -> None:
    allowed, excluded = alphabet(["^[0-9.]*$", "^(0|[^0.][^.]*|)$"])
    assert sorted(allowed or "") == sorted("0123456789.")
    assert excluded == ""
    allowed, excluded = alphabet(["^[^A-F]*$"])
    assert allowed is None
    assert excluded == "ABCDEF"


def test_values_reasons_a_two_byte_value_at_the_limit_is_inferred() -> None:
    node = CONTRACT.resolved("study-update-request")
    limit = CONTRACT.rule_value("study-update-request", LIMIT)
    assert VALUES.reasons(node, {"metadata": {"k": "é" * limit}}) == [
        f"a length up to {limit} is counted in code points"
    ]
    assert VALUES.reasons(node, {"metadata": {"k": "x" * limit}}) == []
    assert VALUES.reasons(node, {"metadata": {"k": "é" * (limit // 2)}}) == []


def test_values_reasons_follow_x_length_units() -> None:
    documents = copy.deepcopy(CONTRACT.documents)
    documents["common"]["x-length-units"]["units"] = ["code-points"]
    values = Values(Contract(documents))
    node = values.contract.resolved("study-update-request")
    assert values.reasons(node, {"metadata": {"k": "é" * 1000}}) == []


def test_values_reasons_a_null_read_as_absent_is_inferred() -> None:
    node = CONTRACT.resolved("study-selector")
    assert VALUES.reasons(node, {"studyId": None}) == [
        "an optional field sent as null is read as absent"
    ]
    update = CONTRACT.resolved("study-update-request")
    assert VALUES.reasons(update, {"assignedTo": None}) == []


@pytest.mark.parametrize("pattern", COMMON_PATTERNS)
def test_patterns_matching_draws_strings_of_the_pattern(pattern: str) -> None:
    @SOME
    @given(matching(pattern, "0123456789." if "0." in pattern else None))
    def check(value: str) -> None:
        assert re.fullmatch(pattern.strip("^$"), value), value

    check()


def test_patterns_matching_keeps_to_the_allowed_characters() -> None:
    @SOME
    @given(matching(r"^[^.]+(\.[^.]+)*$", "123.", excluded="3"))
    def check(value: str) -> None:
        assert set(value) <= set("12.")

    check()


@pytest.mark.parametrize("pattern", [r"^(?=a)b$", r"^a*?$", r"^[a-z$"])
def test_patterns_matching_refuses_what_it_cannot_read(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        matching(pattern)


def test_patterns_other_values_come_from_from_regex() -> None:
    node = {"type": "string", "pattern": "^x[0-9]+?$"}

    @SOME
    @given(VALUES.of(node))
    def check(value: str) -> None:
        assert re.fullmatch(r"x[0-9]+", value)

    check()


def test_values_json_bytes_cap_is_kept() -> None:
    node = CONTRACT.resolved("ephemeral-session-create-request")["properties"]["options"]
    cap = CONTRACT.rule_value(
        "ephemeral-session-create-request", "ephemeralSession.options-max-bytes"
    )
    from mockserver.stringify import stringify_bytes

    sizes: list[int] = []

    @settings(SOME, max_examples=60)
    @given(VALUES.of(node, types=frozenset({"object"})))
    def check(value: dict[str, Any]) -> None:
        sizes.append(stringify_bytes(value))

    check()
    assert max(sizes) <= cap
    assert max(sizes) >= cap - 3


def test_values_strings_of_any_alphabet_are_unicode() -> None:
    node = CONTRACT.resolved("user-update-request")["properties"]["firstName"]
    seen: list[str] = []

    @settings(SOME, max_examples=60)
    @given(VALUES.of(node))
    def check(value: str) -> None:
        seen.append(value)

    check()
    assert any(not value.isascii() for value in seen)
    assert all(value for value in seen)


def test_values_enum_draws_only_its_values() -> None:
    node = CONTRACT.resolved("user-update-request")["properties"]["level"]
    levels = CONTRACT.rule_value("user-update-request", "assignableUserLevel.enum")

    @SOME
    @given(st.data())
    def check(data: st.DataObject) -> None:
        assert data.draw(VALUES.of(node)) in levels

    check()
