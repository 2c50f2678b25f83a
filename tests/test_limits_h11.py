"""The same limits with uvicorn's h11 protocol (the one served when httptools is absent)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn

from mockserver import Settings, create_app
from mockserver.cli import bind
from mockserver.http.protocol import ServeConfig, protocol_for
from tests import limit_cases as cases

STARTUP_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The mock served by uvicorn with h11 in a thread, on a free port of 127.0.0.1."""
    sock = bind("127.0.0.1", 0)
    config = ServeConfig(
        create_app(Settings()),
        header_timeout_s=cases.HEADER_TIMEOUT_S,
        http=protocol_for("h11"),
        log_level="error",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(int(STARTUP_TIMEOUT / 0.01)):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


def test_limits_h11_malformed_request_line_gets_400(url: str) -> None:
    cases.malformed_request_line_gets_400(url)


def test_limits_h11_malformed_header_gets_400(url: str) -> None:
    cases.malformed_header_gets_400(url)


def test_limits_h11_oversize_headers_get_431(url: str) -> None:
    cases.oversize_headers_get_431(url)


def test_limits_h11_headers_under_the_limit_are_served(url: str) -> None:
    cases.headers_under_the_limit_are_served(url)


def test_limits_h11_oversize_body_gets_413(url: str) -> None:
    cases.oversize_body_gets_413(url)


def test_limits_h11_slow_clients_do_not_stop_others(url: str) -> None:
    cases.slow_clients_do_not_stop_others(url)


def test_limits_h11_silent_connection_is_closed(url: str) -> None:
    cases.silent_connection_is_closed(url)


def test_limits_h11_keep_alive_connection_serves_again(url: str) -> None:
    cases.keep_alive_connection_serves_again(url)
