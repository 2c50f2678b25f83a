"""Valid values of any node of the contract's resolved schemas, as hypothesis strategies.

A node is first flattened into its alternatives (``allOf`` merged, ``anyOf``/``oneOf`` and the
``if null / else`` of optional fields split), each alternative built from its keywords: types,
``enum``/``const``, patterns (a character-class pattern such as ``^[0-9.]*$`` narrows the
alphabet the other patterns draw from), lengths, bounds, formats, properties, items and
``x-json-bytes``. Patterns are read by Python's ``re`` only to draw; every drawn leaf is kept
only if jsonschema-rs (ECMA-262 regexes) accepts it, so no value is valid by our mistake.

``Values.reasons`` says what accepting a value rests on besides the stated rules: an optional
field sent as null (``x-null-as-absent``), or a length within its limit only in code points
(``x-length-units`` lists the other countings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st

from contract_tests.lengths import longest, units
from contract_tests.operations.drawing import retrying
from contract_tests.operations.flat import (
    BYTES,
    JSON_TYPES,
    Flat,
    flatten,
    implied_types,
    json_type,
    wider,
)
from contract_tests.operations.patterns import UnsupportedPattern, class_members, matching
from mockserver.contract import Contract
from mockserver.stringify import stringify_bytes

SHORT = 16
"""Typical short text; long limits get values at and just under them too."""
NEAR = 3
FILLERS = ("x", "é", "語", "\U0001fa7b")
"""Repeated to reach a length: one, two, three and four UTF-8 bytes (two UTF-16 units)."""
CHARSET = re.compile(r"\^\[(\^?)((?:\\.|[^\]\\])+)\][*+]\$")
"""A pattern that only says which characters may appear: ``^[0-9.]*$``, ``^[^A-F]*$``."""
TEXT = st.characters(exclude_categories=["Cs"])
EARLIEST, LATEST = datetime(2000, 1, 1), datetime(2099, 12, 31)
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(EARLIEST, LATEST).map(
        lambda moment: moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
    ),
    "date": st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    "email": matching(
        r"[a-z0-9]([a-z0-9._+-]{0,12}[a-z0-9])?@[a-z0-9]{1,12}\.(org|com|net|example)"
    ),
    "uri": matching(r"https://[a-z]{1,12}\.example/[a-z0-9/]{0,16}"),
}
"""Values of the formats the schemas use; any other format draws from its pattern or text."""


def json_values() -> st.SearchStrategy[Any]:
    """Small JSON values of every type (a free-form object's members)."""
    scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(TEXT, max_size=8)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(TEXT, min_size=1, max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    )


def alphabet(patterns: Iterable[str]) -> tuple[str | None, str]:
    """What the character-class patterns among ``patterns`` allow: every character (a
    string) when a class lists them, else None; and the characters a negated class refuses."""
    allowed: list[str] | None = None
    excluded: set[str] = set()
    for pattern in patterns:
        shape = CHARSET.fullmatch(pattern)
        if shape is None:
            continue
        negated, members = shape.groups()
        inside = class_members(f"[{members}]", None, "")
        if negated:
            excluded.update(inside)
        else:
            allowed = list(inside) if allowed is None else [c for c in allowed if c in inside]
    listed = None if allowed is None else "".join(c for c in allowed if c not in excluded)
    return listed, "".join(sorted(excluded))


def characters(allowed: str | None, excluded: str) -> st.SearchStrategy[str] | str:
    """An alphabet for ``st.text``: the allowed characters, or any but the excluded ones."""
    if allowed is not None:
        return allowed
    if excluded:
        return st.characters(exclude_categories=["Cs"], exclude_characters=excluded)
    return TEXT


def pattern_strings(pattern: str, allowed: str | None, excluded: str) -> st.SearchStrategy[str]:
    """Strings likely to match the pattern, read by ``patterns`` (else by ``from_regex``)."""
    try:
        return matching(pattern, allowed, excluded)
    except UnsupportedPattern:
        return st.from_regex(pattern, fullmatch=True, alphabet=characters(allowed, excluded))


class Values:
    """Valid values of the nodes of one contract, each strategy built once."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.units = units(contract)
        self._cache: dict[tuple[int, bool, frozenset[str]], tuple[Any, st.SearchStrategy[Any]]] = {}
        self._validators: dict[int, tuple[Any, jsonschema_rs.Validator]] = {}

    def of(
        self, node: Any, *, minimal: bool = False, types: frozenset[str] = JSON_TYPES
    ) -> st.SearchStrategy[Any]:
        """Values the node accepts; ``minimal``: only required properties, short texts;
        ``types``: only values of these JSON types."""
        key = (id(node), minimal, types)
        found = self._cache.get(key)
        if found is None:
            found = (node, self._build(node, minimal, types))
            self._cache[key] = found
        return found[1]

    def valid(self, node: Any, value: Any) -> bool:
        """Whether jsonschema-rs accepts the value for the node (formats checked)."""
        found = self._validators.get(id(node))
        if found is None:
            found = (node, jsonschema_rs.validator_for(node, validate_formats=True))
            self._validators[id(node)] = found
        return bool(found[1].is_valid(value))

    def satisfiable(self, node: Any) -> bool:
        """Whether any value is valid for the node (``not: {}`` makes a field unsendable)."""
        return bool(flatten(node))

    def reasons(self, node: Any, value: Any) -> list[str]:
        """What accepting ``value`` rests on besides stated rules (empty: nothing)."""
        found: list[str] = []
        self._reasons(node, value, found)
        return found

    # --- building ------------------------------------------------------------------------------

    def _build(self, node: Any, minimal: bool, types: frozenset[str]) -> st.SearchStrategy[Any]:
        options = []
        checked = isinstance(node, dict) and ("anyOf" in node or "oneOf" in node)
        for flat in flatten(node):
            kinds = flat.types & (types | ({"integer"} if "number" in types else set()))
            if flat.enum is not None:
                values = [v for v in flat.enum if json_type(v) in kinds | wider(kinds)]
                if values:
                    options.append(st.sampled_from(values))
                    checked = checked or bool(flat.patterns or flat.formats or flat.bounds)
                continue
            if not flat.typed:
                implied = implied_types(flat)
                if implied is None:
                    options.append(json_values())
                    continue
                kinds = kinds & implied
            for kind in sorted(kinds):
                options.append(self._of_type(kind, flat, minimal))
            checked = checked or ("string" in kinds and bool(flat.patterns or flat.formats))
        if not options:
            return st.nothing()
        drawn = st.one_of(options)
        if not checked:
            return drawn  # every builder above draws only valid values
        return retrying(drawn, lambda value: self.valid(node, value))

    def _of_type(self, kind: str, flat: Flat, minimal: bool) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind in ("integer", "number"):
            return self._number(kind, flat)
        if kind == "string":
            return self._string(flat, minimal)
        if kind == "array":
            return self._array(flat, minimal)
        return self._object(flat, minimal)

    def _number(self, kind: str, flat: Flat) -> st.SearchStrategy[Any]:
        bounds = flat.bounds
        low = bounds.get("minimum", bounds.get("exclusiveMinimum", -(10**6) - 1) + 1)
        high = bounds.get("maximum", bounds.get("exclusiveMaximum", 10**6 + 1) - 1)
        whole = st.integers(int(low), int(high))
        edges = st.sampled_from([int(low), int(high)])
        if kind == "integer":
            return edges | whole
        return edges | whole | st.floats(low, high, allow_nan=False, allow_infinity=False)

    def _string(self, flat: Flat, minimal: bool) -> st.SearchStrategy[str]:
        allowed, excluded = alphabet(flat.patterns)
        chars = characters(allowed, excluded)
        structural = tuple(p for p in flat.patterns if CHARSET.fullmatch(p) is None)
        low = int(flat.bounds.get("minLength", 0))
        high = flat.bounds.get("maxLength")
        known = [FORMATS[f] for f in flat.formats if f in FORMATS]
        if known:
            return st.one_of(known)
        if structural:
            return st.one_of([pattern_strings(p, allowed, excluded) for p in structural])
        short_high = low + SHORT if high is None else min(int(high), low + SHORT)
        short = st.text(chars, min_size=low, max_size=short_high)
        if minimal or high is None or int(high) <= short_high:
            return short
        listed = allowed or ""
        fillers = [c for c in FILLERS if not listed or c in listed] or [listed[0]]
        return short | _near(int(high), chars, st.sampled_from(fillers), low)

    def _array(self, flat: Flat, minimal: bool) -> st.SearchStrategy[list[Any]]:
        element = self.of({"allOf": list(flat.items)} if flat.items else {}, minimal=minimal)
        low = int(flat.bounds.get("minItems", 0))
        high = int(flat.bounds.get("maxItems", low + (1 if minimal else 4)))
        return st.lists(element, min_size=low, max_size=min(high, low + 4))

    def _object(self, flat: Flat, minimal: bool) -> st.SearchStrategy[dict[str, Any]]:
        required: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for name, nodes in flat.properties.items():
            child = nodes[0] if len(nodes) == 1 else {"allOf": list(nodes)}
            if not self.satisfiable(child):
                if name in flat.required:
                    return st.nothing()
                continue
            strategy = self.of(child, minimal=minimal)
            (required if name in flat.required else optional)[name] = strategy
        for name in flat.required - set(flat.properties):
            required[name] = json_values()
        known = st.fixed_dictionaries(required, optional={} if minimal else optional)
        extras = self._extras(flat, minimal, len(required) + len(optional))
        combined = st.tuples(known, extras).map(lambda pair: {**pair[1], **pair[0]})
        cap = flat.bounds.get(BYTES)
        if cap is None:
            return combined
        near = st.integers(0, NEAR).map(lambda d: {"k": "x" * (int(cap) - len('{"k":""}') - d)})
        under = combined if minimal else combined | near
        return under.filter(lambda value: stringify_bytes(value) <= cap)

    def _extras(self, flat: Flat, minimal: bool, named: int) -> st.SearchStrategy[dict[str, Any]]:
        """Members beyond the named properties: those ``additionalProperties`` allows."""
        if flat.additional is False or minimal or (flat.additional is None and flat.properties):
            return st.just({})
        room = int(flat.bounds.get("maxProperties", named + 4)) - named
        if flat.additional is None or flat.additional is True:
            return st.dictionaries(
                st.text(TEXT, min_size=1, max_size=8), json_values(), max_size=min(room, 3)
            )
        value = self.of({"allOf": list(flat.additional)})
        names = self.of({"allOf": [{"type": "string"}, *flat.names]})
        keys = names.filter(lambda key: key not in flat.properties)
        few = st.dictionaries(keys, value, max_size=min(room, 4))
        if room <= 6:
            return few
        many = st.tuples(st.integers(max(room - 2, 0), room), value).map(
            lambda pair: {f"key {i}": pair[1] for i in range(pair[0])}
        )
        return few | many

    # --- what acceptance rests on ----------------------------------------------------------

    def _reasons(self, node: Any, value: Any, found: list[str]) -> None:
        if not isinstance(node, dict):
            return
        if value is None and node.get("x-null-as-absent") == "inferred":
            found.append("an optional field sent as null is read as absent")
        limit = node.get("maxLength")
        if (
            isinstance(value, str)
            and isinstance(limit, int)
            and _only_in_code_points(value, limit, self.units)
        ):
            found.append(f"a length up to {limit} is counted in code points")
        for member in node.get("allOf", []):
            self._reasons(member, value, found)
        for keyword in ("anyOf", "oneOf"):
            for member in node.get(keyword, []):
                if self.valid(member, value):
                    self._reasons(member, value, found)
        if "if" in node:
            branch = "then" if self.valid(node["if"], value) else "else"
            self._reasons(node.get(branch, {}), value, found)
        if isinstance(value, dict):
            properties = node.get("properties", {})
            extra = node.get("additionalProperties")
            for key, member in value.items():
                self._reasons(node.get("propertyNames"), key, found)
                if key in properties:
                    self._reasons(properties[key], member, found)
                elif isinstance(extra, dict):
                    self._reasons(extra, member, found)
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            for member in value:
                self._reasons(node["items"], member, found)


def _only_in_code_points(value: str, limit: int, readings: tuple[str, ...]) -> bool:
    """Whether the value is within the limit counted in code points, over it counted in
    another unit ``x-length-units`` lists."""
    return len(value) <= limit < longest(value, readings)


def _near(
    limit: int, chars: st.SearchStrategy[str] | str, fillers: st.SearchStrategy[str], low: int
) -> st.SearchStrategy[str]:
    """Text of a length at or just under ``limit`` code points, where off-by-one errors live:
    a short head, then one character repeated (drawing a thousand one by one is slow)."""
    sizes = st.integers(max(limit - NEAR, low), limit)
    return st.tuples(sizes, st.text(chars, max_size=8), fillers).map(
        lambda t: (t[1] + t[2] * t[0])[: t[0]]
    )
