"""The measurements: load rounds of the bare app and the mock, and the mock's start-ups.

A create round loads a fresh bare app, then a fresh mock, each for the same duration,
server on one CPU and wrk on the other. The machine is noisy (the bare app alone can vary
by a factor of two between rounds), so the mock is compared with the bare app of its own
round: the two ran seconds apart, under about the same noise, and their ratio is steadier
than either.

The calls on stored studies (retrieve, update, list) need a mock filled with many of them,
too slow to fill afresh each round: one bare app and two mocks, filled once with a small and
a large number of studies, stay up for all the rounds, and each round loads each call on
the bare app and then on the large mock, and the list on the small mock too.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.servers import (
    MIB,
    ArgvForPort,
    Pinning,
    Server,
    bare_argv,
    free_port,
    mock_argv,
    running,
    wait_for_create,
)
from bench.stored import Filled, fill_mock
from bench.wrk import CREATE, LIST, Load, WrkRun, check_answers, retrieve, run_wrk, update

STORED_CALLS = ("retrieve", "update", "list")


@dataclass(frozen=True)
class Run:
    """One wrk run on one server: wrk's report and the CPU time the server used meanwhile."""

    wrk: WrkRun
    cpu_s: float

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU time per answered request, in microseconds."""
        return self.cpu_s * 1e6 / max(self.wrk.requests, 1)


@dataclass(frozen=True)
class Round:
    """One server's create run: wrk's report, its CPU time, its RSS before and after it."""

    wrk: WrkRun
    cpu_s: float
    idle_rss_mib: float
    peak_rss_mib: float

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU time per answered request, in microseconds."""
        return Run(self.wrk, self.cpu_s).cpu_us_per_request

    @property
    def studies(self) -> int:
        """About how many studies the mock stored: its 2xx creates, the readiness probe's too.

        Meaningless for the bare app, which stores nothing.
        """
        return self.wrk.requests - self.wrk.non_2xx + 1

    @property
    def bytes_per_study(self) -> float:
        """What the load cost in memory per stored study: (peak - idle) / studies, in bytes."""
        return (self.peak_rss_mib - self.idle_rss_mib) * MIB / self.studies


@dataclass(frozen=True)
class Pair:
    """A round of both servers, the bare app's run first."""

    bare: Round
    mock: Round

    @property
    def throughput_ratio(self) -> float:
        """mock / bare requests per second in this round."""
        return self.mock.wrk.requests_per_s / self.bare.wrk.requests_per_s

    @property
    def p99_ratio(self) -> float:
        """mock / bare p99 latency in this round."""
        return self.mock.wrk.p99_ms / self.bare.wrk.p99_ms

    @property
    def cpu_ratio(self) -> float:
        """bare / mock CPU time per request in this round: the throughput ratio the two
        would have if each had its CPU to itself."""
        return self.bare.cpu_us_per_request / self.mock.cpu_us_per_request


def load_round(name: str, argv_for: ArgvForPort, duration: int, pins: Pinning) -> Round:
    """Start a fresh server, note its idle RSS, load it with wrk, note its peak RSS, stop it.

    The readiness probe is a create, so whatever the first create loads lazily is loaded
    (and counted in the idle RSS) before wrk starts.
    """
    port = free_port()
    with running([*pins.server, *argv_for(port)], port) as server:
        wait_for_create(server, time.perf_counter())
        idle = server.rss_mib()
        cpu = server.cpu_s()
        run = run_wrk(server.url, CREATE, duration, pins.wrk)
        server.check_alive("under load")
        done = Round(run, server.cpu_s() - cpu, idle, server.peak_rss_mib())
    print(describe(name, done), flush=True)
    check_answers(name, run)
    return done


def describe(name: str, done: Round) -> str:
    """One create run's line of progress."""
    return (
        f"  {name} create: {run_text(Run(done.wrk, done.cpu_s))}, "
        f"RSS {done.idle_rss_mib:.0f} MiB idle, "
        f"{done.peak_rss_mib:.0f} MiB peak"
    )


def load_rounds(rounds: int, duration: int, pins: Pinning) -> list[Pair]:
    """``rounds`` rounds of the bare app then the mock, each a fresh server."""
    pairs: list[Pair] = []
    for number in range(1, rounds + 1):
        print(f"create round {number}/{rounds} ({duration} s each)", flush=True)
        bare = load_round("bare", bare_argv, duration, pins)
        mock = load_round("mock", mock_argv, duration, pins)
        pair = Pair(bare, mock)
        print(
            f"  mock/bare: throughput {pair.throughput_ratio:.2f}, p99 {pair.p99_ratio:.2f}, "
            f"CPU {pair.cpu_ratio:.2f}; "
            f"mock {mock.bytes_per_study / 1024:.2f} KiB per stored study "
            f"(~{mock.studies} studies)",
            flush=True,
        )
        pairs.append(pair)
    return pairs


