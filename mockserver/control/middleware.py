"""The control plane on the request path: journal, latency, faults, ``Prefer: code``.

A pure ASGI middleware: every HTTP request outside ``/_mock/`` is journalled, delayed by the
mock's latency, and then answered by the first fault that fires, else by ``Prefer: code=NNN``,
else by a random fault at the mock's fault rate, else by the API. The mock is benchmarked,
so the common case (no fault, no latency) adds two thin wrappers of ``receive`` and ``send``
that keep references to the bytes passing by, and a tuple of the journal entry's fields
(the journal makes the entry when it is read).

Dropping a connection needs the server: uvicorn run with ``mockserver.http.protocol``'s
classes puts an ``avara.abort`` callable in the scope's extensions that closes the socket
without an answer. Without it (in-process), the middleware raises ``ConnectionDropped``, which
the in-process transport turns into the error an HTTP client gets when a server hangs up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.contract import Contract
from mockserver.control.faults import Answer, Fault, error_answer
from mockserver.control.journal import KEPT_BYTES
from mockserver.control.latency import Latency
from mockserver.control.plane import ControlPlane
from mockserver.control.prefer import PreferCodes

ABORT = "avara.abort"
CONTROL = "/_mock"
RANDOM_FAULT = "fault-rate"
RETRY_AFTER_MS = 100
RETRY_AFTER_S = 1
BUFFERED_BYTES = 2 * 1024 * 1024
"""How much of a delayed request's body is read before the delay (more than the mock's
default body limit, so a refused oversize body is still refused after the delay)."""


class ConnectionDropped(Exception):
    """A fault closed the connection without an answer, and no server could do it for real."""


class ControlMiddleware:
    """Applies a ``ControlPlane`` to the API's requests (never to ``/_mock/`` ones)."""

    def __init__(self, app: ASGIApp, plane: ControlPlane, contract: Contract) -> None:
        self.app = app
        self.plane = plane
        self._prefer = PreferCodes(contract)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or _is_control(path):
            await self.app(scope, receive, send)
            return
        plane = self.plane
        arrived, started = time.time(), time.perf_counter()
        entry_id = plane.journal.next_id()
        method: str = scope["method"]
        exchange = _Exchange(receive, send)
        fault = plane.faults.matching(method, path)
        acted = fault.id if fault is not None else None
        try:
            delayed = fault is not None and bool(fault.delay_ms)
            if plane.latency is not None or delayed:
                # A slow server has the request before it is slow: a client that gives up
                # while waiting leaves the request applied, as it would be live.
                await exchange.buffer()
            if plane.latency is not None:
                await Latency(*plane.latency).wait(plane.rng)
            if fault is not None and fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000.0)
            if fault is not None and fault.drop == "before":
                await exchange.drain()
                await self._drop(scope, fault, exchange)
                return
            if fault is not None and fault.drop == "after":
                exchange.swallow = True
                await self.app(scope, exchange.receive, exchange.send)
                await self._drop(scope, fault, exchange)
                return
            answer, at_random = self._instead(scope, method, path, fault)
            if at_random:
                acted = RANDOM_FAULT
            if answer is None:
                await self.app(scope, exchange.receive, exchange.send)
            else:
                await exchange.drain()
                await _send_answer(exchange.send, answer)
        except Exception:
            if exchange.status is None and not exchange.dropped:
                exchange.status = 500  # what the server answers for an exception of the app
            raise
        finally:
            if plane.journal.size:
                plane.journal.keep(
                    exchange.values(
                        entry_id,
                        method,
                        path,
                        scope.get("query_string", b""),
                        scope["headers"],
                        (time.perf_counter() - started) * 1000.0,
                        acted,
                        int(arrived * 1000),
                    )
                )

    def _instead(
        self, scope: Scope, method: str, path: str, fault: Fault | None
    ) -> tuple[Answer | None, bool]:
        """The answer that replaces the API's (a fault's, a preferred one, a random one),
        and whether it is a random fault's. A fault that acted rules out a random one."""
        if fault is not None and fault.answer is not None:
            return fault.answer, False
        for name, value in scope["headers"]:
            if name == b"prefer":
                answer = self._prefer.answer(method, path, value)
                if answer is not None:
                    return answer, False
                break
        plane = self.plane
        if fault is None and plane.fault_rate and plane.rng.random() < plane.fault_rate:
            return random_answer(plane.rng.randrange(3), plane.fault_rate), True
        return None, False

    async def _drop(self, scope: Scope, fault: Fault, exchange: _Exchange) -> None:
        exchange.dropped = True
        abort: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT)
        if abort is None:
            raise ConnectionDropped(
                f"Fault {fault.id} of avara-mock closed the connection without an answer "
                f"(drop: {fault.drop})."
            )
        abort()
        await asyncio.sleep(0)  # let the server see the connection go before the app returns


