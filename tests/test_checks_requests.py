"""The checks about requests and refusals, each on hand-made exchanges: good, bad, not applicable.

The registry of checks is tested here too; the checks about the returned study are in
``test_checks_studies.py``, the shared builders in ``tests/exchanges.py``.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from contract_tests import checks
from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.create.cases import minimal
from contract_tests.create.uids import FRESH_DIGITS, fresh_digits
from contract_tests.transport.exchange import Answer, Kind, Probe
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator
from tests.exchanges import REQUEST, STUDY, answer, created, exchange, probe, rules, run

EXPECTED_CHECKS = {
    "answers",
    "accepts_valid",
    "study_schema",
    "json_content_type",
    "echoes_request",
    "links_references",
    "new_study_state",
    "unique_study_ids",
    "sane_timestamps",
    "refuses_invalid",
    "error_names_field",
    "requires_auth",
}


@pytest.fixture
def state(contract: Contract) -> RunState:
    return RunState.of(contract)


# --- the registry ----------------------------------------------------------------------------


def test_checks_registry_holds_each_check_once_under_its_function_name() -> None:
    assert set(CHECKS) == EXPECTED_CHECKS
    for name, spec in CHECKS.items():
        assert spec.name == name
        assert spec.run.__name__ == name
        assert getattr(checks, name) is spec.run
    registered = [
        f for f in vars(checks).values() if inspect.isfunction(f) and f.__name__ in CHECKS
    ]
    assert len(registered) == len(CHECKS)


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS))
def test_checks_about_reads_like_a_one_line_docstring(name: str) -> None:
    about = CHECKS[name].about
    assert about == about.strip()
    assert "\n" not in about
    assert len(about.split()) >= 4
    assert about[0].islower()
    assert not about.endswith(".")


def test_checks_good_study_fixture_conforms(contract: Contract) -> None:
    assert DocumentValidator(contract, "study").violations(STUDY) == []


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS - {"answers"}))
def test_checks_without_answer_do_not_apply(name: str, state: RunState) -> None:
    for kind in ("valid", "invalid", "unauthenticated"):
        the_probe = probe(kind, rule="severity.enum", field="severity")
        assert run(name, exchange(the_probe, None, "no answer in 5 s"), state) is None


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS - {"answers", "refuses_invalid"}))
def test_checks_of_other_kinds_do_not_apply_to_a_refused_invalid_probe(
    name: str, state: RunState
) -> None:
    refused = exchange(probe("invalid", rule="body.type"), answer(400, {"error": {}}))
    assert run(name, refused, state) is None


# --- answers ---------------------------------------------------------------------------------


def test_answers_passes_when_there_is_an_answer(state: RunState) -> None:
    assert run("answers", exchange(probe(), answer(500, {})), state) == []


def test_answers_without_answer_is_a_stated_finding_with_the_error(state: RunState) -> None:
    findings = run("answers", exchange(probe(), None, "no answer in 0.2 s"), state)
    assert findings == [Finding("http.answers", "stated", "no answer in 0.2 s")]
    findings = run("answers", exchange(probe(), None), state)
    assert findings == [Finding("http.answers", "stated", "no answer")]


# --- accepts_valid ---------------------------------------------------------------------------


def test_accepts_valid_passes_on_2xx(state: RunState) -> None:
    assert run("accepts_valid", created(), state) == []
    assert run("accepts_valid", exchange(probe(), answer(200, STUDY)), state) == []


@pytest.mark.parametrize("kind", ["invalid", "unauthenticated"])
def test_accepts_valid_does_not_apply_to_other_kinds(kind: Kind, state: RunState) -> None:
    assert run("accepts_valid", exchange(probe(kind), answer(400, {})), state) is None


def test_accepts_valid_conflict_on_a_uid_this_run_created_does_not_apply(
    state: RunState,
) -> None:
    assert run("accepts_valid", created(), state) == []
    assert run("accepts_valid", exchange(probe(), answer(409, {})), state) is None


@pytest.mark.parametrize(
    ("uid", "probe_tag", "tag"),
    [
        ("1.2.840.113619.2.55.3.604688119", "stated", "stated"),
        ("1.2.840.113619.2.55.3.604688119", "inferred", "inferred"),
    ],
)
def test_accepts_valid_conflict_on_a_uid_never_created_is_a_finding(
    uid: str, probe_tag: str, tag: str, state: RunState
) -> None:
    assert fresh_digits(uid) >= FRESH_DIGITS
    the_probe = probe(body=minimal(studyInstanceUid=uid), tag=probe_tag)
    findings = run("accepts_valid", exchange(the_probe, answer(409, {})), state)
    assert rules(findings) == {("create.accepts-valid", tag)}
    assert findings is not None
    assert repr(uid) in findings[0].message


@pytest.mark.parametrize("uid", ["1.2.3", "0", "0.0.0.0.0.0.0.0.0.0.0", "1.2.840.1234567"])
def test_accepts_valid_conflict_on_a_short_uid_is_not_judged(uid: str, state: RunState) -> None:
    assert fresh_digits(uid) < FRESH_DIGITS
    the_probe = probe(body=minimal(studyInstanceUid=uid))
    assert run("accepts_valid", exchange(the_probe, answer(409, {})), state) is None


def test_accepts_valid_does_not_apply_to_a_body_that_is_not_an_object(state: RunState) -> None:
    assert run("accepts_valid", exchange(probe(body=[REQUEST]), answer(400, {})), state) is None


@pytest.mark.parametrize("tag", ["stated", "inferred"])
def test_accepts_valid_refusal_carries_the_probe_tag(tag: str, state: RunState) -> None:
    findings = run("accepts_valid", exchange(probe(tag=tag), answer(400, {})), state)
    assert rules(findings) == {("create.accepts-valid", tag)}
    assert findings is not None
    assert "400" in findings[0].message
    assert ("our reading" in findings[0].message) == (tag == "inferred")


# --- refuses_invalid -------------------------------------------------------------------------


def invalid(tag: str = "stated") -> Probe:
    return probe(
        "invalid", minimal(severity="HIGH"), tag=tag, rule="severity.enum", field="severity"
    )


@pytest.mark.parametrize("status", [400, 422])
def test_refuses_invalid_passes_on_400_and_422(status: int, state: RunState) -> None:
    assert run("refuses_invalid", exchange(invalid(), answer(status, {})), state) == []


@pytest.mark.parametrize("tag", ["stated", "inferred"])
def test_refuses_invalid_accepted_is_a_finding_of_the_probe_rule_and_tag(
    tag: str, state: RunState
) -> None:
    findings = run("refuses_invalid", exchange(invalid(tag), answer(201, STUDY)), state)
    assert rules(findings) == {("severity.enum", tag)}
    assert findings is not None
    assert "201" in findings[0].message


def test_refuses_invalid_server_error_is_a_stated_no_5xx(state: RunState) -> None:
    findings = run("refuses_invalid", exchange(invalid("inferred"), answer(500, {})), state)
    assert rules(findings) == {("http.no-5xx", "stated")}


@pytest.mark.parametrize("status", [401, 404, 409])
def test_refuses_invalid_other_refusal_is_an_inferred_status_finding(
    status: int, state: RunState
) -> None:
    findings = run("refuses_invalid", exchange(invalid(), answer(status, {})), state)
    assert rules(findings) == {("create.refusal-status", "inferred")}
    assert findings is not None
    assert str(status) in findings[0].message


@pytest.mark.parametrize("kind", ["valid", "unauthenticated"])
def test_refuses_invalid_does_not_apply_to_other_kinds(kind: Kind, state: RunState) -> None:
    assert run("refuses_invalid", exchange(probe(kind), answer(201, STUDY)), state) is None


# --- error_names_field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"error": {"errors": [{"field": "severity"}]}},
        {"error": {"message": "The request body has 1 problem: severity must be one of …"}},
        {"detail": [{"loc": ["body", "severity"]}]},
        {"message": "'severity' is invalid."},
    ],
)
def test_error_names_field_passes_when_the_field_is_named(document: Any, state: RunState) -> None:
    assert run("error_names_field", exchange(invalid(), answer(400, document)), state) == []


@pytest.mark.parametrize(
    "refusal",
    [
        answer(400, {"error": {"message": "invalid request"}}),
        answer(422, {"error": {"message": "severityLevel is wrong"}}),
        answer(400, b"severity is wrong", content_type="text/plain"),
    ],
)
def test_error_names_field_unnamed_field_is_inferred(refusal: Answer, state: RunState) -> None:
    findings = run("error_names_field", exchange(invalid(), refusal), state)
    assert rules(findings) == {("error.names-field", "inferred")}
    assert findings is not None
    assert "'severity'" in findings[0].message


def test_error_names_field_does_not_apply_without_field_or_refusal(state: RunState) -> None:
    whole_body = probe("invalid", [], rule="body.type", field="")
    assert run("error_names_field", exchange(whole_body, answer(400, {})), state) is None
    assert run("error_names_field", exchange(invalid(), answer(201, STUDY)), state) is None
    assert run("error_names_field", exchange(invalid(), answer(500, {})), state) is None


# --- requires_auth ---------------------------------------------------------------------------


def unauthenticated() -> Probe:
    return Probe("unauthenticated", minimal(), "no authorization")


def test_requires_auth_passes_on_401(state: RunState) -> None:
    assert run("requires_auth", exchange(unauthenticated(), answer(401, {})), state) == []


@pytest.mark.parametrize("status", [200, 201, 302, 500])
def test_requires_auth_answering_anyway_is_stated(status: int, state: RunState) -> None:
    findings = run("requires_auth", exchange(unauthenticated(), answer(status, {})), state)
    assert rules(findings) == {("auth.required", "stated")}
    assert findings is not None
    assert str(status) in findings[0].message


@pytest.mark.parametrize("status", [400, 403])
def test_requires_auth_other_refusal_is_inferred(status: int, state: RunState) -> None:
    findings = run("requires_auth", exchange(unauthenticated(), answer(status, {})), state)
    assert rules(findings) == {("auth.status-401", "inferred")}


def test_requires_auth_does_not_apply_to_authenticated_probes(state: RunState) -> None:
    assert run("requires_auth", exchange(probe(), answer(201, STUDY)), state) is None
