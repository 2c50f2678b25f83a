"""Benchmark of ``avara-mock contract``'s default run (``make bench``, or
``python bench/contract.py``): create fuzzing, the other operations' probes and the state
machine (25 sequences of up to 30 steps for each part), against the mock in-process and
against ``avara-mock serve`` on 127.0.0.1.

Why it is built this way:

* The issue's budgets are absolute (in-process under 20 s, live under 60 s), so the seconds
  and the requests of each run are printed against them; they are reported, not asserted.
* On a shared machine seconds drift, so each run is paired with a baseline measured in the
  same round over the same target: plain retrieves of one stored study, as many as the run
  sent. The ratio (the run's requests per second over the baseline's) says what drawing,
  checking and modelling cost on top of the transport; its median over the rounds is kept.
* The live server runs as ``make serve`` runs it (``avara-mock serve``, access log on).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Run as a script, only bench/ itself is on sys.path; the bench package needs its parent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import HOST, free_port, mock_argv, running, wait_for_create
from contract_tests.suite import Options, run_suite
from contract_tests.transport.call import Call
from contract_tests.transport.target import Target, asgi_target, http_target
from mockserver import Settings, create_app
from mockserver.contract import Contract

TARGET_SECONDS = {"in-process": 20.0, "live": 60.0}
RESULTS = Path(__file__).resolve().parent / "results" / "contract.json"
KEY = "Bearer avara-mock-contract"


def default_run(target: Target, contract: Contract, seed: int) -> dict[str, Any]:
    """One default run of the command (500 examples, 25 x 30), timed."""
    options = Options(max_examples=500, seed=seed, sequences=25, steps=30)
    started = time.perf_counter()
    report = run_suite(target, contract, options)
    seconds = time.perf_counter() - started
    failed = sum(c.failed for c in report.counts.values())
    return {"seconds": seconds, "requests": report.requests, "failed": failed}


def baseline_rate(target: Target, requests: int) -> float:
    """Requests per second of plain retrieves of one stored study over the same target."""
    body = {"severity": "normal", "studyDescription": "bench", "studyInstanceUid": "2.25.1"}
    body["studyInstanceUid"] += str(time.time_ns())
    answer, _ = target.send(Call("viewer.studies.create", body=body).sent(KEY))
    if answer is None or not isinstance(answer.document, dict):
        raise RuntimeError("the baseline could not create its study")
    retrieve = Call("viewer.studies.retrieve", {"studyId": answer.document["studyId"]}).sent(KEY)
    started = time.perf_counter()
    for _ in range(requests):
        target.send(retrieve)
    return requests / (time.perf_counter() - started)


def rounds(where: str, count: int, contract: Contract) -> list[dict[str, Any]]:
    """``count`` rounds of (default run, baseline) against one kind of target."""
    found = []
    for number in range(count):
        if where == "in-process":
            with asgi_target(create_app(Settings())) as target:
                found.append(measure(target, contract, number + 1))
            continue
        port = free_port()
        with running(mock_argv(port), port) as server:
            wait_for_create(server, time.perf_counter())
            with http_target(f"http://{HOST}:{port}", 10.0) as target:
                found.append(measure(target, contract, number + 1))
    return found


def measure(target: Target, contract: Contract, seed: int) -> dict[str, Any]:
    """A default run and its baseline of as many requests."""
    run = default_run(target, contract, seed)
    run["baseline_rate"] = baseline_rate(target, run["requests"])
    run["ratio"] = run["requests"] / run["seconds"] / run["baseline_rate"]
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, save; exits 0 whatever the numbers, 1 if a run failed a check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target (3)")
    args = parser.parse_args(argv)
    contract = Contract.load()
    results: dict[str, Any] = {}
    print(f"{'target':<11} {'seconds':>8} {'budget':>7} {'requests':>9} {'ratio':>6}  rounds")
    for where in ("in-process", "live"):
        runs = rounds(where, args.rounds, contract)
        seconds = statistics.median(r["seconds"] for r in runs)
        ratio = statistics.median(r["ratio"] for r in runs)
        requests = statistics.median(r["requests"] for r in runs)
        results[where] = {"median_seconds": seconds, "median_ratio": ratio, "runs": runs}
        spread = ", ".join(f"{r['seconds']:.1f}s/{r['requests']}" for r in runs)
        print(
            f"{where:<11} {seconds:>8.1f} {TARGET_SECONDS[where]:>7.0f} {requests:>9.0f} "
            f"{ratio:>6.2f}  {spread}"
        )
    print("ratio: the run's requests per second over plain retrieves on the same target")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    failed = any(r["failed"] for where in results.values() for r in where["runs"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
