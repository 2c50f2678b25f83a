"""A bound on requests in flight: past it, 503 with ``retry-after`` instead of a queue.

Requests the server has read wait for the one event loop of their process; without a bound,
a burst queues without end and every client's latency grows with it until they time out.
uvicorn's own ``limit_concurrency`` counts connections as well as requests, so idle
keep-alive connections and slow clients (sending headers a byte at a time) would turn away
requests from everybody else; this middleware counts only requests the app is answering.
``/_mock/`` is never refused: the control plane must stay reachable under load.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import ServiceUnavailable

RETRY_AFTER_S = 1
CONTROL = "/_mock"


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests of the API in flight at once."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        error = ServiceUnavailable(
            f"avara-mock is answering {limit} requests already (--max-concurrency); "
            f"retry after {RETRY_AFTER_S} s."
        )
        self._body = error.body()
        self._start = {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(self._body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send(self._start)
            await send({"type": "http.response.body", "body": self._body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
