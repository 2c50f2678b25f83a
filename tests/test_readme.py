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

import httpx

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
    (example,) = _blocks("python")
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


def test_readme_usage_lists_every_serve_option() -> None:
    usage = README[README.index("avara-mock serve [") :].split("```")[0]
    parser = argparse.ArgumentParser()
    add_serve_options(parser)
    options = set(re.findall(r"--[a-z-]+", parser.format_help()))
    assert options - {"--help"} == set(re.findall(r"--[a-z-]+", usage))
