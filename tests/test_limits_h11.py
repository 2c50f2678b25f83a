"""The same limits with uvicorn's h11 protocol (the one served when httptools is absent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver import Settings, create_app
from mockserver.http.protocol import ServeConfig, protocol_for
from tests import limit_cases as cases
from tests.conftest import uvicorn_thread


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The mock served by uvicorn with h11 in a thread, on a free port of 127.0.0.1."""
    config = ServeConfig(
        create_app(Settings()),
        header_timeout_s=cases.HEADER_TIMEOUT_S,
        http=protocol_for("h11"),
        log_level="error",
        lifespan="off",
    )
    with uvicorn_thread(config) as url:
        yield url


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
