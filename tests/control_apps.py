"""Apps under the control plane for the plane's tests: the real mock, or a tiny Starlette app.

``controlled`` gives the mock with its plane whether or not ``create_app`` already adds the
middleware (it takes it from ``app.state.control`` when it does), so these tests check the
plane itself, not how app.py wires it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.control.middleware import ControlMiddleware
from mockserver.control.plane import ControlPlane, control_of
from mockserver.plugin.live import LiveServer

CONTRACT = Contract.load()
AUTH = {"Authorization": "Bearer test-key"}
STUDIES = "/v1/viewer/studies"


def controlled(settings: Settings | None = None) -> tuple[ASGIApp, ControlPlane]:
    """The mock with a control plane, and that plane."""
    settings = settings or Settings(seed=11)
    app = create_app(settings, contract=CONTRACT)
    plane = getattr(app.state, "control", None)
    if isinstance(plane, ControlPlane):
        return app, plane
    plane = control_of(settings, CONTRACT)
    return ControlMiddleware(app, plane, CONTRACT), plane


def tiny(settings: Settings | None = None) -> tuple[ASGIApp, ControlPlane, list[bytes]]:
    """A two-route app under the plane: ``/echo`` answers the body it read (and remembers
    it), ``/_mock/ping`` stands for the control plane's own routes, ``/boom`` raises."""
    seen: list[bytes] = []

    async def echo(request: Request) -> Response:
        body = await request.body()
        seen.append(body)
        return Response(body, media_type="application/octet-stream")

    async def ping(request: Request) -> Response:
        return JSONResponse({"pong": True})

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["POST", "GET"]),
            Route("/_mock/ping", ping),
            Route("/boom", boom),
        ]
    )
    plane = control_of(settings or Settings(seed=5), CONTRACT)
    return ControlMiddleware(app, plane, CONTRACT), plane, seen


def client(app: ASGIApp) -> httpx.AsyncClient:
    """An async httpx client calling ``app`` in this process."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:4010", headers=AUTH
    )


def create_body(uid: str) -> dict[str, Any]:
    """A valid create request with this Study Instance UID."""
    return {"studyInstanceUid": uid, "severity": "normal", "studyDescription": "CT Chest"}


def module_servers() -> Iterator[dict[Settings, LiveServer]]:
    """A module's own live mocks (the plugin's ``avara_servers``, narrowed to the module):
    stopped when the module ends, so no mock thread outlives it into the plugin tests that
    check every one they started is gone. Use as ``avara_servers =
    pytest.fixture(scope="module")(module_servers)``."""
    servers: dict[Settings, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()
