"""The README's examples run as written against the mock."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.checks import CHECKS
from contract_tests.stateful.parts import INVARIANTS
from mockserver.cli import add_serve_options
from tests.conftest import live_server

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_the_two_commands() -> None:
    first = _blocks("sh")[0]
    assert [line.split("#")[0].strip() for line in first.splitlines()] == [
        "make serve",
        "make test",
    ]


def test_readme_python_example_runs_against_the_mock() -> None:
    example = _blocks("python")[0]
    with live_server() as url:
        done = subprocess.run(
            [sys.executable, "-c", example],
            env={**os.environ, "AVARA_BASE_URL": url, "AVARA_API_KEY": "anything"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    study_id, email = done.stdout.split()
    assert study_id.startswith("stu_")
    assert "@" in email


def test_readme_curl_example_gives_the_error_shown() -> None:
    (curl,) = [b for b in _blocks("sh") if b.startswith("curl")]
    words = shlex.split(curl)
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    body = words[words.index("-d") + 1]
    (shown,) = _blocks("json")
    with live_server() as url:
        path = words[2].removeprefix("http://127.0.0.1:4010")
        answer = httpx.post(url + path, content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == json.loads(shown)


def _json_stream(text: str) -> list[Any]:
    """The JSON documents curl printed one after another (no newline between them)."""
    found, decoder, text = [], json.JSONDecoder(), text.strip()
    while text:
        document, end = decoder.raw_decode(text)
        found.append(document)
        text = text[end:].lstrip()
    return found


def test_readme_curl_session_runs_against_the_mock() -> None:
    (session,) = [b for b in _blocks("sh") if b.startswith("# create")]
    with live_server() as url:
        script = "set -euo pipefail\n" + session.replace("http://127.0.0.1:4010", url)
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        answers = _json_stream(done.stdout)
        page = httpx.get(answers[-1]["url"])
    retrieved, by_uid, updated, listed, cancelled, uncancelled, reroute = answers
    assert retrieved == by_uid
    assert (updated["severity"], updated["metadata"]) == ("stat", {"ward": "ER"})
    assert [s["studyId"] for s in listed["studies"]] == [retrieved["studyId"]]
    assert cancelled == uncancelled == {"success": True}
    assert reroute["url"].startswith(url + "/viewer/studies/")
    assert page.status_code == 200
    assert "CT Head" in page.text


def test_readme_usage_lists_every_serve_option() -> None:
    usage = README[README.index("avara-mock serve [") :].split("```")[0]
    parser = argparse.ArgumentParser()
    add_serve_options(parser)
    options = set(re.findall(r"--[a-z-]+", parser.format_help()))
    assert options - {"--help"} == set(re.findall(r"--[a-z-]+", usage))


def _run_documented(
    command: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """A README command, its ``$VARS`` expanded, run with this interpreter's tools."""
    words = [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], w) for w in shlex.split(command)]
    env = dict(env)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    program = ["-m", "contract_tests"] if words[0] == "avara-mock" else []
    return subprocess.run(
        [sys.executable, *program, *words[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_readme_contract_commands_run_against_the_mock(tmp_path: Path) -> None:
    blocks = [b.strip() for b in _blocks("sh") if "contract" in b]
    first, gate, under_pytest = blocks[0], blocks[1].splitlines()[-1], blocks[2]
    with live_server() as url:
        env = {**os.environ, "STAGING_URL": url, "AVARA_API_KEY": "anything"}
        env["AVARA_CONTRACT_MAX_EXAMPLES"] = "10"
        env["AVARA_CONTRACT_SEQUENCES"], env["AVARA_CONTRACT_STEPS"] = "2", "10"
        for command in (first.replace("http://127.0.0.1:4010", url), gate):
            done = _run_documented(command, env, tmp_path)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            assert "conforms: 0 failed" in done.stdout
        done = _run_documented(under_pytest, env, tmp_path)
        assert done.returncode == 0, done.stdout[-2000:]
        assert f"{len(CHECKS) + len(INVARIANTS)} passed" in done.stdout
    assert (tmp_path / "contract.xml").is_file()


def test_readme_drift_step_passes_against_the_installed_sdk(tmp_path: Path) -> None:
    (block,) = [b.strip() for b in _blocks("sh") if "avara-mock drift" in b]
    done = _run_documented(block.splitlines()[-1], dict(os.environ), tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.startswith("no drift: schemas/ agrees with avara ")


def test_readme_plugin_examples_pass_downstream(pytester: pytest.Pytester) -> None:
    section = README[README.index("## Using avara-mock in your tests") :]
    section = section[: section.index("\n## ")]
    tests, override = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    pytester.makepyfile(test_downstream=tests)
    result = pytester.runpytest_subprocess("-p", "anyio", "-q")
    result.assert_outcomes(passed=8)
    pytester.makeconftest(override)
    pytester.makepyfile(
        test_staging="""
from avara import Avara


def test_staging_url_is_routed(avara_mock):
    Avara(base_url="https://staging.example.test").viewer.studies.create(
        severity="high", study_description="CT", study_instance_uid="1.2.3"
    )
    assert avara_mock.requests[0].url.host == "staging.example.test"
"""
    )
    pytester.runpytest_subprocess("-q", "test_staging.py").assert_outcomes(passed=1)


def test_readme_control_plane_session_runs_with_curl(tmp_path: Path) -> None:
    """The Control plane section's shell session, run as written (curl, jq and the SDK)
    against a live mock: the journal shows the SDK retrying through the 429 fault."""
    section = README.split("## Control plane", 1)[1].split("\n## ", 1)[0]
    (session,) = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    with live_server() as url:
        script = session.replace("http://127.0.0.1:4010", url)
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    statuses = [json.loads(line)["status"] for line in lines if line.startswith('{"id":')]
    assert statuses[-3:] == [429, 429, 201]
    assert json.loads(lines[-1]) == ["1.2.840.10008.1", "1.2.840.10008.2"]
    assert (tmp_path / "scenario.json").is_file()
