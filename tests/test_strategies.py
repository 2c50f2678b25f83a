"""The request strategies: valid ones conform, invalid ones break exactly the rule they name."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.create.cases import ASTRAL, minimal, uid_of_length
from contract_tests.create.strategies import (
    MUTATIONS,
    REQUEST,
    Limits,
    dicom_uids,
    exact_text,
    ids,
    invalid_probes,
    missing_mutations,
    relies_on_inferred,
    sized_text,
    valid_probes,
)
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

CONTRACT = Contract.load()
LIMITS = Limits(CONTRACT)
VALIDATOR = DocumentValidator(CONTRACT, REQUEST)
TAGS = {found.rule.id: found.rule.tag for found in CONTRACT.rules(REQUEST)}
NULLABLE = ("assignedTo", "expressCustomerId", "metadata")
SOME = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
FEW = settings(SOME, max_examples=15)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def rests_on_reading(body: dict[str, Any]) -> bool:
    """Our own account of the inferred readings: null as absent, a length within its limit in
    code points but over it in UTF-8 bytes (the unit that counts longest)."""
    if any(name in body and body[name] is None for name in NULLABLE):
        return True
    pairs = body.get("metadata") or {}
    return any(utf8_bytes(k) > 100 or utf8_bytes(v) > 1000 for k, v in pairs.items())


def test_relies_on_inferred_a_value_of_two_byte_characters_at_the_limit() -> None:
    assert relies_on_inferred(minimal(metadata={"k": "é" * 1000}), LIMITS)
    assert relies_on_inferred(minimal(metadata={"é" * 100: "v"}), LIMITS)
    assert not relies_on_inferred(minimal(metadata={"k": "é" * 500}), LIMITS)
    assert not relies_on_inferred(minimal(metadata={"k" * 100: "v" * 1000}), LIMITS)


def uid_violations(uid: str) -> set[str]:
    return {v.rule for v in VALIDATOR.violations(minimal(studyInstanceUid=uid))}


def test_strategies_limits_are_read_from_the_schema() -> None:
    assert (LIMITS.uid, LIMITS.pairs, LIMITS.key, LIMITS.value) == (64, 50, 100, 1000)
    assert LIMITS.severities == ["normal", "high", "stat"]
    assert set(LIMITS.nullable) == set(NULLABLE)
    assert set(LIMITS.required) == {"severity", "studyDescription", "studyInstanceUid"}


@SOME
@given(valid_probes(CONTRACT))
def test_valid_probes_conform_and_are_tagged_by_the_reading_they_rest_on(probe: Any) -> None:
    assert probe.kind == "valid"
    assert (probe.rule, probe.field, probe.name) == ("", "", "generated")
    assert VALIDATOR.violations(probe.body) == []
    inferred = relies_on_inferred(probe.body, LIMITS)
    assert inferred == rests_on_reading(probe.body)
    assert probe.tag == ("inferred" if inferred else "stated")


def test_relies_on_inferred_on_chosen_bodies() -> None:
    assert not relies_on_inferred(minimal(), LIMITS)
    assert not relies_on_inferred(minimal(metadata={"k" * 100: "v" * 1000}), LIMITS)
    assert relies_on_inferred(minimal(assignedTo=None), LIMITS)
    assert relies_on_inferred(minimal(metadata=None), LIMITS)
    assert relies_on_inferred(minimal(metadata={ASTRAL * 26: "v"}), LIMITS)
    assert relies_on_inferred(minimal(metadata={"k": ASTRAL * 251}), LIMITS)
    assert not relies_on_inferred(minimal(metadata={ASTRAL * 25: ASTRAL * 250}), LIMITS)


@settings(SOME, max_examples=80)
@given(invalid_probes(CONTRACT))
def test_invalid_probes_break_exactly_the_rule_they_name(probe: Any) -> None:
    found = VALIDATOR.violations(probe.body)
    assert probe.kind == "invalid"
    assert probe.rule in MUTATIONS
    assert {v.rule for v in found} == {probe.rule}
    assert {v.path[0] if v.path else "" for v in found} == {probe.field}
    assert probe.tag == TAGS[probe.rule]


def test_missing_mutations_is_empty_every_rule_can_be_broken() -> None:
    assert missing_mutations(CONTRACT) == set()
    assert set(MUTATIONS) == set(TAGS)


def test_missing_mutations_names_a_rule_no_mutation_breaks() -> None:
    documents = {name: dict(doc) for name, doc in CONTRACT.documents.items()}
    request = documents[REQUEST]
    request["properties"] = {
        **request["properties"],
        "notes": {
            "type": "string",
            "x-rules": {"type": {"id": "notes.type", "tag": "stated", "message": "m"}},
        },
    }
    assert missing_mutations(Contract(documents)) == {"notes.type"}


@pytest.mark.parametrize(
    "rule",
    [
        "body.type",
        "severity.enum",
        "studyInstanceUid.leading-zero",
        "studyInstanceUid.charset",
        "metadata.key-max-length",
        "id.lowercase-hex",
    ],
)
@FEW
@given(data=st.data())
def test_invalid_probes_of_chosen_rules_yield_only_those(rule: str, data: st.DataObject) -> None:
    probe = data.draw(invalid_probes(CONTRACT, [rule]))
    assert probe.rule == rule
    assert {v.rule for v in VALIDATOR.violations(probe.body)} == {rule}


@SOME
@given(st.integers(1, 64).flatmap(lambda n: st.tuples(st.just(n), dicom_uids(n))))
def test_dicom_uids_are_valid_and_within_the_length(drawn: tuple[int, str]) -> None:
    limit, uid = drawn
    assert 1 <= len(uid) <= limit
    assert uid_violations(uid) == set()


@SOME
@given(st.integers(1, 80))
def test_uid_of_length_is_exactly_that_long(length: int) -> None:
    uid = uid_of_length(length)
    assert len(uid) == length
    assert uid_violations(uid) == (set() if length <= 64 else {"studyInstanceUid.max-length"})


@SOME
@given(st.data(), st.integers(0, 1200))
def test_exact_text_has_exactly_the_drawn_code_points(data: st.DataObject, length: int) -> None:
    drawn = data.draw(exact_text(st.just(length)))
    assert len(drawn) == length
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in drawn)


@SOME
@given(st.data(), st.integers(0, 1200), st.integers(0, 5))
def test_sized_text_is_at_or_just_under_the_limit(
    data: st.DataObject, limit: int, near: int
) -> None:
    drawn = data.draw(sized_text(limit, near))
    assert max(limit - near, 0) <= len(drawn) <= limit


@FEW
@given(ids("^usr_[0-9a-fA-F]{32}$"))
def test_ids_are_prefixed_lower_case_hex(drawn: str) -> None:
    assert drawn.startswith("usr_")
    assert len(drawn) == 36
    assert set(drawn[4:]) <= set("0123456789abcdef")
