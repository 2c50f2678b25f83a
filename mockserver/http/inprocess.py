"""Calling an ASGI app in-process, without a port: from async code, or from sync code.

The contract suite's in-process target and the pytest plugin both talk to the mock this way.
Calling the app directly costs tens of microseconds a request; an HTTP client in front of it,
or a thread hop, would cost most of a millisecond.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

ASGIApp = Callable[..., Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]
T = TypeVar("T")


@dataclass(frozen=True)
class RawResponse:
    """What the app sent back."""

    status: int
    headers: RawHeaders
    body: bytes


async def call_app(
    app: ASGIApp,
    method: str,
    path: str,
    headers: RawHeaders,
    body: bytes = b"",
    query: bytes = b"",
    host: bytes = b"127.0.0.1:4010",
    scheme: str = "http",
) -> RawResponse:
    """One HTTP request through the app, as a server would pass it (``scheme`` and ``host``
    as the client addressed it, so URLs the app makes point where the client can follow)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host), *headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4010),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return RawResponse(start["status"], list(start.get("headers", [])), b"".join(chunks))


class SyncRunner:
    """Runs coroutines from synchronous code: on a private loop of the calling thread (one a
    thread, so several threads may call at once), or, when a loop is already running in this
    thread (a sync client inside an async test), on a worker thread's loop."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None

    def run(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None) -> T:
        """Run ``make()`` to completion; ``asyncio.TimeoutError`` after ``timeout`` seconds."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._own_loop().run_until_complete(asyncio.wait_for(make(), timeout))
        with self._lock:
            if self._worker is None:
                self._worker = concurrent.futures.ThreadPoolExecutor(1, "avara-mock")
        return self._worker.submit(lambda: asyncio.run(asyncio.wait_for(make(), timeout))).result()

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            with self._lock:
                self._loops.append(loop)
        return loop

    def close(self) -> None:
        """Close the private loops and the worker thread."""
        with self._lock:
            for loop in self._loops:
                loop.close()
            self._loops.clear()
            if self._worker is not None:
                self._worker.shutdown()
