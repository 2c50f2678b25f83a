"""Where the suite sends requests: a base URL over HTTP, or an ASGI app in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx

from contract_tests.exchange import Answer, Sent

DEFAULT_TIMEOUT = 5.0
Outcome = tuple[Answer | None, str]


class TargetUnreachable(ConnectionError):
    """The target does not accept connections at all (a usage error, exit 2)."""


class Target(Protocol):
    """An implementation under test: it answers a request, or gives the reason it did not."""

    base_url: str
    timeout: float

    def send(self, sent: Sent) -> Outcome: ...


class HttpTarget:
    """A server at a base URL."""

    def __init__(self, client: httpx.Client, base_url: str, timeout: float) -> None:
        self._client = client
        self.base_url = base_url
        self.timeout = timeout

    def send(self, sent: Sent) -> Outcome:
        """The answer, or ``None`` with the reason: no answer in time, or a broken connection."""
        try:
            response = self._client.request(
                sent.method, sent.path, headers=dict(sent.headers), content=sent.content
            )
        except httpx.TimeoutException:
            return None, f"no answer in {self.timeout:g} s"
        except httpx.TransportError as exc:
            return None, f"no answer: {type(exc).__name__}: {exc}"
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer.of(response.status_code, headers, response.content), ""

    def check_reachable(self) -> None:
        """Raise ``TargetUnreachable`` when nothing listens at the base URL."""
        try:
            self._client.get("/", timeout=self.timeout)
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"cannot reach {self.base_url}: {exc}") from exc


@contextlib.contextmanager
def http_target(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[HttpTarget]:
    """A target over HTTP."""
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        yield HttpTarget(client, base_url, timeout)


class AsgiTarget:
    """An ASGI app called directly on a private event loop: no port, no HTTP client.

    Calling the app straight costs tens of microseconds a request, where an HTTP client
    in front of it would cost most of a millisecond.
    """

    def __init__(self, app: Callable[..., Any], loop: asyncio.AbstractEventLoop, timeout: float):
        self._app = app
        self._loop = loop
        self.timeout = timeout
        self.base_url = "http://127.0.0.1:4010"

    def send(self, sent: Sent) -> Outcome:
        """The app's answer, or why there was none (a timeout, or the app raising)."""
        try:
            return self._loop.run_until_complete(
                asyncio.wait_for(self._call(sent), self.timeout)
            ), ""
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            return None, f"no answer in {self.timeout:g} s"
        except Exception as exc:
            return None, f"no answer: the app raised {type(exc).__name__}: {exc}"

    async def _call(self, sent: Sent) -> Answer:
        path, _, query = sent.path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": sent.method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:4010")]
            + [(k.lower().encode(), v.encode("latin-1")) for k, v in sent.headers.items()]
            + [(b"content-length", str(len(sent.content)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 4010),
        }
        messages = [{"type": "http.request", "body": sent.content, "more_body": False}]
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in started["headers"]}
        return Answer.of(started["status"], headers, b"".join(chunks))


@contextlib.contextmanager
def asgi_target(app: Callable[..., Any], timeout: float = DEFAULT_TIMEOUT) -> Iterator[AsgiTarget]:
    """A target in-process: requests go straight to the ASGI app, no port is opened."""
    loop = asyncio.new_event_loop()
    try:
        yield AsgiTarget(app, loop, timeout)
    finally:
        loop.close()
