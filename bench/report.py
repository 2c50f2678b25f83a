"""The report: summaries of the rounds against the targets, as a table and as JSON.

Throughput and p99 are judged by ratios to the bare app, one per round (mock / bare of the
same round), and the headline is their median, shown with their min and max: the noise that
moves both servers of a round together cancels out of each ratio. Raw req/s, p50 and p99 are
medians over the rounds, for scale. Memory is the mock's highest peak RSS (VmHWM) over the
create rounds, split into its idle RSS (after start-up and the first create) and a cost per
stored study, so a change of either shows up on its own; the large filled mock's RSS shows
what that cost comes to at scale.
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

from bench.rounds import STORED_CALLS, Pair, Round, Run, Stored
from bench.servers import Pinning
from bench.stored import Filled
from bench.wrk import CONNECTIONS, LIST_QUERY, THREADS, wrk_version

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

TARGET_THROUGHPUT_RATIO = 0.60
TARGET_P99_RATIO = 2.0
TARGET_STORED_RATIO = 0.50
TARGET_LIST_P99_GROWTH = 2.0
TARGET_STARTUP_S = 0.15
TARGET_RSS_MIB = 60.0


@dataclass(frozen=True)
class Measured:
    """What one run of ``make bench`` measured."""

    pairs: Sequence[Pair]
    stored: Stored
    starts: Sequence[float]
    module_starts: Sequence[float]
    bare_starts: Sequence[float]
    duration: int
    pins: Pinning


@dataclass(frozen=True)
class LoadSummary:
    """Medians over the rounds of one server's runs of one call."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float


@dataclass(frozen=True)
class Spread:
    """The median, min and max of per-round values, and the values in round order."""

    median: float
    min: float
    max: float
    per_round: list[float]


def summarize(runs: Sequence[Run]) -> LoadSummary:
    """Medians of req/s, p50, p99 and CPU time per request over runs."""
    return LoadSummary(
        requests_per_s=statistics.median(run.wrk.requests_per_s for run in runs),
        p50_ms=statistics.median(run.wrk.p50_ms for run in runs),
        p99_ms=statistics.median(run.wrk.p99_ms for run in runs),
        cpu_us_per_request=statistics.median(run.cpu_us_per_request for run in runs),
    )


def run_of(done: Round) -> Run:
    """A create round's run."""
    return Run(done.wrk, done.cpu_s)


def spread(values: Sequence[float]) -> Spread:
    """How ``values`` (one per round) spread."""
    return Spread(statistics.median(values), min(values), max(values), list(values))


def run_json(done: Round, stores: bool) -> dict[str, Any]:
    """One run, JSON-ready; with the studies stored and their cost if the server ``stores``."""
    run: dict[str, Any] = {
        **asdict(done.wrk),
        "cpu_us_per_request": done.cpu_us_per_request,
        "idle_rss_mib": done.idle_rss_mib,
        "peak_rss_mib": done.peak_rss_mib,
    }
    if stores:
        run.update(studies=done.studies, bytes_per_study=done.bytes_per_study)
    return run


