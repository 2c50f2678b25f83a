"""Calling the app in-process: the request as a server passes it, from sync and async code."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from contract_tests.create.cases import minimal
from mockserver import create_app
from mockserver.http.inprocess import SyncRunner, call_app

HEADERS = [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")]


def test_inprocess_call_app_creates_a_study() -> None:
    app = create_app()
    raw = asyncio.run(call_app(app, "POST", "/v1/viewer/studies", HEADERS, orjson.dumps(minimal())))
    assert raw.status == 201
    assert (b"content-type", b"application/json") in raw.headers
    assert orjson.loads(raw.body)["studyInstanceUid"] == minimal()["studyInstanceUid"]


def test_inprocess_sync_runner_runs_on_its_private_loop() -> None:
    runner = SyncRunner()
    try:
        raw = runner.run(lambda: call_app(create_app(), "GET", "/openapi.json", []))
        assert raw.status == 200
    finally:
        runner.close()


def test_inprocess_sync_runner_works_inside_a_running_loop() -> None:
    runner = SyncRunner()

    async def inside() -> int:
        raw = runner.run(lambda: call_app(create_app(), "GET", "/nowhere", []))
        return raw.status

    try:
        assert asyncio.run(inside()) == 404
    finally:
        runner.close()


def test_inprocess_sync_runner_times_out() -> None:
    runner = SyncRunner()
    try:
        with pytest.raises(asyncio.TimeoutError):
            runner.run(lambda: asyncio.sleep(5), timeout=0.05)
    finally:
        runner.close()
