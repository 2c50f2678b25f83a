"""How the pytest plugin's tests (tests/test_pytest_plugin_*.py) run a downstream project.

Every plugin test writes a downstream-style test file with ``pytester``, runs it (in this process
when nothing leaks, in a subprocess when the environment or the interpreter must be fresh) and
checks its outcomes. The inner tests assert on what the plugin gives them, so a broken plugin
fails them. Each plugin test module clears the outer environment of ``AVARA_*`` variables first
(its autouse ``_no_avara_environment``): the inner runs see only what a test sets.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

# pytester restores sys.modules after every in-process run: imported once here, these heavy
# modules are kept, so each inner run does not import (and assertion-rewrite) them again.
SHARED_MODULES = [
    importlib.import_module(name)
    for name in (
        "avara",
        "faker",
        "hypothesis.internal.observability",
        "mockserver.app",
        "mockserver.plugin.factories",
        "mockserver.plugin.intercept",
        "mockserver.plugin.live",
        "contract_tests.create.strategies",
    )
]
# pytest-asyncio warns (an error under ``-W error``) when a project leaves this option unset.
INNER_OPTIONS = (
    "-p",
    "anyio",
    "--strict-markers",
    "-W",
    "error",
    "-p",
    "no:cacheprovider",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)
SUBPROCESS_TIMEOUT = 120.0
CLOSED_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest in this process (fast; pytester restores sys.modules afterwards)."""
    return pytester.runpytest(*INNER_OPTIONS, *args)


def run_isolated(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest as ``python -m pytest`` in a fresh interpreter, with this environment."""
    return pytester.runpytest_subprocess(*INNER_OPTIONS, *args, timeout=SUBPROCESS_TIMEOUT)


def records(path: Path) -> dict[str, Any]:
    """What inner tests wrote with ``record(name, value)``: one JSON pair a line."""
    pairs = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return dict(pairs)


RECORDER = """
import json
import os
from pathlib import Path


def record(name, value):
    with Path(os.environ["AVARA_TEST_RECORD"]).open("a", encoding="utf-8") as out:
        out.write(json.dumps([name, value]) + "\\n")
"""


# An inner conftest: ``local_server``, an HTTP server on 127.0.0.1 and a free port that nobody
# mocks, answering every GET with ``local``; ``paths`` lists what reached it. Stopped after each
# test.
LOCAL_SERVER = """
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        body = b"local"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.paths = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
"""
