"""Servers loaded with creates at the same time, on one CPU, each by its own wrk.

On this machine a server's speed drifts by a third from one run to the next, so two runs
seconds apart cannot tell a change of 5% from noise. Pinned together on one CPU, the servers
share whatever slows the machine, and the kernel shares the CPU between them: the ratio of
the creates each answered says which costs less, steady within about 0.02. Together they
thrash each other's caches, which makes each slower than alone: read the ratio, not the
rates. bench/side_by_side.py compares two git revisions so; bench/durable.py the mock with
``--state`` and the mock in memory.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from bench.errors import BenchError
from bench.rounds import start
from bench.servers import ArgvForPort, Pinning, Server
from bench.wrk import WrkRun, check_answers, fill, parse_wrk, wrk_argv

WARM_S = 1
UNENDING = 10**9
"""A create count post.lua never reaches: it only sets where the UIDs' counter starts."""


@dataclass(frozen=True)
class Side:
    """What one server did in a round: creates answered and CPU per create."""

    run: WrkRun
    cpu_us: float


def load_together(
    servers: Sequence[Server], after: int, duration: int, pins: Pinning
) -> list[Side]:
    """Load every server with creates at the same time, one wrk each (UIDs from ``after``)."""
    before = [server.cpu_s() for server in servers]
    argvs = [wrk_argv(s.url, fill(UNENDING, after), duration, pins.wrk) for s in servers]
    loads = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for argv in argvs]
    try:
        outputs = [load.communicate(timeout=duration + 60)[0] for load in loads]
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish within {duration + 60} s") from exc
    finally:
        for load in loads:
            if load.poll() is None:
                load.kill()
                load.wait()
    sides = []
    for server, load, output, cpu in zip(servers, loads, outputs, before, strict=True):
        if load.returncode != 0:
            raise BenchError(f"wrk failed ({load.returncode}) on {server.command}: {output}")
        run = parse_wrk(output)
        check_answers(server.command, run)
        sides.append(Side(run, (server.cpu_s() - cpu) / max(run.requests, 1) * 1e6))
    return sides


def together_round(argvs: Sequence[ArgvForPort], duration: int, pins: Pinning) -> list[Side]:
    """The servers started afresh on the server CPU, warmed, then loaded together."""
    with ExitStack() as stack:
        servers = [start(stack, argv_for, pins) for argv_for in argvs]
        load_together(servers, 0, WARM_S, pins)
        time.sleep(0.5)
        return load_together(servers, UNENDING // 10, duration, pins)
