"""One request the suite sends, what came back, and how to send it again by hand."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from contract_tests.transport.call import Call

Kind = Literal["valid", "invalid", "unauthenticated", "stateful"]
CREATE = "viewer.studies.create"
CREATE_PATH = "/v1/viewer/studies"
EXCERPT_BYTES = 300


@dataclass(frozen=True)
class Probe:
    """What to send and what the contract expects of the answer.

    ``rule`` and ``field`` name the one rule an invalid request breaks and ``location``
    where the field is (``body``, ``query`` or ``path``); ``tag`` says whether the
    expectation rests on a stated rule or on our reading (``inferred``). ``authorization`` is
    the header an unauthenticated probe sends instead of the key (``None``: no header).
    ``operation`` is the SDK call; ``call`` its inputs (``None``: a create request whose body
    is ``body``). A ``stateful`` probe is a step of the state machine: only the checks of an
    answer's shape judge it, never what a valid or invalid request should get.
    """

    kind: Kind
    body: Any
    name: str = "generated"
    tag: str = "stated"
    rule: str = ""
    field: str = ""
    authorization: str | None = None
    operation: str = CREATE
    call: Call | None = None
    location: str = "body"


@dataclass(frozen=True)
class Sent:
    """The HTTP request as it went out."""

    method: str
    path: str
    headers: Mapping[str, str]
    content: bytes

    def curl(self, base_url: str) -> str:
        """A ready-to-paste command that sends the same request."""
        parts = ["curl", "-sS", "-i", "-X", self.method, base_url.rstrip("/") + self.path]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.content:
            parts += ["--data-binary", self.content.decode("utf-8", "replace")]
        return " ".join(shlex.quote(part) for part in parts)


@dataclass(frozen=True)
class Answer:
    """The response: status, headers (lower-case names), body, and the body as JSON if it is."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    document: Any = None
    is_json: bool = False

    @classmethod
    def of(cls, status: int, headers: Mapping[str, str], content: bytes) -> Answer:
        """Parse the body as JSON when it is JSON."""
        try:
            return cls(status, headers, content, json.loads(content), True)
        except (ValueError, UnicodeDecodeError):
            return cls(status, headers, content)

    def excerpt(self) -> str:
        """The start of the body, for reports."""
        text = self.content[:EXCERPT_BYTES].decode("utf-8", "replace")
        return text + ("…" if len(self.content) > EXCERPT_BYTES else "")


@dataclass
class Exchange:
    """A probe, the request that carried it, and the answer (``None``: no answer, see ``error``)."""

    probe: Probe
    sent: Sent
    answer: Answer | None
    error: str = ""
    notes: list[str] = field(default_factory=list)
