"""The ASGI application: routes and thin handlers over the studies service.

``create_app(settings)`` builds everything an instance needs; nothing exists at import time.
The API's routes are plain ASGI endpoints (``http/endpoints.py``) that parse, call the
service, answer; only the page and the OpenAPI document use Starlette's Request/Response.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from mockserver.contract import Contract
from mockserver.control.admin import admin_routes
from mockserver.control.middleware import ControlMiddleware
from mockserver.control.plane import control_of
from mockserver.control.state import start_from
from mockserver.errors import ApiError, MethodNotAllowed, NotFound
from mockserver.http.auth import Authenticator
from mockserver.http.commits import CommitBeforeAnswer
from mockserver.http.endpoints import Call, JsonEndpoint, origin, route
from mockserver.http.limits import ConcurrencyLimit
from mockserver.http.pages import not_found_page, session_page, study_page
from mockserver.query import parse_query
from mockserver.resources.sessions import SESSION_PATH
from mockserver.resources.studies import VIEW_PATH
from mockserver.services import Services, services_of
from mockserver.settings import Settings
from mockserver.world.clock import Clock


def json_response(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    """A Starlette response for the non-hot routes."""
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def limited(max_concurrency: int | None) -> list[Middleware]:
    """The bound on requests in flight, outermost (a refusal costs nothing behind it)."""
    if max_concurrency is None:
        return []
    return [Middleware(ConcurrencyLimit, limit=max_concurrency)]


def committed(world: Services) -> list[Middleware]:
    """On a state file, innermost: answers wait for their writes' commit (one a turn)."""
    if world.database is None:
        return []
    return [Middleware(CommitBeforeAnswer, commits=world.database)]


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
    one URL tokens expire on. ``settings.scenario`` is loaded before anything is served
    (``ScenarioError`` names what is wrong with it); the control plane (``/_mock/``) comes
    with every mock, its middleware in front of every route, behind the bound on requests
    in flight when ``settings.max_concurrency`` sets one.
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    world = services_of(settings, contract, clock, monotonic)
    if settings.scenario is not None:
        start_from(world, settings.scenario)
    plane = control_of(settings, contract, world.database)
    service, users, invitations, sessions = (
        world.studies,
        world.users,
        world.invitations,
        world.sessions,
    )
    auth = Authenticator(settings.api_keys)
    limit = settings.max_body_bytes
    openapi: dict[str, bytes] = {}

    def endpoint(call: Call, *, body: bool = False, status: int = 200) -> JsonEndpoint:
        return JsonEndpoint(call, auth, max_body_bytes=limit if body else None, status=status)

    def study_id(scope: Scope) -> str:
        return str(scope["path_params"]["studyId"])

    def uid(scope: Scope) -> str:
        return str(scope["path_params"]["studyInstanceUid"])

    create = endpoint(lambda scope, body, key: service.create(body, key), body=True, status=201)
    listing = endpoint(lambda scope, body, key: service.list(parse_query(scope["query_string"])))
    retrieve = endpoint(lambda scope, body, key: service.retrieve(study_id(scope)))
    update = endpoint(lambda scope, body, key: service.update(study_id(scope), body), body=True)
    by_uid = endpoint(lambda scope, body, key: service.retrieve_by_uid(uid(scope)))
    cancel = endpoint(lambda scope, body, key: service.cancel(body), body=True)
    uncancel = endpoint(lambda scope, body, key: service.uncancel(body), body=True)
    reroute = endpoint(lambda scope, body, key: service.reroute_url(body, origin(scope)), body=True)

    def user_id(scope: Scope) -> str:
        return str(scope["path_params"]["userId"])

    def invitation_id(scope: Scope) -> str:
        return str(scope["path_params"]["invitationId"])

    list_users = endpoint(lambda scope, body, key: users.list(parse_query(scope["query_string"])))
    invite = endpoint(lambda scope, body, key: users.invite(body, key), body=True)
    get_user = endpoint(lambda scope, body, key: users.retrieve(user_id(scope)))
    update_user = endpoint(lambda scope, body, key: users.update(user_id(scope), body), body=True)
    reactivate = endpoint(lambda scope, body, key: users.reactivate(body), body=True)
    revoke_access = endpoint(lambda scope, body, key: users.revoke_access(body), body=True)
    list_invitations = endpoint(
        lambda scope, body, key: invitations.list(parse_query(scope["query_string"]))
    )
    get_invitation = endpoint(lambda scope, body, key: invitations.retrieve(invitation_id(scope)))
    update_invitation = endpoint(
        lambda scope, body, key: invitations.update(invitation_id(scope), body), body=True
    )
    revoke_invitation = endpoint(lambda scope, body, key: invitations.revoke(body), body=True)
    new_session = endpoint(lambda scope, body, key: sessions.create(body, origin(scope)), body=True)

    def page(
        viewed: Callable[[str], dict[str, Any] | None],
        render: Callable[[dict[str, Any]], str],
        what: str,
        again: str,
    ) -> Callable[[Request], Awaitable[Response]]:
        """The HTML page a tokenized URL opens; an HTML 404 that says why when it cannot."""

        async def answer(request: Request) -> Response:
            found = viewed(request.path_params["token"])
            if found is not None:
                return HTMLResponse(render(found))
            reason = (
                f"This mock runs stateless: it stores nothing, so its {what} URLs open "
                "nothing. Run it without --stateless to open them in a browser."
                if settings.stateless
                else f"The link is unknown or has expired: {what} URLs open for a short while "
                f"only. Ask {again} for a new one."
            )
            return HTMLResponse(not_found_page(reason), status_code=404)

        return answer

    view = page(service.viewed, study_page, "reroute", "POST /v1/viewer/studies/reroute-url")
    view_session = page(
        sessions.viewed, session_page, "ephemeral session", "POST /v1/viewer/ephemeral-sessions"
    )

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
    viewers = "/v1/viewer/users"
    app = Starlette(
        routes=[
            route(studies, POST=create, GET=listing),
            route(f"{studies}/cancel", POST=cancel),
            route(f"{studies}/uncancel", POST=uncancel),
            route(f"{studies}/reroute-url", POST=reroute),
            route(f"{studies}/by-uid/{{studyInstanceUid}}", GET=by_uid),
            route(f"{studies}/{{studyId}}", GET=retrieve, PATCH=update),
            route(viewers, GET=list_users, POST=invite),
            route(f"{viewers}/reactivate", POST=reactivate),
            route(f"{viewers}/revoke-access", POST=revoke_access),
            route(f"{viewers}/invitations", GET=list_invitations),
            route(f"{viewers}/invitations/revoke", POST=revoke_invitation),
            route(
                f"{viewers}/invitations/{{invitationId}}",
                GET=get_invitation,
                PATCH=update_invitation,
            ),
            route(f"{viewers}/{{userId}}", GET=get_user, PATCH=update_user),
            route("/v1/viewer/ephemeral-sessions", POST=new_session),
            Route(f"{VIEW_PATH}{{token}}", view, methods=["GET"]),
            Route(f"{SESSION_PATH}{{token}}", view_session, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            *admin_routes(world, plane, settings, contract),
        ],
        middleware=[
            *limited(settings.max_concurrency),
            Middleware(ControlMiddleware, plane=plane, contract=contract),
            *committed(world),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: api_error},
    )
    app.state.service = service
    app.state.services = world
    app.state.control = plane
    return app
