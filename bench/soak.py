"""Soak (``make soak``): minutes of mixed load on ``serve --state FILE --workers 2``, watched.

The mock runs as users would run it durably: a fresh state file, two workers, log level
warning (a soak's access log would be hundreds of MiB). tests/load.py's clients (threads of
this process, 32 by default) send the mixed workload (create, retrieve, list walks, update,
cancel, contested UIDs) for ``--minutes``; every ``--every`` seconds a line gives each
worker's RSS and open files, and the p99 latency and rate of the answers of that interval.
Nothing is pinned: the two workers and the clients share the machine's CPUs, as they would
on a developer's machine. At the end tests/load_checks.py checks every invariant on the
server (nothing lost or duplicated, every acknowledged write readable, list total =
acknowledged creates, no 5xx) and the RSS of each worker at the start and the end is shown.
Exit 1 if a check failed or the server died, 0 otherwise.

Run: ``python bench/soak.py [--minutes 10] [--clients 32] [--every 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Run as a script, only bench/ itself is on sys.path; the bench package needs its parent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.errors import BenchError
from bench.servers import HOST, MIB, Server, free_port, module_argv, running, wait_for_create
from tests.load import Budget, Ledger, run_load
from tests.load_checks import check

WORKERS = 2
KIB = 1024


@dataclass(frozen=True)
class Sample:
    """One worker at one instant: its pid, RSS and open file descriptors."""

    pid: int
    rss_mib: float
    files: int


def workers_of(server: Server) -> list[int]:
    """The worker processes: the supervisor's children, but multiprocessing's helpers."""
    pid = server.process.pid
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        children.extend(int(word) for word in text.split())
    return sorted(child for child in children if is_worker(child))


def is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in command and b"semaphore_tracker" not in command


def sample(pid: int) -> Sample | None:
    """The worker's RSS (VmRSS) and open files now; None if it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        files = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return Sample(pid, kib * KIB / MIB, files)


def p99_ms(latencies: list[float]) -> float:
    """The 99th percentile of an interval's answers, in milliseconds (0 without answers)."""
    if len(latencies) < 2:
        return 0.0
    return statistics.quantiles(latencies, n=100)[98] * 1000


def line(
    elapsed: float, interval: float, samples: list[Sample], latencies: list[float], ledger: Ledger
) -> str:
    """One line of progress: ``latencies`` are the answers of the last ``interval`` seconds."""
    workers = ", ".join(f"pid {s.pid} RSS {s.rss_mib:.1f} MiB files {s.files}" for s in samples)
    rate = len(latencies) / max(interval, 1e-9)
    with ledger.lock:
        counts = dict(ledger.counts)
        studies = len(ledger.studies)
    return (
        f"{elapsed:6.0f} s  {workers}; p99 {p99_ms(latencies):6.1f} ms, {rate:5.0f} answers/s; "
        f"{studies} studies; 5xx {counts.get('5xx', 0)}, shed {counts.get('shed', 0)}, "
        f"problems {counts.get('problem', 0)}"
    )


def soak(minutes: float, clients: int, every: float) -> int:
    """Run the soak; 0 if every check passed."""
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        state = str(Path(folder) / "world.db")
        port = free_port()
        argv = [*module_argv(port), "--state", state, "--workers", str(WORKERS)]
        argv += ["--log-level", "warning"]
        with running(argv, port) as server:
            wait_for_create(server, time.perf_counter())
            url = f"http://{HOST}:{port}"
            print(f"soak: {minutes:g} min, {clients} clients, {' '.join(argv[1:])}", flush=True)
            ledger = Ledger()
            budget = Budget(None, minutes * 60)
            load = threading.Thread(
                target=run_load,
                args=(url,),
                kwargs={"clients": clients, "ledger": ledger, "budget": budget, "seed": 1},
            )
            started = time.monotonic()
            load.start()
            first = [s for pid in workers_of(server) if (s := sample(pid)) is not None]
            print(line(0.0, 0.0, first, [], ledger), flush=True)
            last, previous = first, 0.0
            while load.is_alive():
                load.join(timeout=every)
                server.check_alive("under the soak")
                last = [s for pid in workers_of(server) if (s := sample(pid)) is not None]
                elapsed = time.monotonic() - started
                taken = ledger.take_latencies()
                print(line(elapsed, elapsed - previous, last, taken, ledger), flush=True)
                previous = elapsed
            print("checking every invariant on the server", flush=True)
            checked = time.monotonic()
            verdict = check(url, ledger)
            print(f"checked in {time.monotonic() - checked:.0f} s", flush=True)
            server.check_alive("after the soak")
    before_of = {s.pid: s for s in first}
    for after in last:
        before = before_of.get(after.pid, after)
        print(
            f"worker {after.pid}: RSS {before.rss_mib:.1f} -> {after.rss_mib:.1f} MiB, "
            f"open files {before.files} -> {after.files}"
        )
    print(verdict.summary())
    return 1 if verdict.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (10)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between lines (30)")
    args = parser.parse_args(argv)
    try:
        return soak(args.minutes, args.clients, args.every)
    except BenchError as error:
        print(f"soak FAILED: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
