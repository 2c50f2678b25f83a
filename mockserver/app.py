"""The ASGI application: routes and thin handlers over the studies service.

``create_app(settings)`` builds everything an instance needs; nothing exists at import time.
The create route is a plain ASGI callable: it is the hot path, and skipping Starlette's
Request/Response objects there keeps the mock within 0.6 of a bare app's throughput.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mockserver.contract import Contract
from mockserver.errors import ApiError, MethodNotAllowed, NotFound
from mockserver.http.auth import Authenticator
from mockserver.http.body import header, read_json
from mockserver.resources.studies import StudyService
from mockserver.settings import Settings
from mockserver.world.clock import Clock, SteppingClock, SystemClock
from mockserver.world.ids import IdSource
from mockserver.world.references import ReferenceFactory
from mockserver.world.store import StudyStore

JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_json(send: Send, status: int, body: bytes) -> None:
    """Answer with a JSON body in two ASGI messages."""
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CreateStudy:
    """POST /v1/viewer/studies: authenticate, read the JSON body, create, answer 201."""

    def __init__(self, service: StudyService, auth: Authenticator, max_body_bytes: int) -> None:
        self._service = service
        self._auth = auth
        self._limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        try:
            key = self._auth.key(header(headers, b"authorization"))
            request = await read_json(headers, receive, self._limit)
            body = self._service.create(request, key)
        except ApiError as error:
            await send_json(send, error.status, error.body())
            return
        await send_json(send, 201, body)


def json_response(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    """A Starlette response for the non-hot routes."""
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    contract: Contract | None = None,
) -> Starlette:
    """A new mock with its own store; ``settings.seed`` fixes ids, clock and fake references.

    ``contract`` replaces the one of schemas/ (the contract suite's catalog of broken
    servers edits a copy of it).
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    seeded = settings.seed is not None
    service = StudyService(
        contract,
        StudyStore(),
        clock or (SteppingClock() if seeded else SystemClock()),
        IdSource(settings.seed),
        ReferenceFactory(settings.seed),
        lenient=settings.lenient,
    )
    auth = Authenticator(settings.api_keys)
    openapi: dict[str, bytes] = {}

    def authorized(request: Request) -> None:
        auth.key(request.headers.get("authorization", "").encode("latin-1") or None)

    async def retrieve(request: Request) -> Response:
        authorized(request)
        return json_response(200, service.retrieve(request.path_params["study_id"]))

    async def retrieve_by_uid(request: Request) -> Response:
        authorized(request)
        return json_response(200, service.retrieve_by_uid(request.path_params["uid"]))

    async def openapi_json(request: Request) -> Response:
        if "doc" not in openapi:
            from mockserver.openapi import build_openapi

            openapi["doc"] = orjson.dumps(build_openapi(contract))
        return json_response(200, openapi["doc"])

    async def api_error(request: Request, exc: Exception) -> Response:
        error = exc if isinstance(exc, ApiError) else ApiError("Internal error in avara-mock.")
        return json_response(error.status, error.body())

    async def http_error(request: Request, exc: Exception) -> Response:
        route = f"{request.method} {request.url.path}"
        error: ApiError
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            error = MethodNotAllowed(f"{route} is not supported by avara-mock; see /openapi.json.")
            return json_response(error.status, error.body(), exc.headers)
        error = NotFound(f"{route} is not a route of avara-mock; see /openapi.json.")
        return json_response(error.status, error.body())

    app = Starlette(
        routes=[
            Route(
                "/v1/viewer/studies",
                CreateStudy(service, auth, settings.max_body_bytes),
                methods=["POST"],
            ),
            Route("/v1/viewer/studies/by-uid/{uid}", retrieve_by_uid, methods=["GET"]),
            Route("/v1/viewer/studies/{study_id}", retrieve, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: api_error},
    )
    app.state.service = service
    return app
