"""Shared fixtures: the contract, a fresh in-process mock, and the fixture cases."""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract

AUTH = {"Authorization": "Bearer test-key"}
_uids = itertools.count(1)


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The contract of schemas/, loaded once."""
    return Contract.load()


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A fresh mock in-process, seeded, with a client that sends a bearer key."""
    with TestClient(create_app(Settings(seed=7)), headers=AUTH) as test_client:
        yield test_client


def fresh_uid() -> str:
    """A UID no other request of this session used (the mock refuses duplicates)."""
    return f"2.25.{next(_uids)}"


@contextlib.contextmanager
def live_server(*args: str) -> Iterator[str]:
    """``python -m mockserver serve`` on a free port; yields its URL and always stops it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--log-level",
            "warning",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("avara-mock serving"):
            raise RuntimeError(
                f"mock did not start: {first!r} {process.stderr.read() if process.stderr else ''}"
            )
        url = first.rsplit(" ", 1)[-1].strip()
        _wait_until_listening(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _wait_until_listening(url: str) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
