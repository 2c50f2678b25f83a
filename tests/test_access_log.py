"""The access log: one readable line per request, written promptly, never in a response's way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from mockserver.http.access_log import AccessLog
from tests.conftest import AUTH, live_server

LINE = re.compile(r'^(\S+) - "(\S+) (\S+) HTTP/(\S+)" (\S+) (\d+\.\d\d)ms$')


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose read end does not block; both ends closed afterwards (if still open)."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


def drain(fd: int) -> str:
    """Everything waiting in the pipe."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("ascii")


def scope(path: str = "/v1/viewer/studies", query: bytes = b"", **extra: Any) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds one."""
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "client": ("127.0.0.1", 50312),
        "headers": [],
        **extra,
    }


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    """An app answering 200 with a small body."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def through(log: AccessLog, request: Scope) -> list[Message]:
    """Send ``request`` through ``log``; the messages the server would have sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await log(request, receive, send)
    return sent


def test_access_log_line_names_client_request_status_and_duration(
    pipe: tuple[int, int],
) -> None:
    log = AccessLog(answer, pipe[1])
    sent = asyncio.run(through(log, scope(query=b"limit=20&cursor=abc")))
    log.flush()
    [line] = drain(pipe[0]).splitlines()
    found = LINE.match(line)
    assert found is not None, line
    assert found.groups()[:5] == (
        "127.0.0.1:50312", "GET", "/v1/viewer/studies?limit=20&cursor=abc", "1.1", "200"
    )  # fmt: skip
    assert 0.0 <= float(found.group(6)) < 1000.0
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]


def test_access_log_lines_appear_within_the_flush_delay_without_a_flush(
    pipe: tuple[int, int],
) -> None:
    log = AccessLog(answer, pipe[1], flush_delay_s=0.02)

    async def two_requests_then_wait() -> tuple[str, str]:
        await through(log, scope())
        await through(log, scope("/v1/viewer/studies/stu_1"))
        before = drain(pipe[0])
        await asyncio.sleep(0.2)
        return before, drain(pipe[0])

    before, after = asyncio.run(two_requests_then_wait())
    assert before == ""
    assert [line.split('"')[1] for line in after.splitlines()] == [
        "GET /v1/viewer/studies HTTP/1.1",
        "GET /v1/viewer/studies/stu_1 HTTP/1.1",
    ]


def test_access_log_writes_at_once_past_the_batch_size(pipe: tuple[int, int]) -> None:
    log = AccessLog(answer, pipe[1], flush_delay_s=60.0, flush_bytes=150)

    async def requests() -> None:
        for _ in range(5):
            await through(log, scope())

    asyncio.run(requests())
    lines = drain(pipe[0]).splitlines()
    assert len(lines) == 3
    assert all(LINE.match(line) for line in lines)
    log.flush()
    assert len(drain(pipe[0]).splitlines()) == 2


def test_access_log_escapes_control_and_non_ascii_bytes(pipe: tuple[int, int]) -> None:
    log = AccessLog(answer, pipe[1])
    raw = b"/v1/viewer/studies/\x1b[31m\xc3\xa9"
    asyncio.run(through(log, scope(raw_path=raw, query=b"a=\n", client=("::1", 9))))
    log.flush()
    [line] = drain(pipe[0]).splitlines()
    assert line.startswith(
        '[::1]:9 - "GET /v1/viewer/studies/\\x1b[31m\\xc3\\xa9?a=\\x0a HTTP/1.1"'
    )


def test_access_log_without_client_or_response_writes_dashes(pipe: tuple[int, int]) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    log = AccessLog(silent, pipe[1])
    asyncio.run(through(log, scope(client=None)))
    log.flush()
    [line] = drain(pipe[0]).splitlines()
    assert line.startswith('- - "GET /v1/viewer/studies HTTP/1.1" - ')


def test_access_log_app_error_is_logged_as_500_and_raised(pipe: tuple[int, int]) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    log = AccessLog(broken, pipe[1])
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(through(log, scope()))
    log.flush()
    [line] = drain(pipe[0]).splitlines()
    assert '" 500 ' in line


def test_access_log_cancelled_request_is_logged_without_a_status(pipe: tuple[int, int]) -> None:
    async def abandoned(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError

    log = AccessLog(abandoned, pipe[1])
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(through(log, scope()))
    log.flush()
    [line] = drain(pipe[0]).splitlines()
    assert LINE.match(line) is not None
    assert '" - ' in line


def test_access_log_closed_stream_never_breaks_a_response(pipe: tuple[int, int]) -> None:
    read, write = pipe
    log = AccessLog(answer, write, flush_bytes=1)
    os.close(read)
    first = asyncio.run(through(log, scope()))
    os.close(write)
    second = asyncio.run(through(log, scope()))
    log.flush()
    for sent in (first, second):
        assert [message.get("status") for message in sent] == [200, None]
        assert sent[1]["body"] == b"{}"


def test_access_log_passes_other_scopes_through_unlogged(pipe: tuple[int, int]) -> None:
    seen: list[str] = []

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    log = AccessLog(lifespan, pipe[1])
    asyncio.run(through(log, {"type": "lifespan"}))
    log.flush()
    assert seen == ["lifespan"]
    assert drain(pipe[0]) == ""


def wait_for_line(log: Path, needle: str, seconds: float) -> str | None:
    """The first line of ``log`` containing ``needle``, polling for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        for line in log.read_text(encoding="utf-8").splitlines():
            if needle in line:
                return line
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


@pytest.mark.parametrize(("level", "logged"), [("info", True), ("warning", False)])
def test_access_log_live_server_logs_at_info_not_at_warning(
    level: str, logged: bool, tmp_path: Path
) -> None:
    stderr = tmp_path / "stderr.log"
    with live_server("--log-level", level, log=stderr) as url:
        response = httpx.get(f"{url}/v1/viewer/studies?limit=7", headers=AUTH)
        line = wait_for_line(stderr, "limit=7", 2.0 if logged else 0.5)
    assert response.status_code == 200
    if not logged:
        assert line is None
        return
    assert line is not None
    found = LINE.match(line)
    assert found is not None, line
    assert found.group(1).startswith("127.0.0.1:")
    assert found.groups()[1:5] == ("GET", "/v1/viewer/studies?limit=7", "1.1", "200")
    mentions = [text for text in stderr.read_text(encoding="utf-8").splitlines() if "limit" in text]
    assert mentions == [line], "uvicorn's own access log should be off"
