"""uvicorn's HTTP protocols, able to hang up on a request without answering it.

A fault of the control plane may close the connection instead of answering (a server that
crashed, a proxy that timed out), which an ASGI app cannot ask for: it can only answer or
fail, and uvicorn answers a failure with a 500. These subclasses put a callable in each
request's ``scope["extensions"]["avara.abort"]`` that aborts the socket (no answer, no
graceful close) and tells uvicorn the client is gone, so it neither answers nor logs an error.
Serve with ``uvicorn.Config(app, http=protocol_for("auto"))``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from functools import cache, partial
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from mockserver.control.middleware import ABORT

ASGI = Any  # uvicorn's ASGI3Application, whose typing module is private


def with_abort(app: ASGI, transport: asyncio.Transport) -> ASGI:
    """``app`` with ``avara.abort`` in each HTTP scope, aborting this connection."""

    async def aborting_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            extensions = scope.setdefault("extensions", {})
            extensions[ABORT] = partial(abort, transport, scope)
        await app(scope, receive, send)

    return aborting_app


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


class AbortingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``avara.abort``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app = with_abort(self.app, transport)


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


@cache
def _httptools_protocol() -> type[asyncio.Protocol]:
    """The httptools subclass, made on first use: httptools is an optional extra of uvicorn."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class AbortingHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with ``avara.abort``."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.app = with_abort(self.app, transport)

    return AbortingHttpToolsProtocol
