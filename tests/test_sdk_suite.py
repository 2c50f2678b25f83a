"""The SDK's four generated Viewer test files (studies, users, invitations, ephemeral
sessions), enabled, all pass against ``serve --stateless``.

``make sdk-suite`` runs only this file; ``make test`` runs it with the rest. The first run
downloads the pinned SDK's sdist into .venv/sdk-suite/ (see tests/sdk_suite.py).
"""

from __future__ import annotations

import difflib
import importlib.metadata
from collections import Counter
from pathlib import Path

import pytest

from tests import sdk_suite
from tests.conftest import live_server


@pytest.fixture(scope="module")
def suite() -> sdk_suite.Suite:
    """The pinned SDK's sdist, unpacked, its generated Viewer tests enabled."""
    return sdk_suite.prepare(importlib.metadata.version("avara"))


def test_sdk_suite_enable_removes_exactly_the_skip_lines() -> None:
    text = (
        "class TestStudies:\n"
        f"    {sdk_suite.SKIP_LINE}\n"
        "    @parametrize\n"
        "    def test_method_create(self, client: Avara) -> None:\n"
        '        reason = "Mock server tests are disabled"\n'
        f"    {sdk_suite.SKIP_LINE}  # not the generated line\n"
        f"\t{sdk_suite.SKIP_LINE}\r\n"
        "    async def test_method_list(self) -> None: ...\n"
    )
    assert sdk_suite.enable(text) == (
        "class TestStudies:\n"
        "    @parametrize\n"
        "    def test_method_create(self, client: Avara) -> None:\n"
        '        reason = "Mock server tests are disabled"\n'
        f"    {sdk_suite.SKIP_LINE}  # not the generated line\n"
        "    async def test_method_list(self) -> None: ...\n"
    )
    assert sdk_suite.test_functions(text) == 2


def test_sdk_suite_files_are_every_generated_viewer_test_file(suite: sdk_suite.Suite) -> None:
    viewer = suite.root / sdk_suite.VIEWER
    generated = {path.relative_to(suite.root).as_posix() for path in viewer.rglob("test_*.py")}
    assert generated == set(sdk_suite.FILES)
    assert suite.paths == sdk_suite.FILES


@pytest.mark.parametrize("path", sdk_suite.FILES)
def test_sdk_suite_prepared_file_differs_only_by_one_skip_line_per_test(
    suite: sdk_suite.Suite, path: str
) -> None:
    (generated,) = (file for file in suite.files if file.path == path)
    assert (suite.root / path).read_text(encoding="utf-8") == generated.enabled
    changed = [
        line
        for line in difflib.ndiff(
            generated.pristine.splitlines(keepends=True),
            generated.enabled.splitlines(keepends=True),
        )
        if line[:2] in ("- ", "+ ")
    ]
    assert {(line[:2], line[2:].strip()) for line in changed} == {("- ", sdk_suite.SKIP_LINE)}
    functions = sdk_suite.test_functions(generated.pristine)
    assert functions > 0
    assert len(changed) == functions
    assert "Mock server tests are disabled" not in generated.enabled


def test_sdk_suite_every_generated_viewer_test_passes_against_stateless_mock(
    suite: sdk_suite.Suite, tmp_path: Path
) -> None:
    collected = sdk_suite.collect(suite)
    with live_server("--stateless", log=tmp_path / "server.log") as url:
        outcomes, output = sdk_suite.run(suite, url, tmp_path / "junit.xml")
    results = Counter(outcome.result for outcome in outcomes)
    not_passed = sorted(f"{o.name}: {o.result}" for o in outcomes if o.result != "passed")
    assert not not_passed, (
        f"{len(not_passed)} of {len(outcomes)} generated tests did not pass "
        f"({dict(results)}):\n" + "\n".join(not_passed) + f"\n\n{output[-6000:]}"
    )
    ran = Counter(outcome.name for outcome in outcomes)
    assert sorted(ran) == sorted(collected), "the report does not name each collected test"
    assert set(ran.values()) == {1}, "a test is reported twice"
    # Every generated function of each file ran in each of its variants: sync (loose, strict)
    # and async (loose, strict, aiohttp).
    for generated in suite.files:
        variants = Counter(
            name.split("[", 1)[1].removesuffix("]")
            for name in ran
            if sdk_suite.file_of(name) == generated.path
        )
        assert set(variants) == {"loose", "strict", "aiohttp"}, generated.path
        functions = sdk_suite.test_functions(generated.enabled)
        assert variants["loose"] == variants["strict"] == functions, generated.path
