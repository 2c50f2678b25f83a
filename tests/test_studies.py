"""The studies service without HTTP: update, retrieve, cancel, reroute, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from mockserver.errors import ApiError, Conflict, NotFound
from mockserver.resources.studies import Studies
from tests.study_calls import (
    CUSTOMER,
    FIXED,
    KEY,
    ORIGIN,
    UNKNOWN_ID,
    UNKNOWN_UID,
    USERS,
    FixedClock,
    Json,
    create,
    listing,
    refused,
    retrieve,
    service,
)

# --- update --------------------------------------------------------------------------------


def test_studies_update_moves_updated_at_strictly_later() -> None:
    studies = service()
    study = create(studies)
    updated = orjson.loads(studies.update(study["studyId"], {"severity": "stat"}))
    assert updated["severity"] == "stat"
    assert updated["updatedAt"] > study["updatedAt"]
    assert updated == retrieve(studies, study["studyId"])


def test_studies_update_moves_updated_at_on_a_stopped_clock() -> None:
    studies = service(clock=FixedClock())
    study = create(studies)
    assert study["updatedAt"] == FIXED
    first = orjson.loads(studies.update(study["studyId"], {"severity": "stat"}))
    second = orjson.loads(studies.update(study["studyId"], {"severity": "high"}))
    assert FIXED < first["updatedAt"] < second["updatedAt"]
    assert first["createdAt"] == second["createdAt"] == FIXED


@pytest.mark.parametrize(
    "update",
    [
        {},
        {"severity": "normal"},
        {"studyDescription": "Chest CT", "studyViewerStatus": "incomplete"},
    ],
)
def test_studies_update_of_nothing_leaves_the_study(update: Json) -> None:
    studies = service()
    study = create(studies)
    before = studies.retrieve(study["studyId"])
    assert studies.update(study["studyId"], update) == before
    assert studies.retrieve(study["studyId"]) == before


def test_studies_update_never_changes_identity() -> None:
    studies = service()
    study = create(studies, assignedTo=USERS[0], metadata={"a": "b"})
    updates: list[Json] = [
        {"severity": "stat", "studyDescription": "Knee MRI"},
        {"assignedTo": None, "metadata": None},
        {"assignedTo": USERS[1], "metadata": {"c": "d"}, "studyViewerStatus": "complete"},
    ]
    for update in updates:
        answer = orjson.loads(studies.update(study["studyId"], update))
        for field in ("studyId", "studyInstanceUid", "createdAt", "createdByApiKey"):
            assert answer[field] == study[field], field
    final = retrieve(studies, study["studyId"])
    assert final["assignedTo"]["userId"] == USERS[1]
    assert final["metadata"] == {"c": "d"}
    assert final["studyViewerStatus"] == "complete"


def test_studies_update_unassign_and_clear_metadata() -> None:
    studies = service()
    study = create(studies, assignedTo=USERS[0], metadata={"a": "b"})
    answer = orjson.loads(studies.update(study["studyId"], {"assignedTo": None, "metadata": None}))
    assert answer["assignedTo"] is None
    assert not answer["metadata"]


def test_studies_update_of_a_cancelled_study_is_allowed() -> None:
    studies = service()
    study = create(studies)
    studies.cancel({"studyId": study["studyId"]})
    answer = orjson.loads(studies.update(study["studyId"], {"severity": "high"}))
    assert (answer["severity"], answer["isCancelled"]) == ("high", True)


def test_studies_update_unknown_study_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        service().update(UNKNOWN_ID, {"severity": "high"})
    assert raised.value.status == 404
    assert UNKNOWN_ID in raised.value.message


def test_studies_update_invalid_body_is_refused() -> None:
    studies = service()
    study = create(studies)
    assert refused(lambda: studies.update(study["studyId"], {"severity": "x"})) == {
        ("severity", "severity.enum", "body")
    }
    assert refused(lambda: studies.update(study["studyId"], {"isCancelled": True})) == {
        ("isCancelled", "update.unknown-field", "body")
    }


# --- path parameters, retrieve -------------------------------------------------------------


def test_studies_retrieve_and_by_uid_answer_the_same_study() -> None:
    studies = service()
    study = create(studies, uid="1.2.840.5")
    assert studies.retrieve(study["studyId"]) == studies.retrieve_by_uid("1.2.840.5")
    assert retrieve(studies, study["studyId"]) == study


def test_studies_retrieve_unknown_is_not_found() -> None:
    studies = service()
    create(studies)
    with pytest.raises(NotFound):
        studies.retrieve(UNKNOWN_ID)
    with pytest.raises(NotFound):
        studies.retrieve_by_uid(UNKNOWN_UID)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.retrieve("stu_x"), "studyId"),
        (lambda s: s.retrieve("stu_" + "A" * 32), "studyId"),
        (lambda s: s.update("stu_x", {}), "studyId"),
        (lambda s: s.retrieve_by_uid("1..2"), "studyInstanceUid"),
        (lambda s: s.retrieve_by_uid("01.2"), "studyInstanceUid"),
    ],
)
def test_studies_malformed_path_ids_are_refused_in_path(
    call: Callable[[Studies], Any], field: str
) -> None:
    found = refused(lambda: call(service()))
    assert {(f, location) for f, _, location in found} == {(field, "path")}


def test_studies_create_with_a_taken_uid_conflicts() -> None:
    studies = service()
    create(studies, uid="1.2.3")
    with pytest.raises(Conflict):
        create(studies, uid="1.2.3")
    assert len(studies.stored()) == 1


# --- cancel, uncancel ----------------------------------------------------------------------


def test_studies_cancel_sets_cancelled_and_times() -> None:
    studies = service()
    study = create(studies)
    assert orjson.loads(studies.cancel({"studyId": study["studyId"]})) == {"success": True}
    after = retrieve(studies, study["studyId"])
    assert after["isCancelled"] is True
    assert after["cancelledAt"] == after["updatedAt"]
    assert after["updatedAt"] > study["updatedAt"]


def test_studies_cancel_on_a_stopped_clock_is_still_later() -> None:
    studies = service(clock=FixedClock())
    study = create(studies)
    studies.cancel({"studyInstanceUid": study["studyInstanceUid"]})
    after = retrieve(studies, study["studyId"])
    assert after["cancelledAt"] == after["updatedAt"] > FIXED


def test_studies_cancel_twice_succeeds_with_message_and_changes_nothing() -> None:
    studies = service()
    study = create(studies)
    studies.cancel({"studyId": study["studyId"]})
    before = studies.retrieve(study["studyId"])
    answer = orjson.loads(studies.cancel({"studyId": study["studyId"]}))
    assert answer["success"] is True
    assert isinstance(answer["message"], str)
    assert answer["message"]
    assert studies.retrieve(study["studyId"]) == before


def test_studies_uncancel_clears_cancelled() -> None:
    studies = service()
    study = create(studies)
    studies.cancel({"studyId": study["studyId"]})
    cancelled = retrieve(studies, study["studyId"])
    assert orjson.loads(studies.uncancel({"studyId": study["studyId"]})) == {"success": True}
    after = retrieve(studies, study["studyId"])
    assert (after["isCancelled"], after["cancelledAt"]) == (False, None)
    assert after["updatedAt"] > cancelled["updatedAt"]
    assert after["createdAt"] == study["createdAt"]


def test_studies_uncancel_a_study_not_cancelled_changes_nothing() -> None:
    studies = service()
    study = create(studies)
    before = studies.retrieve(study["studyId"])
    answer = orjson.loads(studies.uncancel({"studyId": study["studyId"]}))
    assert answer["success"] is True
    assert answer["message"]
    assert studies.retrieve(study["studyId"]) == before


SELECTOR_CALLS: list[Callable[[Studies, Any], bytes]] = [
    lambda s, body: s.cancel(body),
    lambda s, body: s.uncancel(body),
    lambda s, body: s.reroute_url(body, ORIGIN),
]
CALL_NAMES = ["cancel", "uncancel", "reroute_url"]


@pytest.mark.parametrize("call", SELECTOR_CALLS, ids=CALL_NAMES)
def test_studies_selector_naming_nothing_is_refused(call: Callable[[Studies, Any], bytes]) -> None:
    studies = service()
    create(studies)
    assert refused(lambda: call(studies, {})) == {("", "selector.names-study", "body")}


@pytest.mark.parametrize("call", SELECTOR_CALLS, ids=CALL_NAMES)
def test_studies_selector_naming_two_studies_is_refused(
    call: Callable[[Studies, Any], bytes],
) -> None:
    studies = service()
    first, second = create(studies), create(studies)
    body = {"studyId": first["studyId"], "studyInstanceUid": second["studyInstanceUid"]}
    assert refused(lambda: call(studies, body)) == {
        ("studyInstanceUid", "selector.same-study", "body")
    }
    assert retrieve(studies, first["studyId"]) == first
    assert retrieve(studies, second["studyId"]) == second


@pytest.mark.parametrize("call", SELECTOR_CALLS, ids=CALL_NAMES)
def test_studies_selector_naming_one_study_twice_is_accepted(
    call: Callable[[Studies, Any], bytes],
) -> None:
    studies = service()
    study = create(studies)
    body = {"studyId": study["studyId"], "studyInstanceUid": study["studyInstanceUid"]}
    assert orjson.loads(call(studies, body))


@pytest.mark.parametrize("call", SELECTOR_CALLS, ids=CALL_NAMES)
@pytest.mark.parametrize(
    "body", [{"studyId": UNKNOWN_ID}, {"studyInstanceUid": UNKNOWN_UID}], ids=["id", "uid"]
)
def test_studies_selector_naming_no_stored_study_is_not_found(
    call: Callable[[Studies, Any], bytes], body: Json
) -> None:
    studies = service()
    create(studies)
    with pytest.raises(NotFound) as raised:
        call(studies, body)
    assert raised.value.status == 404


@pytest.mark.parametrize("call", SELECTOR_CALLS, ids=CALL_NAMES)
def test_studies_selector_malformed_is_refused_in_body(
    call: Callable[[Studies, Any], bytes],
) -> None:
    assert refused(lambda: call(service(), {"studyId": "stu_x"})) == {
        ("studyId", "studyId.format", "body")
    }


# --- reroute_url, viewed -------------------------------------------------------------------


def test_studies_reroute_url_opens_the_current_study() -> None:
    studies = service()
    study = create(studies)
    url = orjson.loads(studies.reroute_url({"studyId": study["studyId"]}, ORIGIN))["url"]
    prefix = ORIGIN + "/viewer/studies/"
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    assert token
    assert "/" not in token
    assert studies.viewed(token) == study
    studies.update(study["studyId"], {"studyDescription": "Knee MRI"})
    studies.cancel({"studyId": study["studyId"]})
    assert studies.viewed(token) == retrieve(studies, study["studyId"])


def test_studies_reroute_url_each_call_a_new_token() -> None:
    studies = service()
    study = create(studies)
    urls = {
        orjson.loads(studies.reroute_url({"studyInstanceUid": study["studyInstanceUid"]}, ORIGIN))[
            "url"
        ]
        for _ in range(3)
    }
    assert len(urls) == 3


def test_studies_viewed_unknown_token_is_none() -> None:
    studies = service()
    create(studies)
    assert studies.viewed("0" * 40) is None
    assert studies.viewed("") is None


# --- stored, reset, determinism ------------------------------------------------------------


def test_studies_stored_oldest_first_as_answered() -> None:
    studies = service()
    made = [create(studies) for _ in range(3)]
    studies.update(made[0]["studyId"], {"severity": "stat"})
    assert list(studies.stored()) == [retrieve(studies, s["studyId"]) for s in made]


def test_studies_reset_forgets_studies_and_restarts_the_seed() -> None:
    studies = service()
    first = create(studies, uid="1.2.3")
    token = orjson.loads(studies.reroute_url({"studyId": first["studyId"]}, ORIGIN))["url"]
    studies.reset()
    assert list(studies.stored()) == []
    with pytest.raises(NotFound):
        studies.retrieve(first["studyId"])
    assert studies.viewed(token.rsplit("/", 1)[1]) is None
    assert listing(studies) == {"studies": [], "cursor": None, "hasMore": False}
    assert create(studies, uid="1.2.3") == first


def script(studies: Studies) -> list[bytes]:
    """One fixed sequence of calls; every answer (or error body) in order."""
    answers: list[bytes] = []

    def run(call: Callable[[], bytes]) -> None:
        try:
            answers.append(call())
        except ApiError as error:
            answers.append(error.body())

    body = {"severity": "high", "studyDescription": "Chest CT", "studyInstanceUid": "1.2.3"}
    run(lambda: studies.create(body, KEY))
    run(lambda: studies.create({**body, "studyInstanceUid": "1.2.4", "assignedTo": USERS[0]}, KEY))
    run(lambda: studies.create({**body, "expressCustomerId": CUSTOMER}, KEY))
    ids = [s["studyId"] for s in studies.stored()]
    run(lambda: studies.update(ids[0], {"severity": "stat", "metadata": {"k": "v"}}))
    run(lambda: studies.cancel({"studyId": ids[1]}))
    run(lambda: studies.uncancel({"studyInstanceUid": "1.2.4"}))
    run(lambda: studies.reroute_url({"studyId": ids[0]}, ORIGIN))
    page = orjson.loads(studies.list([("limit", "1")]))
    answers.append(orjson.dumps(page))
    run(lambda: studies.list([("limit", "1"), ("cursor", page["cursor"])]))
    run(lambda: studies.list([("severity", "nope")]))
    run(lambda: studies.retrieve_by_uid("1.2.4"))
    return answers


def test_studies_same_seed_answers_byte_identical() -> None:
    first = script(service(seed=13))
    assert script(service(seed=13)) == first
    assert script(service(seed=14)) != first
    again = service(seed=13)
    script(again)
    again.reset()
    assert script(again) == first
