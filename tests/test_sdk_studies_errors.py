"""The official ``avara`` SDK on the refusals of retrieve, update, list, cancel, uncancel and
reroute_url: the exception class it raises, and the error body naming the field, where it is
(``in``: body, query or path) and the rule.

Every test runs twice, through the ``target`` fixture of conftest.py: against a live server
shared by the session and against an app in this process. See tests/sdk_targets.py.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import avara
import pytest
from avara import AsyncAvara, Avara

from mockserver.contract import Contract
from tests.sdk_targets import error_of, new_uid, violation

LIST_QUERY = "study-list-query"
SELECTOR = "study-selector"
Call = Callable[..., Any]


def unknown_id() -> str:
    return f"stu_{uuid.uuid4().hex}"


def refused(exc: avara.APIStatusError, field: str, rule: str, where: str) -> dict[str, Any]:
    """The violation about ``field``, checked to be of ``rule`` and found ``where``."""
    assert exc.status_code == 400
    entry = violation(exc, field)
    assert entry["rule"] == rule, entry
    assert entry["in"] == where, entry
    assert entry["tag"] in ("stated", "inferred")
    assert entry["message"]
    return entry


def not_found(exc: avara.APIStatusError, *names: str) -> None:
    """A 404 body of type not_found whose message names what was looked for."""
    assert exc.status_code == 404
    error = error_of(exc)
    assert error["type"] == "not_found"
    for name in names:
        assert name in error["message"], error


def create(sdk: Avara, **fields: Any) -> Any:
    return sdk.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=new_uid(), **fields
    )


# --- 404: no such study ----------------------------------------------------------------------


def test_sdk_unknown_study_is_not_found_for_every_call(sdk_client: Avara) -> None:
    studies = sdk_client.viewer.studies
    missing, uid = unknown_id(), new_uid()
    calls: list[tuple[Call, dict[str, Any], str]] = [
        (studies.retrieve, {"study_id": missing}, missing),
        (studies.retrieve_by_uid, {"study_instance_uid": uid}, uid),
        (studies.update, {"study_id": missing, "severity": "stat"}, missing),
        (studies.cancel, {"study_id": missing}, missing),
        (studies.cancel, {"study_instance_uid": uid}, uid),
        (studies.uncancel, {"study_id": missing}, missing),
        (studies.reroute_url, {"study_instance_uid": uid}, uid),
    ]
    for call, kwargs, name in calls:
        with pytest.raises(avara.NotFoundError) as caught:
            call(**kwargs)
        not_found(caught.value, name)


@pytest.mark.anyio
async def test_async_sdk_unknown_study_is_not_found(async_sdk_client: AsyncAvara) -> None:
    missing = unknown_id()
    with pytest.raises(avara.NotFoundError) as caught:
        await async_sdk_client.viewer.studies.update(missing, study_viewer_status="complete")
    not_found(caught.value, missing)
    with pytest.raises(avara.NotFoundError) as caught:
        await async_sdk_client.viewer.studies.reroute_url(study_id=missing)
    not_found(caught.value, missing)


# --- 400: path parameters --------------------------------------------------------------------


def test_sdk_malformed_path_parameter_is_bad_request(sdk_client: Avara) -> None:
    studies = sdk_client.viewer.studies
    with pytest.raises(avara.BadRequestError) as caught:
        studies.retrieve("stu_not-an-id")
    refused(caught.value, "studyId", "studyId.format", "path")
    with pytest.raises(avara.BadRequestError) as caught:
        studies.update("stu_" + "AB" * 16, severity="stat")
    refused(caught.value, "studyId", "id.lowercase-hex", "path")
    with pytest.raises(avara.BadRequestError) as caught:
        studies.retrieve_by_uid("1..2")
    refused(caught.value, "studyInstanceUid", "studyInstanceUid.empty-component", "path")


# --- 400: list queries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shift", "rule"), [(-1, "limit.minimum"), (+1, "limit.maximum")], ids=["low", "high"]
)
def test_sdk_list_limit_out_of_range_is_bad_request(
    sdk_client: Avara, contract: Contract, shift: int, rule: str
) -> None:
    bound = contract.rule_value(LIST_QUERY, rule)
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.list(limit=bound + shift)
    entry = refused(caught.value, "limit", rule, "query")
    assert entry["path"] == ["limit"]


def test_sdk_list_fractional_limit_is_bad_request(sdk_client: Avara, contract: Contract) -> None:
    limit = contract.rule_value(LIST_QUERY, "limit.minimum") + 0.5
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.list(limit=limit)
    refused(caught.value, "limit", "limit.integer", "query")


BAD_FILTERS: list[tuple[dict[str, Any], str, str]] = [
    ({"severity": "urgent"}, "severity", "severity.enum"),
    ({"study_viewer_status": "done"}, "studyViewerStatus", "studyViewerStatus.enum"),
    ({"extra_query": {"isCancelled": "yes"}}, "isCancelled", "isCancelled.type"),
    ({"extra_query": {"isCancelled": "True"}}, "isCancelled", "isCancelled.type"),
    ({"assigned_to": "usr_123"}, "assignedTo", "userId.format"),
    ({"express_customer_id": "cus_" + "A" * 32}, "expressCustomerId", "id.lowercase-hex"),
    ({"extra_query": {"sort": "asc"}}, "sort", "query.unknown-parameter"),
    ({"cursor": "not a cursor!"}, "cursor", "cursor.format"),
    ({"cursor": base64.b64encode(b"made up").decode()}, "cursor", "cursor.unknown"),
]


@pytest.mark.parametrize(
    ("params", "field", "rule"), BAD_FILTERS, ids=[rule for _, _, rule in BAD_FILTERS]
)
def test_sdk_list_bad_query_is_bad_request(
    sdk_client: Avara, params: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.list(**params)
    refused(caught.value, field, rule, "query")
    assert field in error_of(caught.value)["message"]


def test_sdk_list_reports_every_bad_parameter(sdk_client: Avara, contract: Contract) -> None:
    too_many = contract.rule_value(LIST_QUERY, "limit.maximum") + 1
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.list(limit=too_many, severity="urgent")  # type: ignore[arg-type]
    found = {(e["field"], e["rule"], e["in"]) for e in error_of(caught.value)["errors"]}
    assert found == {("limit", "limit.maximum", "query"), ("severity", "severity.enum", "query")}


@pytest.mark.anyio
async def test_async_sdk_list_bad_enum_is_bad_request(async_sdk_client: AsyncAvara) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        await async_sdk_client.viewer.studies.list(severity="STAT")  # type: ignore[arg-type]
    refused(caught.value, "severity", "severity.enum", "query")


# --- 400: cancel, uncancel and reroute_url bodies --------------------------------------------


@pytest.mark.parametrize("call", ["cancel", "uncancel", "reroute_url"])
def test_sdk_selector_naming_nobody_is_bad_request(sdk_client: Avara, call: str) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        getattr(sdk_client.viewer.studies, call)()
    error = error_of(caught.value)
    assert error["type"] == "invalid_request"
    [entry] = error["errors"]
    assert entry["rule"] == "selector.names-study"
    assert entry["in"] == "body"
    assert entry["field"] == ""
    assert "studyId" in entry["message"]
    assert "studyInstanceUid" in entry["message"]


@pytest.mark.parametrize("call", ["cancel", "uncancel", "reroute_url"])
def test_sdk_selector_naming_two_studies_is_bad_request(sdk_client: Avara, call: str) -> None:
    first, second = create(sdk_client), create(sdk_client)
    if call == "uncancel":
        sdk_client.viewer.studies.cancel(study_id=first.study_id)
        sdk_client.viewer.studies.cancel(study_id=second.study_id)
    before = [sdk_client.viewer.studies.retrieve(s.study_id).model_dump() for s in (first, second)]
    with pytest.raises(avara.BadRequestError) as caught:
        getattr(sdk_client.viewer.studies, call)(
            study_id=first.study_id, study_instance_uid=second.study_instance_uid
        )
    error = error_of(caught.value)
    [entry] = error["errors"]
    assert entry["rule"] == "selector.same-study"
    assert entry["in"] == "body"
    assert entry["field"] == "studyInstanceUid"
    # neither study was touched
    after = [sdk_client.viewer.studies.retrieve(s.study_id).model_dump() for s in (first, second)]
    assert after == before


def test_sdk_selector_with_unknown_field_is_bad_request(sdk_client: Avara) -> None:
    study = create(sdk_client)
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.cancel(study_id=study.study_id, extra_body={"reason": "dup"})
    refused(caught.value, "reason", "selector.unknown-field", "body")
    assert sdk_client.viewer.studies.retrieve(study.study_id).is_cancelled is False


def test_sdk_selector_with_malformed_id_is_bad_request(sdk_client: Avara) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.cancel(study_id="study-1")
    refused(caught.value, "studyId", "studyId.format", "body")
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.reroute_url(study_instance_uid="1.02")
    refused(caught.value, "studyInstanceUid", "studyInstanceUid.leading-zero", "body")


@pytest.mark.anyio
async def test_async_sdk_cancel_naming_nobody_is_bad_request(
    async_sdk_client: AsyncAvara,
) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        await async_sdk_client.viewer.studies.cancel()
    [entry] = error_of(caught.value)["errors"]
    assert (entry["rule"], entry["in"]) == ("selector.names-study", "body")


# --- 400: update bodies ----------------------------------------------------------------------


BAD_UPDATES: list[tuple[dict[str, Any], str, str]] = [
    ({"extra_body": {"isCancelled": True}}, "isCancelled", "update.unknown-field"),
    ({"extra_body": {"studyInstanceUid": "1.2.3"}}, "studyInstanceUid", "update.unknown-field"),
    ({"extra_body": {"study_description": "snake"}}, "study_description", "update.unknown-field"),
    ({"severity": "urgent"}, "severity", "severity.enum"),
    ({"study_viewer_status": "Complete"}, "studyViewerStatus", "studyViewerStatus.enum"),
    ({"study_description": ""}, "studyDescription", "studyDescription.non-empty"),
    ({"assigned_to": "usr_" + "g" * 32}, "assignedTo", "userId.format"),
    ({"metadata": {"": "empty key"}}, "metadata.", "metadata.key-non-empty"),
]


@pytest.mark.parametrize(
    ("params", "field", "rule"), BAD_UPDATES, ids=[f"{f}-{r}" for _, f, r in BAD_UPDATES]
)
def test_sdk_bad_update_is_bad_request_and_changes_nothing(
    sdk_client: Avara, params: dict[str, Any], field: str, rule: str
) -> None:
    study = create(sdk_client, metadata={"k": "v"})
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.update(study.study_id, **params)
    entry = refused(caught.value, field, rule, "body")
    assert entry["path"][0] == field.split(".")[0]
    assert sdk_client.viewer.studies.retrieve(study.study_id).model_dump() == study.model_dump()


@pytest.mark.anyio
async def test_async_sdk_update_with_unknown_field_is_bad_request(
    async_sdk_client: AsyncAvara,
) -> None:
    study = await async_sdk_client.viewer.studies.create(
        severity="stat", study_description="Chest CT", study_instance_uid=new_uid()
    )
    with pytest.raises(avara.BadRequestError) as caught:
        await async_sdk_client.viewer.studies.update(
            study.study_id, extra_body={"cancelledAt": None}
        )
    refused(caught.value, "cancelledAt", "update.unknown-field", "body")
