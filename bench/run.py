"""Benchmark of avara-mock's hot path, POST /v1/viewer/studies (``make bench``).

Why it is built this way:

* Absolute numbers mean little on a shared machine, so throughput and latency are compared
  with a baseline measured in the same run: bench/bare_app.py, a bare Starlette app served
  with the mock's server settings. The ratio says what the mock's own work costs.
* The machine is noisy, so the two alternate (bare, mock, bare, mock, ...) for several
  rounds, each with fresh servers, and medians are reported.
* The server runs on one CPU and wrk on the other, so they do not compete for a core.
* The mock is started with its real command line (``python -m mockserver serve``), so what is
  measured is what users run.
* Every request creates a new study (bench/post.lua makes each UID unique); a run with more
  than 1% of failed requests is a failed run, not a result.

It also measures start-up (spawn to the first 2xx create) and the mock's peak RSS under load,
prints a table against the targets, and writes bench/results/latest.json. Missing a target
exits 0 (this reports, it does not test); a run that failed exits 1, a missing wrk exits 2.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "post.lua"
RESULTS = BENCH / "results" / "latest.json"
HOST = "127.0.0.1"
PATH = "/v1/viewer/studies"
HEADERS = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}
CONNECTIONS = 32
MAX_FAILED_SHARE = 0.01
START_TIMEOUT_S = 30.0
POLL_S = 0.005
STOP_TIMEOUT_S = 5.0
MIB = 1024 * 1024

TARGET_THROUGHPUT_RATIO = 0.60
TARGET_P99_RATIO = 2.0
TARGET_STARTUP_S = 0.3
TARGET_RSS_MIB = 60.0

TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
WRK_TIME = r"([\d.]+)(us|ms|s|m|h)"

ArgvForPort = Callable[[int], list[str]]


class BenchError(Exception):
    """A run that failed: a server did not start or died, wrk failed, too many errors."""


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported."""

    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


@dataclass(frozen=True)
class Round:
    """One server's load run: wrk's report and the server's peak RSS (VmHWM)."""

    wrk: WrkRun
    peak_rss_mib: float


@dataclass(frozen=True)
class LoadSummary:
    """Medians over the rounds of one server."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Pinning:
    """Command prefixes that put the server and wrk on separate CPUs (empty if impossible)."""

    server: tuple[str, ...]
    wrk: tuple[str, ...]
    note: str


# ---------------------------------------------------------------------------- wrk output


def to_ms(value: str, unit: str) -> float:
    """A wrk duration ("812.34us", "1.20ms", "5.00s") in milliseconds."""
    return float(value) * TIME_UNITS_MS[unit]


def find(pattern: str, text: str) -> re.Match[str]:
    """The first match of ``pattern`` in wrk's output; a BenchError quoting it if none."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise BenchError(f"cannot find {pattern!r} in wrk's output:\n{text}")
    return match


