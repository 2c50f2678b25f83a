"""What the studies part of the machine draws, read from the contract: enum values, limits,
valid ids of nobody, one-rule-invalid values (near-miss enum values, one pair too many for a
create; every body rule of an update, from the per-request suite's mutations).

Text the machine makes (descriptions, metadata) is short ASCII on purpose: the ASCII letters
fold the same under every reading of "ignoring case", so a list filter's expectation holds
under all of them. Study Instance UIDs are made fresh from unseeded randomness (``fresh_uid``),
since a server refuses a UID it stores already, whoever sent it.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.operations.probes import OperationProbes
from contract_tests.operations.values import Values
from contract_tests.transport.exchange import Probe
from mockserver.contract import Contract

CREATE = "study-create-request"
UPDATE = "study-update-request"
LIST = "study-list-query"
PATH = "study-path"
UPDATE_OPERATION = "viewer.studies.update"
UID_ROOT = "2.25"
"""DICOM PS3.5 B.2: a UID made from a UUID is 2.25 followed by the UUID as one integer."""
WORDS = st.text(string.ascii_letters, min_size=1, max_size=6)


@dataclass(frozen=True)
class Invalid:
    """A one-rule-invalid value for one field: the rule it breaks and that rule's tag."""

    field: str
    value: Any
    rule: str
    tag: str


class StudyDraws:
    """The strategies of the studies part, built once per run from the contract."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        create = contract.resolved(CREATE)["properties"]
        self.severities: tuple[str, ...] = tuple(create["severity"]["enum"])
        self.statuses: tuple[str, ...] = tuple(
            contract.resolved(UPDATE)["properties"]["studyViewerStatus"]["enum"]
        )
        self.max_pairs: int = contract.rule_value(CREATE, "metadata.max-pairs")
        self.uid_length: int = contract.rule_value(CREATE, "studyInstanceUid.max-length")
        self.limit_min: int = contract.rule_value(LIST, "limit.minimum")
        self.limit_max: int = contract.rule_value(LIST, "limit.maximum")
        self._values = Values(contract)
        self._path = contract.resolved(PATH)["properties"]
        self._customer = create["expressCustomerId"]["else"]
        self._uid = create["studyInstanceUid"]
        self._invalid: dict[tuple[tuple[str, ...], str], st.SearchStrategy[Invalid]] = {}
        self._invalid_update: st.SearchStrategy[Probe] | None = None
        self._enums = sorted(
            {v for e in _enums(contract.documents) for v in e if isinstance(v, str)}
        )

    def severity(self) -> st.SearchStrategy[str]:
        return st.sampled_from(self.severities)

    def status(self) -> st.SearchStrategy[str]:
        return st.sampled_from(self.statuses)

    def description(self, token: str) -> st.SearchStrategy[str]:
        """A description holding the sequence's token (list filters scope by it)."""
        return st.lists(WORDS, max_size=2).map(lambda words: " ".join([token, *words]))

    def metadata(self) -> st.SearchStrategy[dict[str, str]]:
        """Small maps (the limits are the per-request suite's business)."""
        keys = st.text(string.ascii_lowercase, min_size=1, max_size=4)
        values = st.text(string.ascii_letters + " ", max_size=6)
        return st.dictionaries(keys, values, max_size=3)

    def customers(self) -> st.SearchStrategy[list[str]]:
        """A small pool of Express customer ids for one sequence."""
        one = self._values.of(self._customer, minimal=True, types=frozenset({"string"}))
        return st.lists(one, min_size=1, max_size=2, unique=True)

    def unknown_id(self) -> st.SearchStrategy[str]:
        """A well-formed studyId (every rule of study-path holds)."""
        return self._values.of(self._path["studyId"], types=frozenset({"string"}))

    def limit(self, most: int = 5) -> st.SearchStrategy[int]:
        """A small page size for walks."""
        return st.integers(self.limit_min, max(self.limit_min, min(most, self.limit_max)))

    def fresh_uid(self, rng: random.Random) -> str:
        """A UID no one has sent: 2.25 and a random 128-bit integer, within the length limit."""
        digits = self.uid_length - len(UID_ROOT) - 1
        for _ in range(8):
            uid = f"{UID_ROOT}.{rng.getrandbits(min(128, digits * 3))}"
            if len(uid) <= self.uid_length and self._values.valid(self._uid, uid):
                return uid
        raise ValueError(f"cannot make a fresh UID under the contract's {self.uid_length} chars")

    def invalid_update(self) -> st.SearchStrategy[Probe]:
        """Update calls that break exactly one rule of the update body, from the per-request
        suite's mutations (``contract_tests.operations``): wrong types, near-miss ids and
        enum values, lengths one past the limit, unknown fields."""
        if self._invalid_update is None:
            probes = OperationProbes.shared(self.contract, stateless=False)
            rules = {found.rule.id for found in self.contract.rules(UPDATE)}
            self._invalid_update = probes.invalid(UPDATE_OPERATION, rules)
        return self._invalid_update

    def invalid(self, fields: tuple[str, ...], document: str) -> st.SearchStrategy[Invalid]:
        """One value that breaks one rule of a request document's fields: a value of another
        enum for an enum field, one metadata pair more than the limit."""
        key = (fields, document)
        if key not in self._invalid:
            self._invalid[key] = st.sampled_from(self._invalid_values(fields, document))
        return self._invalid[key]

    def _invalid_values(self, fields: tuple[str, ...], document: str) -> list[Invalid]:
        options: list[Invalid] = []
        props = self.contract.resolved(document)["properties"]
        for name in fields:
            node = props.get(name, {})
            rules = {
                r.keyword: r.rule
                for r in self.contract.rules(document)
                if r.schema_path[:2] == ("properties", name)
            }
            if "enum" in node and "enum" in rules:
                others = [v for v in self._enums if v not in node["enum"]]
                options += [Invalid(name, v, rules["enum"].id, rules["enum"].tag) for v in others]
            pairs = rules.get("maxProperties")
            if pairs is not None:
                too_many = {f"k{i}": "v" for i in range(self.max_pairs + 1)}
                options.append(Invalid(name, too_many, pairs.id, pairs.tag))
        return options


def _enums(node: Any) -> Iterator[list[Any]]:
    """Every enum list in the documents (the near-miss values of the others)."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield node["enum"]
        for child in node.values():
            yield from _enums(child)
    elif isinstance(node, list):
        for child in node:
            yield from _enums(child)
