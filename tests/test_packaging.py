"""The wheel: data folders ship inside mockserver, and an installed copy serves from anywhere."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from contract_tests.create.cases import minimal
from tests.wheels import install_in_fresh_venv


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repo with only the wheel; its python."""
    return install_in_fresh_venv(wheel, tmp_path_factory.mktemp("venv"))


def test_packaging_wheel_ships_data_inside_mockserver(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "mockserver/_data/schemas/study.schema.json" in names
    assert "mockserver/_data/fixtures/create-requests.json" in names
    assert "mockserver/py.typed" in names
    assert "contract_tests/py.typed" in names
    top_level = {name.split("/")[0] for name in names}
    assert not top_level & {"schemas", "fixtures", "tests", "bench"}


def test_packaging_installed_wheel_serves_from_outside_the_repo(
    installed: Path, tmp_path: Path
) -> None:
    script = "import mockserver.contract as c; print(c.__file__, c.data_folder('schemas'))"
    where = subprocess.run(
        [str(installed), "-c", script],
        cwd=tmp_path, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(installed.parent.parent) for p in where)
    process = subprocess.Popen(
        [str(installed), "-m", "mockserver", "serve", "--port", "0", "--log-level", "warning"],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        created = httpx.post(
            url + "/v1/viewer/studies", json=minimal(), headers={"Authorization": "Bearer k"}
        )
        document = httpx.get(url + "/openapi.json").json()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert created.status_code == 201
    assert json.dumps(document).count("StudyCreateRequest") >= 2
