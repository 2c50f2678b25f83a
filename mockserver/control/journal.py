"""The request journal: what the mock was sent and what it answered, latest ``size`` requests.

A test asks "did my code call the API, how often, with what?" without patching its client;
a person asks the dashboard what just happened. The mock is benchmarked, so recording costs
as little as it can: an entry keeps the raw bytes it was given (request headers as the server
passed them, body and answer cut at ``KEPT_BYTES``) and reads them into JSON, text and the
RFC 3339 time only when someone looks (``Entry.document()``, or an attribute).
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.query import QueryReader
from mockserver.validation import DocumentValidator

QUERY = "mock-journal-query"
KEPT_BYTES = 64 * 1024
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-avara-mock-token"})
INSTANT = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))"
)
Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


@dataclass(frozen=True, eq=False)
class Entry:
    """One request and its answer. ``status`` None: the connection was closed without one.

    Made by the middleware from raw parts; ``at``, ``query``, ``headers``, ``body`` and
    ``answer`` are read from them on first use (the wire form is ``document()``).
    """

    id: int
    method: str
    path: str
    status: int | None
    duration_ms: float
    fault: str | None
    arrived_ms: int
    raw_query: bytes
    raw_headers: Sequence[tuple[bytes, bytes]]
    raw_body: bytes
    raw_answer: bytes
    truncated: bool = False

    @cached_property
    def at(self) -> str:
        """RFC 3339 with milliseconds, in UTC: the wall clock when the request arrived."""
        moment = datetime.fromtimestamp(self.arrived_ms / 1000, timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @cached_property
    def query(self) -> str:
        """The query string as sent ('' if none)."""
        return self.raw_query.decode("latin-1")

    @cached_property
    def headers(self) -> dict[str, str]:
        """Lower-case names; a repeated header's values joined by ', '; secrets hidden."""
        found: dict[str, str] = {}
        for raw_name, raw_value in self.raw_headers:
            name = raw_name.decode("latin-1").lower()
            value = _redacted(raw_value) if name in SECRET_HEADERS else raw_value.decode("latin-1")
            found[name] = f"{found[name]}, {value}" if name in found else value
        return found

    @cached_property
    def body(self) -> Any:
        """The request body: JSON if it parses, else text; None if empty."""
        return _readable(self.raw_body)

    @cached_property
    def answer(self) -> Any:
        """The answer's body: JSON if it parses, else text; None if empty or none."""
        return _readable(self.raw_answer)

    def document(self) -> dict[str, Any]:
        """The wire form (camelCase); ``truncated`` is there only when a body was cut."""
        document = {
            "id": self.id,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "answer": self.answer,
            "durationMs": round(self.duration_ms, 3),
            "fault": self.fault,
        }
        if self.truncated:
            document["truncated"] = True
        return document


class Journal:
    """The latest ``size`` entries (a ring buffer: the oldest go first), ids never reused.

    The middleware hands over an entry's fields as a tuple (``keep``): making the ``Entry``
    costs more than the rest of the recording, so it is made when first read, then kept.
    Thread-safe enough for its two sides, the server's loop and a test's thread: appends and
    snapshots of a deque are single operations under the GIL, and making an entry twice at
    once only makes an equal one.
    """

    def __init__(self, size: int, contract: Contract | None = None) -> None:
        self.size = size
        self._kept: deque[list[Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._contract = contract
        self._checks: tuple[QueryReader, DocumentValidator] | None = None

    def next_id(self) -> int:
        """The id of the request arriving now (ids follow arrival, entries follow answers)."""
        return next(self._ids)

    def keep(self, fields: tuple[Any, ...]) -> None:
        """Keep an entry given by its fields in ``Entry``'s order, forgetting the oldest
        when full."""
        self._kept.append([fields, None])

    def record(self, entry: Entry) -> None:
        """Keep an entry made already."""
        self._kept.append([None, entry])

    def clear(self) -> None:
        """Forget every entry; the next id still follows the last one given."""
        self._kept.clear()

    def entries(self, query: Query = ()) -> list[Entry]:
        """The entries that pass every filter, by id: ``method`` (any case), ``path`` (exact,
        or a glob when it holds ``*``), ``status``, ``since`` (an entry id: those after it;
        an RFC 3339 instant: those that arrived later). A bad filter is a 400 naming it."""
        pairs = list(query.items() if isinstance(query, Mapping) else query)
        filters = self._read(pairs) if pairs else {}
        found = sorted((_made(kept) for kept in tuple(self._kept)), key=_by_id)
        method = filters.get("method")
        if method is not None:
            method = method.upper()
            found = [entry for entry in found if entry.method.upper() == method]
        path = filters.get("path")
        if path is not None:
            if "*" in path:
                found = [entry for entry in found if fnmatchcase(entry.path, path)]
            else:
                found = [entry for entry in found if entry.path == path]
        status = filters.get("status")
        if status is not None:
            found = [entry for entry in found if entry.status == status]
        since = filters.get("since")
        if since is not None:
            if since.isdigit():
                after = int(since)
                found = [entry for entry in found if entry.id > after]
            else:
                instant = instant_ms(since)
                found = [entry for entry in found if entry.arrived_ms > instant]
        return found

    def _read(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if self._checks is None:
            contract = self._contract or Contract.load()
            self._checks = (
                QueryReader(contract, QUERY),
                DocumentValidator(contract, QUERY, location="query"),
            )
        reader, validator = self._checks
        filters, repeated = reader.read([(str(name), str(value)) for name, value in pairs])
        violations = {*repeated, *validator.violations(filters)}
        if violations:
            ordered = sorted(violations, key=lambda v: (v.path, v.rule))
            raise InvalidRequest.from_violations(ordered)
        return filters


def instant_ms(text: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 instant (the schema checked its form);
    finer digits are cut, as ``Entry.at`` cuts them."""
    found = INSTANT.fullmatch(text)
    if found is None:
        raise InvalidRequest(f"{text!r} is not an RFC 3339 instant such as 2026-01-01T09:30:00Z.")
    year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
    offset = timedelta(0)
    if found[9]:
        sign = 1 if found[9] == "+" else -1
        offset = sign * timedelta(hours=int(found[10]), minutes=int(found[11]))
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=timezone.utc)
    except ValueError as exc:
        raise InvalidRequest(f"{text!r} is not a moment that exists ({exc}).") from exc
    millis = int((found[7] or "0")[:3].ljust(3, "0"))
    return int((moment - offset).timestamp()) * 1000 + millis


def _made(kept: list[Any]) -> Entry:
    """The entry of a kept pair ``[fields, entry]``, made on first use."""
    entry: Entry | None = kept[1]
    if entry is None:
        entry = kept[1] = Entry(*kept[0])
    return entry


def _by_id(entry: Entry) -> int:
    return entry.id


def _redacted(value: bytes) -> str:
    scheme, space, _ = value.partition(b" ")
    return f"{scheme.decode('latin-1')} ***" if space else "***"


def _readable(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")
