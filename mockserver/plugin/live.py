"""The mock served on a free port from a background thread, for tests that need a real URL.

Its control plane is driven over HTTP, as any client of a running mock would, with the
standard library's ``http.client``: respx patches httpx and httpcore, so a test's own
``respx_mock`` (which refuses what it was not told about) never sees these calls.
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.cli import bind
from mockserver.http.protocol import protocol_for
from mockserver.plugin.control import TOKEN_HEADER, AdminAnswer, MockControls, decode, encode
from mockserver.settings import Settings

START_TIMEOUT = 10.0
ADMIN_TIMEOUT = 30.0


class ServerDidNotStart(RuntimeError):
    """uvicorn did not report started in time."""


class LiveServer(MockControls):
    """One mock on 127.0.0.1 and a free port; ``stop`` ends the thread and frees the port."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.app: Starlette = create_app(self.settings)
        sock = bind(self.settings.host, 0)
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self._address = (host, port)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http=protocol_for(),  # lets a fault close a connection without answering
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="avara-mock", daemon=True
        )
        self._socket = sock

    @property
    def studies(self) -> list[dict[str, object]]:
        """Every study the mock holds, oldest first."""
        return list(self.app.state.service.stored())

    @property
    def users(self) -> list[dict[str, object]]:
        """The clinic's Viewer users (the seeded ones first), oldest first."""
        return list(self.app.state.services.people())

    @property
    def invitations(self) -> list[dict[str, object]]:
        """The clinic's invitations, oldest first."""
        return list(self.app.state.services.invited())

    def reset(self) -> None:
        """As new: the seeded clinic (or the scenario), no studies or sessions, no faults, an
        empty journal; seeded ids and clock back at their start."""
        self._back_to_start(self.app.state.services)

    def _admin(self, method: str, path: str, query: str = "", body: Any = None) -> AdminAnswer:
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        if self.settings.admin_token is not None:
            headers[TOKEN_HEADER] = self.settings.admin_token
        host, port = self._address
        connection = http.client.HTTPConnection(host, port, timeout=ADMIN_TIMEOUT)
        try:
            target = path + (f"?{query}" if query else "")
            connection.request(
                method, target, body=None if body is None else encode(body), headers=headers
            )
            answer = connection.getresponse()
            return AdminAnswer(answer.status, decode(answer.read()))
        finally:
            connection.close()

    def start(self) -> LiveServer:
        """Serve, and wait until the server accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise ServerDidNotStart(f"avara-mock did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
