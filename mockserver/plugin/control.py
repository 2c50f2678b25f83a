"""A test's hold on a mock's control plane: faults, the whole state, and the request journal.

``avara_mock`` (in-process) and ``avara_server`` (live) share these methods, and both go through
the mock's admin API (``/_mock/...``): in-process by calling the app, live over HTTP. So a fault
behaves the same in both, and a bad one is refused with the same 400, naming the same field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import orjson

if TYPE_CHECKING:
    from mockserver.services import Services

FAULTS = "/_mock/faults"
STATE = "/_mock/state"
JOURNAL = "/_mock/requests"
RESET = "/_mock/reset"
DEFAULT_FAULT_STATUS = 500
TOKEN_HEADER = "x-avara-mock-token"

Drop = Literal["before", "after"]


@dataclass(frozen=True)
class AdminAnswer:
    """What the admin API answered: the status and the parsed JSON body (``None`` if empty)."""

    status: int
    body: Any


class AdminError(Exception):
    """The admin API refused a call: ``status``, its ``message``, and ``errors`` (each entry
    names a field of the document sent and the rule it breaks, as the public API's 400s do)."""

    def __init__(self, method: str, path: str, answer: AdminAnswer) -> None:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.status = answer.status
        self.body = answer.body
        self.message = str(error.get("message") or answer.body)
        self.errors: list[dict[str, Any]] = list(error.get("errors") or [])
        # One problem is the summary itself; several are summed up, so list each.
        details = "".join(
            f"\n  {entry.get('field', '?')}: {entry.get('message', '')}"
            for entry in (self.errors if len(self.errors) > 1 else [])
        )
        super().__init__(f"{method} {path} answered {answer.status}: {self.message}{details}")


def fault_document(
    path: str,
    *,
    method: str = "*",
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    first: int | None = None,
    after: int | None = None,
    probability: float | None = None,
    delay_ms: float | None = None,
    drop: Drop | None = None,
) -> dict[str, Any]:
    """The fault document (schemas/mock-fault.schema.json) for ``fail``'s arguments.

    Each argument given goes in as it is, so the mock judges the combination (two triggers or
    two actions: a 400 naming them). With no action at all the fault answers 500: ``fail``
    should fail something.
    """
    document: dict[str, Any] = {"method": method, "path": path}
    for name, value in (("first", first), ("after", after), ("probability", probability)):
        if value is not None:
            document[name] = value
    if drop is not None:
        document["drop"] = drop
    if delay_ms is not None:
        document["delay"] = {"ms": delay_ms}
    answers = status is not None or headers is not None or body is not None
    if answers or (drop is None and delay_ms is None):
        respond: dict[str, Any] = {"status": DEFAULT_FAULT_STATUS if status is None else status}
        if headers is not None:
            respond["headers"] = dict(headers)
        if body is not None:
            respond["body"] = body
        document["respond"] = respond
    return document


class FaultHandle:
    """One fault the test added. As a context manager it removes the fault on exit; kept
    without ``with``, the fault lasts until the test ends (the fixture resets the mock).
    ``hits`` and ``fired`` are read from the mock while the fault is active, and are its last
    counts once the handle removed it."""

    def __init__(self, controls: MockControls, document: Mapping[str, Any]) -> None:
        self._controls = controls
        self.id: str = str(document["id"])
        self.document: dict[str, Any] = dict(document)
        self._removed = False

    def current(self) -> dict[str, Any] | None:
        """The fault as the mock holds it now (``hits``, ``fired``), ``None`` once removed."""
        if self._removed:
            return None
        return next((f for f in self._controls.faults() if f.get("id") == self.id), None)

    @property
    def hits(self) -> int:
        """How many requests matched the fault's method and path."""
        return int((self.current() or self.document).get("hits", 0))

    @property
    def fired(self) -> int:
        """How many of those requests it acted on."""
        return int((self.current() or self.document).get("fired", 0))

    def remove(self) -> None:
        """Take the fault away, keeping its last counts; nothing happens if it is gone already
        (a reset removed it)."""
        if self._removed:
            return
        final = self._controls.remove_fault(self.id)
        if final is not None:
            self.document = final
        self._removed = True

    def __enter__(self) -> FaultHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultHandle({self.document!r})"


class MockControls(ABC):
    """The control plane's calls, for any mock that can send an admin request."""

    @abstractmethod
    def _admin(self, method: str, path: str, query: str = "", body: Any = None) -> AdminAnswer:
        """Send one admin request (``body`` as JSON unless ``None``) and return its answer."""

    def _call(self, method: str, path: str, query: str = "", body: Any = None) -> Any:
        """An admin request that must succeed: its JSON body, else ``AdminError``."""
        answer = self._admin(method, path, query, body)
        if answer.status >= 400:
            raise AdminError(method, path + (f"?{query}" if query else ""), answer)
        return answer.body

    # --- faults ---------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        *,
        method: str = "*",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        first: int | None = None,
        after: int | None = None,
        probability: float | None = None,
        delay_ms: float | None = None,
        drop: Drop | None = None,
    ) -> FaultHandle:
        """Make requests to ``path`` (a route template such as ``/v1/viewer/studies/{studyId}``
        or a glob such as ``/v1/viewer/*``) fail: answer ``status`` with ``headers`` and
        ``body``, answer ``delay_ms`` late, or ``drop`` the connection ("before" the mock acts,
        or "after": the write is applied and the answer lost). ``first=N`` acts on the first N
        matching requests, ``after=N`` on every one after the first N, ``probability`` on that
        share; none of them: on every match. ``AdminError`` if the mock refuses the fault."""
        document = fault_document(
            path,
            method=method,
            status=status,
            headers=headers,
            body=body,
            first=first,
            after=after,
            probability=probability,
            delay_ms=delay_ms,
            drop=drop,
        )
        return FaultHandle(self, self._call("POST", FAULTS, body=document))

    def faults(self) -> list[dict[str, Any]]:
        """The active faults, oldest first, each with its ``id``, ``hits`` and ``fired``."""
        return _listed(self._call("GET", FAULTS), "faults")

    def remove_fault(self, fault_id: str) -> dict[str, Any] | None:
        """Take one fault away: its last document (``hits``, ``fired``), ``None`` if it was
        gone already."""
        path = f"{FAULTS}/{quote(fault_id, safe='')}"
        answer = self._admin("DELETE", path)
        if answer.status == 404:
            return None
        if answer.status >= 400:
            raise AdminError("DELETE", path, answer)
        return dict(answer.body)

    def clear_faults(self) -> None:
        """Take every fault away."""
        self._call("DELETE", FAULTS)

    # --- state ----------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The whole world as one document (studies, users, invitations, clock)."""
        document: dict[str, Any] = self._call("GET", STATE)
        return document

    @state.setter
    def state(self, document: Mapping[str, Any]) -> None:
        """Replace the world by ``document``; ``AdminError`` naming the field if it is bad
        (the mock keeps its world then)."""
        self._call("PUT", STATE, body=document)

    # --- journal --------------------------------------------------------------------------

    def journal(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: int | str | None = None,
    ) -> list[dict[str, Any]]:
        """The journal's entries, oldest first, as the admin API answers them: ``method``,
        ``path``, ``query``, ``headers`` (authorization redacted), ``body``, ``status``
        (``None``: dropped), ``answer``, ``durationMs``, ``fault``. Filters: ``method``,
        ``path`` (exact, or a glob with ``*``), ``status``, ``since`` (an entry id, or an RFC
        3339 instant)."""
        filters = {"method": method, "path": path, "status": status, "since": since}
        query = urlencode(
            [(name, str(value)) for name, value in filters.items() if value is not None]
        )
        return _listed(self._call("GET", JOURNAL, query), "requests")

    def clear_journal(self) -> None:
        """Forget the journal's entries (ids keep counting)."""
        self._call("DELETE", JOURNAL)

    def _back_to_start(self, services: Services) -> None:
        """Back to the start state, as ``POST /_mock/reset``: the world (or the scenario),
        no faults, an empty journal; a stateless mock's draws restart from the seed."""
        self._call("POST", RESET)


def _listed(body: Any, key: str) -> list[dict[str, Any]]:
    """The entries of a listing answer (``{"faults": [...]}``, ``{"requests": [...]}``)."""
    items: Sequence[Any] = body[key]
    return [dict(item) for item in items]


def encode(body: Any) -> bytes:
    """A request body for the admin API: JSON, or nothing."""
    return b"" if body is None else orjson.dumps(body)


def decode(content: bytes) -> Any:
    """An admin answer's body: JSON, else the text, ``None`` if empty."""
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return content.decode("utf-8", "replace")