def parse_wrk(text: str) -> WrkRun:
    """Requests, req/s, p50, p99, non-2xx and socket errors from ``wrk --latency`` output."""
    total = find(rf"(\d+) requests in {WRK_TIME}", text)
    p50 = find(rf"^\s*50%\s+{WRK_TIME}", text)
    p99 = find(rf"^\s*99%\s+{WRK_TIME}", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return WrkRun(
        requests=int(total.group(1)),
        seconds=to_ms(total.group(2), total.group(3)) / 1000.0,
        requests_per_s=float(find(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        p50_ms=to_ms(p50.group(1), p50.group(2)),
        p99_ms=to_ms(p99.group(1), p99.group(2)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def check_answers(name: str, run: WrkRun) -> None:
    """Refuse a run where more than 1% of the requests failed (non-2xx or socket errors)."""
    failed = run.non_2xx + run.socket_errors
    if run.requests == 0 or failed > MAX_FAILED_SHARE * run.requests:
        raise BenchError(
            f"{name}: {run.non_2xx} non-2xx answers and {run.socket_errors} socket errors "
            f"in {run.requests} requests (at most {MAX_FAILED_SHARE:.0%} may fail); "
            "the numbers would not measure creates"
        )


def run_wrk(port: int, duration: int, pin: Sequence[str]) -> WrkRun:
    """Load ``port`` with creates for ``duration`` seconds: one wrk thread, 32 connections."""
    argv = [
        *pin,
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}{PATH}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout)


def wrk_version() -> str:
    """wrk's version line (``wrk --version`` prints it, then its usage)."""
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip()


# ------------------------------------------------------------------------------- servers


def mock_argv(port: int) -> list[str]:
    """The mock's real command line."""
    serve = ["-m", "mockserver", "serve", "--log-level", "warning"]
    return [sys.executable, *serve, "--host", HOST, "--port", str(port)]


def bare_argv(port: int) -> list[str]:
    """The baseline's command line (bench/bare_app.py mirrors ``avara-mock serve``)."""
    return [sys.executable, str(BENCH / "bare_app.py"), "--host", HOST, "--port", str(port)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A started server: its process (own process group), command, port and output."""

    process: subprocess.Popen[bytes]
    command: str
    port: int
    log: IO[bytes]

    def check_alive(self, doing: str) -> None:
        """A BenchError with the server's output if it has exited."""
        code = self.process.poll()
        if code is not None:
            raise BenchError(f"{self.command} exited ({code}) {doing}:\n{self.output()}")

    def output(self) -> str:
        """The end of what the server printed so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

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


def peak_rss_mib(pid: int) -> float:
    """A live process's peak resident set size (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kib = int(find(r"^VmHWM:\s+(\d+) kB", status).group(1))
    return kib * 1024 / MIB


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


# -------------------------------------------------------------------------- measurements


def load_round(argv_for: ArgvForPort, duration: int, pins: Pinning) -> Round:
    """Start a fresh server, load it with wrk, and read its peak RSS before stopping it.

    The readiness probe is a create, so whatever the first create loads lazily is loaded
    before wrk starts.
    """
    port = free_port()
    with running([*pins.server, *argv_for(port)], port) as server:
        wait_for_create(server, time.perf_counter())
        run = run_wrk(port, duration, pins.wrk)
        server.check_alive("under load")
        return Round(run, peak_rss_mib(server.process.pid))


def describe(name: str, done: Round) -> str:
    """One round's line of progress."""
    run = done.wrk
    return (
        f"  {name}: {run.requests_per_s:5.0f} req/s, p50 {run.p50_ms:5.2f} ms, "
        f"p99 {run.p99_ms:6.2f} ms, {run.requests} requests, non-2xx {run.non_2xx}, "
        f"socket errors {run.socket_errors}, peak RSS {done.peak_rss_mib:.0f} MiB"
    )


def load_rounds(rounds: int, duration: int, pins: Pinning) -> dict[str, list[Round]]:
    """Alternate bare and mock, fresh servers each time; the rounds of each, by name."""
    servers: dict[str, ArgvForPort] = {"bare": bare_argv, "mock": mock_argv}
    done: dict[str, list[Round]] = {name: [] for name in servers}
    for number in range(1, rounds + 1):
        print(f"round {number}/{rounds} ({duration} s each)", flush=True)
        for name, argv_for in servers.items():
            result = load_round(argv_for, duration, pins)
            print(describe(name, result), flush=True)
            check_answers(name, result.wrk)
            done[name].append(result)
    return done


def startups(count: int) -> list[float]:
    """Seconds from spawning the mock's command to its first 2xx create, ``count`` times."""
    times: list[float] = []
    for _ in range(count):
        port = free_port()
        started = time.perf_counter()
        with running(mock_argv(port), port) as server:
            times.append(wait_for_create(server, started))
    return times


def summarize(rounds: Sequence[Round]) -> LoadSummary:
    """Medians of req/s, p50 and p99 over rounds."""
    return LoadSummary(
        requests_per_s=statistics.median(done.wrk.requests_per_s for done in rounds),
        p50_ms=statistics.median(done.wrk.p50_ms for done in rounds),
        p99_ms=statistics.median(done.wrk.p99_ms for done in rounds),
    )


def as_json(rounds: Sequence[Round]) -> dict[str, Any]:
    """One server's medians and rounds, JSON-ready."""
    runs = [{**asdict(done.wrk), "peak_rss_mib": done.peak_rss_mib} for done in rounds]
    return {"median": asdict(summarize(rounds)), "runs": runs}


def peak_memory(rounds: Sequence[Round]) -> dict[str, Any]:
    """The highest peak RSS of the rounds, and about how many studies that server stored."""
    top = max(rounds, key=lambda done: done.peak_rss_mib)
    studies = top.wrk.requests - top.wrk.non_2xx + 1  # + 1: the readiness probe's study
    return {"mib": top.peak_rss_mib, "studies": studies}


# ------------------------------------------------------------------------------- report


def verdict(met: bool) -> str:
    """How a target line ends."""
    return "ok" if met else "MISSED"


def build_results(
    args: argparse.Namespace,
    pins: Pinning,
    rounds: dict[str, list[Round]],
    starts: list[float],
) -> dict[str, Any]:
    """Everything measured, as JSON-ready data."""
    bare, mock = summarize(rounds["bare"]), summarize(rounds["mock"])
    peak = peak_memory(rounds["mock"])
    ratios = {
        "throughput": mock.requests_per_s / bare.requests_per_s,
        "p99": mock.p99_ms / bare.p99_ms,
    }
    startup = statistics.median(starts)
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "wrk": wrk_version(),
        "pinning": pins.note,
        "settings": {"rounds": args.rounds, "duration_s": args.duration, "starts": args.starts},
        "load": {"wrk_threads": 1, "connections": CONNECTIONS},
        "bare": as_json(rounds["bare"]),
        "mock": as_json(rounds["mock"]),
        "ratios": ratios,
        "startup_s": {"median": startup, "runs": starts},
        "peak_rss": {**peak, "bare_mib": peak_memory(rounds["bare"])["mib"]},
        "targets": {
            "throughput_ratio_min": TARGET_THROUGHPUT_RATIO,
            "p99_ratio_max": TARGET_P99_RATIO,
            "startup_s_max": TARGET_STARTUP_S,
            "peak_rss_mib_max": TARGET_RSS_MIB,
        },
        "met": {
            "throughput": ratios["throughput"] >= TARGET_THROUGHPUT_RATIO,
            "p99": ratios["p99"] <= TARGET_P99_RATIO,
            "startup": startup <= TARGET_STARTUP_S,
            "peak_rss": peak["mib"] <= TARGET_RSS_MIB,
        },
    }


def table(results: dict[str, Any]) -> str:
    """The human summary of ``results``."""
    bare, mock = results["bare"]["median"], results["mock"]["median"]
    ratios, met, rss = results["ratios"], results["met"], results["peak_rss"]
    settings = results["settings"]
    return "\n".join(
        [
            f"medians of {settings['rounds']} rounds x {settings['duration_s']} s "
            f"({results['pinning']}; wrk -t1 -c{CONNECTIONS}):",
            f"create throughput: mock {mock['requests_per_s']:.0f} req/s, "
            f"bare {bare['requests_per_s']:.0f} req/s, ratio {ratios['throughput']:.2f} "
            f"(target >= {TARGET_THROUGHPUT_RATIO:.2f}) {verdict(met['throughput'])}",
            f"p50: mock {mock['p50_ms']:.1f} ms, bare {bare['p50_ms']:.1f} ms",
            f"p99: mock {mock['p99_ms']:.1f} ms, bare {bare['p99_ms']:.1f} ms, "
            f"ratio {ratios['p99']:.2f} (target <= {TARGET_P99_RATIO:.1f}) {verdict(met['p99'])}",
            f"start-up to first 2xx: {results['startup_s']['median']:.2f} s "
            f"(median of {settings['starts']}; target <= {TARGET_STARTUP_S} s) "
            f"{verdict(met['startup'])}",
            f"peak RSS under load: {rss['mib']:.0f} MiB with ~{rss['studies']} studies stored "
            f"(target <= {TARGET_RSS_MIB:.0f} MiB) {verdict(met['peak_rss'])}; "
            f"bare app {rss['bare_mib']:.0f} MiB",
        ]
    )


def write_results(results: dict[str, Any]) -> None:
    """Save ``results`` as bench/results/latest.json."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


# --------------------------------------------------------------------------------- main


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=positive, default=3, help="bare+mock rounds (3)")
    parser.add_argument("--duration", type=positive, default=5, help="seconds per run (5)")
    parser.add_argument("--starts", type=positive, default=5, help="start-ups to time (5)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, save the JSON; 1 if a run failed, 2 without wrk."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("install wrk: apt-get install wrk", file=sys.stderr)
        return 2
    pins = pinning()
    try:
        print(f"start-up: {args.starts} starts of the mock", flush=True)
        starts = startups(args.starts)
        rounds = load_rounds(args.rounds, args.duration, pins)
    except BenchError as error:
        print(f"bench FAILED: {error}", file=sys.stderr)
        return 1
    results = build_results(args, pins, rounds, starts)
    print()
    print(table(results))
    write_results(results)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
