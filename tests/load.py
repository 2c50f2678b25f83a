"""A mixed workload for a live mock: N concurrent clients, each a thread with one kept-alive
connection, send a fixed count of operations (create, retrieve, list walks, update, cancel)
and record every answer; ``tests/load_checks.py`` then checks the server against the record.

Each study belongs to the client that created it: only that client updates or cancels it,
one call at a time, so "the last acknowledged update" is well defined even with 64 clients.
Reads cross clients (a client retrieves studies others created), and a few Study Instance
UIDs are contested: every client may try to create them, and at most one create of each may
be acknowledged. A write is acknowledged by a 2xx; a 503 with ``retry-after`` (load shed) is
a refusal, recorded and retried; a 4xx or 5xx nothing explains is a problem; a request whose
answer never came (the server was killed) has an unknown outcome, a problem unless the run
tolerates it (a kill -9 run): then the check accepts either outcome of that write.

Used by tests/test_reliability_*.py and bench/soak.py.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from mockserver.contract import Contract
from mockserver.plugin.factories import RequestFactory, UpdateFactory

PATH = "/v1/viewer/studies"
KEY = "load-key"
TIMEOUT_S = 30.0
STALE_S = 1.0
SHED_RETRIES = 20
SHED_WAIT_CAP_S = 0.5
CONTESTED = 16
KEPT_PROBLEMS = 1000
WALK_PAGES = 3
LIST_QUERY = "study-list-query"
OPERATIONS = ("create", "retrieve", "list", "update", "cancel", "contest")


@dataclass(frozen=True)
class Mix:
    """How often each operation is drawn (weights); a client owning no study creates."""

    create: int = 30
    retrieve: int = 25
    list: int = 10
    update: int = 20
    cancel: int = 5
    contest: int = 10

    def draw(self, rng: random.Random) -> str:
        """One operation name, by weight."""
        weights = [getattr(self, name) for name in OPERATIONS]
        return rng.choices(OPERATIONS, weights)[0]


@dataclass
class Study:
    """What the record says about one acknowledged study: its last acknowledged update and
    cancel, and the writes after them whose outcome is unknown (either may have happened)."""

    study_id: str
    uid: str
    description: str
    severity: str
    cancelled: bool = False
    maybe: list[tuple[str, str]] = field(default_factory=list)
    maybe_cancelled: bool = False


@dataclass(frozen=True)
class Answer:
    """One answer: its status, headers (lower-case names), body and time taken."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Unanswered(Exception):
    """The request got no answer (connection refused, reset, timed out)."""


@dataclass
class Ledger:
    """Everything the clients were told, shared by them under one lock."""

    studies: dict[str, Study] = field(default_factory=dict)
    pool: list[Study] = field(default_factory=list)
    existing: set[str] = field(default_factory=set)
    contested: dict[str, list[str]] = field(default_factory=dict)
    refused_uids: set[str] = field(default_factory=set)
    unknown_uids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, seconds: float | None = None) -> None:
        with self.lock:
            self.counts[kind] += 1
            if seconds is not None:
                self.latencies.append(seconds)

    def problem(self, text: str) -> None:
        """Count a problem; keep its text, up to ``KEPT_PROBLEMS`` of them (a soak can meet
        millions)."""
        with self.lock:
            if len(self.problems) < KEPT_PROBLEMS:
                self.problems.append(text)
            self.counts["problem"] += 1

    def take_latencies(self) -> list[float]:
        """The latencies recorded since the last call (bench/soak.py prints p99 over time)."""
        with self.lock:
            taken, self.latencies = self.latencies, []
        return taken

    def acknowledged(self, study: Study) -> None:
        with self.lock:
            if study.study_id in self.studies or study.study_id in self.existing:
                self.problems.append(f"create of {study.uid} answered an id in use: {study}")
            self.studies[study.study_id] = study
            self.pool.append(study)

    def any_study(self, rng: random.Random) -> Study | None:
        """An acknowledged study of any client, drawn at random."""
        with self.lock:
            return rng.choice(self.pool) if self.pool else None


