"""Mocks holding many studies: filling them over HTTP and reading their study ids back.

A mock is a separate process started with its real command line, so it is filled the way a
client would fill it: wrk sends creates (bench/post.lua, stopping once the count was
answered, within a time bound). The ids of the studies are then read back from the list
endpoint, page after page of the most the contract allows, following each page's cursor;
the walk is checked to list every stored study once, so a mock that lists wrongly fails
the run instead of being measured. The ids go to a file for bench/by_id.lua, and one study
is retrieved and updated, to warm those calls up.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.errors import BenchError
from bench.servers import HEADERS, HOST, PATH, Pinning, Server
from bench.wrk import WrkRun, check_answers, fill, run_wrk_until_filled
from mockserver.contract import Contract

FILL_RATE_FLOOR = 500
"""Creates per second below which filling is taken to have stalled (it bounds the time)."""
WALK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Filled:
    """A mock filled with studies: how many it lists, the file of their ids, what it took."""

    server: Server
    studies: int
    ids: Path
    fill: WrkRun
    walk_s: float
    rss_mib: float
    idle_rss_mib: float

    @property
    def bytes_per_study(self) -> float:
        """Memory a stored study costs, over the mock's RSS before filling."""
        return (self.rss_mib - self.idle_rss_mib) * 1024 * 1024 / max(self.studies, 1)


def page_size() -> int:
    """The largest page the list endpoint serves, read from the contract."""
    return int(Contract.load().rule_value("study-list-query", "limit.maximum"))


def call_json(
    connection: http.client.HTTPConnection, method: str, target: str, body: bytes | None = None
) -> Any:
    """One call on a kept-alive connection; its JSON body, or a BenchError unless a 200."""
    connection.request(method, target, body, headers=HEADERS)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise BenchError(f"{method} {target} answered {response.status}: {answer[:500]!r}")
    return json.loads(answer)


def warm_up(port: int, study_id: str) -> None:
    """Retrieve and update a study once, so what the first call of each loads lazily is
    loaded before wrk measures (the list walk has warmed the list)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=WALK_TIMEOUT_S)
    try:
        call_json(connection, "GET", f"{PATH}/{study_id}")
        call_json(connection, "PATCH", f"{PATH}/{study_id}", b'{"studyDescription":"CT Chest"}')
    finally:
        connection.close()


def list_ids(port: int) -> list[str]:
    """Every study id the mock lists, walking its pages; a BenchError on a repeated id."""
    limit = page_size()
    ids: list[str] = []
    cursor: str | None = None
    connection = http.client.HTTPConnection(HOST, port, timeout=WALK_TIMEOUT_S)
    deadline = time.perf_counter() + WALK_TIMEOUT_S * 4
    try:
        while time.perf_counter() < deadline:
            query: dict[str, str | int] = {"limit": limit}
            if cursor is not None:
                query["cursor"] = cursor
            page = call_json(connection, "GET", f"{PATH}?{urlencode(query)}")
            ids.extend(study["studyId"] for study in page["studies"])
            cursor = page["cursor"]
            if not page["hasMore"]:
                break
        else:
            raise BenchError(f"walking the list took over {WALK_TIMEOUT_S * 4:.0f} s")
    finally:
        connection.close()
    if len(set(ids)) != len(ids):
        raise BenchError(f"the list walk met {len(ids) - len(set(ids))} studies twice")
    return ids


def fill_mock(server: Server, count: int, ids_file: Path, pins: Pinning) -> Filled:
    """Create about ``count`` studies in ``server``, then list them into ``ids_file``."""
    idle = server.rss_mib()
    bound = max(10, count // FILL_RATE_FLOOR)
    run = run_wrk_until_filled(server.url, fill(count), bound, pins.wrk)
    check_answers("fill", run)
    server.check_alive("while being filled")
    created = run.requests - run.non_2xx
    started = time.perf_counter()
    ids = list_ids(server.port)
    walk_s = time.perf_counter() - started
    probes = len(ids) - created
    if not 0 <= probes <= 100:
        raise BenchError(
            f"{server.command} lists {len(ids)} studies after {created} creates answered 2xx"
        )
    ids_file.write_text("\n".join(ids) + "\n")
    warm_up(server.port, ids[0])
    return Filled(server, len(ids), ids_file, run, walk_s, server.rss_mib(), idle)
