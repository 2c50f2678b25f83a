"""``serve``'s limits under abuse, over real sockets (uvicorn with httptools, as served)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests import limit_cases as cases
from tests.conftest import live_server


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The mock as ``serve`` runs it, with a short header timeout and a bound of 2 in flight."""
    options = ("--header-timeout", str(cases.HEADER_TIMEOUT_S), "--max-concurrency", "2")
    with live_server(*options) as served:
        yield served


def test_limits_malformed_request_line_gets_400(url: str) -> None:
    cases.malformed_request_line_gets_400(url)


def test_limits_malformed_header_gets_400(url: str) -> None:
    cases.malformed_header_gets_400(url)


def test_limits_oversize_headers_get_431(url: str) -> None:
    cases.oversize_headers_get_431(url)


def test_limits_headers_under_the_limit_are_served(url: str) -> None:
    cases.headers_under_the_limit_are_served(url)


def test_limits_oversize_body_gets_413(url: str) -> None:
    cases.oversize_body_gets_413(url)


def test_limits_slow_clients_do_not_stop_others(url: str) -> None:
    cases.slow_clients_do_not_stop_others(url)


def test_limits_silent_connection_is_closed(url: str) -> None:
    cases.silent_connection_is_closed(url)


def test_limits_keep_alive_connection_serves_again(url: str) -> None:
    cases.keep_alive_connection_serves_again(url)


def test_limits_past_max_concurrency_answers_503_with_retry_after(url: str) -> None:
    """Two requests held in flight by a delay fault; another is refused at once with 503,
    ``retry-after`` and the mock's error body; ``/_mock/`` is never refused."""
    hold = {"path": "/v1/viewer/studies/{studyId}", "delay": {"ms": 3000}}
    with httpx.Client(timeout=30) as client:
        assert client.post(f"{url}/_mock/faults", json=hold).status_code == 201
        results: list[int] = []

        def held() -> None:
            answer = client.get(f"{url}/v1/viewer/studies/stu_{'0' * 32}", headers=cases.AUTH)
            results.append(answer.status_code)

        threads = [threading.Thread(target=held) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            refused = None
            for _ in range(1000):  # until both are in flight (each 3 s): a bound, not a timing
                answer = client.get(f"{url}/v1/viewer/studies", headers=cases.AUTH)
                if answer.status_code == 503:
                    refused = answer
                    break
            assert client.get(f"{url}/_mock/faults").status_code == 200  # not refused
        finally:
            for thread in threads:
                thread.join(30)
            client.delete(f"{url}/_mock/faults")
    assert refused is not None
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["type"] == "service_unavailable"
    assert "--max-concurrency" in refused.json()["error"]["message"]
    assert sorted(results) == [404, 404]
