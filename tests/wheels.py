"""Building this checkout's wheel and installing it into a fresh venv, for end-to-end tests.

The venv borrows its dependencies from the development venv through a .pth file, so nothing
is downloaded; the wheel, its entry points and its data are the venv's own.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180.0


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
