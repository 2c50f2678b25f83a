"""The checks about the returned study, each on hand-made exchanges: good, bad and not applicable.

The checks about requests and refusals are in ``test_checks_requests.py``, the shared builders
in ``tests/exchanges.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contract_tests.checks import RunState
from contract_tests.create.cases import minimal
from contract_tests.transport.exchange import Exchange
from mockserver.contract import Contract
from tests.exchanges import (
    A_USER,
    AN_INVITATION,
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
    study,
)


@pytest.fixture
def state(contract: Contract) -> RunState:
    return RunState.of(contract)


# --- answer_schema, of create ----------------------------------------------------------------


def test_answer_schema_create_passes_on_a_good_study(state: RunState) -> None:
    assert run("answer_schema", created(), state) == []


def test_answer_schema_create_does_not_apply_to_refusals_or_invalid_probes(state: RunState) -> None:
    assert run("answer_schema", exchange(probe(), answer(400, {})), state) is None
    assert run("answer_schema", exchange(probe("invalid"), answer(201, STUDY)), state) is None


def test_answer_schema_create_non_json_body_is_a_stated_type_finding(state: RunState) -> None:
    findings = run("answer_schema", exchange(probe(), answer(201, b"<html>created</html>")), state)
    assert rules(findings) == {("study.type", "stated")}


def test_answer_schema_create_returns_the_violations_with_their_tags(state: RunState) -> None:
    bad = study(isCancelled=..., studyViewerStatus="done", studyId="stu_123")
    findings = run("answer_schema", created(bad), state)
    assert rules(findings) == {
        ("study.required", "stated"),
        ("studyViewerStatus.enum", "stated"),
        ("studyId.format", "stated"),
    }
    assert findings is not None
    assert all("the request body" not in f.message for f in findings)


def test_answer_schema_create_names_the_study_when_not_an_object(state: RunState) -> None:
    findings = run("answer_schema", created([STUDY]), state)
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
        ("cancelledAt", "2026-01-05T09:00:00Z", "inferred"),
        ("isCancelled", True, "inferred"),
        ("studyViewerStatus", "complete", "inferred"),
    ],
)
def test_new_study_state_wrong_value_carries_the_x_on_create_tag(
    name: str, value: Any, tag: str, contract: Contract, state: RunState
) -> None:
    assert contract.annotated("study", "x-on-create")[name]["tag"] == tag
    findings = run("new_study_state", created(study(**{name: value, "isCancelled": True})), state)
    assert (f"study.on-create.{name}", tag) in rules(findings)


def test_new_study_state_cancelled_at_on_a_study_not_cancelled_breaks_a_stated_rule(
    state: RunState,
) -> None:
    answered = study(cancelledAt="2026-01-05T09:00:00Z", isCancelled=False)
    findings = run("new_study_state", created(answered), state)
    assert rules(findings) == {("study.on-create.cancelledAt", "stated")}


def test_new_study_state_a_new_study_answered_cancelled_breaks_nothing_stated(
    state: RunState,
) -> None:
    answered = study(cancelledAt="2026-01-05T09:00:00Z", isCancelled=True)
    findings = run("new_study_state", created(answered), state)
    assert rules(findings) == {
        ("study.on-create.cancelledAt", "inferred"),
        ("study.on-create.isCancelled", "inferred"),
    }


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


# --- answers of every operation --------------------------------------------------------------

CREATE_ONLY = ["echoes_request", "links_references", "new_study_state", "unique_study_ids"]


def users_page(**changes: Any) -> dict[str, Any]:
    return {"users": [A_USER], "cursor": None, "hasMore": False, **changes}


def listed(document: Any) -> Exchange:
    return called(call_probe("viewer.users.list"), answer(200, document))


def test_answer_schema_judges_each_operation_by_its_answer_document(state: RunState) -> None:
    assert run("answer_schema", listed(users_page()), state) == []
    findings = run("answer_schema", listed(users_page(hasMore="no")), state)
    assert rules(findings) == {("page.hasMore-type", "stated")}
    without = {k: v for k, v in users_page().items() if k != "users"}
    assert rules(run("answer_schema", listed(without), state)) == {("page.required", "stated")}


def test_answer_schema_finds_a_value_outside_its_enum(state: RunState) -> None:
    user = {**A_USER, "level": "superuser"}
    retrieved = called(
        call_probe("viewer.users.retrieve", path={"userId": USER_ID}), answer(200, user)
    )
    findings = run("answer_schema", retrieved, state)
    assert rules(findings) == {("userLevel.enum", "stated")}
    assert findings is not None
    assert findings[0].message.startswith("level must be")
    invitation = {**AN_INVITATION, "status": "pending"}
    probe_ = call_probe(
        "viewer.users.invitations.retrieve", path={"invitationId": "inv_" + "0" * 32}
    )
    findings = run("answer_schema", called(probe_, answer(200, invitation)), state)
    assert rules(findings) == {("invitationStatus.enum", "stated")}


def test_answer_schema_non_json_body_is_its_documents_type_rule(state: RunState) -> None:
    findings = run("answer_schema", listed(b"users"), state)
    assert rules(findings) == {("page.type", "stated")}


def test_answer_schema_judges_a_stateful_step(state: RunState) -> None:
    step = call_probe("viewer.users.list", "stateful")
    findings = run("answer_schema", called(step, answer(200, users_page(users="x"))), state)
    assert rules(findings) == {("page.users-type", "stated")}
    assert run("answer_schema", called(step, answer(404, {})), state) is None


@pytest.mark.parametrize("name", [*CREATE_ONLY, "sane_timestamps"])
def test_create_checks_judge_create_alone(name: str, state: RunState) -> None:
    retrieved = call_probe("viewer.studies.retrieve", path={"studyId": STUDY["studyId"]})
    assert run(name, called(retrieved, answer(200, STUDY)), state) is None
    assert run(name, created(), state) is not None


@pytest.mark.parametrize("name", [*CREATE_ONLY, "sane_timestamps"])
def test_create_checks_need_state(name: str, contract: Contract) -> None:
    stateless = RunState.of(contract, stateless=True)
    assert run(name, created(study(isCancelled=True, studyId="stu_" + "0" * 32)), stateless) is None
