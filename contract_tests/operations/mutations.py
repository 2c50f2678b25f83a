"""One-rule-invalid documents for every ``x-rules`` rule of a schema document, and near misses.

Each annotated keyword becomes a ``Target``: the rule, the keyword's operand and where in a
document the keyword applies (the properties, items, keys and values on the way). A target's
strategy draws a valid document (``values``) with one value there replaced by a value that
breaks the keyword: a wrong type, a length one past the limit, a near-miss id, another enum's
value, a pattern or format broken by one edit, a required field dropped, an unknown field
added. Whether the result breaks exactly that rule is for the caller to confirm with
``DocumentValidator`` (``probes`` does): a mutation only has to be likely to.

Near misses come from ``nearmiss`` (read from schemas/, never listed), one-edit breaks of a
text from ``edits``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.operations.drawing import evenly
from contract_tests.operations.edits import SPOTS, at, edits, forbidden
from contract_tests.operations.flat import UnsupportedSchema
from contract_tests.operations.nearmiss import (
    id_prefix,
    near_miss_ids,
    other_enum_values,
    schema_nodes,
)
from contract_tests.operations.values import Values
from mockserver.contract import Contract, Rule
from mockserver.validation import Location

WRONG_TYPES: tuple[Any, ...] = (7, 2.5, True, "text", "7", ["x"], [], {"k": "v"}, {}, None)
FORMAT_BREAKS: dict[str, tuple[str, ...]] = {
    "date-time": ("2026-01-31T12:00:00", "2026-01-31 12:00:00Z", "2026-13-01T00:00:00Z"),
    "date": ("2024-02-30", "2024-13-01", "2023-02-29", "2024-00-10"),
    "email": ("nobody", "nobody@", "@example.org", "two words@example.org"),
    "uri": ("relative/path", "no scheme", "//example.org"),
}
"""Values of the right shape that a format refuses: what no pattern of schemas/ says."""
UNSENDABLE: tuple[Any, ...] = ("someone@example.org", "x", 1, True, None, {})
"""Values for a field no request may carry (``not: {}``): any will do."""


@dataclass(frozen=True)
class Step:
    """One step from a node to a value inside it: a property, an item, a member's value
    (``additionalProperties``) or a member's key (``propertyNames``)."""

    kind: str
    parent: Any
    name: str = ""
    sibling: Any = None
    """For a key: the schema of the member's value, to give the bad key a valid one."""


@dataclass(frozen=True)
class Target:
    """A rule at one place of a document: break ``keyword`` of ``node`` to break ``rule``."""

    document: str
    location: Location
    rule: Rule
    keyword: str
    operand: Any
    steps: tuple[Step, ...]
    node: Any
    """The whole schema of the value the keyword applies to (its ``allOf`` siblings too)."""
    holder: Any
    """The node that carries the keyword."""

    @property
    def parameter(self) -> str:
        """The first property on the way (the query or path parameter, the body field)."""
        return self.steps[0].name if self.steps and self.steps[0].kind == "property" else ""


def targets(contract: Contract, document: str, location: Location) -> Iterator[Target]:
    """Every annotated rule of a document, where it applies."""
    root = contract.resolved(document)
    for found in contract.rules(document):
        node, holder, steps = _walk(root, found.schema_path)
        operand = holder[found.keyword]
        yield Target(document, location, found.rule, found.keyword, operand, steps, node, holder)


def _walk(root: Any, schema_path: tuple[str | int, ...]) -> tuple[Any, Any, tuple[Step, ...]]:
    """The value's whole node, the keyword's node, and the steps from the root to the value."""
    instance, node = root, root
    steps: list[Step] = []
    path = iter(schema_path)
    for step in path:
        if step == "properties":
            name = str(next(path))
            steps.append(Step("property", instance, name))
            instance = node = node["properties"][name]
        elif step == "items":
            steps.append(Step("item", instance))
            instance = node = node["items"]
        elif step == "additionalProperties":
            steps.append(Step("value", instance))
            instance = node = node["additionalProperties"]
        elif step == "propertyNames":
            steps.append(Step("key", instance, sibling=node.get("additionalProperties", {})))
            instance = node = node["propertyNames"]
        elif step in ("allOf", "anyOf", "oneOf"):
            node = node[step][int(next(path))]
        elif step in ("then", "else", "not"):
            node = node[step]
        else:
            raise UnsupportedSchema(f"cannot place a value under schema step {step!r}")
    return instance, node, tuple(steps)


