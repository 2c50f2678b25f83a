"""The SDK's own generated Viewer tests, run against avara-mock's stateless mode.

The sdist of the installed (pinned) ``avara`` is downloaded once into ``.venv/sdk-suite/``
(never into the repository) and unpacked there; its four generated Viewer test files (studies,
users, users' invitations, ephemeral sessions) are enabled by removing exactly the lines that
skip them, and its pytest runs them all in one subprocess with the sdist's own configuration
(``-n auto``, asyncio mode auto) against a URL given in ``TEST_API_BASE_URL``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".venv" / "sdk-suite"
VIEWER = "tests/api_resources/viewer"
FILES = (
    f"{VIEWER}/test_studies.py",
    f"{VIEWER}/test_users.py",
    f"{VIEWER}/users/test_invitations.py",
    f"{VIEWER}/test_ephemeral_sessions.py",
)
"""Every generated test file of the Viewer API in the sdist, as paths from its root."""
SKIP_LINE = '@pytest.mark.skip(reason="Mock server tests are disabled")'
TEST_DEF = ("def test_", "async def test_")
DOWNLOAD_TIMEOUT = 300.0
COLLECT_TIMEOUT = 120.0
RUN_TIMEOUT = 300.0
LEAKY_PREFIXES = ("AVARA_", "PYTEST_", "TEST_API_")
"""Variables of the outer run that would change the inner one (keys, base URLs, addopts)."""


class SdistUnavailable(RuntimeError):
    """pip could not download the SDK's sdist (offline, and not cached yet)."""


class InnerRunFailed(RuntimeError):
    """The inner pytest did not finish in time or wrote no report."""


@dataclass(frozen=True)
class GeneratedFile:
    """One generated test file: its path from the sdist's root, before and after enabling."""

    path: str
    pristine: str
    enabled: str


@dataclass(frozen=True)
class Suite:
    """The unpacked sdist and its generated Viewer test files, in the order of ``FILES``."""

    root: Path
    files: tuple[GeneratedFile, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(generated.path for generated in self.files)


@dataclass(frozen=True)
class Outcome:
    """One test case of the inner run's JUnit report: its node id
    (``path.py::Class::test[id]``) and how it ended."""

    name: str
    result: str


def enable(text: str) -> str:
    """The test file without its skip lines, every other line exactly as it was."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() != SKIP_LINE)


def test_functions(text: str) -> int:
    """How many test functions the file defines."""
    return sum(line.lstrip().startswith(TEST_DEF) for line in text.splitlines())


def download(version: str, cache: Path = CACHE) -> Path:
    """The sdist of ``avara==version``: from the cache, else fetched by pip into it."""
    archive = cache / f"avara-{version}.tar.gz"
    if archive.is_file():
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        *("-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
        f"avara=={version}",
        *("-d", str(cache)),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False
    )
    if done.returncode != 0 or not archive.is_file():
        raise SdistUnavailable(
            f"could not download the avara {version} sdist into {cache} (run `make sdk-suite` "
            f"once online; it is cached after that):\n{done.stdout}\n{done.stderr}"
        )
    return archive


def prepare(version: str, cache: Path = CACHE) -> Suite:
    """The sdist unpacked under ``cache`` with each of ``FILES`` enabled afresh from the
    archive's pristine copy (so an earlier run's edit is never taken for the original)."""
    archive = download(version, cache)
    root = cache / f"avara-{version}"
    with tarfile.open(archive) as tar:
        if not root.is_dir():
            # Unpacked beside the target, then renamed: a cut-short unpack is never reused.
            with tempfile.TemporaryDirectory(dir=cache) as scratch:
                tar.extractall(scratch, filter="data")
                try:
                    os.replace(Path(scratch) / root.name, root)
                except OSError:
                    if not root.is_dir():  # else another run unpacked it meanwhile
                        raise
        files = tuple(_enable_file(tar, archive, root, path) for path in FILES)
    return Suite(root, files)


def _enable_file(tar: tarfile.TarFile, archive: Path, root: Path, path: str) -> GeneratedFile:
    """Read ``path``'s pristine text from the archive and write it enabled under ``root``."""
    try:
        member = tar.extractfile(f"{root.name}/{path}")
    except KeyError:
        member = None
    if member is None:
        raise SdistUnavailable(f"{archive} holds no {path}")
    pristine = member.read().decode("utf-8")
    enabled = enable(pristine)
    (root / path).write_text(enabled, encoding="utf-8")
    return GeneratedFile(path, pristine, enabled)


def environment(base_url: str | None = None) -> dict[str, str]:
    """The outer environment without what would leak into the inner run, plus its URL."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(LEAKY_PREFIXES) and name != "PYTHONPATH"
    }
    if base_url is not None:
        env["TEST_API_BASE_URL"] = base_url
    return env


def pytest_command() -> list[str]:
    """The inner pytest of ``FILES``: without this project's plugin and without a cache in
    the sdist."""
    return [sys.executable, "-m", "pytest", *FILES, "-p", "no:avara_mock", "-p", "no:cacheprovider"]


def _run(command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run to the end and return its output; on timeout, kill its whole session (xdist
    workers included) and raise with what it printed."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise InnerRunFailed(f"{command} ran over {timeout} s:\n{output[-4000:]}") from None
    return output


def collect(suite: Suite) -> list[str]:
    """The node ids the inner pytest collects, as ``path.py::Class::test[id]``."""
    command = [*pytest_command(), "--collect-only", "-q", "-n", "0"]
    output = _run(command, suite.root, environment(), COLLECT_TIMEOUT)
    found = [line for line in output.splitlines() if line.startswith(suite.paths)]
    if not found:
        raise InnerRunFailed(f"the inner pytest collected nothing:\n{output[-4000:]}")
    return found


def run(suite: Suite, base_url: str, report: Path) -> tuple[list[Outcome], str]:
    """Run the enabled files in one pytest against ``base_url``; every test case's outcome
    and the output."""
    command = [*pytest_command(), f"--junitxml={report}"]
    output = _run(command, suite.root, environment(base_url), RUN_TIMEOUT)
    if not report.is_file():
        raise InnerRunFailed(f"the inner pytest wrote no JUnit report:\n{output[-4000:]}")
    return outcomes(report), output


def outcomes(report: Path) -> list[Outcome]:
    """Each test case of a JUnit report and its result: passed, failure, error or skipped."""
    found = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        ended = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found.append(Outcome(node_id(case), ended[0] if ended else "passed"))
    return found


def node_id(case: ElementTree.Element) -> str:
    """The pytest node id of a JUnit test case: its classname is ``dotted.module.Class``, the
    module being the path from the sdist's root (the generated classes are never nested)."""
    module, _, cls = case.get("classname", "").rpartition(".")
    return f"{module.replace('.', '/')}.py::{cls}::{case.get('name', '')}"


def file_of(name: str) -> str:
    """The file part of a node id."""
    return name.split("::", 1)[0]
