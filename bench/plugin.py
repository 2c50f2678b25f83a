"""Benchmark of the pytest plugin (``make bench``, or ``python bench/plugin.py``).

* SDK create calls per second through ``avara_mock`` (the whole mock in-process: validation,
  store, references) against the same calls through a respx route answering a fixed Study,
  the least an HTTP stub can do. Both alternate for several rounds in one run; the ratio is
  taken per round and its median reported (target >= 0.5).
* What importing the plugin adds to pytest's start-up: ``pytest --collect-only`` on an empty
  test file, with the plugin and with ``-p no:avara_mock``, alternated; median difference
  (target <= 150 ms).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Run as a script, only bench/ itself is on sys.path; the bench package needs its parent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import respx
from avara import Avara

from bench.bare_app import STUDY
from mockserver.app import create_app
from mockserver.plugin.intercept import InProcessMock
from mockserver.plugin.pytest_plugin import SDK_BASE_URL

TARGET_RATIO = 0.5
TARGET_IMPORT_MS = 150.0
RESULTS = Path(__file__).resolve().parent / "results" / "plugin.json"


def creates_per_second(client: Avara, calls: int, prefix: str) -> float:
    """Time ``calls`` SDK creates, each with a new UID."""
    started = time.perf_counter()
    for number in range(calls):
        client.viewer.studies.create(
            severity="high",
            study_description="CT Chest",
            study_instance_uid=f"1.2.840.{prefix}.{number + 1}",
            metadata={"site": "north"},
        )
    return calls / (time.perf_counter() - started)


def through_mock(calls: int, prefix: str) -> float:
    """Creates through the in-process mock, as the ``avara_mock`` fixture wires it."""
    with InProcessMock(create_app(), SDK_BASE_URL), Avara(api_key="k", max_retries=0) as client:
        return creates_per_second(client, calls, prefix)


def through_fixed_route(calls: int, prefix: str) -> float:
    """Creates through a respx route that answers a fixed Study."""
    fixed = httpx.Response(201, content=STUDY, headers={"content-type": "application/json"})
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{SDK_BASE_URL}/v1/viewer/studies").mock(return_value=fixed)
        with Avara(api_key="k", max_retries=0) as client:
            return creates_per_second(client, calls, prefix)


def collect_seconds(extra: Sequence[str], folder: Path) -> float:
    """Wall time of ``pytest --collect-only`` on an empty test file."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def import_cost_ms(repeats: int) -> tuple[float, float, float]:
    """Median start-up with and without the plugin, and their difference, in ms."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_empty.py").write_text("def test_nothing() -> None:\n    pass\n")
        collect_seconds([], folder)
        with_plugin, without = [], []
        for _ in range(repeats):
            with_plugin.append(collect_seconds([], folder))
            without.append(collect_seconds(["-p", "no:avara_mock"], folder))
    on, off = statistics.median(with_plugin) * 1000, statistics.median(without) * 1000
    return on, off, on - off


def plugin_import_ms(repeats: int) -> float:
    """Median extra time of importing the plugin module after pytest, in fresh interpreters."""
    code = "import time, pytest; t = time.perf_counter(); import mockserver.plugin.pytest_plugin; "
    code += "print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
        for _ in range(repeats)
    ]
    return statistics.median(runs) * 1000


def alternate(rounds: int, calls: int, runs: dict[str, Callable[[int, str], float]]) -> Any:
    """Per-round rates of each way, alternating, with fresh UIDs every round."""
    rates: dict[str, list[float]] = {name: [] for name in runs}
    prefixes = itertools.count(1)
    for _ in range(rounds):
        for name, run in runs.items():
            rates[name].append(run(calls, str(next(prefixes))))
    return rates


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, save; exits 0 whatever the numbers (this reports, it does not test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    through_mock(50, "99999")
    through_fixed_route(50, "99999")
    rates = alternate(
        args.rounds, args.calls, {"avara_mock": through_mock, "respx fixed": through_fixed_route}
    )
    ratios = [m / f for m, f in zip(rates["avara_mock"], rates["respx fixed"], strict=True)]
    on, off, cost = import_cost_ms(args.repeats)
    module_ms = plugin_import_ms(args.repeats)
    ratio = statistics.median(ratios)
    ok = "ok" if ratio >= TARGET_RATIO else "MISSED"
    import_ok = "ok" if cost <= TARGET_IMPORT_MS else "MISSED"
    print(
        f"SDK creates through avara_mock: {statistics.median(rates['avara_mock']):.0f}/s, "
        f"through a respx fixed route: {statistics.median(rates['respx fixed']):.0f}/s, "
        f"ratio {ratio:.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}; "
        f"target >= {TARGET_RATIO}) {ok}"
    )
    print(
        f"pytest start-up: {on:.0f} ms with the plugin, {off:.0f} ms without: "
        f"+{cost:.0f} ms (median of {args.repeats}; target <= {TARGET_IMPORT_MS:.0f} ms) "
        f"{import_ok}; importing the plugin module itself: {module_ms:.1f} ms"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rates": rates,
                "ratios": ratios,
                "startup_ms": [on, off, cost],
                "module_ms": module_ms,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
