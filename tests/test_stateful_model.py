"""The studies model of the state machine: what it reads from schemas/ and what it predicts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from contract_tests.stateful.studies.expects import Expect
from contract_tests.stateful.studies.model import StudiesModel
from contract_tests.stateful.studies.rules import StudyRules
from contract_tests.stateful.studies.values import instant, same, same_study
from mockserver.contract import Contract

TOKEN = "ct-0123456789ab"
USER = "usr_" + "a" * 32
OTHER_USER = "usr_" + "b" * 32


def study(number: int, **fields: Any) -> dict[str, Any]:
    """A study as a server might answer it, created ``number`` seconds after noon."""
    base: dict[str, Any] = {
        "studyId": f"stu_{number:032x}",
        "studyInstanceUid": f"2.25.{number}",
        "severity": "normal",
        "studyDescription": f"{TOKEN} scan {number}",
        "studyViewerStatus": "incomplete",
        "isCancelled": False,
        "cancelledAt": None,
        "createdAt": f"2026-01-05T12:00:{number:02d}.000Z",
        "updatedAt": f"2026-01-05T12:00:{number:02d}.000Z",
        "metadata": None,
        "assignedTo": None,
    }
    return {**base, **fields}


@pytest.fixture
def model(contract: Contract) -> StudiesModel:
    return StudiesModel(StudyRules.of(contract))


def broken(expects: list[Expect], document: dict[str, Any], contract: Contract) -> set[str]:
    """The rules of the expectations the document breaks."""
    timestamps = StudyRules.of(contract).timestamps
    return {e.rule for e in expects if e.mismatch(document, timestamps) is not None}


def test_stateful_model_rules_read_from_schemas(contract: Contract) -> None:
    rules = StudyRules.of(contract)
    query = contract.resolved("study-list-query")
    assert set(rules.filters) == {n for n, s in query["properties"].items() if "x-filter" in s}
    assert rules.order_by == tuple(query["x-order"]["by"])
    assert rules.descending == (query["x-order"]["direction"] == "descending")
    assert rules.null_means["assignedTo"]["effect"] == "unassign"
    assert set(rules.identity) == {"studyId", "studyInstanceUid", "createdAt"}
    assert {"createdAt", "updatedAt", "cancelledAt"} <= rules.timestamps


def test_stateful_model_instant_compares_offsets_not_text() -> None:
    assert instant("2026-01-05T12:00:00Z") == instant("2026-01-05T13:00:00+01:00")
    assert instant("2026-01-05T12:00:00") == datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
    assert instant("yesterday") is None
    assert same("2026-01-05T12:00:00.000Z", "2026-01-05T12:00:00Z", timestamp=True)
    assert not same("2026-01-05T12:00:00.000Z", "2026-01-05T12:00:00.001Z", timestamp=True)


def test_stateful_model_same_study_treats_null_as_absent(contract: Contract) -> None:
    timestamps = StudyRules.of(contract).timestamps
    one = study(1)
    without_null = {k: v for k, v in one.items() if v is not None}
    assert same_study(one, without_null, timestamps) == []
    assert same_study(one, {**one, "metadata": {}}, timestamps) == ["metadata"]


def test_stateful_model_create_expects_echo_initial_state_and_links(
    model: StudiesModel, contract: Contract
) -> None:
    request = {
        "severity": "high",
        "studyDescription": TOKEN,
        "studyInstanceUid": "2.25.1",
        "assignedTo": USER,
    }
    expects = model.create_expectations(request)
    good = study(1, severity="high", studyDescription=TOKEN, assignedTo={"userId": USER})
    assert broken(expects, good, contract) == set()
    wrong = {**good, "severity": "stat", "isCancelled": True, "assignedTo": None}
    assert broken(expects, wrong, contract) == {
        "study.echo.severity",
        "study.on-create.isCancelled",
        "study.link.assignedTo",
    }


def test_stateful_model_cancelled_at_of_new_study_is_stated_only_when_not_cancelled(
    model: StudiesModel,
) -> None:
    request = {"severity": "normal", "studyDescription": TOKEN, "studyInstanceUid": "2.25.1"}
    (cancelled_at,) = [e for e in model.create_expectations(request) if e.field == "cancelledAt"]
    assert cancelled_at.tag_for({"isCancelled": False}) == "stated"
    assert cancelled_at.tag_for({"isCancelled": True}) == "inferred"


def test_stateful_model_update_applies_sent_and_keeps_absent(
    model: StudiesModel, contract: Contract
) -> None:
    known = model.add(study(1, metadata={"a": "1"}, assignedTo={"userId": USER}), "2.25.1")
    expects = model.update_expectations(known, {"severity": "stat"})
    assert (
        broken(
            expects,
            study(1, severity="stat", metadata={"a": "1"}, assignedTo={"userId": USER}),
            contract,
        )
        == set()
    )
    assert broken(
        expects,
        study(1, severity="normal", metadata={"a": "1"}, assignedTo={"userId": USER}),
        contract,
    ) == {"update.applies"}
    dropped = study(1, severity="stat", metadata=None, assignedTo={"userId": USER})
    assert broken(expects, dropped, contract) == {"update.applies"}


def test_stateful_model_update_nulls_follow_x_null_means(
    model: StudiesModel, contract: Contract
) -> None:
    known = model.add(study(1, metadata={"a": "1"}, assignedTo={"userId": USER}), "2.25.1")
    expects = model.update_expectations(known, {"assignedTo": None, "metadata": None})
    by_field = {e.field: e for e in expects}
    assert (by_field["assignedTo"].rule, by_field["assignedTo"].tag) == (
        "update.null-unassign",
        "stated",
    )
    assert (by_field["metadata"].rule, by_field["metadata"].tag) == (
        "update.null-clear",
        "inferred",
    )
    cleared: dict[str, str] | None
    for cleared in (None, {}):
        assert broken(expects, study(1, metadata=cleared), contract) == set()
    kept = study(1, metadata={"a": "1"}, assignedTo={"userId": USER})
    assert broken(expects, kept, contract) == {"update.null-unassign", "update.null-clear"}


def test_stateful_model_merged_metadata_breaks_replaces_rule(model: StudiesModel) -> None:
    known = model.add(study(1, metadata={"a": "1"}), "2.25.1")
    (metadata,) = [
        e
        for e in model.update_expectations(known, {"metadata": {"b": "2"}})
        if e.field == "metadata"
    ]
    assert metadata.value == {"b": "2"}
    assert metadata.alternative is not None
    assert metadata.alternative[:2] == ({"a": "1", "b": "2"}, "update.replaces-metadata")


def test_stateful_model_updated_at_moves_only_on_change(model: StudiesModel) -> None:
    known = model.add(study(1), "2.25.1")
    changed = model.updated_expectation(known, study(1, severity="stat"))
    same_answer = model.updated_expectation(known, study(1))
    assert changed is not None
    assert same_answer is not None
    assert (changed.how, same_answer.how) == ("later", "same")
    assert changed.value == instant(study(1)["updatedAt"])


def test_stateful_model_cancel_then_repeat_is_idempotent(
    model: StudiesModel, contract: Contract
) -> None:
    known = model.add(study(1), "2.25.1")
    first = model.transition(known, "cancel")
    assert first.effective
    later = "2026-01-05T12:00:09.000Z"
    good = study(1, isCancelled=True, cancelledAt=later, updatedAt=later)
    assert broken(model.after_transition(first), good, contract) == set()
    assert broken(model.after_transition(first), study(1, isCancelled=True), contract) == {
        "cancel.sets-cancelled",
        "cancel.times",
    }
    model.adopt(known, good)
    again = model.transition(known, "cancel")
    assert not again.effective
    moved = {**good, "updatedAt": "2026-01-05T12:00:10.000Z"}
    assert broken(model.after_transition(again), moved, contract) == {"cancel.idempotent"}


def test_stateful_model_uncancel_clears(model: StudiesModel, contract: Contract) -> None:
    known = model.add(
        study(
            1,
            isCancelled=True,
            cancelledAt="2026-01-05T12:00:02.000Z",
            updatedAt="2026-01-05T12:00:02.000Z",
        ),
        "2.25.1",
    )
    change = model.transition(known, "uncancel")
    good = study(1, updatedAt="2026-01-05T12:00:05.000Z")
    assert broken(model.after_transition(change), good, contract) == set()
    still = {**good, "cancelledAt": "2026-01-05T12:00:02.000Z"}
    assert broken(model.after_transition(change), still, contract) == {"uncancel.clears-cancelled"}


def test_stateful_model_reads_expect_the_last_answer(
    model: StudiesModel, contract: Contract
) -> None:
    known = model.add(study(1), "2.25.1")
    assert broken(model.read_expectations(known), study(1), contract) == set()
    stale = study(1, severity="stat")
    assert broken(model.read_expectations(known), stale, contract) == {"study.read-your-writes"}
    moved_id = study(1, studyInstanceUid="2.25.99")
    assert broken(model.read_expectations(known), moved_id, contract) == {"update.keeps-identity"}


def test_stateful_model_changed_user_is_judged_by_user_id_only(
    model: StudiesModel, contract: Contract
) -> None:
    reference = {"userId": USER, "email": "a@example.org", "firstName": "Ann"}
    known = model.add(study(1, assignedTo=reference), "2.25.1")
    renamed = study(1, assignedTo={**reference, "firstName": "Anna"})
    assert broken(model.read_expectations(known), renamed, contract) == {"study.read-your-writes"}
    model.user_changed(USER)
    assert broken(model.read_expectations(known), renamed, contract) == set()
    other = study(1, assignedTo={**reference, "userId": OTHER_USER})
    assert broken(model.read_expectations(known), other, contract) == {"study.read-your-writes"}


def test_stateful_model_matches_filters_in_contract_order(model: StudiesModel) -> None:
    for number, severity in ((1, "high"), (2, "normal"), (3, "high")):
        model.add(study(number, severity=severity), f"2.25.{number}")
    found = model.matches({"studyDescription": TOKEN.upper(), "severity": "high"})
    assert [s.study_id for s in found] == [f"stu_{3:032x}", f"stu_{1:032x}"]
    assert model.matches({"studyDescription": TOKEN, "assignedTo": None}) != []
    assert model.matches({"studyDescription": TOKEN, "isCancelled": True}) == []


def test_stateful_model_same_created_at_orders_by_study_id(model: StudiesModel) -> None:
    moment = "2026-01-05T12:00:00.000Z"
    for number in (5, 9, 7):
        model.add(study(number, createdAt=moment), f"2.25.{number}")
    found = model.matches({"studyDescription": TOKEN})
    assert [s.study_id for s in found] == [f"stu_{n:032x}" for n in (9, 7, 5)]


def test_stateful_model_query_text_of_filters(model: StudiesModel) -> None:
    query = model.query({"isCancelled": False, "assignedTo": None, "severity": "stat"})
    assert query == (("isCancelled", "false"), ("assignedTo", "null"), ("severity", "stat"))


def test_stateful_model_follows_after_last_listed(model: StudiesModel) -> None:
    for number in (1, 2, 3):
        model.add(study(number), f"2.25.{number}")
    filters = {"studyDescription": TOKEN}
    assert model.follows(filters, study(2))
    assert not model.follows(filters, study(1))
    assert model.follows(filters, None)


def test_stateful_model_difference_rule_by_reading(model: StudiesModel) -> None:
    one = study(1, severity="high")
    assert model.difference_rule(one, {"studyDescription": TOKEN}, False) == "list.filters"
    assert (
        model.difference_rule(one, {"studyDescription": TOKEN.upper()}, True) == "list.ignores-case"
    )
    assert (
        model.difference_rule(one, {"studyDescription": TOKEN, "assignedTo": None}, False)
        == "list.filters-null"
    )
    assert (
        model.difference_rule(one, {"studyDescription": TOKEN, "severity": "stat"}, False)
        == "list.filters"
    )
    assigned = study(2, assignedTo={"userId": USER})
    assert (
        model.difference_rule(assigned, {"studyDescription": TOKEN, "assignedTo": None}, False)
        == "list.filters-null"
    )


def test_stateful_model_selector_names_by_id_uid_or_both(model: StudiesModel) -> None:
    one = model.add(study(1), "2.25.1")
    model.add(study(2), "2.25.2")
    assert model.select({"studyId": one.study_id}).study is one
    assert model.select({"studyInstanceUid": "2.25.1"}).study is one
    assert model.select({"studyId": one.study_id, "studyInstanceUid": "2.25.1"}).study is one
    assert model.select({}).refusal == "selector.names-study"
    assert (
        model.select({"studyId": one.study_id, "studyInstanceUid": "2.25.2"}).refusal
        == "selector.same-study"
    )
    assert model.select({"studyInstanceUid": "2.25.77"}).refusal == "selector.not-found"


def test_stateful_model_second_study_with_a_uid_shares_it(model: StudiesModel) -> None:
    first = model.add(study(1), "2.25.1")
    second = model.add(study(2), "2.25.1")
    assert first.uid_shared
    assert second.uid_shared
    assert model.by_uid["2.25.1"] == first.study_id
