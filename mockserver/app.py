"""The ASGI application: routes and thin handlers over the studies service.

``create_app(settings)`` builds everything an instance needs; nothing exists at import time.
The create route is a plain ASGI callable: it is the hot path, and skipping Starlette's
Request/Response objects there keeps the mock within 0.6 of a bare app's throughput.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.contract import Contract
from mockserver.errors import ApiError, MethodNotAllowed, NotFound
from mockserver.http.auth import Authenticator
from mockserver.http.body import header, read_json
from mockserver.http.pages import not_found_page, study_page
from mockserver.query import parse_query
from mockserver.resources.shape import StudyShape
from mockserver.resources.studies import VIEW_PATH, Studies, StudyService, filters_of
from mockserver.settings import Settings
from mockserver.world.clock import Clock, SteppingClock, SystemClock
from mockserver.world.cursors import CursorCodec
from mockserver.world.ids import IdSource
from mockserver.world.memory import MemoryStudyStore
from mockserver.world.references import ReferenceFactory
from mockserver.world.tokens import TokenBook

REROUTE = "study-reroute-url-response"
JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_json(send: Send, status: int, body: bytes) -> None:
    """Answer with a JSON body in two ASGI messages."""
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CreateStudy:
    """POST /v1/viewer/studies: authenticate, read the JSON body, create, answer 201."""

    def __init__(self, service: Studies, auth: Authenticator, max_body_bytes: int) -> None:
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


class ByMethod:
    """One route answering several methods, each with its own ASGI app, so that a 405 names
    them all in its Allow header (two routes of one path would each name only their own)."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self._apps = {**apps, "HEAD": apps["GET"]} if "GET" in apps else dict(apps)
        self.methods = list(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._apps[scope["method"]](scope, receive, send)


def route(path: str, **apps: ASGIApp) -> Route:
    """A route of ``path`` with an app per method (``GET=…, PATCH=…``)."""
    endpoint = ByMethod(apps)
    return Route(path, endpoint, methods=endpoint.methods)


def json_response(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    """A Starlette response for the non-hot routes."""
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def studies_of(
    settings: Settings,
    contract: Contract,
    clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Studies:
    """The stateful studies service, or the stateless one: what the routes call.

    ``monotonic`` is what URL tokens expire on (tests pass a fake one).
    """
    if settings.stateless:
        from mockserver.stateless import StatelessStudies

        return StatelessStudies(contract, settings)
    seeded = settings.seed is not None
    lifetime = contract.documents[REROUTE]["x-stateful-rules"]["reroute.token-lifetime"]["seconds"]
    return StudyService(
        contract,
        MemoryStudyStore(tuple(filters_of(contract).values())),
        clock or (SteppingClock() if seeded else SystemClock()),
        IdSource(settings.seed),
        StudyShape(contract, ReferenceFactory(settings.seed)),
        TokenBook(lifetime, settings.seed, monotonic),
        CursorCodec(settings.seed),
        lenient=settings.lenient,
    )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    contract: Contract | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """A new mock with its own store; ``settings.seed`` fixes ids, clock and fake references.

    ``contract`` replaces the one of schemas/ (the contract suite's catalog of broken
    servers edits a copy of it); ``clock`` and ``monotonic`` replace the wall clock and the
    one URL tokens expire on.
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    service = studies_of(settings, contract, clock, monotonic)
    auth = Authenticator(settings.api_keys)
    limit = settings.max_body_bytes
    openapi: dict[str, bytes] = {}

    def authorized(request: Request) -> None:
        auth.key(request.headers.get("authorization", "").encode("latin-1") or None)

    async def body_of(request: Request) -> object:
        authorized(request)
        return await read_json(request.headers.raw, request.receive, limit)

    async def retrieve(request: Request) -> Response:
        authorized(request)
        return json_response(200, service.retrieve(request.path_params["study_id"]))

    async def retrieve_by_uid(request: Request) -> Response:
        authorized(request)
        return json_response(200, service.retrieve_by_uid(request.path_params["uid"]))

    async def update(request: Request) -> Response:
        body = await body_of(request)
        return json_response(200, service.update(request.path_params["study_id"], body))

    async def list_studies(request: Request) -> Response:
        authorized(request)
        return json_response(200, service.list(parse_query(request.scope["query_string"])))

    async def cancel(request: Request) -> Response:
        return json_response(200, service.cancel(await body_of(request)))

    async def uncancel(request: Request) -> Response:
        return json_response(200, service.uncancel(await body_of(request)))

    async def reroute_url(request: Request) -> Response:
        body = await body_of(request)
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return json_response(200, service.reroute_url(body, origin))

    async def view(request: Request) -> Response:
        study = service.viewed(request.path_params["token"])
        if study is None:
            reason = (
                "This mock runs stateless: it stores nothing, so its reroute URLs open no "
                "study. Run it without --stateless to open studies in a browser."
                if settings.stateless
                else "The link is unknown or has expired: reroute URLs open a study for a "
                "short while only. Ask POST /v1/viewer/studies/reroute-url for a new one."
            )
            return HTMLResponse(not_found_page(reason), status_code=404)
        return HTMLResponse(study_page(study))

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

    studies = "/v1/viewer/studies"
    app = Starlette(
        routes=[
            route(
                studies, POST=CreateStudy(service, auth, limit), GET=request_response(list_studies)
            ),
            Route(f"{studies}/cancel", cancel, methods=["POST"]),
            Route(f"{studies}/uncancel", uncancel, methods=["POST"]),
            Route(f"{studies}/reroute-url", reroute_url, methods=["POST"]),
            Route(f"{studies}/by-uid/{{uid}}", retrieve_by_uid, methods=["GET"]),
            route(
                f"{studies}/{{study_id}}",
                GET=request_response(retrieve),
                PATCH=request_response(update),
            ),
            Route(f"{VIEW_PATH}{{token}}", view, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: api_error},
    )
    app.state.service = service
    return app
