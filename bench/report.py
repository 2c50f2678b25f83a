"""The report: summaries of the rounds against the targets, as a table and as JSON.

Throughput and p99 are judged by ratios to the bare app, one per round (mock / bare of the
same round), and the headline is their median, shown with their min and max: the noise that
moves both servers of a round together cancels out of each ratio. Raw req/s, p50 and p99 are
medians over the rounds, for scale. Memory is the mock's highest peak RSS (VmHWM) over the
rounds, split into its idle RSS (after start-up and the first create) and a cost per stored
study, so a change of either shows up on its own.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.rounds import Pair, Round
from bench.servers import Pinning
from bench.wrk import CONNECTIONS, THREADS, wrk_version

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

TARGET_THROUGHPUT_RATIO = 0.60
TARGET_P99_RATIO = 2.0
TARGET_STARTUP_S = 0.3
TARGET_RSS_MIB = 60.0


@dataclass(frozen=True)
class LoadSummary:
    """Medians over the rounds of one server."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Spread:
    """The median, min and max of per-round values, and the values in round order."""

    median: float
    min: float
    max: float
    per_round: list[float]


def summarize(rounds: Sequence[Round]) -> LoadSummary:
    """Medians of req/s, p50 and p99 over rounds."""
    return LoadSummary(
        requests_per_s=statistics.median(done.wrk.requests_per_s for done in rounds),
        p50_ms=statistics.median(done.wrk.p50_ms for done in rounds),
        p99_ms=statistics.median(done.wrk.p99_ms for done in rounds),
    )


def spread(values: Sequence[float]) -> Spread:
    """How ``values`` (one per round) spread."""
    return Spread(statistics.median(values), min(values), max(values), list(values))


def run_json(done: Round, stores: bool) -> dict[str, Any]:
    """One run, JSON-ready; with the studies stored and their cost if the server ``stores``."""
    run: dict[str, Any] = {
        **asdict(done.wrk),
        "idle_rss_mib": done.idle_rss_mib,
        "peak_rss_mib": done.peak_rss_mib,
    }
    if stores:
        run.update(studies=done.studies, bytes_per_study=done.bytes_per_study)
    return run


def server_json(rounds: Sequence[Round], stores: bool) -> dict[str, Any]:
    """One server's medians and runs, JSON-ready."""
    return {
        "median": asdict(summarize(rounds)),
        "runs": [run_json(done, stores) for done in rounds],
    }


def memory(pairs: Sequence[Pair]) -> dict[str, Any]:
    """The mock's highest peak RSS, split into that round's idle RSS and cost per study."""
    mocks = [pair.mock for pair in pairs]
    number, top = max(enumerate(mocks, start=1), key=lambda item: item[1].peak_rss_mib)
    idles = [done.idle_rss_mib for done in mocks]
    costs = [done.bytes_per_study for done in mocks]
    return {
        "peak_rss_mib": top.peak_rss_mib,
        "idle_rss_mib": top.idle_rss_mib,
        "bytes_per_study": top.bytes_per_study,
        "studies": top.studies,
        "round": number,
        "idle_rss_mib_range": [min(idles), max(idles)],
        "bytes_per_study_range": [min(costs), max(costs)],
        "bare_peak_rss_mib": max(pair.bare.peak_rss_mib for pair in pairs),
    }