# --- bad values -------------------------------------------------------------------------------


class Mutations:
    """The strategies that break each target, for one contract."""

    def __init__(self, contract: Contract, values: Values | None = None) -> None:
        self.contract = contract
        self.values = values or Values(contract)
        names: dict[str, None] = {}
        for document in contract.documents.values():
            for node in schema_nodes(document):
                names.update(dict.fromkeys(node.get("properties", {})))
        self._names = tuple(names)

    def documents(self, target: Target, *, minimal: bool = True) -> st.SearchStrategy[Any]:
        """Documents that are valid but for the target's keyword (likely: confirm it)."""
        drawn = self.bad(target)
        for step in reversed(target.steps):
            drawn = self._place(step, drawn, minimal)
        return drawn

    def breakable(self, target: Target, produced: frozenset[str] | None = None) -> bool:
        """Whether some value breaks the target; ``produced``: the JSON types a text reading
        can give (a query or path parameter), None for a JSON body."""
        if target.steps and target.steps[-1].kind == "key" and target.keyword == "type":
            return False
        if target.keyword != "type" or produced is None:
            return True
        allowed = target.operand if isinstance(target.operand, list) else [target.operand]
        widened = set(allowed) | ({"integer"} if "number" in allowed else set())
        return bool(produced - widened)

    def bad(self, target: Target) -> st.SearchStrategy[Any]:
        """Values of the target's node that break its keyword (most of the time)."""
        keyword, operand = target.keyword, target.operand
        if keyword == "type":
            return st.sampled_from(WRONG_TYPES)
        if keyword in ("enum", "const"):
            return self._not_in(list(operand) if keyword == "enum" else [operand])
        if keyword == "not":
            return st.sampled_from(UNSENDABLE)
        if keyword == "x-json-bytes":
            overhead = len('{"k":""}')
            return st.integers(1, 8).map(lambda d: {"k": "x" * (int(operand) - overhead + d)})
        if keyword in ("minimum", "exclusiveMinimum"):
            edge = operand - (1 if keyword == "minimum" else 0)
            return st.just(edge) | st.integers(edge - 1000, edge)
        if keyword in ("maximum", "exclusiveMaximum"):
            edge = operand + (1 if keyword == "maximum" else 0)
            return st.just(edge) | st.integers(edge, edge + 1000)
        if keyword in ("required", "additionalProperties", "maxProperties"):
            return self._bad_object(target)
        strings = self.values.of(target.node, types=frozenset({"string"}))
        if keyword == "minLength":
            return strings.map(lambda value: value[: int(operand) - 1]) | st.just("")
        if keyword == "maxLength":
            extra = st.tuples(strings, st.integers(1, 4), st.sampled_from(["last", "x"]))
            return extra.map(lambda t: _lengthened(t[0], int(operand) + t[1], t[2]))
        if keyword == "pattern":
            refused = forbidden(operand)
            swapped = st.nothing()
            if refused:
                spots = st.tuples(strings, SPOTS, st.sampled_from(refused))
                swapped = spots.map(
                    lambda t: at(t[0], t[1], lambda v, i: v[:i] + t[2] + v[i + 1 :])
                )
            return evenly(self._near_ids(operand), swapped, self._relaxed(target), edits(strings))
        if keyword == "format":
            breaks = st.sampled_from(FORMAT_BREAKS.get(operand, ("",)))
            return evenly(breaks, self._relaxed(target), edits(strings))
        raise UnsupportedSchema(f"cannot break {keyword!r} (rule {target.rule.id})")

    def _relaxed(self, target: Target) -> st.SearchStrategy[Any]:
        """Values of the node with the target's keyword taken away: they keep every other
        rule of it (a UID's charset while its leading zeros go free, an id's format while its
        hex goes upper case), so most break the keyword alone."""
        relaxed = _without(target.node, target.holder, target.keyword)
        return self.values.of(relaxed, types=frozenset({"string"})).map(_same)

    def _near_ids(self, pattern: str) -> st.SearchStrategy[str]:
        if id_prefix(pattern) is None:
            return st.nothing()
        return near_miss_ids(self.contract, pattern)

    def _not_in(self, allowed: list[Any]) -> st.SearchStrategy[Any]:
        texts = [v for v in allowed if isinstance(v, str)]
        variants = [f(v) for v in texts for f in (str.upper, str.title, " {} ".format)]
        near = [v for v in variants if v not in allowed]
        return st.one_of(
            *([st.sampled_from(near)] if near else []),
            other_enum_values(self.contract, allowed),
            st.text(max_size=10),
            st.sampled_from([1, None, True, [texts[0] if texts else "x"]]),
        )

    def _bad_object(self, target: Target) -> st.SearchStrategy[dict[str, Any]]:
        base = self.values.of(target.node, minimal=True, types=frozenset({"object"}))
        operand, holder = target.operand, target.holder
        if target.keyword == "required":
            dropped = st.tuples(base, st.sampled_from(sorted(operand)))
            return dropped.map(lambda t: {k: v for k, v in t[0].items() if k != t[1]})
        if target.keyword == "additionalProperties":
            known = set(holder.get("properties", {}))
            spelled = [f(n) for n in known for f in (_snake, str.capitalize, str.lower)]
            candidates = [n for n in {*self._names, *spelled} if n not in known]
            names = st.sampled_from(sorted(candidates)) | st.text(min_size=1, max_size=12)
            unknown = names.filter(lambda name: name not in known)
            pairs = st.tuples(base, unknown, st.sampled_from(["x", 1, True, None]))
            return pairs.map(lambda t: {**t[0], t[1]: t[2]})
        member = holder.get("additionalProperties", {})
        value = self.values.of(member, minimal=True) if isinstance(member, dict) else st.just("v")
        sizes = st.tuples(st.integers(int(operand) + 1, int(operand) + 3), value)
        return sizes.map(lambda t: {f"k{i}": t[1] for i in range(t[0])})

    # --- placing a bad value in a valid document -------------------------------------------

    def _place(
        self, step: Step, inner: st.SearchStrategy[Any], minimal: bool
    ) -> st.SearchStrategy[Any]:
        if step.kind == "item":
            lists = self.values.of(step.parent, minimal=minimal, types=frozenset({"array"}))
            spot = st.tuples(lists, inner, st.integers(0, 8))
            return spot.map(lambda t: _inserted(t[0], t[1], t[2]))
        objects = self.values.of(step.parent, minimal=minimal, types=frozenset({"object"}))
        if step.kind == "property":
            return st.tuples(objects, inner).map(lambda t: {**t[0], step.name: t[1]})
        if step.kind == "value":
            keys = st.sampled_from(["k", "site", "key 1"])
            return st.tuples(objects, keys, inner).map(lambda t: {**t[0], t[1]: t[2]})
        sibling = step.sibling if isinstance(step.sibling, dict) else {}
        valid = self.values.of(sibling, minimal=True)
        return st.tuples(objects, inner, valid).map(lambda t: {**t[0], t[1]: t[2]})


def _without(node: Any, holder: Any, keyword: str) -> Any:
    """A copy of ``node`` in which ``holder`` (one of its nodes) lacks ``keyword``."""
    if node is holder:
        return {k: v for k, v in node.items() if k != keyword}
    if isinstance(node, dict):
        return {k: _without(v, holder, keyword) for k, v in node.items()}
    if isinstance(node, list):
        return [_without(v, holder, keyword) for v in node]
    return node


def _same(value: Any) -> Any:
    """Itself (a map keeps hypothesis from flattening a ``one_of`` into its neighbour)."""
    return value


def _lengthened(value: str, length: int, how: str) -> str:
    """The value padded to ``length`` code points with ASCII (its last character if that is
    ASCII, else ``x``): over the limit in every counting, so refusing it is stated."""
    filler = value[-1] if how == "last" and value and value[-1].isascii() else "x"
    return (value + filler * length)[:length] if len(value) < length else value


def _inserted(items: list[Any], item: Any, spot: int) -> list[Any]:
    i = spot % (len(items) + 1)
    return [*items[:i], item, *items[i:]]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
