"""What the people model holds and how it judges an answer: values with their basis.

An ``Entity`` is one user or invitation the machine made: each field's value and its *basis*,
the rule that makes the server hold that value. A value read from the server rests on
read-your-writes (stated); a value another call must have set rests on that call's rule, so a
difference is reported with the tag of the reading it depends on (``Mismatch``). After a read
the entity takes what the server answered, so one defect gives one finding, not a cascade.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contract_tests.stateful.studies.values import instant, short
from mockserver.contract import Rule


class Later:
    """A timestamp the server must answer later than ``after`` (``None``: any timestamp)."""

    def __init__(self, after: Any) -> None:
        self.after = after

    def __repr__(self) -> str:
        return f"a time later than {self.after}"


@dataclass(frozen=True)
class Mismatch:
    """One way an answer differs from what the contract says: the rule it breaks, what was
    looked at (a field, or ``status``), what the model expected and what came."""

    rule: Rule
    subject: str
    expected: Any
    actual: Any

    @property
    def message(self) -> str:
        """The finding's text: the rule's words and the facts."""
        expected, actual = short(self.expected), short(self.actual)
        return f"{self.subject}: {self.rule.message} (expected {expected}, got {actual})"


@dataclass(frozen=True)
class Expectation:
    """What a call must answer: success (2xx) or refusal (4xx), the rule that says so, and
    the exact status when an inferred rule gives one (a stated rule's status is our reading,
    so only its class is judged)."""

    success: bool
    rule: Rule
    status: int | None = None

    def judge(self, subject: str, status: int) -> list[Mismatch]:
        """The mismatch of an answer's status, if any."""
        if self.success and not 200 <= status < 300:
            return [Mismatch(self.rule, subject, "a 2xx success", status)]
        if not self.success and not 400 <= status < 500:
            return [Mismatch(self.rule, subject, "a 4xx refusal", status)]
        if not self.success and self.status is not None and status != self.status:
            return [Mismatch(self.rule, subject, self.status, status)]
        return []


def same(expected: Any, actual: Any, timestamp: bool = False) -> bool:
    """Equal JSON values; timestamps compared as instants (``…00Z`` is ``…00.000+00:00``)."""
    if timestamp and expected is not None and actual is not None:
        return instant(expected) is not None and instant(expected) == instant(actual)
    return bool(expected == actual)


class Entity:
    """A user or an invitation the machine made: each field's value and its basis."""

    def __init__(
        self, name: str, values: Mapping[str, Any], basis: Rule, timestamps: frozenset[str]
    ) -> None:
        self.name = name
        self.timestamps = timestamps
        self.values: dict[str, Any] = dict(values)
        self.basis: dict[str, Rule] = dict.fromkeys(self.values, basis)
        self.exists = basis
        """The rule that makes the entity readable at all (not 404)."""

    def expect(self, field: str, value: Any, rule: Rule) -> None:
        """The server must now answer ``value`` for the field, by ``rule``."""
        self.values[field] = value
        self.basis[field] = rule

    def rest(self, rule: Rule, fields: Iterable[str] | None = None) -> None:
        """The fields (default: all it holds) keep their values, now by ``rule``."""
        for name in self.values if fields is None else fields:
            if name in self.values:
                self.basis[name] = rule

    def differences(self, answer: Mapping[str, Any]) -> list[Mismatch]:
        """How an answer differs from the model (a field left out reads as null, as the
        SDK's optional fields do)."""
        found: list[Mismatch] = []
        for name, value in self.values.items():
            actual = answer.get(name)
            if isinstance(value, Later):
                moment, after = instant(actual), instant(value.after)
                wrong = moment is None or (after is not None and moment <= after)
            else:
                wrong = not same(value, actual, name in self.timestamps)
            if wrong:
                found.append(Mismatch(self.basis[name], f"{self.name} {name}", value, actual))
        return found

    def observe(self, answer: Mapping[str, Any], read: Rule) -> list[Mismatch]:
        """Compare an answer with the model, then take the answer as the new state (each
        field by ``read``; a field left out as null): later calls are judged against what
        the server showed."""
        found = self.differences(answer)
        self.values = {**dict.fromkeys(self.values), **answer}
        self.basis = dict.fromkeys(self.values, read)
        self.exists = read
        return found