class Connection:
    """One kept-alive HTTP/1.1 connection, reopened when it failed or sat idle."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._connection: http.client.HTTPConnection | None = None
        self._used = 0.0

    def call(self, method: str, target: str, body: Any = None) -> Answer:
        """Send one request; Unanswered if no answer came."""
        if self._connection is None or time.monotonic() - self._used > STALE_S:
            self.close()
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        headers = {"Authorization": f"Bearer {KEY}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self._connection.request(method, target, data, headers)
            response = self._connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unanswered(f"{method} {target}: {type(exc).__name__}: {exc}") from exc
        self._used = time.monotonic()
        names = {name.lower(): value for name, value in response.getheaders()}
        if names.get("connection", "").lower() == "close":
            self.close()
        return Answer(response.status, names, answer, time.perf_counter() - started)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def shed(answer: Answer) -> bool:
    """A 503 with ``retry-after``: the server refused the request to protect itself."""
    return answer.status == 503 and "retry-after" in answer.headers


class Client:
    """One of the concurrent clients: its connection, its studies, its random draws."""

    def __init__(
        self, number: int, base_url: str, ledger: Ledger, contract: Contract, seed: int
    ) -> None:
        self.number = number
        self.ledger = ledger
        self.connection = Connection(base_url)
        self.rng = random.Random(f"{seed}/{number}")
        self.creates = RequestFactory(contract, None)
        self.updates = UpdateFactory(contract, self.rng.getrandbits(64))
        self.limits = (
            int(contract.rule_value(LIST_QUERY, "limit.minimum")),
            int(contract.rule_value(LIST_QUERY, "limit.maximum")),
        )
        self.own: list[Study] = []
        self.writes = 0
        self.tolerate_unanswered = False

    def send(self, operation: str, method: str, target: str, body: Any = None) -> Answer | None:
        """The answer, retrying load sheds; None (recorded) if no answer came."""
        for attempt in range(SHED_RETRIES + 1):
            try:
                answer = self.connection.call(method, target, body)
            except Unanswered as exc:
                self.ledger.note("unanswered")
                if not self.tolerate_unanswered:
                    self.ledger.problem(str(exc))
                return None
            self.ledger.note(operation, answer.seconds)
            if not shed(answer) or attempt == SHED_RETRIES:
                break
            self.ledger.note("shed")
            wait = float(answer.headers.get("retry-after", "0") or 0)
            time.sleep(min(max(wait, 0.01), SHED_WAIT_CAP_S))
        if answer.status >= 500:
            self.ledger.note("5xx")
            self.ledger.problem(
                f"{method} {target} answered {answer.status}: {answer.body[:300]!r}"
            )
        return answer

    def unexpected(self, what: str, answer: Answer) -> None:
        if answer.status < 500:
            self.ledger.problem(f"{what} answered {answer.status}: {answer.body[:300]!r}")

    def step(self, mix: Mix) -> None:
        operation = mix.draw(self.rng)
        if not self.own and operation in ("update", "cancel"):
            operation = "create"
        {
            "create": self.create,
            "contest": self.contest,
            "retrieve": self.retrieve,
            "list": self.walk,
            "update": self.update,
            "cancel": self.cancel,
        }[operation]()

    def create(self, uid: str | None = None) -> None:
        body = self.creates()
        if uid is not None:
            body["studyInstanceUid"] = uid
        uid = body["studyInstanceUid"]
        answer = self.send("create", "POST", PATH, body)
        if answer is None:
            with self.ledger.lock:
                self.ledger.unknown_uids.add(uid)
            return
        if 200 <= answer.status < 300:
            made = answer.json()
            study = Study(made["studyId"], uid, made["studyDescription"], made["severity"])
            if made["studyInstanceUid"] != uid:
                self.ledger.problem(f"create of {uid} answered {made['studyInstanceUid']}")
            self.ledger.acknowledged(study)
            self.own.append(study)
            if uid in self.ledger.contested:
                with self.ledger.lock:
                    self.ledger.contested[uid].append(study.study_id)
            return
        with self.ledger.lock:
            self.ledger.refused_uids.add(uid)
        if not (answer.status == 409 and uid in self.ledger.contested):
            self.unexpected(f"create of {uid}", answer)

    def contest(self) -> None:
        self.create(self.rng.choice(sorted(self.ledger.contested)))

    def retrieve(self) -> None:
        mine = self.own and self.rng.random() < 0.5
        study = self.rng.choice(self.own) if mine else self.ledger.any_study(self.rng)
        if study is None:
            return
        answer = self.send("retrieve", "GET", f"{PATH}/{study.study_id}")
        if answer is None or answer.status >= 500:
            return
        if answer.status != 200:
            self.unexpected(f"retrieve of acknowledged {study.study_id}", answer)
            return
        found = answer.json()
        if found["studyInstanceUid"] != study.uid:
            self.ledger.problem(f"{study.study_id} has UID {found['studyInstanceUid']}")
        if mine:
            for text in differences(study, found):
                self.ledger.problem(text)

    def walk(self) -> None:
        query: dict[str, str | int] = {"limit": self.rng.randint(*self.limits)}
        seen: set[str] = set()
        for _ in range(WALK_PAGES):
            answer = self.send("list", "GET", f"{PATH}?{urlencode(query)}")
            if answer is None or answer.status >= 500:
                return
            if answer.status != 200:
                self.unexpected(f"list {query}", answer)
                return
            page = answer.json()
            ids = [study["studyId"] for study in page["studies"]]
            if seen.intersection(ids) or len(set(ids)) != len(ids):
                self.ledger.problem(f"a list walk met a study twice: {sorted(seen & set(ids))}")
            seen.update(ids)
            if not page["hasMore"]:
                return
            query["cursor"] = page["cursor"]

    def update(self) -> None:
        study = self.rng.choice(self.own)
        self.writes += 1
        description = f"load {self.number}.{self.writes}"
        body = self.updates(studyDescription=description)
        body.pop("studyViewerStatus", None)
        answer = self.send("update", "PATCH", f"{PATH}/{study.study_id}", body)
        if answer is None:
            study.maybe.append((description, body["severity"]))
        elif answer.status == 200:
            study.description, study.severity, study.maybe = description, body["severity"], []
        else:
            self.unexpected(f"update of {study.study_id}", answer)

    def cancel(self) -> None:
        study = self.rng.choice(self.own)
        answer = self.send("cancel", "POST", f"{PATH}/cancel", {"studyId": study.study_id})
        if answer is None:
            study.maybe_cancelled = True
        elif answer.status == 200:
            study.cancelled = True
        else:
            self.unexpected(f"cancel of {study.study_id}", answer)

    def run(self, count: Callable[[], bool], mix: Mix) -> None:
        try:
            while count():
                self.step(mix)
        except Exception as exc:  # a client's crash must fail the run, not vanish with its thread
            self.ledger.problem(f"client {self.number} crashed: {type(exc).__name__}: {exc}")
        finally:
            self.connection.close()


def differences(study: Study, found: dict[str, Any]) -> list[str]:
    """How a study the server shows departs from the record of its acknowledged writes."""
    problems: list[str] = []
    shown = (found["studyDescription"], found["severity"])
    if shown != (study.description, study.severity) and shown not in study.maybe:
        problems.append(
            f"{study.study_id} shows {shown}, its last acknowledged update set "
            f"{(study.description, study.severity)}"
        )
    if found["isCancelled"] != study.cancelled and not study.maybe_cancelled:
        problems.append(
            f"{study.study_id} isCancelled is {found['isCancelled']}, "
            f"its acknowledged cancels say {study.cancelled}"
        )
    return problems


def listed(base_url: str) -> list[dict[str, Any]]:
    """Every study the server lists, walking the largest pages it serves."""
    limit = int(Contract.load().rule_value(LIST_QUERY, "limit.maximum"))
    connection = Connection(base_url)
    studies: list[dict[str, Any]] = []
    query: dict[str, str | int] = {"limit": limit}
    try:
        while True:
            answer = connection.call("GET", f"{PATH}?{urlencode(query)}")
            if answer.status != 200:
                raise Unanswered(f"list {query} answered {answer.status}: {answer.body!r}")
            page = answer.json()
            studies.extend(page["studies"])
            if not page["hasMore"]:
                return studies
            query["cursor"] = page["cursor"]
    finally:
        connection.close()


class Budget:
    """The operations left to share among the clients, and an optional deadline."""

    def __init__(self, operations: int | None, seconds: float | None) -> None:
        self.left = operations
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def __call__(self) -> bool:
        if self.stopped.is_set():
            return False
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        if self.left is None:
            return True
        with self.lock:
            self.left -= 1
            return self.left >= 0


def run_load(
    base_url: str,
    *,
    clients: int = 64,
    operations: int | None = 2000,
    seconds: float | None = None,
    mix: Mix = Mix(),
    seed: int = 0,
    ledger: Ledger | None = None,
    budget: Budget | None = None,
    tolerate_unanswered: bool = False,
) -> Ledger:
    """Send ``operations`` operations (or for ``seconds``) from ``clients`` threads.

    Pass a ``ledger`` (and a ``budget`` to stop early) to watch a run from another thread.
    """
    ledger = ledger or Ledger()
    budget = budget or Budget(operations, seconds)
    contract = Contract.load()
    uids = RequestFactory(contract, None)
    ledger.existing = {study["studyId"] for study in listed(base_url)}
    ledger.contested = {uids.uid(): [] for _ in range(CONTESTED)}
    workers = [Client(n, base_url, ledger, contract, seed) for n in range(clients)]
    threads = []
    for client in workers:
        client.tolerate_unanswered = tolerate_unanswered
        threads.append(threading.Thread(target=client.run, args=(budget, mix), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ledger
