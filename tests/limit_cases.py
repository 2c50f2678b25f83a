"""What every served protocol must do under abuse; ``test_limits_*`` run these on their server.

The server under test runs with a header timeout of ``HEADER_TIMEOUT_S`` (short, so the test
is short; the waits below are bounds, never timings asserted).
"""

from __future__ import annotations

import http.client
import socket

import httpx

from mockserver.http.protocol import MAX_HEADER_BYTES
from mockserver.settings import MAX_BODY_BYTES
from tests.raw_http import (
    READ_TIMEOUT,
    address,
    dripping,
    exchange,
    read_to_close,
    status_and_error,
)

HEADER_TIMEOUT_S = 1.0
AUTH = {"Authorization": "Bearer k"}
SLOW_CLIENTS = 200


def malformed_request_line_gets_400(url: str) -> None:
    status, error, head = status_and_error(exchange(url, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400
    assert error["type"] == "invalid_request"
    assert "not valid HTTP/1.1" in str(error["message"])
    assert "connection: close" in head


def malformed_header_gets_400(url: str) -> None:
    bad = b"GET /v1/viewer/studies HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n"
    status, error, _ = status_and_error(exchange(url, bad))
    assert (status, error["type"]) == (400, "invalid_request")


def oversize_headers_get_431(url: str) -> None:
    """Over the limit in one read, in many reads, and as one endless header: all 431."""
    big = b"GET /v1/viewer/studies HTTP/1.1\r\nHost: x\r\nX-Big: "
    whole = big + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\n"
    status, error, _ = status_and_error(exchange(url, whole))
    assert status == 431
    assert str(MAX_HEADER_BYTES) in str(error["message"])
    many = b"".join(f"X-H{i}: {'b' * 100}\r\n".encode() for i in range(MAX_HEADER_BYTES // 100))
    status, _, _ = status_and_error(exchange(url, big[:-7] + many + b"\r\n"))
    assert status == 431
    with socket.create_connection(address(url), timeout=READ_TIMEOUT) as sock:
        sock.sendall(big)
        try:
            for _ in range(4):  # 256 KiB of one header, reads after the first counted
                sock.sendall(b"c" * 65536)
        except OSError:
            pass  # closed after its answer: the 431 is still in our receive buffer
        status, _, _ = status_and_error(read_to_close(sock))
    assert status == 431


def headers_under_the_limit_are_served(url: str) -> None:
    headers = {**AUTH, "X-Long": "d" * (MAX_HEADER_BYTES // 2)}
    assert httpx.get(f"{url}/v1/viewer/studies", headers=headers).status_code == 200


def oversize_body_gets_413(url: str) -> None:
    body = b'{"studyInstanceUid": "' + b"1" * MAX_BODY_BYTES + b'"}'
    headers = {**AUTH, "content-type": "application/json"}
    answer = httpx.post(f"{url}/v1/viewer/studies", content=body, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "payload_too_large"


def slow_clients_do_not_stop_others(url: str) -> None:
    """200 connections drip headers; a normal client is served all along; then the header
    timeout closes every dripping connection (408 with the mock's error body)."""
    with dripping(url, SLOW_CLIENTS) as slow, httpx.Client(timeout=READ_TIMEOUT) as client:
        for _ in range(20):
            assert client.get(f"{url}/v1/viewer/studies", headers=AUTH).status_code == 200
        answers = [read_to_close(sock) for sock in slow]  # bounded by READ_TIMEOUT each
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
    status, error, _ = status_and_error(answers[0])
    assert (status, error["type"]) == (408, "invalid_request")
    assert f"{HEADER_TIMEOUT_S:g} s" in str(error["message"])


def silent_connection_is_closed(url: str) -> None:
    """A connection that sends nothing is closed after the header timeout, unanswered."""
    with socket.create_connection(address(url), timeout=READ_TIMEOUT) as sock:
        assert read_to_close(sock) == b""


def keep_alive_connection_serves_again(url: str) -> None:
    """The guard starts over for each request on a kept-alive connection."""
    host, port = address(url)
    connection = http.client.HTTPConnection(host, port, timeout=READ_TIMEOUT)
    try:
        statuses = []
        for _ in range(3):
            connection.request("GET", "/v1/viewer/studies", headers=AUTH)
            socket_used = connection.sock
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
            assert connection.sock is socket_used  # the same connection, kept alive
    finally:
        connection.close()
    assert statuses == [200, 200, 200]
