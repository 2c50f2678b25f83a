"""Benchmark of the durable mock (``make bench``): ``serve --state FILE``, one and two workers.

Five measurements, each a ratio taken within a round (the machine is noisy, see
bench/rounds.py), reported as the median of the rounds with their range:

* create with ``--state`` / the bare app (bench/bare_app.py): fresh servers and a fresh
  state file on disk (/tmp) each round; server on CPU 0, wrk on CPU 1 (bench/servers.py's
  pinning). Every create is committed to the file before its answer. Target >= 0.40.
* create with ``--state`` / the mock in memory, side by side (bench/together.py): both fresh
  each round, both on CPU 0 at the same time, each loaded by its own wrk on CPU 1. What
  durability itself costs, steady within about 0.02 where the ratio to the bare app, taken
  seconds apart, drifts by a quarter. Reported, no target.
* list (``?limit=20``) p99 with 1M stored studies over its p99 with 10k, both ``--state``,
  both servers up for all the rounds (server CPU 0, wrk CPU 1). The files are filled through
  the store's own create code in-process (bench/state_fill.py: RAM disk, then copied to
  /tmp), not over HTTP. Target <= 2.
* RSS of one ``--state`` server after ``--rss-studies`` creates over HTTP (wrk, 1M by
  default: several minutes) over its RSS after ``--small-studies``: flat memory means the
  file, not the process, holds the studies. Target: within 20% (ratio <= 1.20).
* create with ``--workers 2`` / ``--workers 1``, both ``--state``, fresh each round. On two
  CPUs the server may use both (``taskset -c 0,1``) in both runs, wrk is pinned on CPU 1: a
  second worker can use CPU 0's spare time and overlap its commits with the first's, while
  wrk (C, a small share of a core) takes part of CPU 1. Reported, no target.

Writes bench/results/durable.json. Missing a target exits 0 (this reports); a failed run
exits 1, a missing wrk 2. Run: ``python bench/durable.py [--rounds 3] [--duration 4]
[--studies 1000000] [--small-studies 10000] [--rss-studies 1000000]`` (0 skips the RSS run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

# Run as a script, only bench/ itself is on sys.path; the bench package needs its parent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.errors import BenchError
from bench.rounds import Pair, Run, load_round, measure, start
from bench.servers import (
    ArgvForPort,
    Pinning,
    bare_argv,
    free_port,
    mock_argv,
    pinning,
    running,
    wait_for_create,
)
from bench.state_fill import fill_state_file
from bench.together import together_round
from bench.wrk import CREATE, LIST, WrkRun, check_answers, fill, run_wrk, run_wrk_until_filled

RESULTS = Path(__file__).resolve().parent / "results" / "durable.json"
TARGET_CREATE_RATIO = 0.40
TARGET_LIST_P99_GROWTH = 2.0
TARGET_RSS_GROWTH = 1.20
FILL_RATE_FLOOR = 500
"""Creates per second below which an HTTP fill is taken to have stalled (bounds its time)."""
IN_FLIGHT = 64
"""More than wrk's connections: UIDs sent but not yet answered when a fill stopped."""
BOTH_CPUS = ("taskset", "-c", "0,1")
FILES = itertools.count(1)


def with_state(folder: Path, workers: int = 1) -> ArgvForPort:
    """``avara-mock serve`` on a new state file in ``folder`` each time it is called."""

    def argv(port: int) -> list[str]:
        extra = ["--state", str(folder / f"world-{workers}-{next(FILES)}.db")]
        if workers > 1:
            extra += ["--workers", str(workers)]
        return [*mock_argv(port), *extra]

    return argv


def on_file(state: Path) -> ArgvForPort:
    """``avara-mock serve --state`` on the given file."""

    def argv(port: int) -> list[str]:
        return [*mock_argv(port), "--state", str(state)]

    return argv


def spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "per_round": list(values),
    }


def create_rounds(rounds: int, duration: int, pins: Pinning, folder: Path) -> list[Pair]:
    """Bare app then the mock with a fresh state file, ``rounds`` times."""
    pairs = []
    for number in range(1, rounds + 1):
        print(f"create --state round {number}/{rounds} ({duration} s each)", flush=True)
        bare = load_round("bare", bare_argv, duration, pins)
        mock = load_round("mock --state", with_state(folder), duration, pins)
        pair = Pair(bare, mock)
        print(f"  mock --state/bare throughput {pair.throughput_ratio:.2f}", flush=True)
        pairs.append(pair)
    return pairs


