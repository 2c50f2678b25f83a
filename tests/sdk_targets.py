"""Where the official ``avara`` SDK talks to in the SDK tests, and what they check it gets back.

A :class:`Target` is either a live ``python -m mockserver serve`` (a URL) or an app built with
``create_app`` in this process (``starlette.testclient.TestClient`` for the sync client,
``httpx.ASGITransport`` for the async one). The clients validate every response strictly and
never retry, so a wrong answer fails at once. The fixtures built on these live in conftest.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import avara
import httpx
from avara import AsyncAvara, Avara
from avara.types.viewer import StudyCreateResponse
from starlette.applications import Starlette
from starlette.testclient import TestClient

API_KEY = "sk-sdk-integration"
INPROCESS_URL = "http://testserver"
STUDY_ID = re.compile(r"stu_[0-9a-f]{32}")
UNICODE_METADATA = {
    "note": "Patient reports pain 😷 — 胸部の痛み",
    "部位": "頭部 MRI",
    "emoji 🩻": "✅ read by Dr. Müller",
    "empty": "",
}

Severity = Literal["normal", "high", "stat"]


# --- targets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the SDK talks to: a live server's URL, or an app served in-process."""

    name: str
    base_url: str
    app: Starlette | None = None

    def _options(self, api_key: str, default_headers: Mapping[str, str] | None) -> dict[str, Any]:
        """What both clients are built with: strict validation, no retries."""
        return {
            "api_key": api_key,
            "base_url": self.base_url,
            "default_headers": default_headers,
            "max_retries": 0,
            "_strict_response_validation": True,
        }

    def client(
        self, api_key: str = API_KEY, *, default_headers: Mapping[str, str] | None = None
    ) -> Avara:
        http_client = None if self.app is None else TestClient(self.app, base_url=self.base_url)
        return Avara(http_client=http_client, **self._options(api_key, default_headers))

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
        return AsyncAvara(http_client=http_client, **self._options(api_key, default_headers))


# --- fresh values --------------------------------------------------------------------------


def new_uid() -> str:
    """A Study Instance UID no other test (or earlier run against the same server) uses."""
    return f"2.25.{uuid.uuid4().int}"


def new_user_id() -> str:
    return f"usr_{uuid.uuid4().hex}"


def new_customer_id() -> str:
    return f"cus_{uuid.uuid4().hex}"


# --- checks --------------------------------------------------------------------------------


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
