"""The official ``avara`` SDK against the mock, over HTTP and in-process.

Every test that takes ``target`` runs twice: against a live ``python -m mockserver serve`` on a
free port (shared by the module, so every test uses its own Study Instance UIDs), and against
an app built with ``create_app`` in this process (``starlette.testclient.TestClient`` for the
sync client, ``httpx.ASGITransport`` for the async one). The clients validate every response
strictly and never retry, so a wrong answer fails at once.
"""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Literal

import avara
import httpx
import pytest
from avara import AsyncAvara, Avara
from avara.types.viewer import StudyCreateResponse
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mockserver import Settings, create_app

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk-sdk-integration"
INPROCESS_URL = "http://testserver"
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0
SERVING_LINE = re.compile(r"avara-mock serving the Avara Viewer API at (http://\S+)")
STUDY_ID = re.compile(r"stu_[0-9a-f]{32}")
UNICODE_METADATA = {
    "note": "Patient reports pain 😷 — 胸部の痛み",
    "部位": "頭部 MRI",
    "emoji 🩻": "✅ read by Dr. Müller",
    "empty": "",
}

Severity = Literal["normal", "high", "stat"]


# --- helpers -------------------------------------------------------------------------------


def new_uid() -> str:
    """A Study Instance UID no other test (or earlier run against the same server) uses."""
    return f"2.25.{uuid.uuid4().int}"


def new_user_id() -> str:
    return f"usr_{uuid.uuid4().hex}"


def new_customer_id() -> str:
    return f"cus_{uuid.uuid4().hex}"


def error_of(exc: avara.APIStatusError) -> dict[str, Any]:
    """The ``error`` object of an error body, checked to be one."""
    body = exc.body
    assert isinstance(body, dict), body
    error = body.get("error")
    assert isinstance(error, dict), body
    return error


def violation(exc: avara.APIStatusError, field: str) -> dict[str, Any]:
    """The one entry of ``error.errors`` about ``field``."""
    error = error_of(exc)
    assert error["type"] == "invalid_request"
    entries = [entry for entry in error.get("errors", []) if entry["field"] == field]
    assert len(entries) == 1, error
    entry = entries[0]
    assert isinstance(entry, dict)
    return entry


def assert_new_study(
    study: StudyCreateResponse,
    *,
    severity: Severity,
    study_description: str,
    study_instance_uid: str,
) -> None:
    """What every freshly created study looks like, whatever optional fields were sent."""
    assert study.severity == severity
    assert study.study_description == study_description
    assert study.study_instance_uid == study_instance_uid
    assert STUDY_ID.fullmatch(study.study_id), study.study_id
    assert study.is_cancelled is False
    assert study.cancelled_at is None
    assert study.study_viewer_status == "incomplete"
    created_at = study.created_at
    assert isinstance(created_at, datetime)
    assert created_at.tzinfo is not None
    assert created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - created_at) < timedelta(minutes=5)
    key = study.created_by_api_key
    assert key is not None
    parsed = uuid.UUID(key.api_key_id)
    assert parsed.version == 4
    assert str(parsed) == key.api_key_id


def assert_all_params_echoed(
    study: StudyCreateResponse, *, assigned_to: str, express_customer_id: str
) -> None:
    assert study.metadata == UNICODE_METADATA
    assert study.assigned_to is not None
    assert study.assigned_to.user_id == assigned_to
    assert "@" in study.assigned_to.email
    assert study.express_customer is not None
    assert study.express_customer.express_customer_id == express_customer_id
    assert study.express_customer.express_customer_name


def media_type(headers: httpx.Headers) -> str:
    return headers["content-type"].partition(";")[0].strip().lower()