def cost_rounds(rounds: int, duration: int, pins: Pinning, folder: Path) -> dict[str, Any]:
    """Creates answered by ``--state`` over those answered in memory, side by side."""
    ratios: list[float] = []
    runs: list[dict[str, Any]] = []
    for number in range(1, rounds + 1):
        print(f"create --state beside in memory, round {number}/{rounds}", flush=True)
        memory, state = together_round([mock_argv, with_state(folder)], duration, pins)
        ratios.append(state.run.requests / max(memory.run.requests, 1))
        print(
            f"  in memory {memory.run.requests} creates ({memory.cpu_us:.0f} us CPU each), "
            f"--state {state.run.requests} ({state.cpu_us:.0f} us): ratio {ratios[-1]:.2f}",
            flush=True,
        )
        runs.append({"memory": asdict(memory), "state": asdict(state)})
    return {"throughput_ratio": spread(ratios), "runs": runs}


def list_rounds(
    rounds: int, duration: int, pins: Pinning, folder: Path, sizes: tuple[int, int]
) -> dict[str, Any]:
    """List p99 on a state file of ``sizes[1]`` studies over one of ``sizes[0]``."""
    files: dict[int, Path] = {}
    fills: dict[str, float] = {}
    for count in sizes:
        files[count] = folder / f"filled-{count}.db"
        print(f"filling a state file with {count} studies (in-process, RAM disk)", flush=True)
        seconds = fill_state_file(files[count], count)
        fills[str(count)] = seconds
        size = files[count].stat().st_size / 1024 / 1024
        print(f"  {count / seconds:.0f} creates/s, {seconds:.0f} s, {size:.0f} MiB", flush=True)
    growth: list[float] = []
    runs: list[dict[str, Any]] = []
    with ExitStack() as stack:
        servers = {count: start(stack, on_file(files[count]), pins) for count in sizes}
        for number in range(1, rounds + 1):
            print(f"list round {number}/{rounds} ({duration} s each)", flush=True)
            done = {
                count: measure(f"mock --state {count}", servers[count], LIST, duration, pins)
                for count in sizes
            }
            small, large = (done[count] for count in sizes)
            growth.append(large.wrk.p99_ms / small.wrk.p99_ms)
            print(f"  list p99 {sizes[1]}/{sizes[0]} studies: {growth[-1]:.2f}", flush=True)
            runs.append({str(count): asdict(run.wrk) for count, run in done.items()})
    return {"fill_s": fills, "p99_growth": spread(growth), "runs": runs}


