"""Probes of every Viewer operation but create: valid calls, calls that break one rule, and
calls without credentials, each with what the contract expects of its answer.

Everything is read from the operation's schema documents (``transport.call.operation``):
path parameters, body and query are drawn by ``values``, broken by ``mutations``, and a query
is written as the text the SDK would send and read back through ``QueryReader``, the mock's
own reading of ``x-query``. A probe is kept only when ``DocumentValidator`` (and the byte caps
of ``x-json-bytes``) agree with its label: a valid probe breaks nothing, an invalid one breaks
exactly its rule. Against a stateful target (``stateless=False``) a valid probe also keeps the
rules across fields (``crossfield``) and names the study, user and invitation the suite made
(``known``: wire name to value, such as ``{"studyId": "stu_…"}``), so that it can succeed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

from hypothesis import strategies as st

from contract_tests.lengths import COUNTS
from contract_tests.operations.cases import (
    VALID,
    Case,
    Drawn,
    Parts,
    confirmed,
)
from contract_tests.operations.crossfield import CrossField
from contract_tests.operations.mutations import Mutations, Target, targets
from contract_tests.operations.values import Values
from contract_tests.operations.wire import READ_TYPES, one_segment, write
from contract_tests.transport.call import NO_BODY, Call, Operation, operation, operations
from contract_tests.transport.exchange import CREATE, Kind, Probe
from mockserver.contract import Contract, Rule
from mockserver.query import REPEATED, QueryReader
from mockserver.resources.sessions import BYTES_KEYWORD, ByteCap
from mockserver.validation import DocumentValidator, Location, Violation

_SHARED: dict[tuple[int, bool], OperationProbes] = {}


def other_operations() -> list[str]:
    """Every operation this module probes: all of them but create, by name."""
    return [name for name in operations() if name != CREATE]


class OperationProbes:
    """The probes of every operation but create against one kind of target. Its strategies
    are built once (``shared``); ``known`` is read when a draw is confirmed, so one instance
    serves run after run."""

    @classmethod
    def shared(cls, contract: Contract, *, stateless: bool) -> OperationProbes:
        """The one instance for this contract and kind of target (building strategies and
        their first draws costs more than a run of a few examples)."""
        key = (id(contract), stateless)
        found = _SHARED.get(key)
        if found is None or found.contract is not contract:
            found = _SHARED[key] = cls(contract, stateless=stateless)
        return found

    def __init__(
        self,
        contract: Contract,
        *,
        stateless: bool = False,
        known: Mapping[str, str] | None = None,
        values: Values | None = None,
    ) -> None:
        self.contract = contract
        self.stateless = stateless
        self.known = dict(known or {})
        self.values = values or Values(contract)
        self.mutations = Mutations(contract, self.values)
        self._validators: dict[tuple[str, Location], DocumentValidator] = {}
        self._readers: dict[str, QueryReader] = {}
        self._cross: dict[str, CrossField] = {}
        self._cases: dict[str, list[Case]] = {}

    # --- what an operation can be probed with ----------------------------------------------

    def targets(self, name: str) -> list[Target]:
        """Every rule of the operation's documents that some input breaks, where it applies
        (path documents: only the operation's own parameters)."""
        spec = operation(name)
        found: list[Target] = []
        for document, location in _parts(spec):
            for target in targets(self.contract, document, location):
                if location == "path" and target.parameter not in spec.parameters:
                    continue
                if self.mutations.breakable(target, self._produced(target)):
                    found.append(target)
        return found

    def repeatable(self, name: str) -> Rule | None:
        """The rule a repeated query parameter breaks, if the operation has a query."""
        query = operation(name).query
        if query is None or REPEATED not in self.contract.documents[query].get("x-query-rules", {}):
            return None
        return self.contract.stateful_rule(query, REPEATED, "x-query-rules")

    def _produced(self, target: Target) -> frozenset[str] | None:
        if target.location == "body":
            return None
        if target.location == "path" or len(target.steps) > 1:
            return frozenset({"string"})
        return READ_TYPES[self._reading(target.document, target.parameter).get("read", "string")]

    # --- strategies ----------------------------------------------------------------------------

    def valid(self, name: str) -> st.SearchStrategy[Probe]:
        """Valid calls: every field rule kept, optional fields present or absent."""
        return confirmed(*self._valid(operation(name)))

    def invalid(self, name: str, rules: Collection[str] | None = None) -> st.SearchStrategy[Probe]:
        """Calls that break exactly one rule (``rules``: only these), labelled with it."""
        return st.one_of([confirmed(*drawn) for _, drawn in self._breaking(name, rules)])

    def cases(self, name: str) -> list[Case]:
        """One valid case (labelled ``valid``) and a case breaking each rule (labelled by
        its id) of the operation; built once."""
        if name not in self._cases:
            labelled = [(VALID, self._valid(operation(name))), *self._breaking(name, None)]
            self._cases[name] = [Case(name, label, drawn) for label, drawn in labelled]
        return self._cases[name]

    def _valid(self, spec: Operation) -> Drawn:
        parts = st.builds(
            Parts,
            self._path_values(spec),
            self._document(spec.query, minimal=False),
            self._document(spec.body, minimal=False) if spec.body else st.just(NO_BODY),
        )
        return parts, lambda drawn: self.confirm_valid(spec, drawn)

    def _breaking(self, name: str, rules: Collection[str] | None) -> list[tuple[str, Drawn]]:
        """For each rule (``rules``: only these), the draws of calls that may break it."""
        spec = operation(name)
        found = [
            (target.rule.id, self._broken(spec, target))
            for target in self.targets(name)
            if rules is None or target.rule.id in rules
        ]
        repeated = self.repeatable(name)
        if repeated is not None and (rules is None or repeated.id in rules):
            found.append((repeated.id, self._repeated(spec, repeated)))
        return found

    def _broken(self, spec: Operation, target: Target) -> Drawn:
        bad = self.mutations.documents(target)
        path = bad if target.location == "path" else self._path_values(spec)
        query = bad if target.location == "query" else st.just({})
        body: st.SearchStrategy[Any] = st.just(NO_BODY)
        if spec.body:
            body = bad if target.location == "body" else self._document(spec.body, minimal=True)
        parts = st.builds(Parts, path, query, body)
        return parts, lambda drawn: self.confirm_invalid(spec, drawn, target)

    def _repeated(self, spec: Operation, rule: Rule) -> Drawn:
        parts = st.builds(
            Parts,
            self._path_values(spec),
            self._document(spec.query, minimal=False),
            st.just(NO_BODY),
        )
        twice = st.tuples(parts, st.integers(0, 2**16 - 1))
        return twice, lambda drawn: self.confirm_repeated(spec, drawn[0], drawn[1], rule)

    def _document(self, name: str | None, *, minimal: bool) -> st.SearchStrategy[Any]:
        if name is None:
            return st.just({})
        return self.values.of(
            self.contract.resolved(name), minimal=minimal, types=frozenset({"object"})
        )

    def _path_values(self, spec: Operation) -> st.SearchStrategy[dict[str, Any]]:
        if spec.path is None:
            return st.just({})
        properties = self.contract.resolved(spec.path)["properties"]
        return st.fixed_dictionaries(
            {p: self.values.of(properties[p], types=frozenset({"string"})) for p in spec.parameters}
        )

    # --- deterministic probes ------------------------------------------------------------------

    def examples(self, name: str) -> list[Probe]:
        """The operation called with each example of its schemas (kept when valid)."""
        spec = operation(name)
        path = self._example_path(spec)
        if path is None:
            return []
        bodies = self._examples(spec.body) if spec.body else [NO_BODY]
        queries = self._examples(spec.query) if spec.query else [{}]
        found: list[Probe] = []
        for body in bodies:
            for query in queries:
                probe = self.confirm_valid(spec, Parts(path, query, body))
                if probe is not None:
                    found.append(_named(probe, f"example {len(found) + 1}"))
        return found

    def unauthenticated(self, name: str) -> Probe | None:
        """The operation's first example, sent without credentials."""
        found = self.examples(name)
        if not found:
            return None
        return replace(found[0], kind="unauthenticated", name="no authorization")

    def _examples(self, name: str) -> list[Any]:
        return list(self.contract.documents[name].get("examples", [])) or [{}]

    def _example_path(self, spec: Operation) -> dict[str, Any] | None:
        if spec.path is None:
            return {}
        shown = self.contract.documents[spec.path].get("examples", [])
        path = {}
        for parameter in spec.parameters:
            given = [e[parameter] for e in shown if parameter in e]
            value = self.known.get(parameter, given[0] if given else None)
            if value is None:
                return None
            path[parameter] = value
        return path

    # --- confirming what a drawn call is -------------------------------------------------------

    def confirm_valid(self, spec: Operation, drawn: Parts) -> Probe | None:
        """The valid probe of these inputs, or None if they break a rule (or cannot be sent)."""
        path, query, body = self._named_known(drawn.path), drawn.query, drawn.body
        if not self.stateless:
            query = self._fixed(spec.query, query)
            body = self._fixed(spec.body, body) if spec.body else body
            if query is None or body is None:
                return None
            query, body = self._named_known(query), self._named_known(body)
        sent = self._sent(spec, path, query, body)
        if sent is None:
            return None
        call, read, found = sent
        if found:
            return None
        reasons = self._reasons(spec, path, read, body)
        tag = "inferred" if reasons else "stated"
        return _probe("valid", call, tag)

    def confirm_invalid(self, spec: Operation, drawn: Parts, target: Target) -> Probe | None:
        """The probe of these inputs if they break exactly the target's rule, else None."""
        body, path = drawn.body, drawn.path
        if target.location != "body" and spec.body and not self.stateless:
            body = self._fixed(spec.body, body)
        if target.location != "path":
            path = self._named_known(path)
        sent = self._sent(spec, path, drawn.query, body)
        if sent is None:
            return None
        call, _, found = sent
        if {v.rule for v in found} != {target.rule.id}:
            return None
        violation = found[0]
        tag = target.rule.tag
        if target.keyword == "minLength" and not self._short_everywhere(violation, drawn, target):
            tag = "inferred"
        return _probe("invalid", call, tag, target.rule.id, _field(violation), target.location)

    def confirm_repeated(
        self, spec: Operation, drawn: Parts, spot: int, rule: Rule
    ) -> Probe | None:
        """The valid call with one of its query parameters given twice."""
        valid = self.confirm_valid(spec, drawn)
        if valid is None or valid.call is None or not valid.call.query:
            return None
        pairs = list(valid.call.query)
        name, text = pairs[spot % len(pairs)]
        call = Call(spec.name, valid.call.path, (*pairs, (name, text)), valid.call.body)
        return _probe("invalid", call, rule.tag, rule.id, name, "query")

    def _sent(
        self, spec: Operation, path: dict[str, Any], query: dict[str, Any], body: Any
    ) -> tuple[Call, dict[str, Any], list[Violation]] | None:
        """The call of these inputs, its query as the server reads it, and every violation;
        None when the inputs cannot be written (a path segment, a query text)."""
        if any(not one_segment(v) for v in path.values()):
            return None
        found: list[Violation] = []
        pairs: list[tuple[str, str]] = []
        read: dict[str, Any] = {}
        if spec.query:
            for name, value in query.items():
                text = write(self._reading(spec.query, name), value)
                if text is None:
                    return None
                pairs.append((name, text))
            read, twice = self._reader(spec.query).read(pairs)
            found += twice + self._validator(spec.query, "query").violations(read)
        if spec.path:
            found += self._validator(spec.path, "path").violations(path)
        if spec.body:
            found += self._validator(spec.body, "body").violations(body)
            found += (
                [v for cap in self._caps(spec.body) for v in cap.violations(body)]
                if isinstance(body, dict)
                else []
            )
        return Call(spec.name, dict(path), tuple(pairs), body), read, found

    def _reasons(
        self, spec: Operation, path: dict[str, Any], read: dict[str, Any], body: Any
    ) -> list[str]:
        reasons: list[str] = []
        if spec.body:
            reasons += self.values.reasons(self.contract.resolved(spec.body), body)
        if spec.query:
            reasons += self.values.reasons(self.contract.resolved(spec.query), read)
            for name, value in read.items():
                reading = self._reading(spec.query, name)
                if value is None and reading.get("tag") == "inferred":
                    reasons.append(f"the text {reading.get('null')!r} of {name} reads as null")
        if spec.path:
            reasons += self.values.reasons(self.contract.resolved(spec.path), path)
        return reasons

    def _short_everywhere(self, violation: Violation, drawn: Parts, target: Target) -> bool:
        """Whether a value under a minimum length is short in every counting of a length."""
        value = _value_at(
            {"body": drawn.body, "query": drawn.query, "path": drawn.path}[target.location],
            violation.path,
        )
        limit = int(target.operand)
        return not isinstance(value, str) or all(
            COUNTS[u](value) < limit for u in self.values.units
        )

    def _named_known(self, document: Any) -> Any:
        """The document with each field the suite knows a value of given that value."""
        if not isinstance(document, dict) or not self.known:
            return document
        return {
            k: self.known[k] if k in self.known and isinstance(v, str) else v
            for k, v in document.items()
        }

    def _fixed(self, name: str | None, document: Any) -> Any:
        if name is None:
            return document
        if name not in self._cross:
            self._cross[name] = CrossField(self.contract, name)
        return self._cross[name].fixed(document)

    def _validator(self, name: str, location: Location) -> DocumentValidator:
        key = (name, location)
        if key not in self._validators:
            self._validators[key] = DocumentValidator(self.contract, name, location=location)
        return self._validators[key]

    def _reader(self, name: str) -> QueryReader:
        if name not in self._readers:
            self._readers[name] = QueryReader(self.contract, name)
        return self._readers[name]

    def _reading(self, name: str, parameter: str) -> dict[str, Any]:
        return dict(self.contract.annotated(name, "x-query").get(parameter, {}))

    def _caps(self, name: str) -> tuple[ByteCap, ...]:
        return self._all_caps.get(name, ())

    @cached_property
    def _all_caps(self) -> dict[str, tuple[ByteCap, ...]]:
        caps: dict[str, tuple[ByteCap, ...]] = {}
        for spec in operations().values():
            if spec.body is None or spec.body in caps:
                continue
            caps[spec.body] = tuple(
                ByteCap(tuple(s.name for s in t.steps), int(t.operand), t.rule)
                for t in targets(self.contract, spec.body, "body")
                if t.keyword == BYTES_KEYWORD
            )
        return caps


def _parts(spec: Operation) -> list[tuple[str, Location]]:
    parts: list[tuple[str, Location]] = []
    if spec.path:
        parts.append((spec.path, "path"))
    if spec.query:
        parts.append((spec.query, "query"))
    if spec.body:
        parts.append((spec.body, "body"))
    return parts


def _probe(
    kind: Kind, call: Call, tag: str, rule: str = "", field: str = "", location: str = ""
) -> Probe:
    body = None if call.body is NO_BODY else call.body
    return Probe(
        kind,
        body,
        tag=tag,
        rule=rule,
        field=field,
        operation=call.operation,
        call=call,
        location=location,
    )


def _named(probe: Probe, name: str) -> Probe:
    return replace(probe, name=name)


def _field(violation: Violation) -> str:
    return violation.path[0] if violation.path else ""


def _value_at(document: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(document, dict):
            return None
        document = document.get(step)
    return document