# --- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the SDK talks to: a live server's URL, or an app served in-process."""

    name: str
    base_url: str
    app: Starlette | None = None

    def client(
        self, api_key: str = API_KEY, *, default_headers: Mapping[str, str] | None = None
    ) -> Avara:
        http_client = None if self.app is None else TestClient(self.app, base_url=self.base_url)
        return Avara(
            api_key=api_key,
            base_url=self.base_url,
            http_client=http_client,
            default_headers=default_headers,
            max_retries=0,
            _strict_response_validation=True,
        )

    def async_client(
        self, api_key: str = API_KEY, *, default_headers: Mapping[str, str] | None = None
    ) -> AsyncAvara:
        http_client = (
            None
            if self.app is None
            else httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url=self.base_url
            )
        )
        return AsyncAvara(
            api_key=api_key,
            base_url=self.base_url,
            http_client=http_client,
            default_headers=default_headers,
            max_retries=0,
            _strict_response_validation=True,
        )


def _drain(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Hand every stdout line to the fixture, then ``None`` at EOF (keeps the pipe empty)."""
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextmanager
def serve_mock(log: Path, *options: str) -> Iterator[str]:
    """Run ``python -m mockserver serve`` on a free port; yields its URL, stops it on exit."""
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "warning",
        *options,
    ]
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        assert process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            try:
                first = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                first = None
            found = SERVING_LINE.fullmatch((first or "").strip())
            if found is None:
                pytest.fail(
                    f"the mock did not announce its URL; first stdout line {first!r}, "
                    f"exit code {process.poll()}, stderr:\n{log.read_text(encoding='utf-8')}"
                )
            yield found.group(1)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=SHUTDOWN_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=SHUTDOWN_TIMEOUT)
            reader.join(timeout=SHUTDOWN_TIMEOUT)
            process.stdout.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live mock accepting any non-empty key, shared by the module."""
    with serve_mock(tmp_path_factory.mktemp("live") / "stderr.log") as url:
        yield url


@pytest.fixture(scope="module")
def restricted_live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live mock started with ``--api-key good``."""
    with serve_mock(
        tmp_path_factory.mktemp("restricted") / "stderr.log", "--api-key", "good"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def inprocess_app() -> Starlette:
    return create_app(Settings())


@pytest.fixture(scope="module")
def restricted_inprocess_app() -> Starlette:
    return create_app(Settings(api_keys=("good",)))


@pytest.fixture(params=["live", "inprocess"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "live":
        return Target("live", request.getfixturevalue("live_url"))
    return Target("inprocess", INPROCESS_URL, request.getfixturevalue("inprocess_app"))


@pytest.fixture(params=["live", "inprocess"])
def restricted_target(request: pytest.FixtureRequest) -> Target:
    if request.param == "live":
        return Target("live", request.getfixturevalue("restricted_live_url"))
    return Target("inprocess", INPROCESS_URL, request.getfixturevalue("restricted_inprocess_app"))


@pytest.fixture
def inprocess_target(inprocess_app: Starlette) -> Target:
    return Target("inprocess", INPROCESS_URL, inprocess_app)


@pytest.fixture
def client(target: Target) -> Iterator[Avara]:
    with target.client() as sdk:
        yield sdk


@pytest.fixture
async def async_client(target: Target) -> AsyncIterator[AsyncAvara]:
    async with target.async_client() as sdk:
        yield sdk


# --- create --------------------------------------------------------------------------------


def test_sdk_create_minimal_round_trips(client: Avara) -> None:
    uid = new_uid()
    study = client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(study, severity="normal", study_description="Chest CT", study_instance_uid=uid)
    assert study.assigned_to is None
    assert study.express_customer is None
    assert not study.metadata


@pytest.mark.anyio
async def test_async_sdk_create_minimal_round_trips(async_client: AsyncAvara) -> None:
    uid = new_uid()
    study = await async_client.viewer.studies.create(
        severity="stat", study_description="Head CT without contrast", study_instance_uid=uid
    )
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(
        study, severity="stat", study_description="Head CT without contrast", study_instance_uid=uid
    )
    assert study.assigned_to is None
    assert study.express_customer is None
    assert not study.metadata


def test_sdk_create_all_params_round_trips(client: Avara) -> None:
    uid, user, customer = new_uid(), new_user_id(), new_customer_id()
    description = "Brain MRI with Contrast — 脳 MRI 🧠"
    study = client.viewer.studies.create(
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
async def test_async_sdk_create_all_params_round_trips(async_client: AsyncAvara) -> None:
    uid, user, customer = new_uid(), new_user_id(), new_customer_id()
    description = "CT Chest/Abdomen/Pelvis — 胸腹部 CT 🫁"
    study = await async_client.viewer.studies.create(
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


def test_sdk_create_gives_each_study_its_own_id(client: Avara) -> None:
    first = client.viewer.studies.create(
        severity="normal", study_description="X-ray", study_instance_uid=new_uid()
    )
    second = client.viewer.studies.create(
        severity="normal", study_description="X-ray", study_instance_uid=new_uid()
    )
    assert first.study_id != second.study_id


# --- consistency of references -------------------------------------------------------------


def test_sdk_same_assignee_gets_same_reference(client: Avara) -> None:
    user, customer = new_user_id(), new_customer_id()
    studies = [
        client.viewer.studies.create(
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
    async_client: AsyncAvara, client: Avara
) -> None:
    created = await async_client.viewer.studies.create(
        severity="high", study_description="Spine MRI", study_instance_uid=new_uid()
    )
    synced = client.viewer.studies.create(
        severity="high", study_description="Spine MRI", study_instance_uid=new_uid()
    )
    assert created.created_by_api_key is not None
    assert synced.created_by_api_key is not None
    assert created.created_by_api_key.api_key_id == synced.created_by_api_key.api_key_id


# --- raw and streaming responses -----------------------------------------------------------


def test_sdk_raw_response_create_parses(client: Avara) -> None:
    uid = new_uid()
    raw = client.viewer.studies.with_raw_response.create(
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
async def test_async_sdk_raw_response_create_parses(async_client: AsyncAvara) -> None:
    uid = new_uid()
    raw = await async_client.viewer.studies.with_raw_response.create(
        severity="stat", study_description="Abdomen CT", study_instance_uid=uid
    )
    assert raw.status_code == 201
    assert media_type(raw.headers) == "application/json"
    study = await raw.parse()
    assert isinstance(study, StudyCreateResponse)
    assert_new_study(study, severity="stat", study_description="Abdomen CT", study_instance_uid=uid)
    assert raw.http_response.json()["studyId"] == study.study_id


def test_sdk_streaming_response_create_parses(client: Avara) -> None:
    uid, user = new_uid(), new_user_id()
    with client.viewer.studies.with_streaming_response.create(
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
async def test_async_sdk_streaming_response_create_parses(async_client: AsyncAvara) -> None:
    uid, customer = new_uid(), new_customer_id()
    async with async_client.viewer.studies.with_streaming_response.create(
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


# --- invalid requests ----------------------------------------------------------------------


def test_sdk_create_uid_too_long_is_bad_request(client: Avara) -> None:
    uid = "1" * 65
    with pytest.raises(avara.BadRequestError) as caught:
        client.viewer.studies.create(
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
async def test_async_sdk_create_uid_too_long_is_bad_request(async_client: AsyncAvara) -> None:
    with pytest.raises(avara.BadRequestError) as caught:
        await async_client.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid="9" * 65
        )
    assert caught.value.status_code == 400
    assert violation(caught.value, "studyInstanceUid")["rule"] == "studyInstanceUid.max-length"


def test_sdk_create_too_many_metadata_pairs_is_bad_request(client: Avara) -> None:
    uid = new_uid()
    metadata = {f"key{index}": f"value {index}" for index in range(51)}
    with pytest.raises(avara.BadRequestError) as caught:
        client.viewer.studies.create(
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
        client.viewer.studies.retrieve_by_uid(uid)
    study = client.viewer.studies.create(
        severity="normal",
        study_description="Chest CT",
        study_instance_uid=uid,
        metadata=dict(list(metadata.items())[:50]),
    )
    assert study.study_instance_uid == uid
    assert study.metadata is not None
    assert len(study.metadata) == 50


def test_sdk_create_reports_every_violation(client: Avara) -> None:
    metadata = {f"k{index}": "v" for index in range(51)}
    with pytest.raises(avara.BadRequestError) as caught:
        client.viewer.studies.create(
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


def test_sdk_missing_authorization_is_unauthorized(client: Avara) -> None:
    with pytest.raises(avara.AuthenticationError) as caught:
        client.viewer.studies.create(
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
async def test_async_sdk_missing_authorization_is_unauthorized(async_client: AsyncAvara) -> None:
    with pytest.raises(avara.AuthenticationError) as caught:
        await async_client.viewer.studies.create(
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


def test_sdk_retrieve_without_authorization_is_unauthorized(client: Avara) -> None:
    study = client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=new_uid()
    )
    no_auth: dict[str, str | avara.Omit] = {"Authorization": avara.omit}
    with pytest.raises(avara.AuthenticationError):
        client.viewer.studies.retrieve(study.study_id, extra_headers=no_auth)
    with pytest.raises(avara.AuthenticationError):
        client.viewer.studies.retrieve_by_uid(study.study_instance_uid, extra_headers=no_auth)


# --- conflicts -----------------------------------------------------------------------------


def test_sdk_duplicate_uid_is_conflict(client: Avara) -> None:
    uid = new_uid()
    original = client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    with pytest.raises(avara.ConflictError) as caught:
        client.viewer.studies.create(
            severity="stat", study_description="Another study", study_instance_uid=uid
        )
    assert caught.value.status_code == 409
    error = error_of(caught.value)
    assert error["type"] == "conflict"
    assert uid in error["message"]
    # The first study is untouched by the refused second create.
    kept = client.viewer.studies.retrieve_by_uid(uid)
    assert kept.model_dump() == original.model_dump()


@pytest.mark.anyio
async def test_async_sdk_duplicate_uid_is_conflict(async_client: AsyncAvara) -> None:
    uid = new_uid()
    await async_client.viewer.studies.create(
        severity="normal", study_description="Chest CT", study_instance_uid=uid
    )
    with pytest.raises(avara.ConflictError) as caught:
        await async_client.viewer.studies.create(
            severity="normal", study_description="Chest CT", study_instance_uid=uid
        )
    assert caught.value.status_code == 409
    assert error_of(caught.value)["type"] == "conflict"


# --- retrieve ------------------------------------------------------------------------------


def test_sdk_retrieve_returns_created_study(client: Avara) -> None:
    created = client.viewer.studies.create(
        severity="high",
        study_description="Cardiac MRI",
        study_instance_uid=new_uid(),
        assigned_to=new_user_id(),
        express_customer_id=new_customer_id(),
        metadata=UNICODE_METADATA,
    )
    fetched = client.viewer.studies.retrieve(created.study_id)
    assert fetched.model_dump() == created.model_dump()
    assert fetched.metadata == UNICODE_METADATA


def test_sdk_retrieve_by_uid_returns_created_study(client: Avara) -> None:
    created = client.viewer.studies.create(
        severity="normal",
        study_description="Wrist X-ray",
        study_instance_uid=new_uid(),
        metadata=UNICODE_METADATA,
    )
    fetched = client.viewer.studies.retrieve_by_uid(created.study_instance_uid)
    assert fetched.model_dump() == created.model_dump()
    assert fetched.study_id == created.study_id


@pytest.mark.anyio
async def test_async_sdk_retrieve_returns_created_study(async_client: AsyncAvara) -> None:
    created = await async_client.viewer.studies.create(
        severity="stat",
        study_description="Stroke protocol CT",
        study_instance_uid=new_uid(),
        assigned_to=new_user_id(),
    )
    by_id = await async_client.viewer.studies.retrieve(created.study_id)
    by_uid = await async_client.viewer.studies.retrieve_by_uid(created.study_instance_uid)
    assert by_id.model_dump() == created.model_dump()
    assert by_uid.model_dump() == created.model_dump()


def test_sdk_retrieve_unknown_study_is_not_found(client: Avara) -> None:
    with pytest.raises(avara.NotFoundError) as caught:
        client.viewer.studies.retrieve(f"stu_{uuid.uuid4().hex}")
    assert caught.value.status_code == 404
    assert error_of(caught.value)["type"] == "not_found"
    with pytest.raises(avara.NotFoundError):
        client.viewer.studies.retrieve_by_uid(new_uid())
