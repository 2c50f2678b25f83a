"""Kill -9 of ``python -m mockserver serve --state F`` under creates from threads: after a
restart on F, every create answered 201 is there, and no create answered 400 is."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH, ROOT, SERVING_LINE, STARTUP_TIMEOUT, live_server

THREADS = 8
ACKNOWLEDGED_BEFORE_KILL = 300
STUDIES = "/v1/viewer/studies"
GOOD = {"severity": "normal", "studyDescription": "XR Hand"}
BAD = {"severity": "not-a-severity", "studyDescription": "XR Foot"}


@contextlib.contextmanager
def served(state: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The mock on ``state`` and its URL; the process is always reaped (killed if alive)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "0",
         "--log-level", "warning", "--state", str(state), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        found = SERVING_LINE.fullmatch(lines.get(timeout=STARTUP_TIMEOUT).strip())
        assert found is not None, "the mock did not announce its URL"
        yield process, found.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_sqlite_durability_every_acknowledged_create_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    acknowledged: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def creates(url: str, worker: int) -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
            for i in range(100_000):
                uid = f"2.25.{worker}{i:06d}"
                bad = i % 10 == 9
                try:
                    answer = client.post(
                        STUDIES, json={**(BAD if bad else GOOD), "studyInstanceUid": uid}
                    )
                except httpx.HTTPError:
                    return  # the server is gone: this create may or may not have been kept
                with lock:
                    if answer.status_code == 201:
                        acknowledged.append(uid)
                    elif answer.status_code == 400:
                        refused.append(uid)
                    else:
                        raise AssertionError(f"{answer.status_code}: {answer.text}")
                    if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        enough.set()

    with served(state) as (process, url):
        threads = [threading.Thread(target=creates, args=(url, w + 1)) for w in range(THREADS)]
        for thread in threads:
            thread.start()
        reached = enough.wait(timeout=120)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        for thread in threads:
            thread.join(timeout=60)
    assert reached, f"only {len(acknowledged)} creates acknowledged before the kill"
    assert all(not thread.is_alive() for thread in threads)

    with (
        live_server("--state", str(state)) as url,
        httpx.Client(base_url=url, headers=AUTH) as client,
    ):
        missing = [
            u for u in acknowledged if client.get(f"{STUDIES}/by-uid/{u}").status_code != 200
        ]
        kept = [u for u in refused if client.get(f"{STUDIES}/by-uid/{u}").status_code != 404]
        listed = 0
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get(STUDIES, params=params).json()
            listed += len(page["studies"])
            cursor = page["cursor"]
            if not page["hasMore"]:
                break
    assert missing == []
    assert kept == []
    assert len(acknowledged) <= listed <= len(acknowledged) + THREADS


@pytest.mark.parametrize("workers", [1, 2])
def test_sqlite_durability_a_clean_stop_leaves_the_world_in_the_file_alone(
    tmp_path: Path, workers: int
) -> None:
    """Stopped with Ctrl-C, the mock closes its file: the WAL is checkpointed into it, so a
    copy of the file alone (as a user would commit or share it) holds every create."""
    state = tmp_path / "state.db"
    with served(state, "--workers", str(workers)) as (process, url):
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
            made = [
                client.post(STUDIES, json={**GOOD, "studyInstanceUid": f"2.25.9{n}"}).json()
                for n in range(20)
            ]
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    wal = Path(f"{state}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    alone = tmp_path / "alone.db"
    shutil.copyfile(state, alone)
    with contextlib.closing(sqlite3.connect(alone)) as other:
        stored = {str(row[0]) for row in other.execute("SELECT study_id FROM studies")}
    assert {study["studyId"] for study in made} <= stored