def startups(count: int, argv_for: ArgvForPort = mock_argv) -> list[float]:
    """Seconds from spawning a command (the mock's) to its first 2xx create, ``count`` times."""
    times: list[float] = []
    for _ in range(count):
        port = free_port()
        started = time.perf_counter()
        with running(argv_for(port), port) as server:
            times.append(wait_for_create(server, started))
    return times


@dataclass(frozen=True)
class StoredRound:
    """One round of the calls on stored studies: each call's run on the bare app and on the
    large mock, and the list's run on the small mock."""

    bare: dict[str, Run]
    mock: dict[str, Run]
    small_list: Run

    def throughput_ratio(self, call: str) -> float:
        """mock / bare requests per second of ``call`` in this round."""
        return self.mock[call].wrk.requests_per_s / self.bare[call].wrk.requests_per_s

    def p99_ratio(self, call: str) -> float:
        """mock / bare p99 latency of ``call`` in this round."""
        return self.mock[call].wrk.p99_ms / self.bare[call].wrk.p99_ms

    def cpu_ratio(self, call: str) -> float:
        """bare / mock CPU time per request of ``call`` in this round."""
        return self.bare[call].cpu_us_per_request / self.mock[call].cpu_us_per_request

    @property
    def list_p99_growth(self) -> float:
        """List p99 of the large mock over that of the small one, in this round."""
        return self.mock["list"].wrk.p99_ms / self.small_list.wrk.p99_ms


@dataclass(frozen=True)
class Stored:
    """The calls on stored studies: the two filled mocks and the rounds."""

    large: Filled
    small: Filled
    rounds: list[StoredRound]
    large_peak_rss_mib: float


def measure(name: str, server: Server, load: Load, duration: int, pins: Pinning) -> Run:
    """One wrk run of ``load`` on a running server, checked and reported."""
    cpu = server.cpu_s()
    run = run_wrk(server.url, load, duration, pins.wrk)
    server.check_alive(f"under {load.name} load")
    done = Run(run, server.cpu_s() - cpu)
    print(f"  {name} {load.name}: {run_text(done)}", flush=True)
    check_answers(f"{name} {load.name}", run)
    return done


def run_text(done: Run) -> str:
    """A run's numbers, for a line of progress."""
    run = done.wrk
    return (
        f"{run.requests_per_s:5.0f} req/s, p50 {run.p50_ms:5.2f} ms, p99 {run.p99_ms:6.2f} ms, "
        f"CPU {done.cpu_us_per_request:4.0f} us/request, {run.requests} requests, "
        f"non-2xx {run.non_2xx}, socket errors {run.socket_errors}"
    )


def start(stack: ExitStack, argv_for: ArgvForPort, pins: Pinning) -> Server:
    """A server started within ``stack`` and ready (it has answered a create)."""
    port = free_port()
    server = stack.enter_context(running([*pins.server, *argv_for(port)], port))
    wait_for_create(server, time.perf_counter())
    return server


def filled(server: Server, count: int, folder: Path, pins: Pinning) -> Filled:
    """``server`` filled with about ``count`` studies, reported."""
    print(f"filling a mock with {count} studies", flush=True)
    done = fill_mock(server, count, folder / f"ids-{count}.txt", pins)
    print(
        f"  {done.fill.requests} creates at {done.fill.requests_per_s:.0f}/s; "
        f"{done.studies} studies listed in {done.walk_s:.1f} s; RSS {done.rss_mib:.0f} MiB",
        flush=True,
    )
    return done


def stored_rounds(rounds: int, duration: int, sizes: Sequence[int], pins: Pinning) -> Stored:
    """``rounds`` rounds of retrieve, update and list on mocks filled with ``sizes`` studies
    (small, large) and on the bare app, all three up for the whole time."""
    small_count, large_count = sizes
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        bare = start(stack, bare_argv, pins)
        small_mock = start(stack, mock_argv, pins)
        large_mock = start(stack, mock_argv, pins)
        small = filled(small_mock, small_count, folder, pins)
        large = filled(large_mock, large_count, folder, pins)
        loads = {"retrieve": retrieve(large.ids), "update": update(large.ids), "list": LIST}
        done: list[StoredRound] = []
        for number in range(1, rounds + 1):
            print(f"stored round {number}/{rounds} ({duration} s each)", flush=True)
            bare_runs: dict[str, Run] = {}
            mock_runs: dict[str, Run] = {}
            for call in STORED_CALLS:
                bare_runs[call] = measure("bare", bare, loads[call], duration, pins)
                mock_runs[call] = measure(
                    f"mock {large.studies}", large_mock, loads[call], duration, pins
                )
            small_list = measure(f"mock {small.studies}", small_mock, LIST, duration, pins)
            result = StoredRound(bare_runs, mock_runs, small_list)
            print(
                "  mock/bare throughput: "
                + ", ".join(f"{call} {result.throughput_ratio(call):.2f}" for call in STORED_CALLS)
                + f"; list p99 {large.studies}/{small.studies} studies: "
                f"{result.list_p99_growth:.2f}",
                flush=True,
            )
            done.append(result)
        return Stored(large, small, done, large_mock.peak_rss_mib())
