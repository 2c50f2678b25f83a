"""``ConcurrencyLimit``: past its bound, 503 with retry-after at once; under it, the app."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson

from mockserver.http.limits import ConcurrencyLimit


def _scope(path: str = "/v1/viewer/studies") -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


async def _call(app: Any, path: str = "/v1/viewer/studies") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path), receive, send)
    return sent


def test_limits_concurrency_refuses_past_the_bound_and_serves_again_after() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        entered = 0

        async def held(scope: Any, receive: Any, send: Any) -> None:
            nonlocal entered
            entered += 1
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        limited = ConcurrencyLimit(held, limit=3)
        holding = [asyncio.create_task(_call(limited)) for _ in range(3)]
        while entered < 3:
            await asyncio.sleep(0)
        refused = await _call(limited)
        control = asyncio.create_task(_call(limited, "/_mock/requests"))
        while entered < 4:  # /_mock/ passes the bound
            await asyncio.sleep(0)
        release.set()
        served = [await task for task in holding]
        await control
        again = await _call(limited)
        start, body = refused
        assert start["status"] == 503
        headers = dict(start["headers"])
        assert headers[b"retry-after"] == b"1"
        assert int(headers[b"content-length"]) == len(body["body"])
        error = orjson.loads(body["body"])["error"]
        assert error["type"] == "service_unavailable"
        assert "3 requests" in error["message"]
        assert [answer[0]["status"] for answer in served] == [200, 200, 200]
        assert again[0]["status"] == 200
        assert limited.in_flight == 0

    asyncio.run(scenario())


def test_limits_concurrency_frees_its_place_when_the_app_fails() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    limited = ConcurrencyLimit(failing, limit=1)
    for _ in range(2):
        with contextlib.suppress(RuntimeError):
            asyncio.run(_call(limited))
    assert limited.in_flight == 0
