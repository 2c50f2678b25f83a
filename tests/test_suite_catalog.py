"""The contract suite has teeth: it fails every broken implementation of tests/catalog.py on the
check (and rule) of its one defect, only warns of an inferred defect unless told to fail, and
passes the correct mock."""

from __future__ import annotations

from functools import cache
from typing import Literal

import pytest

from contract_tests.checks import CHECKS
from contract_tests.operations.probes import other_operations
from contract_tests.report import summary
from contract_tests.suite import Options, Report, run_suite
from contract_tests.transport.target import asgi_target
from mockserver import Settings, create_app
from mockserver.contract import Contract
from tests.catalog import CATALOG, TIMEOUT, Broken

MAX_EXAMPLES = 30
SEED = 1
CORRECT_SEEDS = range(20)
CORRECT_MAX_EXAMPLES = 25
INFERRED = [entry for entry in CATALOG if entry.inferred]
STATED = [entry for entry in CATALOG if not entry.inferred]
BY_NAME = {entry.name: entry for entry in CATALOG}
Inferred = Literal["warn", "fail"]


@cache
def _contract() -> Contract:
    return Contract.load()


@cache
def _report(name: str, inferred: Inferred) -> Report:
    """The suite run in-process against a catalog entry (each run once, shared by the tests)."""
    entry = BY_NAME[name]
    options = Options(
        max_examples=MAX_EXAMPLES, seed=SEED, inferred=inferred, operations=entry.operations
    )
    with asgi_target(entry.build(), timeout=TIMEOUT) as target:
        return run_suite(target, _contract(), options)


def _failed_checks(report: Report) -> set[str]:
    return {name for name, counts in report.counts.items() if counts.failed}


def _rules(report: Report, check: str, verdict: str) -> set[str]:
    return {b.finding.rule for b in report.breaches if b.check == check and b.verdict == verdict}


def test_catalog_has_one_entry_a_defect_and_catches_with_every_check() -> None:
    names = [entry.name for entry in CATALOG]
    assert len(CATALOG) >= 25
    assert len(set(names)) == len(names)
    assert {entry.check for entry in CATALOG} == set(CHECKS)
    assert len([entry for entry in CATALOG if entry.operations]) >= 6
    assert all(set(entry.operations) <= set(other_operations()) for entry in CATALOG)


@pytest.mark.parametrize("entry", CATALOG, ids=lambda entry: entry.name)
def test_suite_fails_a_broken_implementation_on_its_check_only(entry: Broken) -> None:
    report = _report(entry.name, "fail" if entry.inferred else "warn")
    shown = summary(report)
    assert report.failed, shown
    assert report.counts[entry.check].failed > 0, shown
    assert _failed_checks(report) == {entry.check}, shown
    if entry.rule is not None:
        assert entry.rule in _rules(report, entry.check, "failed"), shown


@pytest.mark.parametrize("entry", STATED, ids=lambda entry: entry.name)
def test_suite_fails_a_stated_defect_also_when_inferred_rules_fail(entry: Broken) -> None:
    report = _report(entry.name, "fail")
    shown = summary(report)
    assert report.counts[entry.check].failed > 0, shown
    if entry.rule is not None:
        assert entry.rule in _rules(report, entry.check, "failed"), shown


@pytest.mark.parametrize("entry", INFERRED, ids=lambda entry: entry.name)
def test_suite_only_warns_of_an_inferred_defect_by_default(entry: Broken) -> None:
    report = _report(entry.name, "warn")
    shown = summary(report)
    assert not report.failed, shown
    assert report.counts[entry.check].warned > 0, shown
    if entry.rule is not None:
        assert entry.rule in _rules(report, entry.check, "warned"), shown


def test_suite_reports_no_answer_within_the_timeout() -> None:
    report = _report("hangs-on-many-pairs", "warn")
    (breach,) = [b for b in report.breaches if b.check == "answers"]
    assert breach.finding.message == f"no answer in {TIMEOUT:g} s"
    assert breach.exchange.answer is None


@pytest.mark.parametrize("seed", CORRECT_SEEDS)
def test_suite_passes_the_correct_mock_without_warnings(seed: int) -> None:
    options = Options(max_examples=CORRECT_MAX_EXAMPLES, seed=seed, inferred="fail", operations=())
    with asgi_target(create_app(), timeout=TIMEOUT) as target:
        report = run_suite(target, _contract(), options)
    shown = summary(report)
    assert not report.failed, shown
    assert report.breaches == [], shown
    assert all(counts.warned == 0 for counts in report.counts.values()), shown
    assert report.counts["accepts_valid"].passed > 0
    assert report.counts["refuses_invalid"].passed > 0


@pytest.mark.parametrize("seed", CORRECT_SEEDS)
def test_suite_passes_the_stateless_mock_on_every_operation_without_warnings(seed: int) -> None:
    options = Options(max_examples=CORRECT_MAX_EXAMPLES, seed=seed, inferred="fail", stateless=True)
    with asgi_target(create_app(Settings(stateless=True)), timeout=TIMEOUT) as target:
        report = run_suite(target, _contract(), options)
    shown = summary(report)
    assert not report.failed, shown
    assert report.breaches == [], shown
    assert all(counts.warned == 0 for counts in report.counts.values()), shown
    assert report.counts["accepts_valid"].passed > len(other_operations())
    assert report.counts["refuses_invalid"].passed > 0


@pytest.mark.parametrize("seed", CORRECT_SEEDS[:2])
def test_suite_passes_the_correct_mock_on_every_operation(seed: int) -> None:
    options = Options(max_examples=CORRECT_MAX_EXAMPLES, seed=seed, inferred="fail")
    with asgi_target(create_app(), timeout=TIMEOUT) as target:
        report = run_suite(target, _contract(), options)
    shown = summary(report)
    assert report.breaches == [], shown
    assert all(counts.warned == 0 for counts in report.counts.values()), shown
    assert report.counts["error_body"].passed > 0
    assert report.counts["requires_auth"].passed > len(other_operations())
