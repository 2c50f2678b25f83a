"""The official ``avara`` SDK on the mock's refusals (400, 401, 409, 404) and on retrieval.

Every test that takes ``target`` (or ``restricted_target``) runs twice, through the fixtures of
conftest.py: against a live ``python -m mockserver serve`` shared by the session (so every test
uses its own Study Instance UIDs), and against an app in this process. See
tests/sdk_targets.py.
"""

from __future__ import annotations

import uuid

import avara
import pytest
from avara import AsyncAvara, Avara

from tests.sdk_targets import (
    STUDY_ID,
    UNICODE_METADATA,
    Target,
    error_of,
    new_customer_id,
    new_uid,
    new_user_id,
    violation,
)

# --- invalid requests ----------------------------------------------------------------------


def test_sdk_create_uid_too_long_is_bad_request(sdk_client: Avara) -> None:
    uid = "1" * 65
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=uid
        )
    assert caught.value.status_code == 400
    entry = violation(caught.value, "studyInstanceUid")
    assert entry["rule"] == "studyInstanceUid.max-length"
    assert entry["path"] == ["studyInstanceUid"]
    assert entry["tag"] == "stated"
    assert "65" in entry["message"]
    assert "studyInstanceUid" in error_of(caught.value)["message"]


@pytest.mark.anyio
async def test_async_sdk_create_uid_too_long_is_bad_request(async_sdk_client: AsyncAvara) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        await async_sdk_client.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid="9" * 65
        )
    assert caught.value.status_code == 400
    assert violation(caught.value, "studyInstanceUid")["rule"] == "studyInstanceUid.max-length"


def test_sdk_create_too_many_metadata_pairs_is_bad_request(sdk_client: Avara) -> None:
    uid = new_uid()
    metadata = {f"key{index}": f"value {index}" for index in range(51)}
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.create(
            severity="normal",
            study_description="Chest CT",
            study_instance_uid=uid,
            metadata=metadata,
        )
    assert caught.value.status_code == 400
    entry = violation(caught.value, "metadata")
    assert entry["rule"] == "metadata.max-pairs"
    assert entry["path"] == ["metadata"]
    assert "51" in entry["message"]
    # A refused create stores nothing: the UID is still free.
    with pytest.raises(avara.NotFoundError):
        sdk_client.viewer.studies.retrieve_by_uid(uid)
    study = sdk_client.viewer.studies.create(
        severity="normal",
        study_description="Chest CT",
        study_instance_uid=uid,
        metadata=dict(list(metadata.items())[:50]),
    )
    assert study.study_instance_uid == uid
    assert study.metadata is not None
    assert len(study.metadata) == 50


def test_sdk_create_reports_every_violation(sdk_client: Avara) -> None:
    metadata = {f"k{index}": "v" for index in range(51)}
    with pytest.raises(avara.BadRequestError) as caught:
        sdk_client.viewer.studies.create(
            severity="normal",
            study_description="Chest CT",
            study_instance_uid="1" * 65,
            metadata=metadata,
        )
    rules = {(entry["field"], entry["rule"]) for entry in error_of(caught.value)["errors"]}
    assert rules == {
        ("metadata", "metadata.max-pairs"),
        ("studyInstanceUid", "studyInstanceUid.max-length"),
    }


# --- authentication ------------------------------------------------------------------------


def test_sdk_missing_authorization_is_unauthorized(sdk_client: Avara) -> None:
    with pytest.raises(avara.AuthenticationError) as caught:
        sdk_client.viewer.studies.create(
            severity="normal",
            study_description="Chest CT",
            study_instance_uid=new_uid(),
            extra_headers={"Authorization": avara.omit},
        )
    assert caught.value.status_code == 401
    error = error_of(caught.value)
    assert error["type"] == "unauthorized"
    assert "Authorization" in error["message"]


@pytest.mark.anyio
async def test_async_sdk_missing_authorization_is_unauthorized(
    async_sdk_client: AsyncAvara,
) -> None:
    with pytest.raises(avara.AuthenticationError) as caught:
        await async_sdk_client.viewer.studies.create(
            severity="normal",
            study_description="Chest CT",
            study_instance_uid=new_uid(),
            extra_headers={"Authorization": avara.omit},
        )
    assert caught.value.status_code == 401
    assert error_of(caught.value)["type"] == "unauthorized"


def test_sdk_empty_authorization_header_is_unauthorized(target: Target) -> None:
    uid = new_uid()
    with (
        target.client(default_headers={"Authorization": ""}) as sdk,
        pytest.raises(avara.AuthenticationError) as caught,
    ):
        sdk.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=uid
        )
    assert caught.value.status_code == 401
    assert error_of(caught.value)["type"] == "unauthorized"
    # The refused create stored nothing.
    with target.client() as sdk, pytest.raises(avara.NotFoundError):
        sdk.viewer.studies.retrieve_by_uid(uid)


