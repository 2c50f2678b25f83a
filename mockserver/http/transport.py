"""A connection's transport whose writes of one turn of the event loop go out as one.

uvicorn writes an answer's head and its body separately, and each write is a system call
and a TCP segment of its own; gathered, the answer is one of each. Measured with two mocks
side by side on one CPU, each loaded by wrk: 12% more creates in memory, 4% with a state
file (whose writes cost more). A write waits at most until the loop's next turn, or not at
all once ``FLUSH_BYTES`` are waiting: a large or streamed answer reaches the socket, and its
flow control, as it did without this.
"""

from __future__ import annotations

import asyncio
from typing import Any

FLUSH_BYTES = 64 * 1024
"""Waiting writes of at least this many bytes go out at once."""


class CoalescedTransport:
    """``transport``, with ``write`` gathering what one turn writes; the rest is its own."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._parts: list[bytes] = []
        self._size = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        """Queue ``data``, to be written at the end of this turn of the loop (with what else
        is written in it), or now if that makes ``FLUSH_BYTES``."""
        if not data:
            return
        if not self._parts:
            self._loop.call_soon(self.flush)
        self._parts.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Hand what is queued to the transport (dropped once it is closing)."""
        if not self._parts:
            return
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Write what is queued, then close as the transport does (after its buffer)."""
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        """Close at once: what is queued is dropped, as the transport drops its buffer."""
        self._parts.clear()
        self._size = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
