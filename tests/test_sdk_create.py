"""The official ``avara`` SDK creating studies: round trips, ids, references, raw and streaming.

Every test runs twice, through the ``target`` fixture of conftest.py: against a live
``python -m mockserver serve`` shared by the session (so every test uses its own Study Instance
UIDs), and against an app in this process. See tests/sdk_targets.py.
"""

from __future__ import annotations

import pytest
from avara import AsyncAvara, Avara
from avara.types.viewer import StudyCreateResponse

from tests.sdk_targets import (
    UNICODE_METADATA,
    Target,
    assert_all_params_echoed,
    assert_new_study,
    media_type,
    new_customer_id,
    new_uid,
    new_user_id,
)

# --- create --------------------------------------------------------------------------------


def test_sdk_create_minimal_round_trips(sdk_client: Avara) -> None:
    uid = new_uid()
    study = sdk_client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(study, severity="normal", study_description="Chest CT", study_instance_uid=uid)
    assert study.assigned_to is None
    assert study.express_customer is None
    assert not study.metadata


@pytest.mark.anyio
async def test_async_sdk_create_minimal_round_trips(async_sdk_client: AsyncAvara) -> None:
    uid = new_uid()
    study = await async_sdk_client.viewer.studies.create(
        severity="stat", study_description="Head CT without contrast", study_instance_uid=uid
    )
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(
        study, severity="stat", study_description="Head CT without contrast", study_instance_uid=uid
    )
    assert study.assigned_to is None
    assert study.express_customer is None
    assert not study.metadata


def test_sdk_create_all_params_round_trips(sdk_client: Avara) -> None:
    uid, user, customer = new_uid(), new_user_id(), new_customer_id()
    description = "Brain MRI with Contrast — 脳 MRI 🧠"
    study = sdk_client.viewer.studies.create(
        severity="high",
        study_description=description,
        study_instance_uid=uid,
        assigned_to=user,
        express_customer_id=customer,
        metadata=UNICODE_METADATA,
    )
    assert_new_study(study, severity="high", study_description=description, study_instance_uid=uid)
    assert_all_params_echoed(study, assigned_to=user, express_customer_id=customer)


@pytest.mark.anyio
async def test_async_sdk_create_all_params_round_trips(async_sdk_client: AsyncAvara) -> None:
    uid, user, customer = new_uid(), new_user_id(), new_customer_id()
    description = "CT Chest/Abdomen/Pelvis — 胸腹部 CT 🫁"
    study = await async_sdk_client.viewer.studies.create(
        severity="normal",
        study_description=description,
        study_instance_uid=uid,
        assigned_to=user,
        express_customer_id=customer,
        metadata=UNICODE_METADATA,
    )
    assert_new_study(
        study, severity="normal", study_description=description, study_instance_uid=uid
    )
    assert_all_params_echoed(study, assigned_to=user, express_customer_id=customer)


def test_sdk_create_gives_each_study_its_own_id(sdk_client: Avara) -> None:
    first = sdk_client.viewer.studies.create(
        severity="normal", study_description="X-ray", study_instance_uid=new_uid()
    )
    second = sdk_client.viewer.studies.create(
        severity="normal", study_description="X-ray", study_instance_uid=new_uid()
    )
    assert first.study_id != second.study_id


# --- consistency of references -------------------------------------------------------------


def test_sdk_same_assignee_gets_same_reference(sdk_client: Avara) -> None:
    user, customer = new_user_id(), new_customer_id()
    studies = [
        sdk_client.viewer.studies.create(
            severity="normal",
            study_description="Knee MRI",
            study_instance_uid=new_uid(),
            assigned_to=user,
            express_customer_id=customer,
        )
        for _ in range(2)
    ]
    first, second = (study.assigned_to for study in studies)
    assert first is not None
    assert second is not None
    assert first.user_id == second.user_id == user
    assert (first.first_name, first.last_name, first.email) == (
        second.first_name,
        second.last_name,
        second.email,
    )
    assert first.model_dump() == second.model_dump()
    customers = [study.express_customer for study in studies]
    assert customers[0] is not None
    assert customers[1] is not None
    assert customers[0].express_customer_name == customers[1].express_customer_name


