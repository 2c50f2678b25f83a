"""uvicorn's HTTP protocols with the mock's edge: hanging up unanswered, and header guards.

A fault of the control plane may close the connection instead of answering (a server that
crashed, a proxy that timed out), which an ASGI app cannot ask for: it can only answer or
fail, and uvicorn answers a failure with a 500. These subclasses put a callable in each
request's ``scope["extensions"]["avara.abort"]`` that aborts the socket (no answer, no
graceful close) and tells uvicorn the client is gone, so it neither answers nor logs an error.

They also guard what uvicorn leaves open before a request reaches the app. uvicorn has no
timeout on request headers (its keep-alive timeout starts after an answer, and the first
byte of the next request stops it), so a client sending its headers a byte at a time holds
its connection for ever; and its httptools protocol has no limit on their size. Here the
headers of each request must all arrive within ``header_timeout_s`` of its first byte (or
of the connection, for the first request), else the connection closes (408 when a part
came); past ``max_header_bytes`` before the headers end, the answer is 431. A request line
or header HTTP cannot parse gets 400. Each of these answers carries the mock's JSON error
body and closes the connection. Each connection's writes of one turn of the event loop go
out as one (``transport.py``). Serve with ``ServeConfig(app, http=protocol_for("auto"))``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from functools import cache, partial
from typing import Any, cast

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from mockserver.control.middleware import ABORT
from mockserver.errors import ApiError, InvalidRequest
from mockserver.http.transport import CoalescedTransport
from mockserver.settings import HEADER_TIMEOUT_S

ASGI = Any  # uvicorn's ASGI3Application, whose typing module is private
MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers: an SDK request sends about 400 bytes; 16 KiB is h11's and
Node's default, room for long bearer keys and tracing headers."""
READ_BYTES = 256 * 1024
"""The most one read of the event loop hands a protocol (asyncio's and uvloop's), so h11's
buffer never holds more than the limit and one read before the guard looks."""
REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class ServeConfig(uvicorn.Config):
    """uvicorn's config with the header guards' two settings (read by the protocols here)."""

    def __init__(
        self,
        app: Any,
        *,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        max_header_bytes: int = MAX_HEADER_BYTES,
        **options: Any,
    ) -> None:
        super().__init__(app, **options)
        self.header_timeout_s = header_timeout_s
        self.max_header_bytes = max_header_bytes


def with_abort(app: ASGI, transport: asyncio.Transport) -> ASGI:
    """``app`` with ``avara.abort`` in each HTTP scope, aborting this connection."""

    async def aborting_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            extensions = scope.setdefault("extensions", {})
            extensions[ABORT] = partial(abort, transport, scope)
        await app(scope, receive, send)

    return aborting_app


def coalesce(transport: asyncio.Transport) -> asyncio.Transport:
    """``transport`` with each turn's writes as one (``transport.py``), typed as uvicorn
    expects: it has every method, its own or the transport's."""
    return cast(asyncio.Transport, CoalescedTransport(transport))


def abort(transport: asyncio.Transport, scope: Any) -> None:
    """Close the connection at once, unanswered; the request's cycle learns it now rather
    than when the loop reports the loss, so uvicorn sends no 500 once the app returns."""
    protocol = transport.get_protocol()
    cycles = [getattr(protocol, "cycle", None)]
    cycles += [cycle for cycle, _ in getattr(protocol, "pipeline", ())]
    for cycle in cycles:
        if cycle is not None and getattr(cycle, "scope", None) is scope:
            cycle.disconnected = True
    transport.abort()


def refusal(status: int, error: ApiError) -> bytes:
    """A whole HTTP answer with the mock's error body, closing the connection."""
    body = error.body()
    head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n" % (status, REASONS[status])
    return head + b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)


