"""Running wrk against a server and reading its report.

wrk loads the server with one kind of call (a Load: a lua script of bench/ and its
arguments), one thread and 32 connections. Its ``--latency`` report is parsed into a
WrkRun; a run with more than 1% of failed requests is refused, since it would not measure
the call it names.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

BENCH = Path(__file__).resolve().parent
THREADS = 1
CONNECTIONS = 32
MAX_FAILED_SHARE = 0.01
LIST_QUERY = "?limit=20"
FILLED = "filled"


@dataclass(frozen=True)
class Load:
    """One kind of call: its name, wrk's script (a file of bench/), the script's arguments,
    and what follows the collection's URL (a query, for the list)."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    suffix: str = ""


CREATE = Load("create", "post.lua")
LIST = Load("list", "list.lua", suffix=LIST_QUERY)


def fill(count: int, after: int = 0) -> Load:
    """Creates until ``count`` were answered (post.lua stops there); their UIDs' counter
    starts past ``after``, so a fill can go on where another stopped."""
    return Load("fill", "post.lua", (str(count), str(after)))


def retrieve(ids: Path) -> Load:
    """Retrieves of the studies listed in ``ids``, one id a line."""
    return Load("retrieve", "by_id.lua", ("GET", str(ids)))


def update(ids: Path) -> Load:
    """Updates of the studies listed in ``ids``."""
    return Load("update", "by_id.lua", ("PATCH", str(ids)))


TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
WRK_TIME = r"([\d.]+)(us|ms|s|m|h)"


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
            f"the numbers would not measure the call"
        )


def wrk_argv(url: str, load: Load, duration: int, pin: Sequence[str]) -> list[str]:
    """wrk's command line for ``load`` at the collection ``url``, prefixed by ``pin``."""
    argv = [
        *pin,
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(BENCH / load.script),
        url + load.suffix,
    ]
    return [*argv, "--", *load.args] if load.args else argv


def run_wrk(url: str, load: Load, duration: int, pin: Sequence[str]) -> WrkRun:
    """Send ``load`` to the collection at ``url`` for ``duration`` seconds."""
    argv = wrk_argv(url, load, duration, pin)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout)


def run_wrk_until_filled(url: str, load: Load, bound: int, pin: Sequence[str]) -> WrkRun:
    """Send ``load`` until its script prints ``filled`` (then interrupt wrk, which reports
    what it did so far), or for ``bound`` seconds at most."""
    argv = wrk_argv(url, load, bound, pin)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrk:
        if wrk.stdout is None or wrk.stderr is None:
            raise BenchError("wrk's output is not piped")
        lines: list[str] = []
        for line in wrk.stdout:
            if line.strip() == FILLED:
                wrk.send_signal(signal.SIGINT)
                continue
            lines.append(line)
        code = wrk.wait(timeout=60)
        if code != 0:
            raise BenchError(f"wrk failed ({code}): {wrk.stderr.read()}{''.join(lines)}")
    return parse_wrk("".join(lines))


def wrk_version() -> str:
    """wrk's version line (``wrk --version`` prints it, then its usage)."""
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip()
