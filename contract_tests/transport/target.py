"""Where the suite sends requests: a base URL over HTTP, or an ASGI app in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Protocol

import httpx

from contract_tests.transport.exchange import Answer, Sent
from mockserver.http.inprocess import ASGIApp, SyncRunner, call_app

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
    """An ASGI app called in-process (``mockserver.http.inprocess``): no port, no HTTP client."""

    def __init__(self, app: ASGIApp, runner: SyncRunner, timeout: float) -> None:
        self._app = app
        self._runner = runner
        self.timeout = timeout
        self.base_url = "http://127.0.0.1:4010"

    def send(self, sent: Sent) -> Outcome:
        """The app's answer, or why there was none (a timeout, or the app raising)."""
        path, _, query = sent.path.partition("?")
        headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in sent.headers.items()]
        try:
            raw = self._runner.run(
                lambda: call_app(
                    self._app, sent.method, path, headers, sent.content, query.encode()
                ),
                self.timeout,
            )
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            return None, f"no answer in {self.timeout:g} s"
        except Exception as exc:  # an app that raises answers nothing
            return None, f"no answer: the app raised {type(exc).__name__}: {exc}"
        answer_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw.headers}
        return Answer.of(raw.status, answer_headers, raw.body), ""


@contextlib.contextmanager
def asgi_target(app: ASGIApp, timeout: float = DEFAULT_TIMEOUT) -> Iterator[AsgiTarget]:
    """A target in-process: requests go straight to the ASGI app, no port is opened."""
    runner = SyncRunner()
    try:
        yield AsgiTarget(app, runner, timeout)
    finally:
        runner.close()
