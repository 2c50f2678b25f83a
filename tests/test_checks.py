"""The checks: each one on hand-made exchanges, good, bad and not applicable."""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

import pytest

from contract_tests import checks
from contract_tests.cases import CUSTOMER, USER, minimal
from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.exchange import CREATE_PATH, Answer, Exchange, Kind, Probe, Sent
from contract_tests.uids import FRESH_DIGITS, fresh_digits
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

REQUEST = minimal(assignedTo=USER, expressCustomerId=CUSTOMER, metadata={"site": "north"})
STUDY: dict[str, Any] = {
    "studyId": "stu_cd613e30d8f16adf91b7584a2265b1f5",
    "metadata": {"site": "north"},
    "severity": "normal",
    "studyDescription": "Chest CT",
    "studyInstanceUid": "1.2.840.10008.5.1.4.1.1.2",
    "cancelledAt": None,
    "isCancelled": False,
    "studyViewerStatus": "incomplete",
    "createdAt": "2026-01-05T09:00:00.000Z",
    "updatedAt": "2026-01-05T09:00:00.000Z",
    "assignedTo": {
        "userId": USER,
        "email": "lisa.stewart@example.com",
        "firstName": "Lisa",
        "lastName": "Stewart",
        "middleName": None,
        "suffix1": None,
        "suffix2": None,
    },
    "expressCustomer": {
        "expressCustomerId": CUSTOMER,
        "expressCustomerName": "Pierce Imaging Center",
    },
    "createdByApiKey": {
        "apiKeyId": "8b6f81e8-3e1b-4745-98fc-ba0a205b1549",
        "description": "Riverside Medical Center PACS integration key",
        "isViewerEnabled": True,
        "isClinicalContextEnrichmentEnabled": False,
    },
    "createdByUser": None,
}
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


def answer(
    status: int, document: Any = None, *, content_type: str | None = "application/json"
) -> Answer:
    """An answer whose body is ``document`` as JSON (``bytes``: sent as they are)."""
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {} if content_type is None else {"content-type": content_type}
    return Answer.of(status, headers, content)


def probe(
    kind: Kind = "valid", body: Any = None, *, tag: str = "stated", rule: str = "", field: str = ""
) -> Probe:
    return Probe(kind, REQUEST if body is None else body, tag=tag, rule=rule, field=field)


def exchange(the_probe: Probe, the_answer: Answer | None, error: str = "") -> Exchange:
    sent = Sent("POST", CREATE_PATH, {}, json.dumps(the_probe.body).encode())
    return Exchange(the_probe, sent, the_answer, error)


def created(study: Any = None, body: Any = None) -> Exchange:
    """A valid probe answered 201 with ``study`` (default: the good one)."""
    return exchange(probe("valid", body), answer(201, STUDY if study is None else study))


def study(**changes: Any) -> dict[str, Any]:
    """The good study with some fields changed; ``...`` drops a field."""
    changed = {**copy.deepcopy(STUDY), **changes}
    return {k: v for k, v in changed.items() if v is not ...}


def run(name: str, the_exchange: Exchange, state: RunState) -> list[Finding] | None:
    return CHECKS[name].run(the_exchange, state)


def rules(findings: list[Finding] | None) -> set[tuple[str, str]]:
    assert findings is not None
    return {(f.rule, f.tag) for f in findings}


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


# --- study_schema ----------------------------------------------------------------------------


def test_study_schema_passes_on_a_good_study(state: RunState) -> None:
    assert run("study_schema", created(), state) == []


def test_study_schema_does_not_apply_to_refusals_or_invalid_probes(state: RunState) -> None:
    assert run("study_schema", exchange(probe(), answer(400, {})), state) is None
    assert run("study_schema", exchange(probe("invalid"), answer(201, STUDY)), state) is None


def test_study_schema_non_json_body_is_a_stated_type_finding(state: RunState) -> None:
    findings = run("study_schema", exchange(probe(), answer(201, b"<html>created</html>")), state)
    assert rules(findings) == {("study.type", "stated")}