def test_sdk_empty_api_key_is_unauthorized(inprocess_target: Target) -> None:
    # In-process only: over a socket, h11 refuses to send the header value "Bearer " (trailing
    # whitespace) and the SDK raises APIConnectionError before the mock sees the request.
    with (
        inprocess_target.client(api_key="") as sdk,
        pytest.raises(avara.AuthenticationError) as caught,
    ):
        sdk.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
        )
    assert caught.value.status_code == 401
    error = error_of(caught.value)
    assert error["type"] == "unauthorized"
    assert "empty" in error["message"]


def test_sdk_unaccepted_api_key_is_unauthorized(restricted_target: Target) -> None:
    with (
        restricted_target.client(api_key="bad") as sdk,
        pytest.raises(avara.AuthenticationError) as caught,
    ):
        sdk.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
        )
    assert caught.value.status_code == 401
    assert error_of(caught.value)["type"] == "unauthorized"
    with restricted_target.client(api_key="good") as sdk:
        study = sdk.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
        )
    assert STUDY_ID.fullmatch(study.study_id)


@pytest.mark.anyio
async def test_async_sdk_unaccepted_api_key_is_unauthorized(restricted_target: Target) -> None:
    async with restricted_target.async_client(api_key="bad") as sdk:
        with pytest.raises(avara.AuthenticationError) as caught:
            await sdk.viewer.studies.create(
                severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
            )
    assert caught.value.status_code == 401
    assert error_of(caught.value)["type"] == "unauthorized"


def test_sdk_retrieve_without_authorization_is_unauthorized(sdk_client: Avara) -> None:
    study = sdk_client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
    )
    no_auth: dict[str, str | avara.Omit] = {"Authorization": avara.omit}
    with pytest.raises(avara.AuthenticationError):
        sdk_client.viewer.studies.retrieve(study.study_id, extra_headers=no_auth)
    with pytest.raises(avara.AuthenticationError):
        sdk_client.viewer.studies.retrieve_by_uid(study.study_instance_uid, extra_headers=no_auth)


# --- conflicts -----------------------------------------------------------------------------


def test_sdk_duplicate_uid_is_conflict(sdk_client: Avara) -> None:
    uid = new_uid()
    original = sdk_client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    with pytest.raises(avara.ConflictError) as caught:
        sdk_client.viewer.studies.create(
            severity="stat", study_description="Another study", study_instance_uid=uid
        )
    assert caught.value.status_code == 409
    error = error_of(caught.value)
    assert error["type"] == "conflict"
    assert uid in error["message"]
    # The first study is untouched by the refused second create.
    kept = sdk_client.viewer.studies.retrieve_by_uid(uid)
    assert kept.model_dump() == original.model_dump()


@pytest.mark.anyio
async def test_async_sdk_duplicate_uid_is_conflict(async_sdk_client: AsyncAvara) -> None:
    uid = new_uid()
    await async_sdk_client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    with pytest.raises(avara.ConflictError) as caught:
        await async_sdk_client.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=uid
        )
    assert caught.value.status_code == 409
    assert error_of(caught.value)["type"] == "conflict"


# --- retrieve ------------------------------------------------------------------------------


def test_sdk_retrieve_returns_created_study(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="high",
        study_description="Cardiac MRI",
        study_instance_uid=new_uid(),
        assigned_to=new_user_id(),
        express_customer_id=new_customer_id(),
        metadata=UNICODE_METADATA,
    )
    fetched = sdk_client.viewer.studies.retrieve(created.study_id)
    assert fetched.model_dump() == created.model_dump()
    assert fetched.metadata == UNICODE_METADATA


def test_sdk_retrieve_by_uid_returns_created_study(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="normal",
        study_description="Wrist X-ray",
        study_instance_uid=new_uid(),
        metadata=UNICODE_METADATA,
    )
    fetched = sdk_client.viewer.studies.retrieve_by_uid(created.study_instance_uid)
    assert fetched.model_dump() == created.model_dump()
    assert fetched.study_id == created.study_id


@pytest.mark.anyio
async def test_async_sdk_retrieve_returns_created_study(async_sdk_client: AsyncAvara) -> None:
    created = await async_sdk_client.viewer.studies.create(
        severity="stat",
        study_description="Stroke protocol CT",
        study_instance_uid=new_uid(),
        assigned_to=new_user_id(),
    )
    by_id = await async_sdk_client.viewer.studies.retrieve(created.study_id)
    by_uid = await async_sdk_client.viewer.studies.retrieve_by_uid(created.study_instance_uid)
    assert by_id.model_dump() == created.model_dump()
    assert by_uid.model_dump() == created.model_dump()


def test_sdk_retrieve_unknown_study_is_not_found(sdk_client: Avara) -> None:
    with pytest.raises(avara.NotFoundError) as caught:
        sdk_client.viewer.studies.retrieve(f"stu_{uuid.uuid4().hex}")
    assert caught.value.status_code == 404
    assert error_of(caught.value)["type"] == "not_found"
    with pytest.raises(avara.NotFoundError):
        sdk_client.viewer.studies.retrieve_by_uid(new_uid())
