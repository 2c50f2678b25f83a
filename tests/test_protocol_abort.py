"""uvicorn's protocols with ``avara.abort``: a drop fault hangs up on a live client."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.control.plane import ControlPlane
from mockserver.http.protocol import protocol_for
from tests.conftest import uvicorn_thread
from tests.control_apps import AUTH, STUDIES, controlled, create_body


def test_protocol_for_picks_uvicorns_class_with_abort() -> None:
    assert issubclass(protocol_for("h11"), H11Protocol)
    assert issubclass(protocol_for("httptools"), HttpToolsProtocol)
    assert protocol_for("auto") is protocol_for("httptools")  # httptools is installed
    with pytest.raises(ValueError, match="auto, h11 or httptools"):
        protocol_for("h2")


@pytest.fixture(params=["h11", "httptools"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, ControlPlane]]:
    """The mock under its control plane, on a free port of 127.0.0.1, in a thread."""
    app, plane = controlled()
    config = uvicorn.Config(
        app,
        http=protocol_for(request.param),
        log_config=None,  # records reach caplog
        log_level="warning",
        lifespan="off",
    )
    with uvicorn_thread(config) as url:
        yield url, plane


def test_protocol_drop_hangs_up_live_and_after_applies_the_write(
    served: tuple[str, ControlPlane], caplog: pytest.LogCaptureFixture
) -> None:
    url, plane = served
    plane.faults.add({"method": "POST", "path": STUDIES, "first": 1, "drop": "after"})
    plane.faults.add({"method": "GET", "path": f"{STUDIES}/by-uid/*", "first": 1, "drop": "before"})
    with caplog.at_level(logging.WARNING), httpx.Client(base_url=url, headers=AUTH) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(STUDIES, json=create_body("2.25.201"))
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"{STUDIES}/by-uid/2.25.201")
        stored = http.get(f"{STUDIES}/by-uid/2.25.201")
        again = http.post(STUDIES, json=create_body("2.25.201"))
    assert stored.status_code == 200  # the dropped create was carried out
    assert again.status_code == 409
    assert [e.status for e in plane.journal.entries()] == [None, None, 200, 409]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")] == []