def test_study_schema_returns_the_violations_with_their_tags(state: RunState) -> None:
    bad = study(isCancelled=..., studyViewerStatus="done", studyId="stu_123")
    findings = run("study_schema", created(bad), state)
    assert rules(findings) == {
        ("study.required", "stated"),
        ("studyViewerStatus.enum", "stated"),
        ("studyId.format", "stated"),
    }
    assert findings is not None
    assert all("the request body" not in f.message for f in findings)


def test_study_schema_names_the_study_when_the_body_is_not_an_object(state: RunState) -> None:
    findings = run("study_schema", created([STUDY]), state)
    assert findings is not None
    assert rules(findings) == {("study.type", "stated")}
    assert findings[0].message.startswith("the study ")


# --- json_content_type -----------------------------------------------------------------------


@pytest.mark.parametrize("media", ["application/json", "application/json; charset=utf-8"])
def test_json_content_type_passes_on_json(media: str, state: RunState) -> None:
    the_exchange = exchange(probe(), answer(201, STUDY, content_type=media))
    assert run("json_content_type", the_exchange, state) == []


@pytest.mark.parametrize(("media", "named"), [("text/plain", "'text/plain'"), (None, "'missing'")])
def test_json_content_type_finding_names_the_media_type(
    media: str | None, named: str, state: RunState
) -> None:
    the_exchange = exchange(probe(), answer(201, STUDY, content_type=media))
    findings = run("json_content_type", the_exchange, state)
    assert rules(findings) == {("http.json", "stated")}
    assert findings is not None
    assert named in findings[0].message


def test_json_content_type_applies_to_any_2xx_but_not_to_refusals(state: RunState) -> None:
    accepted = exchange(probe("unauthenticated"), answer(200, {}, content_type="text/html"))
    assert rules(run("json_content_type", accepted, state)) == {("http.json", "stated")}
    refused = exchange(probe(), answer(400, {}, content_type="text/plain"))
    assert run("json_content_type", refused, state) is None


# --- echoes_request --------------------------------------------------------------------------


def test_echoes_request_passes_when_every_value_comes_back(state: RunState) -> None:
    assert run("echoes_request", created(), state) == []


def test_echoes_request_absent_and_null_metadata_agree(state: RunState) -> None:
    body = minimal()
    assert run("echoes_request", created(study(metadata=None), body), state) == []
    assert run("echoes_request", created(study(metadata={}), body), state) == []


def test_echoes_request_changed_values_carry_the_x_echo_tag(
    contract: Contract, state: RunState
) -> None:
    bad = study(severity="high", metadata=..., studyDescription="chest ct")
    findings = run("echoes_request", created(bad), state)
    echo = contract.annotated("study", "x-echo")
    assert rules(findings) == {
        (f"study.echo.{name}", echo[name]["tag"])
        for name in ("severity", "metadata", "studyDescription")
    }
    assert findings is not None
    severity = next(f for f in findings if f.rule == "study.echo.severity")
    assert "'high'" in severity.message
    assert "'normal'" in severity.message


def test_echoes_request_reads_the_tag_from_the_schema(contract: Contract) -> None:
    documents = copy.deepcopy(contract.documents)
    documents["study"]["properties"]["severity"]["x-echo"]["tag"] = "stated"
    edited = RunState.of(Contract(documents))
    findings = run("echoes_request", created(study(severity="stat")), edited)
    assert rules(findings) == {("study.echo.severity", "stated")}


def test_echoes_request_does_not_apply_to_empty_or_refused_answers(state: RunState) -> None:
    assert run("echoes_request", created({}), state) is None
    assert run("echoes_request", exchange(probe(), answer(400, STUDY)), state) is None


# --- links_references ------------------------------------------------------------------------


def test_links_references_passes_on_linked_and_absent_references(state: RunState) -> None:
    assert run("links_references", created(), state) == []
    unlinked = study(assignedTo=None, expressCustomer=None)
    assert run("links_references", created(unlinked, minimal()), state) == []


def test_links_references_wrong_id_is_an_inferred_finding(state: RunState) -> None:
    other = {**STUDY["assignedTo"], "userId": "usr_" + "f" * 32}
    findings = run("links_references", created(study(assignedTo=other)), state)
    assert rules(findings) == {("study.link.assignedTo", "inferred")}
    assert findings is not None
    assert "assignedTo.userId" in findings[0].message