def random_answer(which: int, rate: float) -> Answer:
    """One of the random faults of ``--fault-rate``: 429 with retry-after-ms and retry-after,
    500, or 503 with retry-after; the headers a well-behaved client waits by."""
    said = f"avara-mock answered this at random (--fault-rate {rate:g})"
    if which == 0:
        headers = [
            (b"retry-after-ms", str(RETRY_AFTER_MS).encode()),
            (b"retry-after", str(RETRY_AFTER_S).encode()),
        ]
        return error_answer(429, f"Too many requests: {said}; retry after a while.", headers)
    if which == 1:
        return error_answer(500, f"Internal error: {said}; retrying may succeed.")
    headers = [(b"retry-after", str(RETRY_AFTER_S).encode())]
    return error_answer(503, f"Service unavailable: {said}; retry after a while.", headers)


def _is_control(path: str) -> bool:
    return path.startswith(CONTROL) and (len(path) == len(CONTROL) or path[len(CONTROL)] == "/")


async def _send_answer(send: Send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


class _Exchange:
    """One request as it passes: the body read and the answer sent, kept up to KEPT_BYTES
    (the server's own bytes objects; a copy only when a body comes in several chunks)."""

    __slots__ = (
        "_pending",
        "_receive",
        "_send",
        "answer",
        "body",
        "done",
        "dropped",
        "status",
        "swallow",
    )

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._pending: list[Message] = []
        self.body = b""
        self.answer = b""
        self.status: int | None = None
        self.swallow = False
        self.dropped = False
        self.done = False

    async def buffer(self) -> None:
        """Read the request's body now (up to BUFFERED_BYTES; the app reads the rest), and
        hand it to the app later as it came."""
        read = 0
        while not self.done and read <= BUFFERED_BYTES:
            message = await self._take()
            self._pending.append(message)
            read += len(message.get("body") or b"")
            if message["type"] != "http.request":
                return

    async def receive(self) -> Message:
        if self._pending:
            return self._pending.pop(0)
        return await self._take()

    async def _take(self) -> Message:
        message = await self._receive()
        chunk: bytes | None = message.get("body")
        if chunk:
            self.body = chunk if not self.body else _joined(self.body, chunk)
        if not message.get("more_body"):
            self.done = True
        return message

    async def send(self, message: Message) -> None:
        if "status" in message:
            self.status = message["status"]
        else:
            chunk: bytes | None = message.get("body")
            if chunk:
                self.answer = chunk if not self.answer else _joined(self.answer, chunk)
        if not self.swallow:
            await self._send(message)

    async def drain(self) -> None:
        """Read the request body the API did not (a fault answered), for the journal."""
        while not self.done and len(self.body) < KEPT_BYTES:
            message = await self.receive()
            if message["type"] != "http.request":
                return

    def values(
        self,
        entry_id: int,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        duration_ms: float,
        fault: str | None,
        arrived_ms: int,
    ) -> tuple[Any, ...]:
        """The fields of the journal entry, in ``Entry``'s order (the journal makes the
        entry when someone reads it); bodies past KEPT_BYTES are cut here."""
        dropped = self.dropped or self.swallow
        body, answer = self.body, b"" if dropped else self.answer
        truncated = len(body) > KEPT_BYTES or len(answer) > KEPT_BYTES
        if truncated:
            body, answer = body[:KEPT_BYTES], answer[:KEPT_BYTES]
        status = None if dropped else self.status
        return (
            entry_id,
            method,
            path,
            status,
            duration_ms,
            fault,
            arrived_ms,
            query,
            headers,
            body,
            answer,
            truncated,
        )


def _joined(kept: bytes, chunk: bytes) -> bytes:
    """A later chunk added to what is kept, up to one byte past KEPT_BYTES (so the cut
    knows the body was longer)."""
    room = KEPT_BYTES + 1 - len(kept)
    return kept + chunk[:room] if room > 0 else kept