def server_json(rounds: Sequence[Round], stores: bool) -> dict[str, Any]:
    """One server's medians and runs, JSON-ready."""
    return {
        "median": asdict(summarize([run_of(done) for done in rounds])),
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


def create_json(pairs: Sequence[Pair]) -> dict[str, Any]:
    """The create rounds, JSON-ready."""
    ratios = {
        "throughput": spread([pair.throughput_ratio for pair in pairs]),
        "p99": spread([pair.p99_ratio for pair in pairs]),
        "cpu": spread([pair.cpu_ratio for pair in pairs]),
    }
    return {
        "bare": server_json([pair.bare for pair in pairs], stores=False),
        "mock": server_json([pair.mock for pair in pairs], stores=True),
        "ratios": {name: asdict(values) for name, values in ratios.items()},
        "memory": memory(pairs),
    }


def filled_json(done: Filled) -> dict[str, Any]:
    """A filled mock, JSON-ready."""
    return {
        "studies": done.studies,
        "fill": asdict(done.fill),
        "list_walk_s": done.walk_s,
        "idle_rss_mib": done.idle_rss_mib,
        "rss_mib": done.rss_mib,
        "bytes_per_study": done.bytes_per_study,
    }


def stored_json(stored: Stored) -> dict[str, Any]:
    """The rounds on stored studies, JSON-ready."""
    rounds = stored.rounds
    return {
        "small": filled_json(stored.small),
        "large": {**filled_json(stored.large), "peak_rss_mib": stored.large_peak_rss_mib},
        "bare": {call: asdict(summarize([r.bare[call] for r in rounds])) for call in STORED_CALLS},
        "mock": {call: asdict(summarize([r.mock[call] for r in rounds])) for call in STORED_CALLS},
        "small_list": asdict(summarize([r.small_list for r in rounds])),
        "ratios": {
            call: asdict(spread([r.throughput_ratio(call) for r in rounds]))
            for call in STORED_CALLS
        },
        "p99_ratios": {
            call: asdict(spread([r.p99_ratio(call) for r in rounds])) for call in STORED_CALLS
        },
        "cpu_ratios": {
            call: asdict(spread([r.cpu_ratio(call) for r in rounds])) for call in STORED_CALLS
        },
        "list_p99_growth": asdict(spread([r.list_p99_growth for r in rounds])),
        "runs": [
            {
                "bare": {call: asdict(r.bare[call]) for call in STORED_CALLS},
                "mock": {call: asdict(r.mock[call]) for call in STORED_CALLS},
                "small_list": asdict(r.small_list),
            }
            for r in rounds
        ],
    }


def build_results(measured: Measured) -> dict[str, Any]:
    """Everything measured, as JSON-ready data."""
    create = create_json(measured.pairs)
    stored = stored_json(measured.stored)
    startup = statistics.median(measured.starts)
    ratios = create["ratios"]
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "wrk": wrk_version(),
        "pinning": measured.pins.note,
        "settings": {
            "rounds": len(measured.pairs),
            "stored_rounds": len(measured.stored.rounds),
            "duration_s": measured.duration,
            "starts": len(measured.starts),
        },
        "load": {"wrk_threads": THREADS, "connections": CONNECTIONS, "list_query": LIST_QUERY},
        "create": create,
        "stored": stored,
        "startup_s": {
            "median": startup,
            "runs": list(measured.starts),
            "module_median": statistics.median(measured.module_starts),
            "module_runs": list(measured.module_starts),
            "bare_median": statistics.median(measured.bare_starts),
            "bare_runs": list(measured.bare_starts),
        },
        "targets": {
            "throughput_ratio_min": TARGET_THROUGHPUT_RATIO,
            "p99_ratio_max": TARGET_P99_RATIO,
            "stored_throughput_ratio_min": TARGET_STORED_RATIO,
            "list_p99_growth_max": TARGET_LIST_P99_GROWTH,
            "startup_s_max": TARGET_STARTUP_S,
            "peak_rss_mib_max": TARGET_RSS_MIB,
        },
        "met": {
            "throughput": ratios["throughput"]["median"] >= TARGET_THROUGHPUT_RATIO,
            "p99": ratios["p99"]["median"] <= TARGET_P99_RATIO,
            **{
                call: stored["ratios"][call]["median"] >= TARGET_STORED_RATIO
                for call in STORED_CALLS
            },
            "list_p99_growth": stored["list_p99_growth"]["median"] <= TARGET_LIST_P99_GROWTH,
            "startup": startup <= TARGET_STARTUP_S,
            "peak_rss": create["memory"]["peak_rss_mib"] <= TARGET_RSS_MIB,
        },
    }


def verdict(met: bool) -> str:
    """How a target line ends."""
    return "ok" if met else "MISSED"


def ratio_text(ratio: dict[str, Any], target: str) -> str:
    """A ratio's median, range and target, e.g. "0.61 (rounds 0.55-0.66; target >= 0.60)"."""
    return f"{ratio['median']:.2f} (rounds {ratio['min']:.2f}-{ratio['max']:.2f}; target {target})"


def range_text(ratio: dict[str, Any]) -> str:
    """A ratio's median and range, e.g. "0.61 (rounds 0.55-0.66)"."""
    return f"{ratio['median']:.2f} (rounds {ratio['min']:.2f}-{ratio['max']:.2f})"


