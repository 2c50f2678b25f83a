"""Routing httpx to the mock in-process: requests to the base URL reach the app, no port opens.

respx patches httpx; a request under the base URL goes to the ASGI app (awaited directly for
async clients, run on a private loop for sync ones), any other request passes through. The
routed requests are kept as a journal.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import httpx
import respx
from respx.patterns import Lookup, Match, Pattern
from starlette.applications import Starlette

from mockserver.http.inprocess import SyncRunner, call_app

_RESOLVING_ASYNC: ContextVar[bool] = ContextVar("avara_mock_resolving_async", default=False)


class _Router(respx.MockRouter):
    """respx's router, telling the side effect whether an async client is waiting for it."""

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


class InProcessMock:
    """The mock behind every httpx client (sync and async) for one base URL."""

    def __init__(self, app: Starlette, base_url: str) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self._base = _origin(httpx.URL(self.base_url))
        self._prefix = httpx.URL(self.base_url).path.rstrip("/")
        self._runner = SyncRunner()
        self._router = _Router(assert_all_called=False, assert_all_mocked=False)
        self._route = self._router.route(_Under(self)).mock(side_effect=self._handle)
        self._router.route().pass_through()

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
        return list(self.app.state.service.store.studies())

    def reset(self) -> None:
        """As new: no studies, an empty journal, seeded ids and clock back at their start."""
        self.app.state.service.reset()
        self._route.calls.clear()

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
        headers = [(k.lower(), v) for k, v in request.headers.raw if k.lower() != b"content-length"]
        raw = await call_app(
            self.app, request.method, path, headers, body, request.url.query, request.url.netloc
        )
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