class HeaderGuard:
    """One connection's watch on the request headers arriving: their deadline and size."""

    def __init__(self, config: uvicorn.Config, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._timeout: float = getattr(config, "header_timeout_s", HEADER_TIMEOUT_S)
        self.limit: int = max_header_bytes(config)
        self._timer: asyncio.TimerHandle | None = None
        self._received = 0

    @property
    def waiting(self) -> bool:
        """A request's headers have begun (or may), and have not all arrived."""
        return self._timer is not None

    def start(self) -> None:
        """A request's headers begin (or may): the clock runs from the first time."""
        if self._timer is None:
            self._received = 0
            self._timer = asyncio.get_running_loop().call_later(self._timeout, self._expire)

    def done(self) -> None:
        """The headers are all in (or the connection is gone): stop watching."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def arrived(self, size: int) -> None:
        """Note ``size`` more bytes read while the headers are awaited."""
        if self._timer is not None:
            self._received += size

    def received(self, size: int) -> None:
        """Count ``size`` more bytes read before the headers ended; past the limit, 431."""
        self.arrived(size)
        if self._received > self.limit:
            self.refuse(431, too_large(self.limit))

    def refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with the mock's error body, and close."""
        self.done()
        if not self._transport.is_closing():
            self._transport.write(refusal(status, InvalidRequest(message)))
            self._transport.close()

    def _expire(self) -> None:
        self._timer = None
        if self._received:
            self.refuse(408, f"The request headers did not all arrive within {self._timeout:g} s.")
        elif not self._transport.is_closing():
            self._transport.close()


def max_header_bytes(config: uvicorn.Config) -> int:
    """The limit on request line and headers ``config`` sets (a ``ServeConfig``), or ours."""
    limit: int = getattr(config, "max_header_bytes", MAX_HEADER_BYTES)
    return limit


def too_large(limit: int) -> str:
    """The message of a 431."""
    return f"The request line and headers are over {limit} bytes; send fewer or shorter headers."


MALFORMED = (
    "The request is not valid HTTP/1.1; avara-mock could not read its request line or headers."
)


class GuardedConnection(h11.Connection):
    """h11's server side that refuses a request whose target and headers are over the limit:
    h11 limits only an event still incomplete, so headers read at once would pass."""

    def __init__(self, limit: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=limit)
        self.limit = limit
        self.refused_with = 400

    def next_event(self) -> Any:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refused_with = exc.error_status_hint  # 431: the incomplete headers' buffer
            raise
        if isinstance(event, h11.Request) and request_size(event) > self.limit:
            self.refused_with = 431
            raise h11.RemoteProtocolError("request headers too large", error_status_hint=431)
        return event


def request_size(request: h11.Request) -> int:
    """The bytes of a request's method, target and headers, without separators."""
    size = len(request.method) + len(request.target)
    return size + sum(len(name) + len(value) for name, value in request.headers)


class AbortingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``avara.abort`` and the header guards."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.conn = GuardedConnection(max_header_bytes(config))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalesced = coalesce(transport)
        super().connection_made(coalesced)
        self.app = with_abort(self.app, coalesced)
        self.guard = HeaderGuard(self.config, coalesced)
        self.guard.start()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self.guard.start()
            self.guard.arrived(len(data))  # h11 limits the size itself (GuardedConnection)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self.guard.done()

    def send_400_response(self, msg: str) -> None:
        status = self.conn.refused_with if isinstance(self.conn, GuardedConnection) else 400
        self.guard.refuse(status, too_large(self.guard.limit) if status == 431 else MALFORMED)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.done()
        super().connection_lost(exc)


def protocol_for(http: str = "auto") -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``: ``h11``, ``httptools``, or
    ``auto`` (httptools when it is installed, as uvicorn's own ``auto`` picks)."""
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    if http == "h11":
        return AbortingH11Protocol
    if http == "httptools":
        return _httptools_protocol()
    raise ValueError(f"http must be auto, h11 or httptools, not {http!r}")


def __getattr__(name: str) -> Any:
    """``AbortingHttpToolsProtocol``, made on first use, by name: a worker process started
    with spawn gets its config by pickle, which names the class."""
    if name == "AbortingHttpToolsProtocol":
        return _httptools_protocol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _httptools_protocol() -> type[asyncio.Protocol]:
    """The httptools subclass, made on first use: httptools is an optional extra of uvicorn."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class AbortingHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with ``avara.abort`` and the header guards.

        httptools hands headers over whole, so their size is counted twice: what uvicorn
        kept of them (the target and each name and value: exact, checked when the headers
        end) and the bytes read in later reads while they have not ended (a bound on what the
        parser holds for one endless header)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            coalesced = coalesce(transport)
            super().connection_made(coalesced)
            self.app = with_abort(self.app, coalesced)
            self.guard = HeaderGuard(self.config, coalesced)
            self.guard.start()

        def data_received(self, data: bytes) -> None:
            waiting = self.guard.waiting
            super().data_received(data)
            if waiting and self.guard.waiting:
                self.guard.received(len(data))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.guard.start()

        def on_headers_complete(self) -> None:
            size = len(self.url) + len(self.parser.get_method())
            size += sum(len(name) + len(value) for name, value in self.headers)
            if size > self.guard.limit:
                self.guard.refuse(431, too_large(self.guard.limit))
                raise ConnectionRefusedError("request headers too large")  # stops the parser
            self.guard.done()
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            self.guard.refuse(400, MALFORMED)

        def connection_lost(self, exc: Exception | None) -> None:
            self.guard.done()
            super().connection_lost(exc)

    AbortingHttpToolsProtocol.__qualname__ = "AbortingHttpToolsProtocol"
    return AbortingHttpToolsProtocol