def create_lines(results: dict[str, Any]) -> list[str]:
    """The create rounds' lines of the table."""
    create, met, settings = results["create"], results["met"], results["settings"]
    bare, mock = create["bare"]["median"], create["mock"]["median"]
    ratios, mem = create["ratios"], create["memory"]
    idle_lo, idle_hi = mem["idle_rss_mib_range"]
    cost_lo, cost_hi = (value / 1024 for value in mem["bytes_per_study_range"])
    return [
        f"create: {settings['rounds']} rounds x {settings['duration_s']} s, "
        "fresh servers each round:",
        "  throughput mock/bare: "
        f"{ratio_text(ratios['throughput'], f'>= {TARGET_THROUGHPUT_RATIO:.2f}')} "
        f"{verdict(met['throughput'])}; "
        f"medians mock {mock['requests_per_s']:.0f} req/s, bare {bare['requests_per_s']:.0f} req/s",
        f"  p99 mock/bare: {ratio_text(ratios['p99'], f'<= {TARGET_P99_RATIO:.1f}')} "
        f"{verdict(met['p99'])}; "
        f"medians mock {mock['p99_ms']:.1f} ms, bare {bare['p99_ms']:.1f} ms",
        f"  p50: medians mock {mock['p50_ms']:.1f} ms, bare {bare['p50_ms']:.1f} ms",
        f"  CPU per request: medians mock {mock['cpu_us_per_request']:.0f} us, "
        f"bare {bare['cpu_us_per_request']:.0f} us; bare/mock {range_text(ratios['cpu'])}",
        f"  peak RSS under load: {mem['peak_rss_mib']:.1f} MiB, highest of the rounds "
        f"(target <= {TARGET_RSS_MIB:.0f} MiB) {verdict(met['peak_rss'])}; "
        f"bare app {mem['bare_peak_rss_mib']:.0f} MiB",
        f"    = {mem['idle_rss_mib']:.1f} MiB idle + {mem['bytes_per_study'] / 1024:.2f} KiB "
        f"per stored study x ~{mem['studies'] / 1000:.1f}k studies (round {mem['round']}); "
        f"over the rounds: idle {idle_lo:.1f}-{idle_hi:.1f} MiB, "
        f"{cost_lo:.2f}-{cost_hi:.2f} KiB per study",
    ]


def stored_lines(results: dict[str, Any]) -> list[str]:
    """The stored rounds' lines of the table."""
    stored, met, settings = results["stored"], results["met"], results["settings"]
    large, small = stored["large"], stored["small"]
    lines = [
        f"stored studies: {settings['stored_rounds']} rounds x {settings['duration_s']} s on a "
        f"mock holding {large['studies']} studies (list {LIST_QUERY}; filled at "
        f"{large['fill']['requests_per_s']:.0f} creates/s, "
        f"listed in {large['list_walk_s']:.1f} s):",
    ]
    for call in STORED_CALLS:
        bare, mock = stored["bare"][call], stored["mock"][call]
        p99, cpu = stored["p99_ratios"][call], stored["cpu_ratios"][call]
        lines.append(
            f"  {call} throughput mock/bare: "
            f"{ratio_text(stored['ratios'][call], f'>= {TARGET_STORED_RATIO:.2f}')} "
            f"{verdict(met[call])}; medians mock {mock['requests_per_s']:.0f} req/s, "
            f"bare {bare['requests_per_s']:.0f} req/s; p99 mock/bare {p99['median']:.2f} "
            f"({mock['p99_ms']:.1f} ms, {bare['p99_ms']:.1f} ms); "
            f"CPU bare/mock {cpu['median']:.2f} "
            f"({mock['cpu_us_per_request']:.0f} us, {bare['cpu_us_per_request']:.0f} us)"
        )
    growth = stored["list_p99_growth"]
    lines += [
        f"  list p99, {large['studies']} over {small['studies']} studies: "
        f"{ratio_text(growth, f'<= {TARGET_LIST_P99_GROWTH:.1f}')} "
        f"{verdict(met['list_p99_growth'])}; medians {stored['mock']['list']['p99_ms']:.1f} ms, "
        f"{stored['small_list']['p99_ms']:.1f} ms",
        f"  RSS holding {large['studies']} studies: {large['rss_mib']:.0f} MiB "
        f"(= {large['idle_rss_mib']:.0f} MiB idle + {large['bytes_per_study'] / 1024:.2f} KiB "
        f"per study), {large['peak_rss_mib']:.0f} MiB peak after the rounds",
    ]
    return lines


def table(results: dict[str, Any]) -> str:
    """The human summary of ``results``."""
    startup = results["startup_s"]
    return "\n".join(
        [
            f"{results['pinning']}; wrk -t{THREADS} -c{CONNECTIONS}; the mock is "
            "`avara-mock serve` at its default log level, as `make serve` runs it; "
            "a ratio is the median of the rounds' mock/bare ratios, then their range",
            *create_lines(results),
            *stored_lines(results),
            f"start-up of `avara-mock serve` to its first 2xx create: {startup['median']:.2f} s "
            f"(median of {results['settings']['starts']}; target <= {TARGET_STARTUP_S} s) "
            f"{verdict(results['met']['startup'])}; "
            f"`python -m mockserver serve`: {startup['module_median']:.2f} s; the bare app "
            f"(uvicorn and Starlette alone, the floor): {startup['bare_median']:.2f} s",
        ]
    )


def write_results(results: dict[str, Any]) -> None:
    """Save ``results`` as bench/results/latest.json."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
