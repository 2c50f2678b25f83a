"""Targets: an ASGI app in-process and a server over HTTP answer, or say why they did not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from contract_tests.create.cases import minimal
from contract_tests.transport.exchange import CREATE_PATH, Sent
from contract_tests.transport.target import TargetUnreachable, asgi_target, http_target
from mockserver import Settings, create_app
from tests.conftest import fresh_uid, live_server

Scope = dict[str, Any]
Message = dict[str, Any]


def create(body: Any = None, key: str | None = "Bearer k") -> Sent:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = key
    content = json.dumps(minimal(studyInstanceUid=fresh_uid()) if body is None else body)
    return Sent("POST", CREATE_PATH, headers, content.encode())


async def echo_app(scope: Scope, receive: Any, send: Any) -> None:
    """Answers with what it got: path, query, headers and body; ``/hang`` never answers."""
    if scope["path"] == "/hang":
        await asyncio.sleep(60)
    if scope["path"] == "/raise":
        raise RuntimeError("boom")
    message = await receive()
    body = json.dumps(
        {
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body": message["body"].decode(),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 299,
            "headers": [(b"Content-Type", b"application/json"), (b"X-Echo", b"yes")],
        }
    )
    await send({"type": "http.response.body", "body": body[:10], "more_body": True})
    await send({"type": "http.response.body", "body": body[10:]})


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port that is bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel does) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_asgi_target_answers_with_the_mock() -> None:
    with asgi_target(create_app(Settings(seed=3))) as target:
        answer, error = target.send(create())
        refused, _ = target.send(create(key=None))
    assert error == ""
    assert answer is not None
    assert answer.status == 201
    assert answer.is_json
    assert answer.headers["content-type"] == "application/json"
    assert answer.document["severity"] == "normal"
    assert refused is not None
    assert refused.status == 401
    assert target.base_url.startswith("http://")


def test_asgi_target_passes_path_query_headers_and_body() -> None:
    sent = Sent("POST", "/echo?a=1&b=2", {"X-Trace": "t1"}, b'{"k": "v"}')
    with asgi_target(echo_app) as target:
        answer, error = target.send(sent)
    assert error == ""
    assert answer is not None
    assert answer.status == 299
    assert answer.headers == {"content-type": "application/json", "x-echo": "yes"}
    got = answer.document
    assert (got["path"], got["query"], got["body"]) == ("/echo", "a=1&b=2", '{"k": "v"}')
    headers = dict(got["headers"])
    assert headers["x-trace"] == "t1"
    assert headers["content-length"] == "10"
    assert "host" in headers


def test_asgi_target_hanging_app_gives_no_answer_in_time() -> None:
    with asgi_target(echo_app, timeout=0.2) as target:
        outcome = target.send(Sent("POST", "/hang", {}, b""))
        after, error = target.send(Sent("POST", "/ok", {}, b""))
    assert outcome == (None, "no answer in 0.2 s")
    assert error == ""
    assert after is not None
    assert after.status == 299


def test_asgi_target_raising_app_gives_the_exception() -> None:
    with asgi_target(echo_app) as target:
        outcome = target.send(Sent("POST", "/raise", {}, b""))
    assert outcome == (None, "no answer: the app raised RuntimeError: boom")


def test_http_target_answers_with_a_live_mock() -> None:
    with live_server("--seed", "4") as url, http_target(url, timeout=5.0) as target:
        target.check_reachable()
        answer, error = target.send(create())
        duplicate_body = minimal(studyInstanceUid=fresh_uid())
        target.send(create(duplicate_body))
        duplicate, _ = target.send(create(duplicate_body))
    assert error == ""
    assert answer is not None
    assert answer.status == 201
    assert answer.headers["content-type"] == "application/json"
    assert answer.document["studyId"].startswith("stu_")
    assert duplicate is not None
    assert duplicate.status == 409
    assert target.base_url == url


def test_http_target_closed_port_is_unreachable() -> None:
    with closed_port() as port, http_target(f"http://127.0.0.1:{port}", 2.0) as target:
        with pytest.raises(TargetUnreachable, match=f"cannot reach http://127.0.0.1:{port}"):
            target.check_reachable()
        answer, error = target.send(create())
    assert answer is None
    assert error.startswith("no answer: ConnectError")


def test_http_target_silent_server_gives_no_answer_in_time() -> None:
    with silent_port() as port, http_target(f"http://127.0.0.1:{port}", 0.2) as target:
        outcome = target.send(create())
    assert outcome == (None, "no answer in 0.2 s")
