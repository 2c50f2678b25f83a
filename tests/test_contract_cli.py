"""``avara-mock contract``: runs the suite in-process or against a URL; exit 0, 1 or 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mockserver
from contract_tests.checks import CHECKS
from contract_tests.cli import main
from contract_tests.stateful.parts import INVARIANTS
from tests.conftest import ROOT, live_server
from tests.test_suite import drop_metadata

KEY = "good"


@pytest.fixture(scope="module")
def restricted_url() -> Iterator[str]:
    """A live mock of this module's own that accepts only the key ``good``."""
    with live_server("--api-key", KEY) as url:
        yield url


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A URL whose port is bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


BUDGET = ["--max-examples", "16", "--sequences", "3", "--steps", "12", "--seed", "3"]
"""Small: the default budget's speed is a figure of bench/contract.py, not of these tests."""


def contract(*args: str) -> int:
    return main(["contract", *BUDGET, *args])


def test_contract_cli_in_process_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", *BUDGET]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["check", "passed", "failed", "warned", "n/a"]
    for name in [*CHECKS, *INVARIANTS]:
        assert f"\n{name} " in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("conforms: 0 failed, 0 warned;")
    assert "seed 3;" in verdict
    assert verdict.endswith("inferred rules warn")
    assert "boundary cases:" in err


def test_contract_cli_live_server_conforms_and_writes_junit(
    restricted_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "out" / "contract.xml"
    junit.parent.mkdir()
    code = contract("--base-url", restricted_url, "--api-key", KEY, "--junit-xml", str(junit))
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert "conforms:" in out
    root = ET.parse(junit).getroot()
    assert root.get("tests") == str(len(CHECKS) + len(INVARIANTS))
    assert root.get("failures") == "0"
    names = [case.get("name") for case in root.iter("testcase")]
    assert sorted(n for n in names if n is not None) == sorted([*CHECKS, *INVARIANTS])


def test_contract_cli_reads_the_key_from_the_environment(
    restricted_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AVARA_API_KEY", KEY)
    assert contract("--base-url", restricted_url, "--max-examples", "0") == 0
    assert "conforms:" in capsys.readouterr().out


def test_contract_cli_refused_key_exits_2(
    restricted_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AVARA_API_KEY", raising=False)
    assert contract("--base-url", restricted_url, "--api-key", "wrong") == 2
    out, err = capsys.readouterr()
    assert out == ""
    message = err.splitlines()[-1]
    assert message.startswith(f"avara-mock contract: {restricted_url} refused the key")
    assert "--api-key" in message


def test_contract_cli_closed_port_exits_2(
    closed_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "contract.xml"
    assert contract("--base-url", closed_url, "--timeout", "2", "--junit-xml", str(junit)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"cannot reach {closed_url}" in err
    assert not junit.exists()


@pytest.mark.parametrize(
    "options",
    [
        ["--max-examples", "-1"],
        ["--timeout", "0"],
        ["--timeout", "-3"],
        ["--sequences", "-1"],
        ["--steps", "0"],
    ],
)
def test_contract_cli_unusable_options_exit_2(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contract", *options]) == 2
    err = capsys.readouterr().err
    assert "--max-examples >= 0, --sequences >= 0, --steps >= 1 and --timeout > 0" in err


def test_contract_cli_unknown_inferred_mode_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["contract", "--inferred", "ignore"])
    assert exited.value.code == 2
    assert "--inferred" in capsys.readouterr().err


@pytest.mark.parametrize(("inferred", "code"), [("warn", 0), ("fail", 1)])
def test_contract_cli_inferred_breach_exit_code(
    inferred: str,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    correct = mockserver.create_app

    def broken(*args: Any, **kwargs: Any) -> Any:
        return drop_metadata(correct(*args, **kwargs))

    monkeypatch.setattr(mockserver, "create_app", broken)
    # Per-request phase only: this defect also lets a list show metadata that a retrieve of
    # the same study leaves out, which the state machine rightly fails (study.read-your-writes).
    assert contract("--max-examples", "0", "--sequences", "0", "--inferred", inferred) == code
    out = capsys.readouterr().out
    assert f"{inferred.upper()}ED echoes_request: rule study.echo.metadata [inferred]" in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("FAILED:" if code else "conforms:")
    assert verdict.endswith(f"inferred rules {inferred}")


def test_contract_cli_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contract_tests", "contract", *BUDGET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\nconforms: 0 failed" in done.stdout
    assert "boundary cases:" in done.stderr


def test_contract_cli_junit_xml_in_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "missing" / "contract.xml"
    code = contract("--max-examples", "0", "--junit-xml", str(junit))
    assert code == 0
    assert junit.exists()


def test_contract_cli_stateless_option_reaches_the_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    from contract_tests import cli, suite

    seen: list[Any] = []

    def fake_run(target: Any, contract: Any, options: suite.Options) -> suite.Report:
        seen.append((options.stateless, target))
        return suite.Report(target.base_url, 0, "warn", {})

    monkeypatch.setattr(suite, "run_suite", fake_run)
    assert cli.main(["contract", "--stateless", "--max-examples", "0"]) == 0
    assert cli.main(["contract", "--max-examples", "0"]) == 0
    assert [stateless for stateless, _ in seen] == [True, False]


def test_contract_conformance_reads_stateless_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from contract_tests.conformance import options_from_environment

    monkeypatch.setenv("AVARA_CONTRACT_STATELESS", "1")
    assert options_from_environment()[1].stateless is True
    monkeypatch.setenv("AVARA_CONTRACT_STATELESS", "0")
    assert options_from_environment()[1].stateless is False
    monkeypatch.delenv("AVARA_CONTRACT_STATELESS")
    assert options_from_environment()[1].stateless is False
