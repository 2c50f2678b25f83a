"""``serve --workers 2 --state FILE``: two processes, one world.

Which worker answers a connection is the kernel's choice (both accept on the one socket);
``/proc`` says which process holds the server side of each connection, so the test can
write through one worker and read through the other.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from contract_tests.create.cases import minimal
from tests.conftest import AUTH, fresh_uid, live_server
from tests.raw_http import READ_TIMEOUT, address

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")

STUDIES = "/v1/viewer/studies"
HEADERS = {**AUTH, "content-type": "application/json"}
RACERS = 16
WORKERS = 2
PER_WORKER = RACERS // WORKERS
DEADLINE_S = 60.0
MOST = 400


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("workers") / "world.db"
    with live_server("--state", str(state), "--workers", "2") as served:
        yield served


def serving_pid(connection: http.client.HTTPConnection) -> int | None:
    """The process holding the server side of ``connection`` (None if /proc does not say)."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].rpartition(":")[2], 16) == client_port:  # rem_address: our end
            inode = fields[9]
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == wanted for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue  # gone, or not ours to read
    return None


def call(
    connection: http.client.HTTPConnection, method: str, path: str, body: object = None
) -> tuple[int, dict[str, object]]:
    payload = None if body is None else orjson.dumps(body)
    connection.request(method, path, body=payload, headers=HEADERS)
    answer = connection.getresponse()
    return answer.status, orjson.loads(answer.read())


def connections_by_worker(url: str) -> dict[int, list[http.client.HTTPConnection]]:
    """Kept-alive connections, grouped by the worker that accepted each, until both workers
    hold ``PER_WORKER`` (the kernel may hand a burst to one worker, or the other may still be
    starting: keep connecting, a little apart, within ``DEADLINE_S`` and ``MOST``)."""
    host, port = address(url)
    workers: dict[int, list[http.client.HTTPConnection]] = {}
    deadline = time.monotonic() + DEADLINE_S
    opened = 0
    while time.monotonic() < deadline and opened < MOST:
        if len(workers) == WORKERS and all(len(g) >= PER_WORKER for g in workers.values()):
            break
        connection = http.client.HTTPConnection(host, port, timeout=READ_TIMEOUT)
        opened += 1
        assert call(connection, "GET", f"{STUDIES}?limit=1")[0] == 200  # connected and served
        pid = serving_pid(connection)
        assert pid is not None
        workers.setdefault(pid, []).append(connection)
        if len(workers) < WORKERS:
            time.sleep(0.05)
    return workers


def test_workers_a_write_through_one_is_read_through_the_other(url: str) -> None:
    workers = connections_by_worker(url)
    try:
        assert len(workers) == 2, "both workers should accept connections"
        first, second = (group[0] for group in workers.values())
        status, created = call(first, "POST", STUDIES, minimal(studyInstanceUid=fresh_uid()))
        assert status == 201
        status, read = call(second, "GET", f"{STUDIES}/{created['studyId']}")
        assert (status, read) == (200, created)
        uid = created["studyInstanceUid"]
        assert call(second, "POST", STUDIES, minimal(studyInstanceUid=uid))[0] == 409
        status, update = call(
            second, "PATCH", f"{STUDIES}/{created['studyId']}", {"studyDescription": "Changed"}
        )
        assert status == 200
        assert call(first, "GET", f"{STUDIES}/{created['studyId']}") == (200, update)
    finally:
        for group in workers.values():
            for connection in group:
                connection.close()


def test_workers_one_uid_created_concurrently_through_both_is_created_once(url: str) -> None:
    workers = connections_by_worker(url)
    groups = list(workers.values())
    racers = [c for pair in zip(*groups, strict=False) for c in pair][:RACERS]  # from both, in turn
    try:
        assert len(workers) == 2
        for _ in range(3):
            body = minimal(studyInstanceUid=fresh_uid())
            assert sorted(race(racers, body)) == [201] + [409] * (len(racers) - 1)
            uid = body["studyInstanceUid"]
            for group in workers.values():
                status, found = call(group[0], "GET", f"{STUDIES}/by-uid/{uid}")
                assert status == 200
                assert found["studyInstanceUid"] == uid
    finally:
        for group in workers.values():
            for connection in group:
                connection.close()


def race(racers: list[http.client.HTTPConnection], body: dict[str, object]) -> list[int]:
    """The statuses of one create sent by every racer at once (each on its connection)."""
    statuses: list[int] = []
    start = threading.Barrier(len(racers))

    def send(connection: http.client.HTTPConnection) -> None:
        start.wait(READ_TIMEOUT)
        statuses.append(call(connection, "POST", STUDIES, body)[0])

    threads = [threading.Thread(target=send, args=(c,)) for c in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(READ_TIMEOUT * 2)
    return statuses