def build_results(
    pairs: Sequence[Pair], starts: Sequence[float], duration: int, pins: Pinning
) -> dict[str, Any]:
    """Everything measured, as JSON-ready data."""
    ratios = {
        "throughput": spread([pair.throughput_ratio for pair in pairs]),
        "p99": spread([pair.p99_ratio for pair in pairs]),
    }
    startup = statistics.median(starts)
    mem = memory(pairs)
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "wrk": wrk_version(),
        "pinning": pins.note,
        "settings": {"rounds": len(pairs), "duration_s": duration, "starts": len(starts)},
        "load": {"wrk_threads": THREADS, "connections": CONNECTIONS},
        "bare": server_json([pair.bare for pair in pairs], stores=False),
        "mock": server_json([pair.mock for pair in pairs], stores=True),
        "ratios": {name: asdict(values) for name, values in ratios.items()},
        "startup_s": {"median": startup, "runs": list(starts)},
        "memory": mem,
        "targets": {
            "throughput_ratio_min": TARGET_THROUGHPUT_RATIO,
            "p99_ratio_max": TARGET_P99_RATIO,
            "startup_s_max": TARGET_STARTUP_S,
            "peak_rss_mib_max": TARGET_RSS_MIB,
        },
        "met": {
            "throughput": ratios["throughput"].median >= TARGET_THROUGHPUT_RATIO,
            "p99": ratios["p99"].median <= TARGET_P99_RATIO,
            "startup": startup <= TARGET_STARTUP_S,
            "peak_rss": mem["peak_rss_mib"] <= TARGET_RSS_MIB,
        },
    }


def verdict(met: bool) -> str:
    """How a target line ends."""
    return "ok" if met else "MISSED"


def ratio_text(ratio: dict[str, Any], target: str) -> str:
    """A ratio's median, range and target, e.g. "0.61 (rounds 0.55-0.66; target >= 0.60)"."""
    return f"{ratio['median']:.2f} (rounds {ratio['min']:.2f}-{ratio['max']:.2f}; target {target})"


def table(results: dict[str, Any]) -> str:
    """The human summary of ``results``."""
    bare, mock = results["bare"]["median"], results["mock"]["median"]
    ratios, met, mem = results["ratios"], results["met"], results["memory"]
    settings = results["settings"]
    idle_lo, idle_hi = mem["idle_rss_mib_range"]
    cost_lo, cost_hi = (value / 1024 for value in mem["bytes_per_study_range"])
    return "\n".join(
        [
            f"{settings['rounds']} rounds x {settings['duration_s']} s "
            f"({results['pinning']}; wrk -t{THREADS} -c{CONNECTIONS}); "
            "a ratio is the median of the rounds' mock/bare ratios, then their range:",
            "create throughput mock/bare: "
            f"{ratio_text(ratios['throughput'], f'>= {TARGET_THROUGHPUT_RATIO:.2f}')} "
            f"{verdict(met['throughput'])}; "
            f"medians mock {mock['requests_per_s']:.0f} req/s, "
            f"bare {bare['requests_per_s']:.0f} req/s",
            f"p99 mock/bare: {ratio_text(ratios['p99'], f'<= {TARGET_P99_RATIO:.1f}')} "
            f"{verdict(met['p99'])}; "
            f"medians mock {mock['p99_ms']:.1f} ms, bare {bare['p99_ms']:.1f} ms",
            f"p50: medians mock {mock['p50_ms']:.1f} ms, bare {bare['p50_ms']:.1f} ms",
            f"start-up to first 2xx: {results['startup_s']['median']:.2f} s "
            f"(median of {settings['starts']}; target <= {TARGET_STARTUP_S} s) "
            f"{verdict(met['startup'])}",
            f"peak RSS under load: {mem['peak_rss_mib']:.1f} MiB, highest of the rounds "
            f"(target <= {TARGET_RSS_MIB:.0f} MiB) {verdict(met['peak_rss'])}; "
            f"bare app {mem['bare_peak_rss_mib']:.0f} MiB",
            f"  = {mem['idle_rss_mib']:.1f} MiB idle + {mem['bytes_per_study'] / 1024:.2f} KiB "
            f"per stored study x ~{mem['studies'] / 1000:.1f}k studies (round {mem['round']}); "
            f"over the rounds: idle {idle_lo:.1f}-{idle_hi:.1f} MiB, "
            f"{cost_lo:.2f}-{cost_hi:.2f} KiB per study",
        ]
    )


def write_results(results: dict[str, Any]) -> None:
    """Save ``results`` as bench/results/latest.json."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
