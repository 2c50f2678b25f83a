"""What one field of an answer must be, and the rule (id and tag) that says so.

The studies model says what each call must answer as a list of ``Expect``; the invariants
judge an answer by them (``mismatch`` gives the facts of a breach) and group them by the
invariant that reports them (``Group``). Keeping the judgement with the expectation lets the
model state *what* must hold without knowing *who* checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from contract_tests.stateful.studies.values import instant, same, short

Group = Literal["fields", "identity", "updated", "cancel"]
"""Which invariant judges an expectation: ``fields`` by reads_own_writes (reads) or
writes_answer_model (write answers), the others by identity_kept, updated_at_moves and
cancel_transitions."""
How = Literal["equal", "none", "link", "later", "same", "set", "null"]


@dataclass(frozen=True)
class Expect:
    """One field of an answer, what it must be, and the rule (id and tag) that says so.

    ``how``: ``equal`` (the same JSON value; timestamps the same instant, a null the same as
    an absent member), ``none`` (null, absent or {}), ``link`` (a reference whose ``property``
    is ``value``; null when ``value`` is None), ``later`` (an instant after ``value``),
    ``same`` (the instant ``value``), ``set`` (any timestamp), ``null`` (null or absent).
    ``stated_when``: the answer's values under which the rule is stated whatever ``tag`` says
    (x-on-create's ``stated-when``).
    """

    field: str
    how: How
    value: Any
    rule: str
    tag: str
    group: Group = "fields"
    property: str = ""
    stated_when: Mapping[str, Any] | None = None
    alternative: tuple[Any, str, str] | None = None
    """(value, rule, tag): an answer holding this other value breaks that other rule."""

    def tag_for(self, document: Mapping[str, Any]) -> str:
        """The tag of this expectation's rule, given the answer it judges."""
        when = self.stated_when
        if when and all(document.get(name) == value for name, value in when.items()):
            return "stated"
        return self.tag

    def mismatch(self, document: Mapping[str, Any], timestamps: frozenset[str]) -> str | None:
        """Why the answer breaks this expectation (the facts), or None when it holds."""
        got = document.get(self.field)
        if self.how == "equal":
            if same(got, self.value, self.field in timestamps):
                return None
            return f"{self.field} is {short(got)}, expected {short(self.value)}"
        if self.how == "none":
            return None if got in (None, {}) else f"{self.field} is {short(got)}, expected none"
        if self.how == "null":
            return None if got is None else f"{self.field} is {short(got)}, expected null"
        if self.how == "link":
            if self.value is None:
                return None if got is None else f"{self.field} is {short(got)}, expected null"
            linked = got.get(self.property) if isinstance(got, dict) else None
            if linked == self.value:
                return None
            return f"{self.field}.{self.property} is {short(linked)}, expected {self.value!r}"
        moment = instant(got)
        if moment is None:
            return f"{self.field} is {short(got)}, expected a timestamp"
        if self.how == "later" and not moment > self.value:
            return f"{self.field} is {got}, not later than {_iso(self.value)}"
        if self.how == "same" and moment != self.value:
            return f"{self.field} is {got}, expected the instant {_iso(self.value)}"
        return None


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)
