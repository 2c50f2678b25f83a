"""Faults: API requests the mock answers wrongly on purpose, so clients can test their retries.

A fault (schemas/mock-fault.schema.json) matches a method and a path (a route template or a
glob), fires on the first N matches, from match N+1 on, with a probability, or always, and
then answers a status of its own, delays the answer, or closes the connection (before or
after the request is carried out). Every matching fault counts the match, so ``first`` and
``after`` count requests whatever other faults did; the first added that fires acts.
"""

from __future__ import annotations

import builtins
import random
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from typing import Any

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import ApiError, InvalidRequest, NotFound
from mockserver.validation import DocumentValidator, Violation, violation

SCHEMA = "mock-fault"
ACTIONS = ("respond", "delay", "drop")
TRIGGERS = ("first", "after", "probability")
NO_BODY = frozenset({204, 304})
GLOB = re.compile(r"[*?\[]")
FAULT_TYPE = "fault"
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Answer:
    """A whole answer the mock sends instead of the API's."""

    status: int
    headers: Headers
    body: bytes


def error_classes() -> dict[int, type[ApiError]]:
    """The mock's error class of each status (500: ``ApiError`` itself)."""
    found: dict[int, type[ApiError]] = {ApiError.status: ApiError}
    pending = list(ApiError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.setdefault(cls.status, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_answer(status: int, message: str, headers: Headers | None = None) -> Answer:
    """An error body of the mock's shape (``{"error": {"type", "message"}}``) for any status;
    a status no error class has gets type ``fault``."""
    cls = error_classes().get(status)
    body = (
        cls(message).body()
        if cls is not None
        else orjson.dumps({"error": {"type": FAULT_TYPE, "message": message}})
    )
    return json_answer(status, body, headers or [])


def json_answer(status: int, body: bytes, headers: Headers) -> Answer:
    """An answer with JSON framing headers (none for 204 and 304, which have no body)."""
    if status in NO_BODY:
        return Answer(status, headers, b"")
    named = {name for name, _ in headers}
    framing = [] if b"content-type" in named else [(b"content-type", b"application/json")]
    length = (b"content-length", str(len(body)).encode())
    return Answer(status, [*framing, *headers, length], body)


@dataclass(eq=False)
class Fault:
    """One fault: its id, its document as validated (``spec``), matches seen and times fired."""

    id: str
    spec: Mapping[str, Any]
    hits: int = 0
    fired: int = 0
    method: str | None = field(init=False, repr=False)
    path: Callable[[str], bool] = field(init=False, repr=False)
    answer: Answer | None = field(init=False, repr=False)
    delay_ms: float | None = field(init=False, repr=False)
    drop: str | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        spec = self.spec
        self.method = None if spec["method"] == "*" else spec["method"]
        self.path = path_matcher(spec["path"])
        self.answer = _answer(self.id, spec["respond"]) if "respond" in spec else None
        self.delay_ms = float(spec["delay"]["ms"]) if "delay" in spec else None
        self.drop = spec.get("drop")

    def document(self) -> dict[str, Any]:
        """The wire form: ``{id, **spec, hits, fired}``."""
        return {"id": self.id, **self.spec, "hits": self.hits, "fired": self.fired}

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this fault looks at."""
        return (self.method is None or method.upper() == self.method) and self.path(path)

    def fires(self, rng: random.Random) -> bool:
        """Whether it acts on the match just counted in ``hits``."""
        spec = self.spec
        if "first" in spec:
            return self.hits <= int(spec["first"])
        if "after" in spec:
            return self.hits > int(spec["after"])
        if "probability" in spec:
            return rng.random() < float(spec["probability"])
        return True


class Faults:
    """The active faults, in the order they were added, kept in this process.

    Every change and every count goes through ``_held`` / ``_hold`` inside ``_changing()``,
    so a subclass may keep them elsewhere (``shared_faults.py``: in a state file, for every
    worker on it)."""

    def __init__(self, contract: Contract, rng: random.Random) -> None:
        self._validator = DocumentValidator(contract, SCHEMA)
        self._rules = contract.stateful_rules(SCHEMA)
        self._rng = rng
        # Replaced, never changed in place: a request walks the tuple it found, whatever an
        # admin call in another thread does meanwhile.
        self._faults: tuple[Fault, ...] = ()

    def add(self, document: Any) -> Fault:
        """A new active fault; a bad document is a 400 naming every field, and adds nothing."""
        found = self._validator.violations(document)
        if isinstance(document, dict):
            found = [*found, *cross_field(document, self._rules)]
        if found:
            raise InvalidRequest.from_violations(sorted(found, key=lambda v: (v.path, v.rule)))
        spec = {"method": "*", **document}
        spec["method"] = str(spec["method"]).upper()
        with self._changing():
            faults = self._held()
            taken = {fault.id for fault in faults}
            fault_id = self._new_id()
            while fault_id in taken:
                fault_id = self._new_id()
            fault = Fault(fault_id, spec)
            self._hold((*faults, fault))
        return fault

    def list(self) -> builtins.list[Fault]:
        """The active faults, oldest first."""
        return builtins.list(self._held())

    def remove(self, fault_id: str) -> Fault:
        """Remove one fault; 404 if there is none of that id."""
        with self._changing():
            faults = self._held()
            for fault in faults:
                if fault.id == fault_id:
                    self._hold(tuple(f for f in faults if f is not fault))
                    return fault
        raise NotFound(f"No fault {fault_id!r} is active; GET /_mock/faults lists the active ones.")

    def clear(self) -> None:
        """Remove every fault."""
        with self._changing():
            self._hold(())

    def matching(self, method: str, path: str) -> Fault | None:
        """The fault that acts on a request, if any; every fault that matches counts it."""
        faults = self._held()
        if not faults or not any(fault.matches(method, path) for fault in faults):
            return None
        with self._changing():
            faults = self._held()
            acting: Fault | None = None
            counted = False
            for fault in faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    counted = True
                    if acting is None and fault.fires(self._rng):
                        acting = fault
            if acting is not None:
                acting.fired += 1
            if counted:
                self._hold(faults)
        return acting

    def __bool__(self) -> bool:
        return bool(self._held())

    def _new_id(self) -> str:
        return f"flt_{self._rng.getrandbits(128):032x}"

    def _held(self) -> tuple[Fault, ...]:
        """The active faults as kept now."""
        return self._faults

    def _hold(self, faults: tuple[Fault, ...]) -> None:
        """Keep these as the active faults (with their counts)."""
        self._faults = faults

    def _changing(self) -> AbstractContextManager[object]:
        """Around a read, change and keep: nothing to hold in one process."""
        return nullcontext()


def cross_field(document: dict[str, Any], rules: Mapping[str, Rule]) -> list[Violation]:
    """What no schema keyword says: one action exactly, one trigger at most."""
    found: list[Violation] = []
    actions = [name for name in ACTIONS if name in document]
    if not actions:
        found.append(violation("", rules["fault.action-required"]))
    for extra in actions[1:]:
        found.append(violation(extra, rules["fault.one-action"], f"with {actions[0]}"))
    triggers = [name for name in TRIGGERS if name in document]
    for extra in triggers[1:]:
        found.append(violation(extra, rules["fault.one-trigger"], f"with {triggers[0]}"))
    return found


def path_matcher(pattern: str) -> Callable[[str], bool]:
    """A test of request paths: a route template (``{name}`` is one segment, the other
    segments literal or globs), else a glob of the whole path, else the path exactly."""
    if "{" in pattern:
        segments = [_segment(part) for part in pattern.split("/")]

        def template(path: str) -> bool:
            parts = path.split("/")
            return len(parts) == len(segments) and all(
                test(part) for test, part in zip(segments, parts, strict=True)
            )

        return template
    if GLOB.search(pattern):
        compiled = re.compile(translate(pattern))
        return lambda path: compiled.match(path) is not None
    return pattern.__eq__


def _segment(part: str) -> Callable[[str], bool]:
    if part.startswith("{") and part.endswith("}"):
        return _one_segment
    if GLOB.search(part):
        return lambda text: fnmatchcase(text, part)
    return part.__eq__


def _one_segment(text: str) -> bool:
    return text != ""


def _answer(fault_id: str, respond: Mapping[str, Any]) -> Answer:
    status = int(respond["status"])
    headers = [
        (str(name).lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in respond.get("headers", {}).items()
    ]
    if "body" in respond:
        return json_answer(status, orjson.dumps(respond["body"]), headers)
    message = (
        f"Fault {fault_id} of avara-mock answered {status} instead of the API; "
        f"DELETE /_mock/faults/{fault_id} removes it."
    )
    return error_answer(status, message, headers)