def rss_run(sizes: tuple[int, int], pins: Pinning, folder: Path) -> dict[str, Any]:
    """RSS of one fresh ``--state`` server after ``sizes[0]`` creates over HTTP, then after
    ``sizes[1]`` (filled on, UIDs going on past the first fill's)."""
    port = free_port()
    readings: dict[str, float] = {}
    fills: dict[str, float] = {}
    with running([*pins.server, *with_state(folder)(port)], port) as server:
        wait_for_create(server, time.perf_counter())
        created = after = 0
        for count in sizes:
            print(f"RSS: filling a --state server to {count} studies over HTTP", flush=True)
            started = time.perf_counter()
            bound = max(10, count // FILL_RATE_FLOOR)
            run = run_wrk_until_filled(server.url, fill(count - created, after), bound, pins.wrk)
            check_answers("fill", run)
            server.check_alive("while being filled")
            created += run.requests - run.non_2xx
            after += run.requests + IN_FLIGHT
            fills[str(count)] = time.perf_counter() - started
            readings[str(count)] = server.rss_mib()
            print(f"  RSS {readings[str(count)]:.1f} MiB after {created} creates", flush=True)
    small, large = (readings[str(count)] for count in sizes)
    return {"rss_mib": readings, "fill_s": fills, "growth": large / small}


def workers_run(argv_for: ArgvForPort, duration: int, wrk_pin: Sequence[str]) -> WrkRun:
    """A fresh ``--state`` server on both CPUs, loaded with creates by wrk on ``wrk_pin``."""
    port = free_port()
    with running([*BOTH_CPUS, *argv_for(port)], port) as server:
        wait_for_create(server, time.perf_counter())
        run = run_wrk(server.url, CREATE, duration, wrk_pin)
        server.check_alive("under load")
    check_answers("workers create", run)
    return run


def worker_rounds(rounds: int, duration: int, pins: Pinning, folder: Path) -> dict[str, Any]:
    """Create throughput of ``--workers 2`` over ``--workers 1``, fresh each round."""
    if not pins.wrk:
        raise BenchError("--workers 2 vs 1 needs taskset and two CPUs")
    ratios: list[float] = []
    runs: list[dict[str, Any]] = []
    one, two = with_state(folder, 1), with_state(folder, 2)
    for number in range(1, rounds + 1):
        print(f"workers round {number}/{rounds} ({duration} s each)", flush=True)
        first = workers_run(one, duration, pins.wrk)
        second = workers_run(two, duration, pins.wrk)
        ratios.append(second.requests_per_s / first.requests_per_s)
        print(
            f"  create --workers 1 {first.requests_per_s:.0f} req/s (p99 {first.p99_ms:.1f} ms), "
            f"--workers 2 {second.requests_per_s:.0f} req/s (p99 {second.p99_ms:.1f} ms): "
            f"ratio {ratios[-1]:.2f}",
            flush=True,
        )
        runs.append({"workers_1": asdict(first), "workers_2": asdict(second)})
    return {"throughput_ratio": spread(ratios), "runs": runs}


def create_json(pairs: Sequence[Pair]) -> dict[str, Any]:
    return {
        "throughput_ratio": spread([pair.throughput_ratio for pair in pairs]),
        "p99_ratio": spread([pair.p99_ratio for pair in pairs]),
        "bare": [asdict(pair.bare.wrk) for pair in pairs],
        "mock": [asdict(pair.mock.wrk) for pair in pairs],
        "mock_cpu_us_per_request": [
            Run(p.mock.wrk, p.mock.cpu_s).cpu_us_per_request for p in pairs
        ],
    }


def table(results: dict[str, Any]) -> str:
    create = results["create_state"]["throughput_ratio"]
    cost = results["durability"]["throughput_ratio"]
    growth = results["list_state"]["p99_growth"]
    workers = results["workers"]["throughput_ratio"]
    sizes = results["settings"]["studies"]

    def text(value: dict[str, Any]) -> str:
        return f"{value['median']:.2f} (rounds {value['min']:.2f}-{value['max']:.2f})"

    def verdict(met: bool) -> str:
        return "ok" if met else "MISSED"

    return "\n".join(
        [
            f"durable ({results['pinning']}):",
            f"  create --state / bare throughput: {text(create)}; target >= "
            f"{TARGET_CREATE_RATIO:.2f} {verdict(create['median'] >= TARGET_CREATE_RATIO)}",
            f"  create --state / in memory, side by side on CPU 0: {text(cost)} "
            "(what durability costs)",
            f"  list (limit 20) --state p99 {sizes[1]} / {sizes[0]} studies: {text(growth)}; "
            f"target <= {TARGET_LIST_P99_GROWTH:.1f} "
            f"{verdict(growth['median'] <= TARGET_LIST_P99_GROWTH)}",
            f"  create --workers 2 / --workers 1 throughput: {text(workers)} "
            f"(servers on CPUs 0-1, wrk on CPU 1)",
            *rss_lines(results["rss_state"], verdict),
        ]
    )


def rss_lines(rss: dict[str, Any] | None, verdict: Callable[[bool], str]) -> list[str]:
    """The RSS run's line of the table, if it ran."""
    if rss is None:
        return []
    (small, small_mib), (large, large_mib) = rss["rss_mib"].items()
    return [
        f"  --state RSS after {large} / after {small} creates over HTTP: {rss['growth']:.2f} "
        f"({large_mib:.1f} / {small_mib:.1f} MiB); target <= {TARGET_RSS_GROWTH:.2f} "
        f"{verdict(rss['growth'] <= TARGET_RSS_GROWTH)}"
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (3)")
    parser.add_argument("--duration", type=int, default=4, help="seconds per run (4)")
    parser.add_argument("--studies", type=int, default=1_000_000, help="large file (1000000)")
    parser.add_argument("--small-studies", type=int, default=10_000, help="small file (10000)")
    parser.add_argument(
        "--rss-studies", type=int, default=1_000_000, help="creates of the RSS run (1000000)"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("install wrk: apt-get install wrk", file=sys.stderr)
        return 2
    pins = pinning()
    sizes = (args.small_studies, args.studies)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-durable-") as name:
            folder = Path(name)
            pairs = create_rounds(args.rounds, args.duration, pins, folder)
            cost = cost_rounds(args.rounds, args.duration, pins, folder)
            listing = list_rounds(args.rounds, args.duration, pins, folder, sizes)
            workers = worker_rounds(args.rounds, args.duration, pins, folder)
            rss = (
                rss_run((args.small_studies, args.rss_studies), pins, folder)
                if args.rss_studies
                else None
            )
    except BenchError as error:
        print(f"bench FAILED: {error}", file=sys.stderr)
        return 1
    results = {
        "pinning": pins.note,
        "settings": {"rounds": args.rounds, "duration_s": args.duration, "studies": sizes},
        "create_state": create_json(pairs),
        "durability": cost,
        "list_state": listing,
        "workers": workers,
        "rss_state": rss,
    }
    print()
    print(table(results))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
