"""Routing httpx to the mock in-process: requests to the base URL reach the app, no port opens.

respx patches httpx; a request under the base URL goes to the ASGI app (awaited directly for
async clients, run on a private loop for sync ones), any other request goes on to whatever
comes next: another respx router, else the client's own transport. The routed requests are
kept (``requests``, the httpx requests as sent); the mock's own journal, faults and state are
reached through its admin API (``MockControls``), called in-process like any other request.

Where the mock sits among respx routers, and why: respx asks the routers started on one of its
mockers in the order they started, moving on only while a router declines a request (raises
``AllMockedAssertionError``); a pass-through ends the search and sends the request to the real
transport. A mock that passed everything else through would hide every router started after
it: ``respx_mock`` requested after ``avara_mock``, or ``with respx.mock(...)`` in the test,
would never be asked. So the mock

* patches httpx at respx's ``httpx`` mocker (``Client._transport_for_url``), above the
  ``httpcore`` mocker (the connection pools) that ``respx_mock`` and ``respx.mock`` use by
  default. Its own requests are answered there, whatever those routers mock and whichever
  started first, and whatever the client's transport (the SDK's aiohttp client too); every
  other request reaches the client's transport, where those routers see it as if the mock
  were not there.
* declines what is not its own while another router shares its mocker (``respx.mock(
  using="httpx")``), so respx asks that one, in either order; alone there, it passes the
  request through to the client's transport. It never answers for another host: a host nobody
  mocked is reached, and one a ``respx_mock`` was not told about gets respx's own "not mocked"
  error, as without avara-mock.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import httpx
import respx
from respx.patterns import Lookup, Match, Pattern
from starlette.applications import Starlette

from mockserver.control.middleware import ConnectionDropped
from mockserver.http.inprocess import SyncRunner, call_app
from mockserver.plugin.control import TOKEN_HEADER, AdminAnswer, MockControls, decode, encode

DROPPED = "Server disconnected without sending a response."
_SET_BY_CALL = (b"content-length", b"host")
_RESOLVING_ASYNC: ContextVar[bool] = ContextVar("avara_mock_resolving_async", default=False)


class _Router(respx.MockRouter):
    """respx's router at the httpx layer, telling the side effect whether an async client is
    waiting for it. Unclaimed requests raise ``AllMockedAssertionError``: respx then asks the
    next router."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True, using="httpx")

    async def aresolve(self, request: httpx.Request) -> Any:
        token = _RESOLVING_ASYNC.set(True)
        try:
            return await super().aresolve(request)
        finally:
            _RESOLVING_ASYNC.reset(token)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port as httpx compares them: lower case, default ports made explicit."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme.lower(), url.host.lower(), url.port or default


class _Under(Pattern):
    """respx pattern: the request goes to the mock's base URL, however the URL is spelled."""

    lookups = (Lookup.EQUAL,)
    key = "avara_mock_base"

    def __init__(self, mock: InProcessMock) -> None:
        super().__init__(True)
        self._mock = mock

    def match(self, request: httpx.Request) -> Match:
        return Match(self._mock.routes(request.url))


class InProcessMock(MockControls):
    """The mock behind every httpx client (sync and async) for one base URL; ``admin_token``
    is the one the app's ``/_mock/`` wants, if any."""

    def __init__(self, app: Starlette, base_url: str, admin_token: str | None = None) -> None:
        self.app = app
        self._admin_token = admin_token
        self.base_url = base_url.rstrip("/")
        self._base = _origin(httpx.URL(self.base_url))
        self._prefix = httpx.URL(self.base_url).path.rstrip("/")
        self._runner = SyncRunner()
        self._router = _Router()
        self._route = self._router.route(_Under(self)).mock(side_effect=self._handle)
        self._router.route().mock(side_effect=self._onward)

    def routes(self, url: httpx.URL) -> bool:
        """Whether a request to ``url`` is the mock's: same origin, under the base path."""
        path = url.path
        return _origin(url) == self._base and (
            path == self._prefix or path.startswith(self._prefix + "/")
        )

    @property
    def requests(self) -> list[httpx.Request]:
        """Every request the mock received since start or the last ``reset``, oldest first."""
        return [call.request for call in self._route.calls]

    @property
    def studies(self) -> list[dict[str, Any]]:
        """Every study the mock holds, oldest first."""
        return list(self.app.state.service.stored())

    @property
    def users(self) -> list[dict[str, Any]]:
        """The clinic's Viewer users (the seeded ones first), oldest first."""
        return list(self.app.state.services.people())

    @property
    def invitations(self) -> list[dict[str, Any]]:
        """The clinic's invitations, oldest first."""
        return list(self.app.state.services.invited())

    def reset(self) -> None:
        """As new: the seeded clinic (or the scenario), no studies or sessions, no faults, empty
        journals, seeded ids and clock back at their start."""
        self._back_to_start(self.app.state.services)
        self._route.calls.clear()

    def _admin(self, method: str, path: str, query: str = "", body: Any = None) -> AdminAnswer:
        headers = [(b"accept", b"application/json")]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        if self._admin_token is not None:
            headers.append((TOKEN_HEADER.encode(), self._admin_token.encode()))
        content = encode(body)
        raw = self._runner.run(
            lambda: call_app(self.app, method, path, headers, content, query.encode())
        )
        return AdminAnswer(raw.status, decode(raw.body))

    def _onward(self, request: httpx.Request) -> httpx.Request | None:
        """Not the mock's: ``None`` (no match) while another router shares the mocker, so respx
        asks it; else the request itself, which respx passes through to the client's transport."""
        mocker = self._router.Mocker
        peers: list[respx.Router] = mocker.routers if mocker is not None else []
        return None if any(router is not self._router for router in peers) else request

    def _handle(self, request: httpx.Request) -> Any:
        if _RESOLVING_ASYNC.get():
            return self._answer(request)
        return self._runner.run(lambda: self._answer(request))

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        body = (
            await request.aread()
            if not isinstance(request.stream, httpx.ByteStream)
            else request.content
        )
        path = request.url.path[len(self._prefix) :] or "/"
        # call_app sets host (from the URL) and content-length (from the body) itself
        headers = [(k.lower(), v) for k, v in request.headers.raw if k.lower() not in _SET_BY_CALL]
        url = request.url
        try:
            raw = await call_app(
                self.app, request.method, path, headers, body, url.query, url.netloc, url.scheme
            )
        except ConnectionDropped as dropped:
            # What httpx raises when a live server closes the connection without an answer.
            raise httpx.RemoteProtocolError(DROPPED, request=request) from dropped
        return httpx.Response(raw.status, headers=raw.headers, content=raw.body, request=request)

    def start(self) -> InProcessMock:
        """Patch httpx."""
        self._router.start()
        return self

    def stop(self) -> None:
        """Unpatch httpx and close the private loop."""
        self._router.stop(quiet=True)
        self._runner.close()

    def __enter__(self) -> InProcessMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
