"""Mutations: every rule of every input document is a target, its bad values break its
keyword, and near misses (ids of other kinds, values of other enums) come from schemas/."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.operations.drawing import evenly
from contract_tests.operations.mutations import Mutations, targets
from contract_tests.operations.nearmiss import id_prefix, near_miss_ids, other_enum_values
from contract_tests.operations.probes import other_operations
from contract_tests.transport.call import operation
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

CONTRACT = Contract.load()
MUTATIONS = Mutations(CONTRACT)
SOME = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
USER_PATTERN = CONTRACT.rule_value("user-access-request", "userId.format")
SEVERITIES = CONTRACT.rule_value("study-update-request", "severity.enum")
INPUTS = sorted(
    {
        doc
        for name in other_operations()
        for doc in (operation(name).body, operation(name).query, operation(name).path)
        if doc
    }
)


def target(document: str, rule: str) -> Any:
    (found,) = [t for t in targets(CONTRACT, document, "body") if t.rule.id == rule][:1]
    return found


def rules_broken(document: str, value: Any) -> set[str]:
    return {v.rule for v in DocumentValidator(CONTRACT, document).violations(value)}


@pytest.mark.parametrize("document", INPUTS)
def test_targets_are_every_rule_of_a_document(document: str) -> None:
    found = list(targets(CONTRACT, document, "body"))
    assert [t.rule.id for t in found] == [r.rule.id for r in CONTRACT.rules(document)]
    for each in found:
        assert each.holder[each.keyword] == each.operand


def test_targets_walk_to_the_value_a_keyword_applies_to() -> None:
    key = target("study-update-request", "metadata.key-max-length")
    assert [(s.kind, s.name) for s in key.steps] == [("property", "metadata"), ("key", "")]
    value = target("study-update-request", "metadata.value-max-length")
    assert [s.kind for s in value.steps] == ["property", "value"]
    item = target("invitation-list-query", "invitationStatus.enum")
    assert [(s.kind, s.name) for s in item.steps] == [("property", "status"), ("item", "")]
    assert target("user-update-request", "body.type").steps == ()
    assert key.parameter == "metadata"


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ("study-update-request", "metadata.value-max-length"),
        ("study-update-request", "metadata.max-pairs"),
        ("study-update-request", "severity.enum"),
        ("study-update-request", "update.unknown-field"),
        ("user-update-request", "phoneNumber.min-digits"),
        ("user-update-request", "userUpdate.email-immutable"),
        ("user-access-request", "body.required"),
        ("user-access-request", "id.lowercase-hex"),
        ("invitation-list-query", "date.calendar"),
        ("invitation-list-query", "limit.maximum"),
        ("study-selector", "studyInstanceUid.leading-zero"),
    ],
)
def test_mutations_documents_break_their_rule(document: str, rule: str) -> None:
    drawn: list[bool] = []

    @settings(SOME, max_examples=60, derandomize=True)
    @given(MUTATIONS.documents(target(document, rule)))
    def check(value: Any) -> None:
        drawn.append(rules_broken(document, value) == {rule})

    check()
    # Confirming is the probes' job (40 tries each): a mutation only has to break its rule
    # alone often enough.
    assert sum(drawn) >= len(drawn) / 15


def test_mutations_max_length_is_over_the_limit_in_code_points() -> None:
    limit = CONTRACT.rule_value("study-update-request", "metadata.value-max-length")

    @SOME
    @given(MUTATIONS.bad(target("study-update-request", "metadata.value-max-length")))
    def check(value: str) -> None:
        # Over in code points is over in UTF-16 units and UTF-8 bytes too: refusing is stated.
        assert limit < len(value) <= limit + 4

    check()


def test_mutations_required_drops_a_required_field() -> None:
    @SOME
    @given(MUTATIONS.bad(target("user-invite-request", "body.required")))
    def check(value: dict[str, Any]) -> None:
        required = set(CONTRACT.resolved("user-invite-request")["required"])
        assert len(required - set(value)) == 1

    check()


def test_mutations_breakable_knows_what_a_text_reading_can_give() -> None:
    path_type = [t for t in targets(CONTRACT, "study-path", "path") if t.keyword == "type"]
    assert path_type
    assert not any(MUTATIONS.breakable(t, frozenset({"string"})) for t in path_type)
    limit = target("user-list-query", "limit.integer")
    assert MUTATIONS.breakable(limit, frozenset({"integer", "number", "string"}))
    assert MUTATIONS.breakable(limit, None)
    described = target("user-list-query", "firstName.type")
    assert not MUTATIONS.breakable(described, frozenset({"string"}))


def test_near_miss_ids_are_well_formed_ids_of_other_kinds() -> None:
    prefixes: set[str] = set()

    @settings(SOME, max_examples=60)
    @given(near_miss_ids(CONTRACT, USER_PATTERN))
    def check(value: str) -> None:
        assert not re.fullmatch(USER_PATTERN, value)
        prefix = value.split("_")[0] + "_"
        prefixes.add(prefix)
        assert re.fullmatch(prefix + "[0-9a-f]{32}", value), value

    check()
    assert {"cus_", "stu_", "inv_"} <= prefixes
    assert "usr_" not in prefixes


def test_near_miss_ids_kinds_are_read_from_schemas() -> None:
    documents = copy.deepcopy(CONTRACT.documents)
    documents["common"]["$defs"]["UserId"]["pattern"] = "^acc_[0-9a-fA-F]{32}$"
    edited = Contract(documents)
    seen: set[str] = set()

    @settings(SOME, max_examples=60)
    @given(near_miss_ids(edited, "^cus_[0-9a-fA-F]{32}$"))
    def check(value: str) -> None:
        seen.add(value[:4])

    check()
    assert "acc_" in seen
    assert "usr_" not in seen
    assert id_prefix("^[0-9.]*$") is None


def test_near_miss_ids_without_other_kinds_is_nothing() -> None:
    documents = {"common": {"$id": "urn:avara-mock:common", "$defs": {}}}
    assert near_miss_ids(Contract(documents), USER_PATTERN).is_empty


def test_other_enum_values_come_from_every_other_enum() -> None:
    seen: set[str] = set()

    @settings(SOME, max_examples=80)
    @given(other_enum_values(CONTRACT, SEVERITIES))
    def check(value: str) -> None:
        assert value not in SEVERITIES
        seen.add(value)

    check()
    every = {
        v
        for doc in ("common",)
        for node in CONTRACT.documents[doc]["$defs"].values()
        for v in node.get("enum", [])
    } - set(SEVERITIES)
    assert seen <= every | {v for d in CONTRACT.documents.values() for v in _enums(d)}
    assert len(seen) > 10


def _enums(node: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        found += node.get("enum", []) if isinstance(node.get("enum"), list) else []
        for child in node.values():
            found += _enums(child)
    elif isinstance(node, list):
        for child in node:
            found += _enums(child)
    return found


def test_evenly_draws_every_branch_but_empty_ones() -> None:
    seen: set[int] = set()

    @settings(SOME, max_examples=60)
    @given(evenly(st.just(1), st.nothing(), st.just(2), st.just(3)))
    def check(value: int) -> None:
        seen.add(value)

    check()
    assert seen == {1, 2, 3}
    assert evenly(st.nothing()).is_empty