def test_sdk_same_api_key_gets_same_api_key_id(target: Target) -> None:
    def api_key_id(sdk: Avara) -> str:
        study = sdk.viewer.studies.create(
            severity="normal", study_description="Pelvis US", study_instance_uid=new_uid()
        )
        assert study.created_by_api_key is not None
        return study.created_by_api_key.api_key_id

    with target.client() as first, target.client() as again, target.client("other") as other:
        one, two, same_key = api_key_id(first), api_key_id(first), api_key_id(again)
        different = api_key_id(other)
    assert one == two == same_key
    assert different != one


@pytest.mark.anyio
async def test_async_sdk_same_api_key_gets_same_api_key_id(
    async_sdk_client: AsyncAvara, sdk_client: Avara
) -> None:
    created = await async_sdk_client.viewer.studies.create(
        severity="high", study_description="Spine MRI", study_instance_uid=new_uid()
    )
    synced = sdk_client.viewer.studies.create(
        severity="high", study_description="Spine MRI", study_instance_uid=new_uid()
    )
    assert created.created_by_api_key is not None
    assert synced.created_by_api_key is not None
    assert created.created_by_api_key.api_key_id == synced.created_by_api_key.api_key_id


# --- raw and streaming responses -----------------------------------------------------------


def test_sdk_raw_response_create_parses(sdk_client: Avara) -> None:
    uid = new_uid()
    raw = sdk_client.viewer.studies.with_raw_response.create(
        severity="normal", study_description="Abdomen CT", study_instance_uid=uid
    )
    assert raw.status_code == 201
    assert media_type(raw.headers) == "application/json"
    study = raw.parse()
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(
        study, severity="normal", study_description="Abdomen CT", study_instance_uid=uid
    )
    assert raw.http_response.json()["studyId"] == study.study_id


@pytest.mark.anyio
async def test_async_sdk_raw_response_create_parses(async_sdk_client: AsyncAvara) -> None:
    uid = new_uid()
    raw = await async_sdk_client.viewer.studies.with_raw_response.create(
        severity="stat", study_description="Abdomen CT", study_instance_uid=uid
    )
    assert raw.status_code == 201
    assert media_type(raw.headers) == "application/json"
    study = await raw.parse()
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(study, severity="stat", study_description="Abdomen CT", study_instance_uid=uid)
    assert raw.http_response.json()["studyId"] == study.study_id


def test_sdk_streaming_response_create_parses(sdk_client: Avara) -> None:
    uid, user = new_uid(), new_user_id()
    with sdk_client.viewer.studies.with_streaming_response.create(
        severity="high",
        study_description="Shoulder MRI",
        study_instance_uid=uid,
        assigned_to=user,
        metadata=UNICODE_METADATA,
    ) as response:
        assert response.status_code == 201
        assert media_type(response.headers) == "application/json"
        study = response.parse()
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(
        study, severity="high", study_description="Shoulder MRI", study_instance_uid=uid
    )
    assert study.metadata == UNICODE_METADATA
    assert study.assigned_to is not None
    assert study.assigned_to.user_id == user


@pytest.mark.anyio
async def test_async_sdk_streaming_response_create_parses(async_sdk_client: AsyncAvara) -> None:
    uid, customer = new_uid(), new_customer_id()
    async with async_sdk_client.viewer.studies.with_streaming_response.create(
        severity="normal",
        study_description="Hand X-ray",
        study_instance_uid=uid,
        express_customer_id=customer,
    ) as response:
        assert response.status_code == 201
        assert media_type(response.headers) == "application/json"
        study = await response.parse()
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(
        study, severity="normal", study_description="Hand X-ray", study_instance_uid=uid
    )
    assert study.express_customer is not None
    assert study.express_customer.express_customer_id == customer
