"""The official SDK's retries (its default, ``max_retries=2``) against the mock's faults, through
the plugin's fixtures: ``avara_mock`` in-process and ``avara_server`` live.

What the SDK does (avara/_base_client.py): it retries a connection error, a 408, 409, 429 or
5xx, unless the answer says ``x-should-retry: false``; it waits what ``retry-after-ms`` (or
``retry-after``) says when that is between 0 and 60 s, else backs off 0.5 s then 1 s. The faults
here answer ``retry-after-ms: 10``, so the file stays fast; the backoff runs only after a dropped
connection and after the mock's own 409 (about a second each time).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import avara
import pytest
from avara import AsyncAvara, Avara
from avara.types.viewer import StudyCreateResponse

from mockserver.plugin.intercept import InProcessMock
from mockserver.plugin.live import LiveServer
from tests.conftest import fresh_uid
from tests.control_apps import module_servers

CREATE = "/v1/viewer/studies"
FAST_RETRY = {"retry-after-ms": "10"}
BACKOFF_FLOOR = 1.0  # the SDK's own waits after two failures: at least 0.375 s + 0.75 s


avara_servers = pytest.fixture(scope="module")(module_servers)


@dataclass(frozen=True)
class Retrying:
    """A mock (in-process or live) and an SDK client with the default retries aimed at it."""

    mock: InProcessMock | LiveServer
    base_url: str
    api_key: str

    def client(self, **options: Any) -> Avara:
        return Avara(api_key=self.api_key, base_url=self.base_url, **options)

    def async_client(self, **options: Any) -> AsyncAvara:
        return AsyncAvara(api_key=self.api_key, base_url=self.base_url, **options)

    def creates(self) -> list[dict[str, Any]]:
        """The journal's create requests, oldest first."""
        return self.mock.journal(method="POST", path=CREATE)


@pytest.fixture(params=["inprocess", "live"])
def retrying(request: pytest.FixtureRequest, avara_api_key: str) -> Retrying:
    if request.param == "inprocess":
        mock: InProcessMock = request.getfixturevalue("avara_mock")
        return Retrying(mock, mock.base_url, avara_api_key)
    server: LiveServer = request.getfixturevalue("avara_server")
    return Retrying(server, server.url, avara_api_key)


@pytest.fixture
def client(retrying: Retrying) -> Iterator[Avara]:
    with retrying.client() as sdk:
        yield sdk


@pytest.fixture
async def async_client(retrying: Retrying) -> AsyncIterator[AsyncAvara]:
    async with retrying.async_client(max_retries=0) as sdk:
        yield sdk


def create(client: Avara, uid: str) -> StudyCreateResponse:
    return client.viewer.studies.create(
        severity="high", study_description="Chest CT", study_instance_uid=uid
    )


def statuses(entries: list[dict[str, Any]]) -> list[int | None]:
    return [entry["status"] for entry in entries]


def retry_counts(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["headers"]["x-stainless-retry-count"] for entry in entries]


def create_study(client: Avara, uid: str) -> str:
    """Create a study once, even when an attempt's answer was lost: a retry of a create that
    was applied finds its UID taken (409), and the study is the one with that UID."""
    try:
        study = client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid=uid
        )
    except avara.ConflictError:
        return client.viewer.studies.retrieve_by_uid(uid).study_id
    return study.study_id


# --- retried until it works -----------------------------------------------------------------------


def test_sdk_retries_429_with_retry_after_ms_twice_then_creates(
    retrying: Retrying, client: Avara
) -> None:
    with retrying.mock.fail(CREATE, method="POST", status=429, headers=FAST_RETRY, first=2) as rate:
        started = time.monotonic()
        study = create(client, fresh_uid())
        elapsed = time.monotonic() - started
        assert rate.fired == 2
    creates = retrying.creates()
    assert statuses(creates) == [429, 429, 201]
    assert retry_counts(creates) == ["0", "1", "2"]
    assert [entry["fault"] for entry in creates] == [rate.id, rate.id, None]
    assert creates[-1]["answer"]["studyId"] == study.study_id
    assert elapsed < BACKOFF_FLOOR  # it waited the 10 ms asked, not its own backoff
    assert [s["studyId"] for s in retrying.mock.studies] == [study.study_id]


# --- not retried, or retried in vain --------------------------------------------------------------


def test_sdk_retries_stop_at_x_should_retry_false(retrying: Retrying, client: Avara) -> None:
    headers = {"x-should-retry": "false", **FAST_RETRY}
    with (
        retrying.mock.fail(CREATE, method="POST", status=503, headers=headers),
        pytest.raises(avara.InternalServerError) as caught,
    ):
        create(client, fresh_uid())
    assert caught.value.status_code == 503
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert statuses(retrying.creates()) == [503]
    assert retrying.mock.studies == []


def test_sdk_retries_503_three_times_raise_internal_server_error(
    retrying: Retrying, client: Avara
) -> None:
    with (
        retrying.mock.fail(CREATE, method="POST", status=503, headers=FAST_RETRY) as outage,
        pytest.raises(avara.InternalServerError) as caught,
    ):
        create(client, fresh_uid())
    assert outage.fired == 3
    assert caught.value.status_code == 503
    creates = retrying.creates()
    assert statuses(creates) == [503, 503, 503]  # the first attempt and two retries
    assert retry_counts(creates) == ["0", "1", "2"]
    assert retrying.mock.studies == []


# --- the write applied, the answer lost -----------------------------------------------------------


def test_sdk_retries_dropped_create_meets_its_own_study_as_conflict(
    retrying: Retrying, client: Avara
) -> None:
    uid = fresh_uid()
    with (
        retrying.mock.fail(CREATE, method="POST", drop="after", first=1) as lost,
        pytest.raises(avara.ConflictError) as caught,
    ):
        create(client, uid)
    assert caught.value.status_code == 409
    creates = retrying.creates()
    # the dropped attempt (no status), then the retries: the SDK retries a 409 too
    assert statuses(creates) == [None, 409, 409]
    assert [entry["fault"] for entry in creates] == [lost.id, None, None]
    (study,) = [s for s in retrying.mock.studies if s["studyInstanceUid"] == uid]
    assert client.viewer.studies.retrieve_by_uid(uid).study_id == study["studyId"]


def test_sdk_retries_create_study_recipe_returns_the_one_study(avara_mock: InProcessMock) -> None:
    uid = fresh_uid()
    with (
        Avara(base_url=avara_mock.base_url) as client,
        avara_mock.fail(CREATE, method="POST", drop="after", first=1),
    ):
        study_id = create_study(client, uid)
    assert [s["studyId"] for s in avara_mock.studies] == [study_id]
    assert avara_mock.studies[0]["studyInstanceUid"] == uid


@pytest.mark.anyio
async def test_sdk_retries_async_dropped_create_without_retries_is_a_connection_error(
    retrying: Retrying, async_client: AsyncAvara
) -> None:
    uid = fresh_uid()
    with (
        retrying.mock.fail(CREATE, method="POST", drop="after", first=1),
        pytest.raises(avara.APIConnectionError) as caught,
    ):
        await async_client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid=uid
        )
    assert not isinstance(caught.value, avara.APITimeoutError)
    assert statuses(retrying.creates()) == [None]
    found = await async_client.viewer.studies.retrieve_by_uid(uid)  # applied all the same
    assert [s["studyId"] for s in retrying.mock.studies] == [found.study_id]
