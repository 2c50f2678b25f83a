"""A connection's writes of one turn of the event loop reach the socket as one write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mockserver.http.transport import FLUSH_BYTES, CoalescedTransport


class RecordingTransport(asyncio.Transport):
    """A transport that keeps what is written to it and whether it was closed or aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closing = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 4010) if name == "sockname" else default


def test_transport_writes_of_one_turn_go_out_as_one() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        coalesced = CoalescedTransport(inner)
        coalesced.write(b"HTTP/1.1 201 Created\r\n\r\n")
        coalesced.write(b'{"studyId":"stu_1"}')
        if inner.written:
            raise AssertionError("written before the turn ended")
        await asyncio.sleep(0)
        return inner.written

    assert asyncio.run(scenario()) == [b'HTTP/1.1 201 Created\r\n\r\n{"studyId":"stu_1"}']


def test_transport_writes_of_separate_turns_stay_separate() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        coalesced = CoalescedTransport(inner)
        coalesced.write(b"first")
        await asyncio.sleep(0)
        coalesced.write(b"second")
        await asyncio.sleep(0)
        return inner.written

    assert asyncio.run(scenario()) == [b"first", b"second"]


def test_transport_large_writes_go_out_at_once() -> None:
    async def scenario() -> list[int]:
        inner = RecordingTransport()
        coalesced = CoalescedTransport(inner)
        coalesced.write(b"h" * 100)
        coalesced.write(b"b" * FLUSH_BYTES)
        sizes = [len(part) for part in inner.written]
        await asyncio.sleep(0)
        return sizes + [len(part) for part in inner.written]

    assert asyncio.run(scenario()) == [100 + FLUSH_BYTES, 100 + FLUSH_BYTES]


def after_a_turn(
    step: Callable[[CoalescedTransport, RecordingTransport], None],
) -> RecordingTransport:
    """The transport under a coalesced one, once ``step`` ran and the loop turned."""

    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        step(CoalescedTransport(inner), inner)
        await asyncio.sleep(0)
        return inner

    return asyncio.run(scenario())


def test_transport_close_writes_what_is_queued_first() -> None:
    def step(coalesced: CoalescedTransport, inner: RecordingTransport) -> None:
        coalesced.write(b"answer")
        coalesced.close()

    inner = after_a_turn(step)
    assert (inner.written, inner.closing) == ([b"answer"], True)


def test_transport_abort_drops_what_is_queued() -> None:
    def step(coalesced: CoalescedTransport, inner: RecordingTransport) -> None:
        coalesced.write(b"never sent")
        coalesced.abort()

    inner = after_a_turn(step)
    assert (inner.written, inner.aborted) == ([], True)


def test_transport_drops_writes_once_the_connection_is_closing() -> None:
    def step(coalesced: CoalescedTransport, inner: RecordingTransport) -> None:
        coalesced.write(b"late")
        inner.closing = True

    assert after_a_turn(step).written == []


def test_transport_passes_everything_else_to_the_transport() -> None:
    async def scenario() -> tuple[object, bool]:
        inner = RecordingTransport()
        coalesced = CoalescedTransport(inner)
        inner.closing = True
        return coalesced.get_extra_info("sockname"), coalesced.is_closing()

    assert asyncio.run(scenario()) == (("127.0.0.1", 4010), True)
