"""The checks about requests and refusals, each on hand-made exchanges: good, bad, not applicable.

The registry of checks is tested here too; the checks about the returned study are in
``test_checks_studies.py``, the shared builders in ``tests/exchanges.py``.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest

from contract_tests import checks
from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.create.cases import minimal
from contract_tests.create.uids import FRESH_DIGITS, fresh_digits
from contract_tests.transport.call import NO_BODY
from contract_tests.transport.exchange import Answer, Kind, Probe
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator
from tests.exchanges import (
    A_USER,
    REQUEST,
    STUDY,
    USER_ID,
    answer,
    call_probe,
    called,
    created,
    exchange,
    probe,
    rules,
    run,
)

EXPECTED_CHECKS = {
    "answers",
    "accepts_valid",
    "answer_schema",
    "error_body",
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


@pytest.mark.parametrize(
    "name", sorted(EXPECTED_CHECKS - {"answers", "refuses_invalid", "error_body"})
)
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


# --- every operation -------------------------------------------------------------------------

RETRIEVE_USER = "viewer.users.retrieve"
UPDATE_USER = "viewer.users.update"
LIST_USERS = "viewer.users.list"


def user_probe(kind: Kind = "valid", **options: Any) -> Probe:
    return call_probe(RETRIEVE_USER, kind, path={"userId": USER_ID}, **options)


@pytest.fixture
def stateless(contract: Contract) -> RunState:
    return RunState.of(contract, stateless=True)


def test_accepts_valid_of_another_operation_passes_on_2xx(state: RunState) -> None:
    assert run("accepts_valid", called(user_probe(), answer(200, A_USER)), state) == []


@pytest.mark.parametrize(("operation", "status"), [(RETRIEVE_USER, 404), (UPDATE_USER, 409)])
def test_accepts_valid_allows_the_statuses_an_operation_documents(
    operation: str, status: int, state: RunState
) -> None:
    probe = call_probe(operation, path={"userId": USER_ID}, body={} if status == 409 else NO_BODY)
    assert run("accepts_valid", called(probe, answer(status, {"error": {}})), state) is None


@pytest.mark.parametrize(("operation", "status"), [(RETRIEVE_USER, 409), (LIST_USERS, 404)])
def test_accepts_valid_refuses_a_status_the_operation_does_not_document(
    operation: str, status: int, state: RunState
) -> None:
    probe = call_probe(operation, path={"userId": USER_ID} if operation == RETRIEVE_USER else None)
    findings = run("accepts_valid", called(probe, answer(status, {})), state)
    assert rules(findings) == {("request.accepts-valid", "stated")}


@pytest.mark.parametrize("tag", ["stated", "inferred"])
def test_accepts_valid_stateless_allows_no_state_status(tag: str, stateless: RunState) -> None:
    findings = run("accepts_valid", called(user_probe(tag=tag), answer(404, {})), stateless)
    assert rules(findings) == {("request.accepts-valid", tag)}
    findings = run("accepts_valid", exchange(probe(), answer(409, {})), stateless)
    assert rules(findings) == {("create.accepts-valid", "stated")}


def test_accepts_valid_stored_statuses_come_from_the_openapi(state: RunState) -> None:
    statuses = state.stored_statuses
    assert statuses["viewer.studies.retrieve"] == {404}
    assert statuses["viewer.users.update"] == {404, 409}
    assert statuses["viewer.users.list"] == set()
    assert statuses["viewer.studies.create"] == {409}


def test_refuses_invalid_a_malformed_path_parameter_may_get_404(state: RunState) -> None:
    bad = user_probe("invalid", rule="userId.format", field="userId", location="path")
    assert run("refuses_invalid", called(bad, answer(404, {})), state) == []
    in_body = call_probe(
        UPDATE_USER,
        "invalid",
        path={"userId": USER_ID},
        body={"level": "owner"},
        rule="assignableUserLevel.enum",
        field="level",
    )
    findings = run("refuses_invalid", called(in_body, answer(404, {})), state)
    assert rules(findings) == {("request.refusal-status", "inferred")}


def test_refuses_invalid_of_another_operation_accepted_is_its_rule(state: RunState) -> None:
    bad = call_probe(
        LIST_USERS, "invalid", query=(("limit", "0"),), rule="limit.minimum", field="limit"
    )
    findings = run("refuses_invalid", called(bad, answer(200, {"users": []})), state)
    assert rules(findings) == {("limit.minimum", "stated")}


def query_refusal(where: str) -> Answer:
    entry = {"field": "limit", "path": ["limit"], "rule": "limit.minimum", "tag": "stated"}
    return answer(400, {"error": {"message": "bad", "errors": [{**entry, "in": where}]}})


def test_error_names_field_and_where_it_is(state: RunState) -> None:
    bad = call_probe(
        LIST_USERS,
        "invalid",
        query=(("limit", "0"),),
        rule="limit.minimum",
        field="limit",
        location="query",
    )
    assert run("error_names_field", called(bad, query_refusal("query")), state) == []
    findings = run("error_names_field", called(bad, query_refusal("body")), state)
    assert rules(findings) == {("error.names-field", "inferred")}
    assert findings is not None
    assert "'query'" in findings[0].message
    plain = answer(400, {"error": {"message": "limit must be at least 1"}})
    assert run("error_names_field", called(bad, plain), state) == []


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_error_body_passes_on_a_json_object(status: int, state: RunState) -> None:
    found = run("error_body", exchange(probe("invalid"), answer(status, {"error": {}})), state)
    assert found == []


@pytest.mark.parametrize(
    "refusal",
    [
        answer(401, b"Unauthorized", content_type="text/plain"),
        answer(404, b"<html>no</html>", content_type="text/html"),
        answer(400, ["not", "an", "object"]),
    ],
)
def test_error_body_not_a_json_object_is_inferred(refusal: Answer, state: RunState) -> None:
    findings = run("error_body", exchange(unauthenticated(), refusal), state)
    assert rules(findings) == {("error.json", "inferred")}


def test_error_body_does_not_apply_to_other_answers(state: RunState) -> None:
    assert run("error_body", created(), state) is None
    assert run("error_body", exchange(probe(), answer(500, b"oops")), state) is None


def test_requires_auth_applies_to_every_operation(state: RunState) -> None:
    no_key = user_probe("unauthenticated")
    assert run("requires_auth", called(no_key, answer(401, {"error": {}})), state) == []
    findings = run("requires_auth", called(no_key, answer(200, A_USER)), state)
    assert rules(findings) == {("auth.required", "stated")}


STATE_MACHINE = ("answers", "answer_schema", "json_content_type", "error_body")


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS))
def test_checks_of_a_stateful_step_are_only_of_shape(name: str, state: RunState) -> None:
    step = call_probe(RETRIEVE_USER, "stateful", path={"userId": USER_ID})
    for the_answer in (answer(200, A_USER), answer(404, {"error": {}}), answer(400, b"x")):
        found = run(name, called(step, the_answer), state)
        if name not in STATE_MACHINE:
            assert found is None


def test_checks_tags_are_read_from_the_exchange_rules(contract: Contract) -> None:
    documents = copy.deepcopy(contract.documents)
    documents["common"]["x-exchange-rules"]["auth.status-401"]["tag"] = "stated"
    edited = RunState.of(Contract(documents))
    findings = run("requires_auth", exchange(unauthenticated(), answer(403, {})), edited)
    assert rules(findings) == {("auth.status-401", "stated")}


def test_json_content_type_other_json_media_type_is_inferred(state: RunState) -> None:
    vendor = answer(200, A_USER, content_type="application/vnd.avara+json")
    findings = run("json_content_type", called(user_probe(), vendor), state)
    assert rules(findings) == {("http.json-exact", "inferred")}
    text = answer(200, A_USER, content_type="text/plain")
    findings = run("json_content_type", called(user_probe(), text), state)
    assert rules(findings) == {("http.json", "stated")}


def test_error_names_field_does_not_judge_a_404_for_a_malformed_id(state: RunState) -> None:
    bad = user_probe("invalid", rule="userId.format", field="userId", location="path")
    not_found = answer(404, {"error": {"message": "No such route."}})
    assert run("error_names_field", called(bad, not_found), state) is None
