"""The contract suite under pytest: one test a check, for CI systems that read pytest's output.

    AVARA_BASE_URL=http://127.0.0.1:4010 python -m pytest --pyargs contract_tests.conformance

Without ``AVARA_BASE_URL`` the suite runs against avara-mock in-process. ``AVARA_API_KEY``,
``AVARA_CONTRACT_SEED``, ``AVARA_CONTRACT_MAX_EXAMPLES`` and ``AVARA_CONTRACT_INFERRED``
(``warn`` or ``fail``) set the key, the seed, the examples and what an inferred breach is;
``AVARA_CONTRACT_STATELESS=1`` says the target keeps no state (``--stateless``).
Breaches of inferred rules are reported as ``ContractWarning`` warnings.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest

from contract_tests.checks import CHECKS
from contract_tests.cli import MOCK_KEY, open_target
from contract_tests.report import breach_text
from contract_tests.stateful.parts import INVARIANTS
from contract_tests.suite import Options, Report, run_suite
from contract_tests.transport.target import DEFAULT_TIMEOUT
from mockserver.contract import Contract


class ContractWarning(UserWarning):
    """A breach of a rule that is only our reading of the contract (an inferred rule)."""


def options_from_environment() -> tuple[str | None, Options]:
    """The base URL and the options the environment asks for."""
    inferred = os.environ.get("AVARA_CONTRACT_INFERRED", "warn")
    if inferred not in ("warn", "fail"):
        raise pytest.UsageError("AVARA_CONTRACT_INFERRED must be 'warn' or 'fail'")
    seed = os.environ.get("AVARA_CONTRACT_SEED")
    return os.environ.get("AVARA_BASE_URL"), Options(
        max_examples=int(os.environ.get("AVARA_CONTRACT_MAX_EXAMPLES", "500")),
        seed=int(seed) if seed else None,
        inferred="fail" if inferred == "fail" else "warn",
        api_key=os.environ.get("AVARA_API_KEY") or MOCK_KEY,
        stateless=os.environ.get("AVARA_CONTRACT_STATELESS", "") not in ("", "0"),
        sequences=int(os.environ.get("AVARA_CONTRACT_SEQUENCES", "25")),
        steps=int(os.environ.get("AVARA_CONTRACT_STEPS", "30")),
    )


@pytest.fixture(scope="module")
def contract_report() -> Iterator[Report]:
    """One run of the suite, shared by the tests of this module."""
    base_url, options = options_from_environment()
    with open_target(base_url, DEFAULT_TIMEOUT, stateless=options.stateless) as target:
        yield run_suite(target, Contract.load(), options)


@pytest.mark.parametrize("check", [*CHECKS, *INVARIANTS])
def test_contract(contract_report: Report, check: str) -> None:
    """Fails with every failed breach of the check (or invariant of the state machine);
    warns with every inferred one."""
    breaches = [b for b in contract_report.breaches if b.check == check]
    for breach in breaches:
        if breach.verdict == "warned":
            warnings.warn(breach_text(breach, contract_report), ContractWarning, stacklevel=1)
    failed = [breach_text(b, contract_report) for b in breaches if b.verdict == "failed"]
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)
