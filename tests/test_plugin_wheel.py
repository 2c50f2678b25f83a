"""The wheel's pytest plugin, end to end: installed in a fresh venv, used by a project elsewhere.

The wheel is built from this checkout and unpacked into a venv made for the test; the venv
borrows its dependencies (pytest, httpx, the SDK …) from the development venv through a .pth
file, as tests/test_packaging.py does, so nothing is downloaded. A downstream test file in a
directory outside the repository then runs under ``<venv>/bin/python -m pytest``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180.0

DOWNSTREAM = """
import json
import os
from pathlib import Path

import pytest
from avara import Avara

import mockserver
import mockserver.contract
import mockserver.pytest_plugin

VENV = Path(os.environ["DOWNSTREAM_VENV"]).resolve()


def inside_venv(path):
    return Path(path).resolve().is_relative_to(VENV)


def test_plugin_is_loaded_from_the_fresh_venv(request):
    plugin = request.config.pluginmanager.get_plugin("avara_mock")
    assert plugin is mockserver.pytest_plugin
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


def build_wheel(out: Path) -> Path:
    """The wheel of this checkout, built with the development venv's hatchling."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True, timeout=TIMEOUT,
    )  # fmt: skip
    (built,) = out.glob("avara_mock-*.whl")
    return built


def install_in_fresh_venv(wheel: Path, venv: Path) -> Path:
    """A venv holding only the wheel, its dependencies lent by a .pth file; its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout.strip()  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(purelib)
    (Path(purelib) / "lent-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_plugin_wheel_serves_a_downstream_project_from_a_fresh_venv(tmp_path: Path) -> None:
    python = install_in_fresh_venv(build_wheel(tmp_path / "dist"), tmp_path / "venv")
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
        [str(python), "-m", "pytest", "-p", "anyio", "-p", "no:cacheprovider", "-W", "error",
         "-q", "test_downstream.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"3 passed in [0-9.]+s", summary), output
