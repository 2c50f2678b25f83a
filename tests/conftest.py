"""Shared fixtures: the contract, a fresh in-process mock, live servers and the SDK targets."""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import pytest
import uvicorn
from avara import AsyncAvara, Avara
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract
from tests.sdk_targets import INPROCESS_URL, Target

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-key"}
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0
SERVING_LINE = re.compile(r"avara-mock serving the Avara Viewer API at (http://\S+)")
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


# --- live servers --------------------------------------------------------------------------


def _drain(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Hand every stdout line to the launcher, then ``None`` at EOF (keeps the pipe empty)."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _stderr_file(log: Path | None) -> IO[str]:
    """Where the server's stderr goes: ``log`` if given, else an anonymous temporary file."""
    if log is None:
        return tempfile.TemporaryFile("w+", encoding="utf-8")
    return log.open("w+", encoding="utf-8")


@contextlib.contextmanager
def uvicorn_thread(config: uvicorn.Config) -> Iterator[str]:
    """``config``'s app served by uvicorn in a thread, on a free port of 127.0.0.1 (for tests
    that need uvicorn's own protocols in this process); yields the URL, always stops it."""
    from mockserver.cli import bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(int(STARTUP_TIMEOUT / 0.01)):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


@contextlib.contextmanager
def live_server(*args: str, log: Path | None = None) -> Iterator[str]:
    """``python -m mockserver serve`` on a free port; yields its URL and always stops it.

    ``args`` are extra ``serve`` options. The server's stderr goes to ``log`` (a temporary file
    if none is given) and is shown if the server does not announce its URL within
    ``STARTUP_TIMEOUT``. Its stdout is read by a thread for as long as it runs, so the pipe
    never fills. The URL is announced only once the socket listens, so no polling is needed.
    """
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "warning",
        *args,
    ]
    with _stderr_file(log) as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        assert process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            try:
                first = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                first = None
            found = SERVING_LINE.fullmatch((first or "").strip())
            if found is None:
                stderr.seek(0)
                pytest.fail(
                    f"the mock did not announce its URL; first stdout line {first!r}, "
                    f"exit code {process.poll()}, stderr:\n{stderr.read()}"
                )
            yield found.group(1)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=SHUTDOWN_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=SHUTDOWN_TIMEOUT)
            reader.join(timeout=SHUTDOWN_TIMEOUT)
            process.stdout.close()


# --- the official SDK, live and in-process ---------------------------------------------------
#
# Every test that takes ``target`` (or ``sdk_client`` / ``async_sdk_client``) runs twice: against
# a live server shared by the whole session, so every test uses its own Study Instance UIDs,
# and against an app in this process. See tests/sdk_targets.py.


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live mock accepting any non-empty key, shared by the session."""
    with live_server(log=tmp_path_factory.mktemp("live") / "stderr.log") as url:
        yield url


@pytest.fixture(scope="session")
def restricted_live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live mock started with ``--api-key good``, shared by the session."""
    with live_server(
        "--api-key", "good", log=tmp_path_factory.mktemp("restricted") / "stderr.log"
    ) as url:
        yield url


@pytest.fixture(scope="session")
def inprocess_app() -> Starlette:
    return create_app(Settings())


@pytest.fixture(scope="session")
def restricted_inprocess_app() -> Starlette:
    return create_app(Settings(api_keys=("good",)))


@pytest.fixture(params=["live", "inprocess"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "live":
        return Target("live", request.getfixturevalue("live_url"))
    return Target("inprocess", INPROCESS_URL, request.getfixturevalue("inprocess_app"))


@pytest.fixture(params=["live", "inprocess"])
def restricted_target(request: pytest.FixtureRequest) -> Target:
    if request.param == "live":
        return Target("live", request.getfixturevalue("restricted_live_url"))
    return Target("inprocess", INPROCESS_URL, request.getfixturevalue("restricted_inprocess_app"))


@pytest.fixture
def inprocess_target(inprocess_app: Starlette) -> Target:
    return Target("inprocess", INPROCESS_URL, inprocess_app)


@pytest.fixture
def sdk_client(target: Target) -> Iterator[Avara]:
    with target.client() as sdk:
        yield sdk


@pytest.fixture
async def async_sdk_client(target: Target) -> AsyncIterator[AsyncAvara]:
    async with target.async_client() as sdk:
        yield sdk


@pytest.fixture
def no_avara_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs (in-process and subprocesses) start without the developer's AVARA_* vars."""
    for name in [name for name in os.environ if name.startswith("AVARA_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, built once a session."""
    from tests.wheels import build_wheel

    return build_wheel(tmp_path_factory.mktemp("dist"))
