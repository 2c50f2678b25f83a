"""The official ``avara`` SDK through a study's life: create, retrieve, update, list, cancel,
uncancel, and the reroute URL the mock serves as an HTML page.

Every test runs twice, through the ``target`` fixture of conftest.py: against a live server
shared by the session (so every study has its own UID, and lists filter by a fresh customer)
and against an app in this process. See tests/sdk_targets.py.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from avara import AsyncAvara, Avara
from avara.types.viewer import StudyRetrieveResponse
from starlette.testclient import TestClient

from tests.sdk_targets import Target, media_type, new_customer_id, new_uid, new_user_id

VIEWER_PATH = "/viewer/studies/"
DESCRIPTION = "Chest CT <with & without> contrast"


def moved(later: datetime | None, earlier: datetime | None) -> bool:
    """Whether ``updatedAt`` went forward."""
    assert later is not None
    assert earlier is not None
    return later > earlier


@pytest.fixture(scope="module")
def browser() -> Iterator[httpx.Client]:
    """One plain HTTP client for the module (each new one costs a TLS context)."""
    with httpx.Client(timeout=10) as client:
        yield client


def open_viewer(target: Target, url: str, browser: httpx.Client) -> httpx.Response:
    """GET a reroute URL as a browser would: no API key, over the socket or in-process."""
    if target.app is None:
        return browser.get(url)
    page: httpx.Response = TestClient(target.app, base_url=target.base_url).get(url)
    return page


async def open_viewer_async(target: Target, url: str) -> httpx.Response:
    transport = None if target.app is None else httpx.ASGITransport(app=target.app)
    async with httpx.AsyncClient(transport=transport, timeout=10) as browser:
        return await browser.get(url)


def assert_viewer_page(page: httpx.Response, study: StudyRetrieveResponse) -> None:
    """A small HTML page naming the study: description (escaped), UID, severity."""
    assert page.status_code == 200, page.text
    assert media_type(page.headers) == "text/html"
    assert html.escape(study.study_description) in page.text
    assert study.study_description not in page.text  # '<' and '&' are escaped
    assert study.study_instance_uid in page.text
    assert study.severity in page.text


# --- the whole lifecycle -------------------------------------------------------------------


def test_sdk_study_lifecycle(target: Target, sdk_client: Avara, browser: httpx.Client) -> None:
    studies = sdk_client.viewer.studies
    uid, customer, user = new_uid(), new_customer_id(), new_user_id()
    created = studies.create(
        severity="normal",
        study_description=DESCRIPTION,
        study_instance_uid=uid,
        express_customer_id=customer,
        metadata={"ward": "A", "bed": "3"},
    )
    study_id = created.study_id
    assert studies.retrieve(study_id).model_dump() == created.model_dump()
    assert studies.retrieve_by_uid(uid).model_dump() == created.model_dump()

    updated = studies.update(
        study_id,
        severity="stat",
        study_viewer_status="complete",
        metadata={"ward": "B"},
        assigned_to=user,
    )
    assert (updated.severity, updated.study_viewer_status) == ("stat", "complete")
    assert updated.metadata == {"ward": "B"}  # replaced whole, not merged
    assert updated.assigned_to is not None
    assert updated.assigned_to.user_id == user
    assert moved(updated.updated_at, created.updated_at)
    kept = ("study_id", "study_instance_uid", "created_at", "study_description", "is_cancelled")
    assert {k: getattr(updated, k) for k in kept} == {k: getattr(created, k) for k in kept}
    assert updated.express_customer == created.express_customer
    assert studies.retrieve(study_id).model_dump() == updated.model_dump()

    # The SDK types assigned_to as str, but sends None as JSON null: "or null to unassign".
    raw = studies.with_raw_response.update(study_id, assigned_to=None)  # type: ignore[arg-type]
    assert json.loads(raw.http_request.content) == {"assignedTo": None}
    unassigned = raw.parse()
    assert unassigned.assigned_to is None
    assert unassigned.metadata == {"ward": "B"}
    assert moved(unassigned.updated_at, updated.updated_at)

    listed = list(studies.list(express_customer_id=customer))
    assert [s.model_dump() for s in listed] == [unassigned.model_dump()]

    answer = studies.cancel(study_id=study_id)
    assert answer.success is True
    cancelled = studies.retrieve(study_id)
    assert cancelled.is_cancelled is True
    assert cancelled.cancelled_at is not None
    assert cancelled.cancelled_at == cancelled.updated_at
    assert moved(cancelled.updated_at, unassigned.updated_at)
    assert [s.study_id for s in studies.list(express_customer_id=customer, is_cancelled=True)] == [
        study_id
    ]

    again = studies.cancel(study_instance_uid=uid)
    assert again.success is True
    assert again.message
    assert studies.retrieve(study_id).model_dump() == cancelled.model_dump()

    assert studies.uncancel(study_id=study_id).success is True
    restored = studies.retrieve(study_id)
    assert restored.is_cancelled is False
    assert restored.cancelled_at is None
    assert moved(restored.updated_at, cancelled.updated_at)
    twice = studies.uncancel(study_instance_uid=uid)
    assert twice.success is True
    assert twice.message
    assert studies.retrieve(study_id).model_dump() == restored.model_dump()

    url = studies.reroute_url(study_id=study_id).url
    assert url.startswith(target.base_url + VIEWER_PATH)
    assert len(url) > len(target.base_url + VIEWER_PATH)
    assert_viewer_page(open_viewer(target, url, browser), restored)


@pytest.mark.anyio
async def test_async_sdk_study_lifecycle(target: Target, async_sdk_client: AsyncAvara) -> None:
    studies = async_sdk_client.viewer.studies
    uid, customer, user = new_uid(), new_customer_id(), new_user_id()
    created = await studies.create(
        severity="high",
        study_description=DESCRIPTION,
        study_instance_uid=uid,
        express_customer_id=customer,
        assigned_to=user,
    )
    study_id = created.study_id
    assert (await studies.retrieve(study_id)).model_dump() == created.model_dump()
    assert (await studies.retrieve_by_uid(uid)).model_dump() == created.model_dump()

    updated = await studies.update(
        study_id,
        severity="normal",
        study_viewer_status="complete",
        metadata={"source": "async"},
        assigned_to=None,  # type: ignore[arg-type]
    )
    assert (updated.severity, updated.study_viewer_status) == ("normal", "complete")
    assert updated.metadata == {"source": "async"}
    assert updated.assigned_to is None
    assert moved(updated.updated_at, created.updated_at)

    listed = [s.study_id async for s in studies.list(express_customer_id=customer)]
    assert listed == [study_id]

    assert (await studies.cancel(study_instance_uid=uid)).success is True
    cancelled = await studies.retrieve(study_id)
    assert cancelled.is_cancelled is True
    assert cancelled.cancelled_at == cancelled.updated_at
    assert moved(cancelled.updated_at, updated.updated_at)
    again = await studies.cancel(study_id=study_id)
    assert again.success is True
    assert again.message
    assert (await studies.retrieve(study_id)).model_dump() == cancelled.model_dump()

    assert (await studies.uncancel(study_id=study_id)).success is True
    restored = await studies.retrieve(study_id)
    assert (restored.is_cancelled, restored.cancelled_at) == (False, None)
    assert moved(restored.updated_at, cancelled.updated_at)

    url = (await studies.reroute_url(study_instance_uid=uid)).url
    assert url.startswith(target.base_url + VIEWER_PATH)
    assert_viewer_page(await open_viewer_async(target, url), restored)


# --- update --------------------------------------------------------------------------------


def test_sdk_update_with_nothing_changes_nothing(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="normal", study_description="Hip X-ray", study_instance_uid=new_uid()
    )
    raw = sdk_client.viewer.studies.with_raw_response.update(created.study_id)
    assert json.loads(raw.http_request.content) == {}
    assert raw.status_code == 200
    assert raw.parse().model_dump() == created.model_dump()
    same = sdk_client.viewer.studies.update(created.study_id, severity="normal")
    assert same.model_dump() == created.model_dump()  # no change: updatedAt stays


def test_sdk_update_description_and_null_metadata_clears(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="stat",
        study_description="Head CT",
        study_instance_uid=new_uid(),
        metadata={"k": "v"},
    )
    renamed = sdk_client.viewer.studies.update(
        created.study_id, study_description="Head CT — repeat"
    )
    assert renamed.study_description == "Head CT — repeat"
    assert renamed.metadata == {"k": "v"}
    cleared = sdk_client.viewer.studies.update(created.study_id, metadata=None)
    assert not cleared.metadata
    assert cleared.study_description == "Head CT — repeat"
    assert moved(cleared.updated_at, renamed.updated_at)
    assert sdk_client.viewer.studies.retrieve(created.study_id).model_dump() == cleared.model_dump()


def test_sdk_update_of_a_cancelled_study_keeps_it_cancelled(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="normal", study_description="Foot X-ray", study_instance_uid=new_uid()
    )
    sdk_client.viewer.studies.cancel(study_id=created.study_id)
    cancelled = sdk_client.viewer.studies.retrieve(created.study_id)
    updated = sdk_client.viewer.studies.update(created.study_id, severity="high")
    assert updated.severity == "high"
    assert updated.is_cancelled is True
    assert updated.cancelled_at == cancelled.cancelled_at
    assert moved(updated.updated_at, cancelled.updated_at)


# --- cancel, uncancel and reroute by both names --------------------------------------------


def test_sdk_cancel_naming_the_study_twice_is_accepted(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="normal", study_description="Elbow X-ray", study_instance_uid=new_uid()
    )
    studies = sdk_client.viewer.studies
    study_id, uid = created.study_id, created.study_instance_uid
    assert studies.cancel(study_id=study_id, study_instance_uid=uid).success is True
    assert studies.retrieve(study_id).is_cancelled is True
    assert studies.uncancel(study_id=study_id, study_instance_uid=uid).success is True
    assert studies.retrieve(study_id).is_cancelled is False
    assert studies.reroute_url(study_id=study_id, study_instance_uid=uid).url


def test_sdk_uncancel_of_a_live_study_changes_nothing(sdk_client: Avara) -> None:
    created = sdk_client.viewer.studies.create(
        severity="high", study_description="Ankle MRI", study_instance_uid=new_uid()
    )
    answer = sdk_client.viewer.studies.uncancel(study_id=created.study_id)
    assert answer.success is True
    assert answer.message
    assert sdk_client.viewer.studies.retrieve(created.study_id).model_dump() == created.model_dump()


# --- the reroute URL's page ----------------------------------------------------------------


def test_sdk_reroute_page_shows_the_study_as_it_is(
    target: Target, sdk_client: Avara, browser: httpx.Client
) -> None:
    created = sdk_client.viewer.studies.create(
        severity="stat", study_description=DESCRIPTION, study_instance_uid=new_uid()
    )
    live_url = sdk_client.viewer.studies.reroute_url(study_id=created.study_id).url
    live = open_viewer(target, live_url, browser)
    assert_viewer_page(live, sdk_client.viewer.studies.retrieve(created.study_id))
    sdk_client.viewer.studies.cancel(study_id=created.study_id)
    cancelled_url = sdk_client.viewer.studies.reroute_url(study_id=created.study_id).url
    cancelled = open_viewer(target, cancelled_url, browser)
    assert_viewer_page(cancelled, sdk_client.viewer.studies.retrieve(created.study_id))
    assert "cancelled" in cancelled.text.lower()
    assert "cancelled" not in live.text.lower()


def test_reroute_page_with_unknown_token_is_html_not_found(
    target: Target, browser: httpx.Client
) -> None:
    page = open_viewer(target, f"{target.base_url}{VIEWER_PATH}{uuid.uuid4().hex}", browser)
    assert page.status_code == 404
    assert media_type(page.headers) == "text/html"
    assert "<html" in page.text.lower()
