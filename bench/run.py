"""Benchmark of avara-mock as users serve it (``make bench``): create, retrieve, update, list.

Why it is built this way:

* Absolute numbers mean little on a shared machine, so throughput and latency are compared
  with a baseline measured in the same run: bench/bare_app.py, a bare Starlette app served
  with the mock's server settings, answering fixed bodies. The ratio says what the mock's own
  work costs.
* The machine is noisy, so the two alternate (bare, mock, bare, mock, ...) for several
  rounds; the ratio is taken per round (mock / bare of the same round) and the median of
  those ratios is reported, with their min and max.
* The server runs on one CPU and wrk on the other, so they do not compete for a core.
* The mock is started exactly as ``make serve`` starts it (``avara-mock serve``, the default
  log level, access log on), so what is measured is what users run.
* Every create is of a new study (bench/post.lua makes each UID unique); retrieve, update
  and list run on a mock filled over HTTP with ``--studies`` studies, whose ids are read back
  from its list endpoint; the list is also run on a mock of ``--small-studies`` studies, to
  see how its latency grows with the store. A run with more than 1% of failed requests is a
  failed run, not a result.

It also measures start-up (spawn to the first 2xx create) and the mock's memory: its idle
RSS, its peak RSS under load and the cost per stored study. It prints a table against the
targets and writes bench/results/latest.json. Missing a target exits 0 (this reports, it does
not test); a run that failed exits 1, a missing wrk exits 2.

The modules: wrk.py runs wrk and parses its output, servers.py starts and stops the servers,
stored.py fills a mock and reads its ids back, rounds.py measures, report.py summarizes;
this one parses the command line and runs them. Run as ``python bench/run.py`` or
``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

# Run as a script, only bench/ itself is on sys.path; the bench package needs its parent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.errors import BenchError
from bench.report import RESULTS, Measured, build_results, table, write_results
from bench.rounds import load_rounds, startups, stored_rounds
from bench.servers import ROOT, bare_argv, module_argv, pinning


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=positive, default=5, help="create rounds (5)")
    parser.add_argument(
        "--stored-rounds", type=positive, default=3, help="retrieve/update/list rounds (3)"
    )
    parser.add_argument("--duration", type=positive, default=4, help="seconds per run (4)")
    parser.add_argument("--starts", type=positive, default=5, help="start-ups to time (5)")
    parser.add_argument(
        "--studies", type=positive, default=100_000, help="studies of the large mock (100000)"
    )
    parser.add_argument(
        "--small-studies", type=positive, default=1_000, help="studies of the small mock (1000)"
    )
    args = parser.parse_args(argv)
    if args.small_studies >= args.studies:
        parser.error("--small-studies must be fewer than --studies")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, save the JSON; 1 if a run failed, 2 without wrk."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("install wrk: apt-get install wrk", file=sys.stderr)
        return 2
    pins = pinning()
    try:
        print(f"start-up: {args.starts} starts of the mock, as a module, the bare app", flush=True)
        starts = startups(args.starts)
        module_starts = startups(args.starts, module_argv)
        bare_starts = startups(args.starts, bare_argv)
        pairs = load_rounds(args.rounds, args.duration, pins)
        sizes = (args.small_studies, args.studies)
        stored = stored_rounds(args.stored_rounds, args.duration, sizes, pins)
    except BenchError as error:
        print(f"bench FAILED: {error}", file=sys.stderr)
        return 1
    measured = Measured(pairs, stored, starts, module_starts, bare_starts, args.duration, pins)
    results = build_results(measured)
    print()
    print(table(results))
    write_results(results)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
