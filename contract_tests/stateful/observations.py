"""What a step of the state machine saw, for the invariants to judge.

Each rule of the machine sends its calls, asks the model what the answers must be, and hands
the invariants one observation per thing to judge: the exchanges it rests on and the model's
expectations, so an invariant is a small function that compares and states the facts. Other
parts of the machine (users, invitations) add their own subclasses of ``Observation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contract_tests.stateful.studies.expects import Expect
from contract_tests.transport.exchange import Exchange


@dataclass(frozen=True)
class Observation:
    """Something the machine saw; ``exchanges`` are the requests it rests on, in order."""

    exchanges: tuple[Exchange, ...]

    @property
    def exchange(self) -> Exchange:
        """The exchange a breach of this observation is reported with (the last one)."""
        return self.exchanges[-1]

    @property
    def status(self) -> int | None:
        """The status of the last answer (None: no answer)."""
        answer = self.exchange.answer
        return None if answer is None else answer.status


@dataclass(frozen=True)
class StudySeen(Observation):
    """A study an answer showed (a create's, an update's, a read's or a list's), or should
    have: ``document`` is None when the answer was not a 2xx study; ``refused`` is the rule
    that answer breaks then (``refused_tag`` overrides its tag when accepting the request
    rests on our reading). ``id_taken``: a create answered a studyId given before."""

    role: Literal["create", "update", "read"]
    document: Mapping[str, Any] | None
    expects: tuple[Expect, ...]
    timestamps: frozenset[str]
    refused: str
    refused_tag: str | None = None
    id_taken: bool = False


@dataclass(frozen=True)
class ActionSeen(Observation):
    """The answer of a cancel, uncancel or reroute-url of a stored study: ``idempotent`` is
    the rule of a repeat that must say so with a message ('' when the call acts)."""

    operation: str
    refused: str
    idempotent: str = ""


@dataclass(frozen=True)
class ListSeen(Observation):
    """One list answer (a single page, limit large enough for every match): the ids the
    model expects, in order, and those listed; ``rules`` gives for each id listed or left out
    against the model the rule that breaks (``StudiesModel.difference_rule``); ``foreign``
    are listed studies the model does not know that break a filter by their own fields."""

    expected: tuple[str, ...]
    listed: tuple[str, ...]
    rules: Mapping[str, str]
    foreign: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageSeen:
    """One page of a walk and what the model said of it when it was read."""

    exchange: Exchange
    listed: tuple[str, ...]
    limit: int
    has_more: Any
    cursor: Any
    more_follow: bool | None


@dataclass(frozen=True)
class WalkSeen(Observation):
    """A walk over the pages of a list, with writes between pages: ``must_see`` matched from
    the walk's start to its end; ``cut`` says why the walk stopped early ('' if it did not)."""

    pages: tuple[PageSeen, ...]
    must_see: frozenset[str]
    cut: str = ""


@dataclass(frozen=True)
class RefusalSeen(Observation):
    """A request the model expects refused, and what the server showed before and after it:
    ``reads`` maps what was read (``retrieve stu_…``, the token's list) to the studies it
    showed by id, before and after (None: that read failed)."""

    refused: Exchange
    reads: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    timestamps: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MissingSeen(Observation):
    """A call naming a well-formed id or UID no study has; ``rule`` says it gets 404."""

    rule: str
    named: str


@dataclass(frozen=True)
class UidTakenSeen(Observation):
    """A create with the UID of a stored study, and that study read before and after."""

    uid: str
    before: Any
    after: Any
    timestamps: frozenset[str] = frozenset()
