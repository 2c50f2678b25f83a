"""Ephemeral session calls shared by the stateful and stateless tests: the SDK suite's values,
bodies of exact byte sizes, a clock for tokens."""

from __future__ import annotations

import json
from typing import Any

import httpx
from avara import Avara

from mockserver.resources.sessions import SESSION_PATH

ORIGIN = "http://127.0.0.1:4010"
FULL = {
    "retrievalId": "order-12345",
    "hangingProtocol": {
        "layout": "2x2",
        "viewportAssignments": ["Axial T1", "Axial T2", None, "Sagittal T2"],
    },
    "options": {"studyInstanceUids": ["1.2.3", "1.2.4"], "internal": {"n": 3, "ok": True}},
}
SDK_CALLS: list[dict[str, Any]] = [
    {"retrieval_id": "order-12345"},
    {
        "retrieval_id": "order-12345",
        "hanging_protocol": {
            "layout": "2x2",
            "viewport_assignments": ["Axial T1", "Axial T2", None, "Sagittal T2"],
        },
        "options": {"studyInstanceUids": "bar"},
    },
]
"""The keyword arguments of the SDK's generated suite
(tests/api_resources/viewer/test_ephemeral_sessions.py)."""


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def options_of(size: int, char: str) -> dict[str, str]:
    """Options whose compact JSON is exactly ``size`` UTF-8 bytes, mostly ``char``."""
    frame = len(b'{"k":""}')
    width = len(char.encode())
    count, pad = divmod(size - frame, width)
    options = {"k": char * count + "a" * pad}
    text = json.dumps(options, ensure_ascii=False, separators=(",", ":"))
    assert len(text.encode()) == size  # measured independently of the mock
    return options


def sdk_body(kwargs: dict[str, Any]) -> Any:
    """The JSON body the SDK itself sends for these keyword arguments."""
    sent: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"url": ORIGIN + SESSION_PATH + "x"})

    transport = httpx.MockTransport(answer)
    with Avara(api_key="k", base_url=ORIGIN, http_client=httpx.Client(transport=transport)) as sdk:
        sdk.viewer.ephemeral_sessions.create(**kwargs)
    return sent[0]
