"""The measurements: load rounds of the bare app and the mock, and the mock's start-ups.

A round loads a fresh bare app, then a fresh mock, each for the same duration, server on
one CPU and wrk on the other. The machine is noisy (the bare app alone can vary by a factor
of two between rounds), so the mock is compared with the bare app of its own round: the
two ran seconds apart, under about the same noise, and their ratio is steadier than either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.servers import (
    MIB,
    ArgvForPort,
    Pinning,
    bare_argv,
    free_port,
    mock_argv,
    running,
    wait_for_create,
)
from bench.wrk import WrkRun, check_answers, run_wrk


@dataclass(frozen=True)
class Round:
    """One server's load run: wrk's report and the server's RSS before and after it."""

    wrk: WrkRun
    idle_rss_mib: float
    peak_rss_mib: float

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


def load_round(name: str, argv_for: ArgvForPort, duration: int, pins: Pinning) -> Round:
    """Start a fresh server, note its idle RSS, load it with wrk, note its peak RSS, stop it.

    The readiness probe is a create, so whatever the first create loads lazily is loaded
    (and counted in the idle RSS) before wrk starts.
    """
    port = free_port()
    with running([*pins.server, *argv_for(port)], port) as server:
        wait_for_create(server, time.perf_counter())
        idle = server.rss_mib()
        run = run_wrk(server.url, duration, pins.wrk)
        server.check_alive("under load")
        done = Round(run, idle, server.peak_rss_mib())
    print(describe(name, done), flush=True)
    check_answers(name, run)
    return done


def describe(name: str, done: Round) -> str:
    """One run's line of progress."""
    run = done.wrk
    return (
        f"  {name}: {run.requests_per_s:5.0f} req/s, p50 {run.p50_ms:5.2f} ms, "
        f"p99 {run.p99_ms:6.2f} ms, {run.requests} requests, non-2xx {run.non_2xx}, "
        f"socket errors {run.socket_errors}, RSS {done.idle_rss_mib:.0f} MiB idle, "
        f"{done.peak_rss_mib:.0f} MiB peak"
    )


def load_rounds(rounds: int, duration: int, pins: Pinning) -> list[Pair]:
    """``rounds`` rounds of the bare app then the mock, each a fresh server."""
    pairs: list[Pair] = []
    for number in range(1, rounds + 1):
        print(f"round {number}/{rounds} ({duration} s each)", flush=True)
        bare = load_round("bare", bare_argv, duration, pins)
        mock = load_round("mock", mock_argv, duration, pins)
        pair = Pair(bare, mock)
        print(
            f"  mock/bare: throughput {pair.throughput_ratio:.2f}, p99 {pair.p99_ratio:.2f}; "
            f"mock {mock.bytes_per_study / 1024:.2f} KiB per stored study "
            f"(~{mock.studies} studies)",
            flush=True,
        )
        pairs.append(pair)
    return pairs


def startups(count: int) -> list[float]:
    """Seconds from spawning the mock's command to its first 2xx create, ``count`` times."""
    times: list[float] = []
    for _ in range(count):
        port = free_port()
        started = time.perf_counter()
        with running(mock_argv(port), port) as server:
            times.append(wait_for_create(server, started))
    return times
