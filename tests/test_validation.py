"""Request validation: every fixture case, every violation at once, ECMA-262 patterns."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import regress
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.create.cases import Case, invalid_cases, minimal, valid_cases
from mockserver.contract import Contract, data_folder
from mockserver.validation import DocumentValidator

REQUEST = "study-create-request"
FIXTURES = json.loads((data_folder("fixtures") / "create-requests.json").read_text("utf-8"))


def _ecma_validator(contract: Contract) -> jsonschema.protocols.Validator:
    """python-jsonschema with ``pattern`` run by regress, a real ECMA-262 engine: the reference."""

    def ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
        if isinstance(instance, str) and regress.Regex(pattern).find(instance) is None:
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")

    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": ecma_pattern}
    )
    validator: jsonschema.protocols.Validator = cls(
        contract.resolved(REQUEST), format_checker=cls.FORMAT_CHECKER
    )
    return validator


@pytest.fixture(scope="module")
def validator(contract: Contract) -> DocumentValidator:
    return DocumentValidator(contract, REQUEST)


@pytest.mark.parametrize("case", FIXTURES["valid"], ids=lambda c: c["name"])
def test_validation_accepts_valid_fixture(
    validator: DocumentValidator, case: dict[str, Any]
) -> None:
    assert validator.violations(case["body"]) == []


@pytest.mark.parametrize("case", FIXTURES["invalid"], ids=lambda c: c["name"])
def test_validation_refuses_invalid_fixture_for_its_rule(
    validator: DocumentValidator, case: dict[str, Any]
) -> None:
    found = {(v.field, v.rule) for v in validator.violations(case["body"])}
    assert found == {(e["field"], e["rule"]) for e in case["expect"]}


def test_validation_fixture_file_is_generated_from_schemas(contract: Contract) -> None:
    from contract_tests.create.cases import render

    path = data_folder("fixtures") / "create-requests.json"
    assert path.read_text("utf-8") == render(contract), "run `make fixtures` and commit the result"


def test_validation_lists_every_violation_at_once(validator: DocumentValidator) -> None:
    body = minimal(
        severity="HIGH",
        studyInstanceUid="01..2",
        assignedTo="usr_123",
        metadata={"": "x", "k": "v" * 1001},
        extra=1,
    )
    found = [(v.field, v.rule) for v in validator.violations(body)]
    assert found == [
        ("assignedTo", "userId.format"),
        ("extra", "body.unknown-field"),
        ("metadata.", "metadata.key-non-empty"),
        ("metadata.k", "metadata.value-max-length"),
        ("severity", "severity.enum"),
        ("studyInstanceUid", "studyInstanceUid.empty-component"),
        ("studyInstanceUid", "studyInstanceUid.leading-zero"),
    ]


def test_validation_message_names_field_rule_and_facts(validator: DocumentValidator) -> None:
    (violation,) = validator.violations(minimal(studyInstanceUid="1" * 65))
    assert (
        violation.message
        == "studyInstanceUid must be at most 64 characters long (got 65 characters)."
    )
    assert violation.tag == "stated"
    assert violation.path == ("studyInstanceUid",)
    (key,) = validator.violations(minimal(metadata={"k" * 101: "v"}))
    assert key.message.startswith('metadata key "kkk')
    assert key.message.endswith("must be at most 100 characters long (got 101 characters).")


def test_validation_metadata_key_with_dot_keeps_exact_path(validator: DocumentValidator) -> None:
    (violation,) = validator.violations(minimal(metadata={"a.b": 3}))
    assert violation.field == "metadata.a.b"
    assert violation.path == ("metadata", "a.b")


def test_validation_lenient_ignores_unknown_fields_only(contract: Contract) -> None:
    lenient = DocumentValidator(contract, REQUEST, lenient=True)
    assert lenient.violations(minimal(unknownThing=1)) == []
    assert [v.rule for v in lenient.violations(minimal(severity="x", other=1))] == ["severity.enum"]


def test_validation_counts_code_points_not_bytes(validator: DocumentValidator) -> None:
    astral = "\U0001fa7b"
    assert validator.violations(minimal(metadata={astral * 100: astral * 1000})) == []
    assert [v.rule for v in validator.violations(minimal(metadata={"k": astral * 1001}))] == [
        "metadata.value-max-length"
    ]


@pytest.mark.parametrize(
    "case", [*FIXTURES["valid"], *FIXTURES["invalid"]], ids=lambda c: c["name"]
)
def test_validation_agrees_with_ecma_reference_on_fixtures(
    contract: Contract, validator: DocumentValidator, case: dict[str, Any]
) -> None:
    reference = _ecma_validator(contract)
    assert reference.is_valid(case["body"]) == (validator.violations(case["body"]) == [])


_uid_alphabet = st.sampled_from(["0", "1", "2", "9", ".", "\n", "a", " ", "\u0663", "\u00b2"])
_id_alphabet = st.sampled_from([*"usr_cus0123456789abcdefABCDEFg", "\n", "\u0663", "\uff41"])


def _ids(prefix: str) -> st.SearchStrategy[str]:
    near = st.from_regex(rf"\A{prefix}_[0-9a-fA-F\u0663]{{31,33}}\n?\Z")
    return st.text(_id_alphabet, min_size=30, max_size=40) | near


@settings(max_examples=300, deadline=None)
@given(
    uid=st.text(_uid_alphabet, max_size=70) | st.from_regex(r"\A[0-9.]{60,66}\Z"),
    user=_ids("usr"),
    customer=_ids("cus"),
)
def test_validation_patterns_match_ecma_262_semantics(
    contract: Contract, validator: DocumentValidator, uid: str, user: str, customer: str
) -> None:
    body = minimal(studyInstanceUid=uid, assignedTo=user, expressCustomerId=customer)
    reference = {str(e.path[0]) for e in _ecma_validator(contract).iter_errors(body) if e.path}
    assert reference == {v.path[0] for v in validator.violations(body)}


def test_validation_cases_generator_matches_fixture_counts(contract: Contract) -> None:
    cases: list[Case] = [*valid_cases(contract), *invalid_cases(contract)]
    assert len(FIXTURES["valid"]) + len(FIXTURES["invalid"]) == len(cases)
    assert all(len(c.expect) == 1 for c in invalid_cases(contract))


def test_validation_names_the_field_of_an_integer_past_64_bits(contract: Contract) -> None:
    """Documents built in Python (the plugin's, the admin API's) may hold any int; the
    violation still names the field instead of failing to quote the value."""
    validator = DocumentValidator(contract, "study-create-request")
    body = {"severity": 10**30, "studyDescription": "x", "studyInstanceUid": "1.2"}
    (problem,) = validator.violations(body)
    assert problem.field == "severity"
    assert str(10**30) in problem.message
