"""The servers under test: starting and stopping them, readiness, CPU pinning and RSS.

The mock is started exactly as ``make serve`` starts it (``avara-mock serve``, the default log
level, so its access log is on), so what is measured is what users run; the baseline is
bench/bare_app.py, served the same way. Each server runs in its own process group and is
ready when it has answered a create with a 2xx.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.errors import BenchError

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = ROOT / "bench" / "bare_app.py"
HOST = "127.0.0.1"
PATH = "/v1/viewer/studies"
HEADERS = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}
START_TIMEOUT_S = 30.0
POLL_S = 0.005
STOP_TIMEOUT_S = 5.0
MIB = 1024 * 1024

ArgvForPort = Callable[[int], list[str]]


def mock_command() -> Path:
    """The ``avara-mock`` entry point beside this interpreter (``make bench`` installs it)."""
    command = Path(sys.executable).parent / "avara-mock"
    if not command.exists():
        raise BenchError(f"no {command}: install the project first (make bench does)")
    return command


def mock_argv(port: int) -> list[str]:
    """The mock's command line, as ``make serve`` runs it: ``avara-mock serve``, default log."""
    return [str(mock_command()), "serve", "--host", HOST, "--port", str(port)]


def module_argv(port: int) -> list[str]:
    """``python -m mockserver serve``: the same server without the ``avara-mock`` entry point."""
    return [sys.executable, "-m", "mockserver", "serve", "--host", HOST, "--port", str(port)]


def bare_argv(port: int) -> list[str]:
    """The baseline's command line (bench/bare_app.py mirrors ``avara-mock serve``)."""
    return [sys.executable, str(BARE_APP), "--host", HOST, "--port", str(port)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Pinning:
    """Command prefixes that put the server and wrk on separate CPUs (empty if impossible)."""

    server: tuple[str, ...]
    wrk: tuple[str, ...]
    note: str


def pinning() -> Pinning:
    """The server on the first allowed CPU, wrk on the second, if there are two and taskset."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Pinning((), (), "not pinned (needs taskset and 2 CPUs): numbers are rougher")
    server, load = cpus[0], cpus[1]
    return Pinning(
        ("taskset", "-c", str(server)),
        ("taskset", "-c", str(load)),
        f"server on CPU {server}, wrk on CPU {load}",
    )


@dataclass(frozen=True)
class Server:
    """A started server: its process (own process group), command, port and output."""

    process: subprocess.Popen[bytes]
    command: str
    port: int
    log: IO[bytes]

    @property
    def url(self) -> str:
        """The studies collection's URL (create, list)."""
        return f"http://{HOST}:{self.port}{PATH}"

    def check_alive(self, doing: str) -> None:
        """A BenchError with the server's output if it has exited."""
        code = self.process.poll()
        if code is not None:
            raise BenchError(f"{self.command} exited ({code}) {doing}:\n{self.output()}")

    def output(self) -> str:
        """The end of what the server printed so far (its access log can be long)."""
        end = self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, end - 4000))
        return self.log.read().decode(errors="replace")

    def rss_mib(self) -> float:
        """The resident set size now (VmRSS), in MiB."""
        return self._status_mib("VmRSS")

    def peak_rss_mib(self) -> float:
        """The peak resident set size so far (VmHWM), in MiB."""
        return self._status_mib("VmHWM")

    def cpu_s(self) -> float:
        """CPU time the server has used so far (user + system), in seconds.

        Steadier than throughput on a shared machine: time the server waits for a CPU, while
        another process runs, is not counted.
        """
        self.check_alive("before its CPU time was read")
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _status_mib(self, field: str) -> float:
        """A ``kB`` field of the live process's /proc status, in MiB.

        taskset execs the server, so the process's pid is the server's.
        """
        self.check_alive(f"before its {field} was read")
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise BenchError(f"no {field} in /proc/{self.process.pid}/status:\n{status}")
        return int(match.group(1)) * 1024 / MIB

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            self.process.wait()


@contextmanager
def running(argv: Sequence[str], port: int) -> Iterator[Server]:
    """A server started in its own process group, stopped on leaving the block."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(process, shlex.join(argv), port, log)
        try:
            yield server
        finally:
            server.stop()


def create_body(uid: str) -> bytes:
    """A valid create request for ``uid``."""
    request = {
        "severity": "high",
        "studyDescription": "CT Chest",
        "studyInstanceUid": uid,
        "metadata": {"site": "north"},
    }
    return json.dumps(request).encode()


def post_create(port: int, uid: str, timeout: float) -> tuple[int, bytes] | None:
    """Status and body of one create, or None while nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("POST", PATH, create_body(uid), HEADERS)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_for_create(server: Server, started: float) -> float:
    """Seconds from ``started`` to the server's first 2xx create; BenchError if none comes."""
    deadline = started + START_TIMEOUT_S
    attempt = 0
    while (now := time.perf_counter()) < deadline:
        server.check_alive("before answering")
        attempt += 1
        answer = post_create(server.port, f"1.2.840.113619.2.99.{attempt}", deadline - now)
        if answer is not None:
            status, body = answer
            if 200 <= status < 300:
                return time.perf_counter() - started
            raise BenchError(f"{server.command} answered {status} to a create: {body[:500]!r}")
        time.sleep(POLL_S)
    raise BenchError(
        f"{server.command} did not answer within {START_TIMEOUT_S:.0f} s:\n{server.output()}"
    )
