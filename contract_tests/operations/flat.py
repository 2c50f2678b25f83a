"""A schema node read as its alternatives: what a value must be, with ``allOf`` merged and
``anyOf``, ``oneOf`` and the ``if null / else`` of an optional field split (``flatten``).

``values`` draws from these; a keyword this module does not know raises ``UnsupportedSchema``
so that a new keyword in schemas/ cannot be silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

JSON_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})
NOT_NULL = JSON_TYPES - {"null"}
IS_NULL = {"type": "null"}
BYTES = "x-json-bytes"


class UnsupportedSchema(ValueError):
    """A node uses a keyword or a shape this module cannot draw values of."""


@dataclass
class Flat:
    """One alternative of a node with its combinators merged away: what a value must be."""

    types: frozenset[str] = JSON_TYPES
    patterns: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    additional: tuple[Any, ...] | bool | None = None
    names: tuple[Any, ...] = ()
    items: tuple[Any, ...] = ()
    typed: bool = False

    def merged(self, other: Flat) -> Flat:
        """Both alternatives at once (an ``allOf``)."""
        enum = self.enum
        if other.enum is not None:
            enum = other.enum if enum is None else tuple(v for v in enum if v in other.enum)
        bounds = dict(self.bounds)
        for key, value in other.bounds.items():
            if key not in bounds:
                bounds[key] = value
            elif key.startswith("min") or key == "exclusiveMinimum":
                bounds[key] = max(bounds[key], value)
            else:
                bounds[key] = min(bounds[key], value)
        properties = dict(self.properties)
        for name, nodes in other.properties.items():
            properties[name] = properties.get(name, ()) + nodes
        return Flat(
            types=_meet(self.types, other.types),
            patterns=self.patterns + other.patterns,
            formats=self.formats + other.formats,
            enum=enum,
            bounds=bounds,
            properties=properties,
            required=self.required | other.required,
            additional=_additional(self.additional, other.additional),
            names=self.names + other.names,
            items=self.items + other.items,
            typed=self.typed or other.typed,
        )


BOUNDS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    BYTES,
)
IGNORED = frozenset(
    {"$id", "$schema", "$defs", "title", "description", "examples", "default", "$comment"}
)
"""Keywords that say nothing of what a value may be."""


def _meet(one: frozenset[str], other: frozenset[str]) -> frozenset[str]:
    """Types allowed by both; an integer is a number."""
    widen = {"integer"} if "number" in one else set()
    both = (one | widen) & (other | ({"integer"} if "number" in other else set()))
    return frozenset(both)


def _additional(
    one: tuple[Any, ...] | bool | None, other: tuple[Any, ...] | bool | None
) -> tuple[Any, ...] | bool | None:
    if one is False or other is False:
        return False
    if one is None or one is True:
        return other
    if other is None or other is True:
        return one
    return one + other


def _own(node: dict[str, Any]) -> Flat:
    """The keywords of a node itself, without its combinators."""
    flat = Flat()
    for keyword, value in node.items():
        if keyword in IGNORED or (keyword.startswith("x-") and keyword != BYTES):
            continue
        if keyword == "type":
            names = {value} if isinstance(value, str) else set(value)
            flat = replace(flat, types=_meet(flat.types, frozenset(names)), typed=True)
        elif keyword == "pattern":
            flat = replace(flat, patterns=(value,))
        elif keyword == "format":
            flat = replace(flat, formats=(value,))
        elif keyword == "enum":
            flat = replace(flat, enum=tuple(value))
        elif keyword == "const":
            flat = replace(flat, enum=(value,))
        elif keyword in BOUNDS:
            flat.bounds[keyword] = value
        elif keyword == "properties":
            flat = replace(flat, properties={name: (child,) for name, child in value.items()})
        elif keyword == "required":
            flat = replace(flat, required=frozenset(value))
        elif keyword == "additionalProperties":
            flat = replace(flat, additional=value if isinstance(value, bool) else (value,))
        elif keyword == "propertyNames":
            flat = replace(flat, names=(value,))
        elif keyword == "items":
            flat = replace(flat, items=(value,))
        elif keyword not in ("allOf", "anyOf", "oneOf", "if", "then", "else", "not"):
            raise UnsupportedSchema(f"cannot draw values of a schema with {keyword!r}")
    return flat


def flatten(node: Any) -> list[Flat]:
    """The alternatives of a node (none: no value is valid, as under ``not: {}``)."""
    if node is True or node == {}:
        return [Flat()]
    if node is False:
        return []
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"not a schema: {node!r}")
    if "not" in node:
        if node["not"] in ({}, True):
            return []
        raise UnsupportedSchema("cannot draw values under 'not' other than not: {}")
    alternatives = [_own(node)]
    for member in node.get("allOf", []):
        alternatives = [a.merged(b) for a in alternatives for b in flatten(member)]
    for keyword in ("anyOf", "oneOf"):
        if keyword in node:
            options = [f for member in node[keyword] for f in flatten(member)]
            alternatives = [a.merged(b) for a in alternatives for b in options]
    if "if" in node:
        if node["if"] != IS_NULL:
            raise UnsupportedSchema("cannot draw values under an 'if' other than {type: null}")
        yes = [
            Flat(types=frozenset({"null"}), typed=True).merged(f)
            for f in flatten(node.get("then", {}))
        ]
        no = [Flat(types=NOT_NULL).merged(f) for f in flatten(node.get("else", {}))]
        alternatives = [a.merged(b) for a in alternatives for b in [*yes, *no]]
    return [a for a in alternatives if a.types and (a.enum is None or a.enum)]


def json_type(value: Any) -> str:
    """The JSON type of a value, as JSON Schema names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def wider(kinds: frozenset[str]) -> set[str]:
    """The types ``kinds`` holds besides those it names (an integer is a number)."""
    return {"integer"} if "number" in kinds else set()


def implied_types(flat: Flat) -> frozenset[str] | None:
    """The types an untyped alternative's keywords are about (None: they say nothing)."""
    implied: set[str] = set()
    if flat.patterns or flat.formats or {"minLength", "maxLength"} & set(flat.bounds):
        implied.add("string")
    if flat.properties or flat.required or flat.additional is not None or flat.names:
        implied.add("object")
    if flat.items:
        implied.add("array")
    if {"minimum", "maximum"} & set(flat.bounds):
        implied |= {"integer", "number"}
    return frozenset(implied) or None
