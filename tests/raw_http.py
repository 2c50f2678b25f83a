"""Raw-socket HTTP for the limits tests: requests no HTTP client would send, answers read whole."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

READ_TIMEOUT = 15.0


def address(url: str) -> tuple[str, int]:
    """``(host, port)`` of ``http://host:port``."""
    host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
    return host, int(port)


def exchange(url: str, data: bytes, timeout: float = READ_TIMEOUT) -> bytes:
    """Send ``data`` on a new connection, and read until the server closes it."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        sock.sendall(data)
        return read_to_close(sock)


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as closing)."""
    chunks: list[bytes] = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_and_error(answer: bytes) -> tuple[int, dict[str, object], str]:
    """The status, the error object of the JSON body, and the head of a raw answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    error = orjson.loads(body)["error"]
    assert isinstance(error, dict)
    return status, error, head.decode("latin-1").lower()


def get(path: str = "/v1/viewer/studies") -> bytes:
    """A well-formed GET with a bearer key that asks the server to close afterwards."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


@contextmanager
def dripping(url: str, count: int, every_s: float = 0.2) -> Iterator[list[socket.socket]]:
    """``count`` connections sending one request's headers a byte at a time, from a thread,
    never finishing them; yields the sockets, and closes them all when done."""
    sockets = [socket.create_connection(address(url), timeout=READ_TIMEOUT) for _ in range(count)]
    stop = threading.Event()
    headers = b"GET /v1/viewer/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000

    def drip() -> None:
        for byte in headers:
            for sock in sockets:
                with contextlib.suppress(OSError):  # closed: what the header timeout does
                    sock.send(bytes([byte]))
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        time.sleep(every_s * 2)  # every connection has started its headers
        yield sockets
    finally:
        stop.set()
        thread.join(READ_TIMEOUT)
        for sock in sockets:
            sock.close()
