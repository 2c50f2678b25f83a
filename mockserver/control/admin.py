"""The admin API under ``/_mock/``: reset, the state document, the request journal, faults,
the control plane's own OpenAPI document, and the dashboard's pages, all behind the guard.

Thin handlers, as the API's are: parse, call the state module or the plane, answer JSON. Every
input is validated as the API's are (a 400 naming the field, ``mock-*`` schemas), and a bad
one changes nothing. These requests are neither journalled, faulted nor delayed: the control
middleware lets ``/_mock/`` pass untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.contract import Contract
from mockserver.control.admin_openapi import build_admin_openapi
from mockserver.control.dashboard import dashboard_routes
from mockserver.control.guard import Guard
from mockserver.control.plane import ControlPlane
from mockserver.control.state import (
    Stateless,
    counted,
    export_state,
    load_state,
    reset_state,
    summary,
)
from mockserver.errors import ApiError
from mockserver.http.body import read_json
from mockserver.query import parse_query
from mockserver.services import Services
from mockserver.settings import Settings

ADMIN = "/_mock"
STATE_BODY_BYTES = 256 * 1024 * 1024
"""A state document holds every study: it may be far larger than an API request may."""
Handler = Callable[[Request], Awaitable[Response]]


def json_answer(status: int, body: Any) -> Response:
    """A JSON answer (bytes are sent as they are)."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(raw, status_code=status, media_type="application/json")


def answering(handler: Handler) -> Handler:
    """The handler, with an ``ApiError`` it raises answered as the mock's JSON error."""

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return json_answer(error.status, error.body())

    return answer


def done(message: str) -> dict[str, Any]:
    """The answer of an admin call that changes something, as the API's ``success`` ones."""
    return {"success": True, "message": message}


def admin_routes(
    services: Services, plane: ControlPlane, settings: Settings, contract: Contract
) -> list[BaseRoute]:
    """Every ``/_mock/`` route of a mock, each behind the guard (``settings`` says whether
    an admin token is needed, or whether the mock binds a loopback address)."""
    guard = Guard(settings)
    state_limit = max(settings.max_body_bytes, STATE_BODY_BYTES)
    openapi: dict[str, bytes] = {}

    async def reset(request: Request) -> Response:
        plane.reset()
        if services.clinic is None:
            services.reset()  # stateless: the seeded draws start again; nothing is stored
            return json_answer(
                200,
                done("Back to the start: stateless, nothing stored; no faults, an empty journal."),
            )
        reset_state(services)
        held = summary(services)
        return json_answer(200, done(f"Back to the start: {held}; no faults, an empty journal."))

    async def get_state(request: Request) -> Response:
        return json_answer(200, export_state(services))

    async def put_state(request: Request) -> Response:
        if services.clinic is None:
            raise Stateless()
        document = await read_json(request.scope["headers"], request.receive, state_limit)
        load_state(services, document)
        return json_answer(200, done(f"Loaded {summary(services)}."))

    async def requests(request: Request) -> Response:
        entries = plane.journal.entries(parse_query(request.scope["query_string"]))
        return json_answer(200, {"requests": [entry.document() for entry in entries]})

    async def clear_requests(request: Request) -> Response:
        plane.journal.clear()
        return json_answer(200, done("The journal is empty."))

    async def add_fault(request: Request) -> Response:
        limit = settings.max_body_bytes
        fault = plane.faults.add(await read_json(request.scope["headers"], request.receive, limit))
        return json_answer(201, fault.document())

    async def faults(request: Request) -> Response:
        return json_answer(200, {"faults": [fault.document() for fault in plane.faults.list()]})

    async def clear_faults(request: Request) -> Response:
        count = len(plane.faults.list())
        plane.faults.clear()
        return json_answer(200, done(f"Removed {counted(count, 'fault', 'faults')}."))

    async def remove_fault(request: Request) -> Response:
        return json_answer(200, plane.faults.remove(request.path_params["faultId"]).document())

    async def openapi_json(request: Request) -> Response:
        if "doc" not in openapi:
            openapi["doc"] = orjson.dumps(build_admin_openapi(contract))
        return json_answer(200, openapi["doc"])

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(f"{ADMIN}{path}", answering(handler), methods=[method])

    routes: list[BaseRoute] = [
        route("/reset", reset, "POST"),
        route("/state", get_state, "GET"),
        route("/state", put_state, "PUT"),
        route("/requests", requests, "GET"),
        route("/requests", clear_requests, "DELETE"),
        route("/faults", add_fault, "POST"),
        route("/faults", faults, "GET"),
        route("/faults", clear_faults, "DELETE"),
        route("/faults/{faultId}", remove_fault, "DELETE"),
        route("/openapi.json", openapi_json, "GET"),
        *dashboard_routes(services, plane, contract),
    ]
    return [guard.protect(each) for each in routes]
