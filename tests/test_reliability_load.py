"""64 concurrent clients, a mixed workload of a fixed count, against a live ``serve``: in
memory, with ``--state``, with ``--workers 2``, across a restart and a kill -9; then the
invariants of tests/load_checks.py (no 5xx, no study lost or duplicated, every acknowledged
write readable, list total = acknowledged creates, contested UIDs created once)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import AUTH
from tests.load import Budget, Ledger, Study, run_load
from tests.load_checks import check

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 64
OPERATIONS = 2000
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
SERVING = re.compile(r"avara-mock serving the Avara Viewer API at (http://\S+)")
KILL_AFTER_OPERATIONS = 300
FAULT_REQUESTS = 24


def serve_options() -> str:
    """``serve --help``: the options this checkout has (--state and --workers land late)."""
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


OPTIONS = serve_options()


def has(option: str) -> bool:
    """Whether ``serve --help`` names ``option`` (``--state``, not ``--stateless``)."""
    return re.search(rf"{option}(?![\w-])", OPTIONS) is not None


needs_state = pytest.mark.skipif(not has("--state"), reason="serve has no --state yet")
needs_workers = pytest.mark.skipif(not has("--workers"), reason="serve has no --workers yet")


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m mockserver serve`` on a free port, in its own process group (its workers
    with it): its URL and process; the group is stopped on leaving, killed if it lingers."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0"]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [*command, "--log-level", "warning", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
        try:
            url = announced(process, errors)
            yield url, process
        finally:
            stop(process)


def announced(process: subprocess.Popen[str], errors: IO[str]) -> str:
    """The URL the server's first line announces; the test fails with its stderr if none."""
    assert process.stdout is not None
    found: list[str | None] = [None]

    def first_line() -> None:
        assert process.stdout is not None
        found[0] = process.stdout.readline()

    reader = threading.Thread(target=first_line, daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    match = SERVING.search(found[0] or "")
    if match is None:
        stop(process)
        errors.seek(0)
        pytest.fail(f"serve did not announce its URL ({found[0]!r}):\n{errors.read()}")
    return match.group(1)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the process group, SIGKILL if it has not gone within the timeout."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers the supervisor left behind
    if process.stdout is not None:
        process.stdout.close()


def loaded(*args: str, then: Callable[[str], None] | None = None) -> None:
    """The fixed mixed load on a fresh server with ``args``; every invariant holds. ``then``
    is called with the server's URL afterwards, while it still serves."""
    with serving(*args) as (url, _):
        ledger = run_load(url, clients=CLIENTS, operations=OPERATIONS, seed=11)
        verdict = check(url, ledger)
        if then is not None:
            then(url)
    assert not verdict.problems, verdict.summary()
    assert verdict.acknowledged > OPERATIONS // 10, verdict.summary()


def one_fault_for_all_workers(url: str) -> None:
    """A fault added through one worker acts on every one: ``first: 3`` over requests on
    new connections (the workers take them in turn as they come) fires 3 times in all, and
    every match is counted."""
    fault = {"path": "/v1/viewer/studies", "method": "GET", "first": 3, "respond": {"status": 503}}
    added = httpx.post(f"{url}/_mock/faults", json=fault, timeout=10)
    assert added.status_code == 201, added.text
    statuses = [
        httpx.get(f"{url}/v1/viewer/studies", headers=AUTH, timeout=10).status_code
        for _ in range(FAULT_REQUESTS)
    ]
    assert sorted(statuses) == [200] * (FAULT_REQUESTS - 3) + [503] * 3, statuses
    (counted,) = httpx.get(f"{url}/_mock/faults", timeout=10).json()["faults"]
    assert (counted["hits"], counted["fired"]) == (FAULT_REQUESTS, 3)


def test_reliability_in_memory_64_clients_lose_nothing() -> None:
    loaded()


@needs_state
def test_reliability_state_file_64_clients_lose_nothing(tmp_path: Path) -> None:
    loaded("--state", str(tmp_path / "world.db"))


@needs_state
@needs_workers
def test_reliability_two_workers_on_a_state_file_64_clients_lose_nothing(
    tmp_path: Path,
) -> None:
    loaded("--state", str(tmp_path / "world.db"), "--workers", "2", then=one_fault_for_all_workers)


@needs_state
def test_reliability_state_file_keeps_every_acknowledged_write_across_a_restart(
    tmp_path: Path,
) -> None:
    state = str(tmp_path / "world.db")
    with serving("--state", state) as (url, _):
        ledger = run_load(url, clients=CLIENTS, operations=OPERATIONS, seed=12)
    with serving("--state", state) as (url, _):
        verdict = check(url, ledger)
    assert not verdict.problems, verdict.summary()


@needs_state
@pytest.mark.parametrize("workers", [1, 2])
def test_reliability_kill_9_under_load_keeps_every_acknowledged_write(
    tmp_path: Path, workers: int
) -> None:
    """kill -9 of the whole server mid-load, a restart on the file: every write answered 2xx
    is there, no refused create is; a write never answered may or may not be."""
    if workers > 1 and not has("--workers"):
        pytest.skip("serve has no --workers yet")
    options = ["--state", str(tmp_path / "world.db")]
    if workers > 1:
        options += ["--workers", str(workers)]
    ledger = Ledger()
    budget = Budget(None, None)
    with serving(*options) as (url, process):
        load = threading.Thread(
            target=run_load,
            args=(url,),
            kwargs={
                "clients": CLIENTS,
                "ledger": ledger,
                "budget": budget,
                "seed": 13,
                "tolerate_unanswered": True,
            },
        )
        load.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while sum(ledger.counts.values()) < KILL_AFTER_OPERATIONS and load.is_alive():
            assert time.monotonic() < deadline, f"the load did not get going: {ledger.counts}"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        budget.stopped.set()
        load.join()
    with serving(*options) as (url, _):
        verdict = check(url, ledger)
    assert not verdict.problems, verdict.summary()
    assert verdict.acknowledged > 0, verdict.summary()


def test_reliability_checks_find_a_lost_study_and_a_stale_update() -> None:
    """The checks can fail: a study recorded but never created is lost; a recorded update
    the server never saw is stale."""
    with serving() as (url, _):
        ledger = run_load(url, clients=4, operations=40, seed=14)
        study = next(iter(ledger.studies.values()))
        study.description = "never sent"
        ghost = Study("stu_" + "0" * 32, "2.25.1", "ghost", study.severity)
        ledger.studies[ghost.study_id] = ghost
        verdict = check(url, ledger)
    text = "\n".join(verdict.problems)
    assert f"1 acknowledged studies are not listed: ['{ghost.study_id}']" in text
    assert f"retrieve of acknowledged {ghost.study_id}: 404" in text
    assert f"{study.study_id} shows" in text
