"""Study shape: a new study from a create request, and the changes an update makes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockserver.contract import Contract
from mockserver.resources.shape import UPDATE_REQUEST, StudyShape
from mockserver.world.references import ReferenceFactory

UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
STUDY_ID = "stu_" + "0123456789abcdef" * 2
USER = "usr_" + "ab" * 16
OTHER_USER = "usr_" + "cd" * 16
CUSTOMER = "cus_" + "ef" * 16
NOW = "2026-01-05T09:00:00.000Z"


@pytest.fixture(scope="module")
def shape(contract: Contract) -> StudyShape:
    return StudyShape(contract, ReferenceFactory(seed=3))


def new_study(shape: StudyShape, **request: Any) -> dict[str, Any]:
    body = {"severity": "high", "studyDescription": "Chest CT", "studyInstanceUid": UID}
    return shape.new({**body, **request}, STUDY_ID, NOW)


def test_shape_new_echoes_request_and_starts_as_annotated(
    contract: Contract, shape: StudyShape
) -> None:
    study = new_study(shape, metadata={"a": "b"})
    assert study["studyId"] == STUDY_ID
    assert (study["severity"], study["studyDescription"], study["studyInstanceUid"]) == (
        "high",
        "Chest CT",
        UID,
    )
    assert study["metadata"] == {"a": "b"}
    for field, spec in contract.annotated("study", "x-on-create").items():
        assert study[field] == spec["const"], field
    assert study["isCancelled"] is False
    assert study["cancelledAt"] is None
    assert study["createdAt"] == study["updatedAt"] == NOW
    assert study["createdByUser"] is None
    assert "createdByApiKey" not in study


def test_shape_new_without_optional_fields(shape: StudyShape) -> None:
    study = new_study(shape)
    assert study["assignedTo"] is None
    assert study["expressCustomer"] is None
    assert study["metadata"] is None


def test_shape_new_links_user_and_customer(shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER, expressCustomerId=CUSTOMER)
    assert study["assignedTo"]["userId"] == USER
    assert study["assignedTo"] == shape.user(USER)
    assert study["expressCustomer"]["expressCustomerId"] == CUSTOMER


def test_shape_new_study_is_a_valid_study(contract: Contract, shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER, expressCustomerId=CUSTOMER, metadata={"k": "v"})
    full = {**study, "createdByApiKey": shape.api_key("test-key")}
    assert contract.validator("study").is_valid(full)


def test_shape_user_of_none_is_none(shape: StudyShape) -> None:
    assert shape.user(None) is None


def test_shape_update_fields_are_the_update_requests(contract: Contract, shape: StudyShape) -> None:
    assert set(shape.update_fields) == set(contract.resolved(UPDATE_REQUEST)["properties"])


def test_shape_changes_absent_fields_untouched(shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER, metadata={"a": "b"})
    assert shape.changes(study, {}) == {}
    assert shape.changes(study, {"severity": "stat"}) == {"severity": "stat"}


def test_shape_changes_assigned_to_null_unassigns(shape: StudyShape) -> None:
    assert shape.changes(new_study(shape, assignedTo=USER), {"assignedTo": None}) == {
        "assignedTo": None
    }
    assert shape.changes(new_study(shape), {"assignedTo": None}) == {}


def test_shape_changes_assigned_to_another_user(shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER)
    assert shape.changes(study, {"assignedTo": OTHER_USER}) == {
        "assignedTo": shape.user(OTHER_USER)
    }
    assert shape.changes(study, {"assignedTo": USER}) == {}
    assert shape.changes(new_study(shape), {"assignedTo": USER}) == {"assignedTo": shape.user(USER)}


def test_shape_changes_metadata_null_clears(shape: StudyShape) -> None:
    assert shape.changes(new_study(shape, metadata={"a": "b"}), {"metadata": None}) == {
        "metadata": None
    }
    assert shape.changes(new_study(shape), {"metadata": None}) == {}


def test_shape_changes_metadata_replaced_not_merged(shape: StudyShape) -> None:
    study = new_study(shape, metadata={"a": "b", "c": "d"})
    assert shape.changes(study, {"metadata": {"a": "x"}}) == {"metadata": {"a": "x"}}
    assert shape.changes(study, {"metadata": {"c": "d", "a": "b"}}) == {}


def test_shape_changes_same_values_give_nothing(shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER, metadata={"a": "b"})
    same = {
        "assignedTo": USER,
        "metadata": {"a": "b"},
        "severity": "high",
        "studyDescription": "Chest CT",
        "studyViewerStatus": study["studyViewerStatus"],
    }
    assert shape.changes(study, same) == {}


def test_shape_changes_only_the_fields_that_differ(shape: StudyShape) -> None:
    study = new_study(shape)
    update = {"severity": "high", "studyDescription": "Knee MRI", "studyViewerStatus": "complete"}
    assert shape.changes(study, update) == {
        "studyDescription": "Knee MRI",
        "studyViewerStatus": "complete",
    }


def test_shape_changes_ignore_fields_that_are_not_update_fields(shape: StudyShape) -> None:
    study = new_study(shape)
    assert shape.changes(study, {"isCancelled": True, "studyInstanceUid": "1.2"}) == {}


def test_shape_changes_leave_the_study_as_it_is(shape: StudyShape) -> None:
    study = new_study(shape, assignedTo=USER, metadata={"a": "b"})
    before = copy.deepcopy(study)
    shape.changes(study, {"assignedTo": None, "metadata": {"x": "y"}, "severity": "stat"})
    assert study == before
