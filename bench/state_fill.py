"""A state file holding many studies, filled fast: through the store's own code, in-process.

Filling a million studies over HTTP, each create committed to disk before its answer, would
take the better part of an hour. So the file is filled by the mock's own create path without
HTTP: ``services_of(Settings(state=FILE))`` builds the SQLite world exactly as ``serve
--state FILE`` does, and its studies service creates valid requests (bench's unique UIDs),
in a few processes at once, each its own connection, as ``--workers`` would, a thousand
creates to a transaction (``Services.transaction``, what a state load uses). The file being
filled is on a RAM disk (/dev/shm, where a commit's fsync costs nothing); the filled world
is then copied to its place on disk with SQLite's backup API, a consistent copy, schema
version included. What is measured afterwards (list latency) reads the file as any server
would; only the filling skipped the disk.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.errors import BenchError
from mockserver.contract import Contract
from mockserver.plugin.factories import RequestFactory
from mockserver.services import services_of
from mockserver.settings import Settings

RAM_DISK = Path("/dev/shm")
KEY = "bench-fill-key"
PROCESSES = 2
BATCH = 1000


def fill_part(path: str, count: int, number: int) -> int:
    """Create ``count`` studies in the state file ``path``; how many were created."""
    contract = Contract.load()
    services = services_of(Settings(state=path), contract)
    requests = RequestFactory(contract, seed=1_000_003 * (number + 1))
    made = 0
    while made < count:
        batch = min(BATCH, count - made)
        with services.transaction():
            for _ in range(batch):
                services.studies.create(requests(), KEY)
        made += batch
    return made


def shares(count: int, parts: int) -> list[int]:
    """``count`` split into ``parts`` near-equal whole shares."""
    return [count // parts + (1 if n < count % parts else 0) for n in range(parts)]


def fill_state_file(target: Path, count: int, processes: int = PROCESSES) -> float:
    """Make ``target`` a state file of ``count`` studies; the seconds it took."""
    from mockserver.world.sqlite import check_state_file

    started = time.perf_counter()
    folder = RAM_DISK if RAM_DISK.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="bench-fill-", dir=folder) as fast:
        filling = str(Path(fast) / "world.db")
        check_state_file(filling)
        context = multiprocessing.get_context("spawn")
        jobs = [(filling, share, n) for n, share in enumerate(shares(count, processes))]
        with context.Pool(processes) as pool:
            made = sum(pool.starmap(fill_part, jobs))
        if made != count:
            raise BenchError(f"filled {made} studies, not {count}")
        source = sqlite3.connect(filling)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    return time.perf_counter() - started