def test_links_references_missing_reference_is_a_finding(state: RunState) -> None:
    findings = run("links_references", created(study(expressCustomer=None)), state)
    assert rules(findings) == {("study.link.expressCustomer", "inferred")}


def test_links_references_reference_without_id_sent_is_a_finding(state: RunState) -> None:
    findings = run("links_references", created(STUDY, minimal()), state)
    assert rules(findings) == {
        ("study.link.assignedTo", "inferred"),
        ("study.link.expressCustomer", "inferred"),
    }
    assert findings is not None
    assert all("though no" in f.message for f in findings)


# --- new_study_state -------------------------------------------------------------------------


def test_new_study_state_passes_on_the_initial_state(state: RunState) -> None:
    assert run("new_study_state", created(), state) == []


def test_new_study_state_absent_fields_are_not_its_business(state: RunState) -> None:
    bare = study(cancelledAt=..., isCancelled=..., studyViewerStatus=...)
    assert run("new_study_state", created(bare), state) == []


@pytest.mark.parametrize(
    ("name", "value", "tag"),
    [
        ("cancelledAt", "2026-01-05T09:00:00Z", "stated"),
        ("isCancelled", True, "inferred"),
        ("studyViewerStatus", "complete", "inferred"),
    ],
)
def test_new_study_state_wrong_value_carries_the_x_on_create_tag(
    name: str, value: Any, tag: str, contract: Contract, state: RunState
) -> None:
    assert contract.annotated("study", "x-on-create")[name]["tag"] == tag
    findings = run("new_study_state", created(study(**{name: value})), state)
    assert rules(findings) == {(f"study.on-create.{name}", tag)}


# --- unique_study_ids ------------------------------------------------------------------------


def test_unique_study_ids_flags_an_id_given_twice(state: RunState) -> None:
    assert run("unique_study_ids", created(), state) == []
    other = study(studyId="stu_" + "1" * 32)
    assert run("unique_study_ids", created(other), state) == []
    findings = run("unique_study_ids", created(), state)
    assert rules(findings) == {("studyId.unique", "inferred")}
    assert findings is not None
    assert STUDY["studyId"] in findings[0].message


def test_unique_study_ids_remembers_per_run(contract: Contract) -> None:
    first, second = RunState.of(contract), RunState.of(contract)
    assert run("unique_study_ids", created(), first) == []
    assert run("unique_study_ids", created(), second) == []


def test_unique_study_ids_does_not_apply_without_a_string_id(state: RunState) -> None:
    assert run("unique_study_ids", created(study(studyId=...)), state) is None
    assert run("unique_study_ids", created(study(studyId=7)), state) is None


# --- sane_timestamps -------------------------------------------------------------------------


def test_sane_timestamps_passes_on_plausible_times(state: RunState) -> None:
    assert run("sane_timestamps", created(), state) == []
    naive = study(createdAt="2026-01-05T09:00:00", updatedAt="2026-01-05T10:00:00")
    assert run("sane_timestamps", created(naive), state) == []


@pytest.mark.parametrize("moment", ["2999-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
def test_sane_timestamps_implausible_time_is_inferred(moment: str, state: RunState) -> None:
    findings = run("sane_timestamps", created(study(createdAt=moment, updatedAt=moment)), state)
    assert findings is not None
    assert [(f.rule, f.tag) for f in findings] == [("timestamp.sane", "inferred")] * 2


def test_sane_timestamps_updated_before_created_is_inferred(state: RunState) -> None:
    swapped = study(createdAt="2026-01-05T10:00:00Z", updatedAt="2026-01-05T09:00:00Z")
    findings = run("sane_timestamps", created(swapped), state)
    assert rules(findings) == {("timestamp.order", "inferred")}


def test_sane_timestamps_ignores_unparsable_and_missing_times(state: RunState) -> None:
    odd = study(createdAt="yesterday", updatedAt=...)
    assert run("sane_timestamps", created(odd), state) == []


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
