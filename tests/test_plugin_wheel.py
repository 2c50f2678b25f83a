"""The wheel's pytest plugin, end to end: installed in a fresh venv, used by a project elsewhere.

The wheel is built from this checkout and unpacked into a venv made for the test; the venv
borrows its dependencies (pytest, httpx, the SDK …) from the development venv
(tests/wheels.py), so nothing is downloaded. A downstream test file in a
directory outside the repository then runs under ``<venv>/bin/python -m pytest``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.wheels import ROOT, TIMEOUT, install_in_fresh_venv

DOWNSTREAM = """
import json
import os
from pathlib import Path

import pytest
from avara import Avara

import mockserver
import mockserver.contract
import mockserver.plugin.pytest_plugin

VENV = Path(os.environ["DOWNSTREAM_VENV"]).resolve()


def inside_venv(path):
    return Path(path).resolve().is_relative_to(VENV)


def test_plugin_is_loaded_from_the_fresh_venv(request):
    plugin = request.config.pluginmanager.get_plugin("avara_mock")
    assert plugin is mockserver.plugin.pytest_plugin
    assert inside_venv(mockserver.__file__)
    assert inside_venv(plugin.__file__)
    assert inside_venv(mockserver.contract.data_folder("schemas"))


def test_production_client_without_base_url_reaches_the_mock(avara_mock):
    assert "AVARA_BASE_URL" not in os.environ
    assert os.environ["AVARA_API_KEY"] == "avara-mock"
    with Avara(max_retries=0) as client:
        study = client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid="1.2.840.1"
        )
    (request,) = avara_mock.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.avarasoftware.com/v1/viewer/studies"
    assert json.loads(request.content)["studyInstanceUid"] == "1.2.840.1"
    assert [s["studyId"] for s in avara_mock.studies] == [study.study_id]


@pytest.mark.anyio
async def test_async_client_fixture(avara_async_client, avara_mock):
    study = await avara_async_client.viewer.studies.create(
        severity="stat", study_description="CT Head", study_instance_uid="1.2.840.2"
    )
    assert avara_mock.studies[0]["studyId"] == study.study_id
"""


def test_plugin_wheel_serves_a_downstream_project_from_a_fresh_venv(
    wheel: Path, tmp_path: Path
) -> None:
    python = install_in_fresh_venv(wheel, tmp_path / "venv")
    project = tmp_path / "downstream"
    project.mkdir()
    assert not project.resolve().is_relative_to(ROOT)
    (project / "test_downstream.py").write_text(DOWNSTREAM, encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AVARA_", "PYTEST_", "PYTHON"))
    }
    env["DOWNSTREAM_VENV"] = str(tmp_path / "venv")
    done = subprocess.run(
        [str(python), "-m", "pytest", "-p", "anyio", "-p", "no:asyncio", "-p", "no:cacheprovider",
         "-W", "error",
         "-q", "test_downstream.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"3 passed in [0-9.]+s", summary), output
