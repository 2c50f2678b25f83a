"""What a resolved schema node allows, in the terms drift compares with an SDK type.

Nodes come from ``Contract.resolved``: refs are inlined, and an inlined document keeps its
``$id`` and ``x-sdk``, which is how a nested model's document is recognised.
"""

from __future__ import annotations

from collections.abc import Iterator

import jsonschema_rs

from mockserver.contract import ID_PREFIX, JSON, Contract

BRANCHES = ("allOf", "anyOf", "oneOf")


def properties(node: JSON) -> dict[str, JSON]:
    """The ``properties`` of an object node (none for anything else)."""
    found = node.get("properties", {}) if isinstance(node, dict) else {}
    return found if isinstance(found, dict) else {}


def branches(node: JSON | None) -> Iterator[dict[str, JSON]]:
    """A node and the subschemas that also describe its value (allOf, if/then/else …)."""
    if not isinstance(node, dict):
        return
    yield node
    for key in BRANCHES:
        for member in node.get(key, []):
            yield from branches(member)
    for key in ("then", "else"):
        yield from branches(node.get(key))


def accepts_null(node: JSON) -> bool:
    """Whether a value may be null: asked of the schema itself, whatever pattern it uses."""
    return bool(jsonschema_rs.validator_for(node).is_valid(None))


def refuses_all(node: JSON) -> bool:
    """A property that names a field only to refuse it (``false``, ``{"not": {}}``)."""
    return node is False or (isinstance(node, dict) and node.get("not") in ({}, True))


def leniency(node: JSON) -> str | None:
    """The annotation saying why a request accepts a null its SDK type does not allow."""
    if "x-null-as-absent" in node:
        return f"x-null-as-absent: {node['x-null-as-absent']}"
    if "x-null-means" in node:
        return f"x-null-means: {node['x-null-means'].get('effect', '')}"
    if "null" in node.get("x-query", {}):
        return "x-query reads the text null as null"
    return None


def values(node: JSON | None) -> tuple[object, ...] | None:
    """The values a node allows if it lists them (enum, const), through allOf, anyOf and
    if/else; None when it allows any value."""
    if not isinstance(node, dict):
        return None
    found: list[tuple[object, ...]] = []
    if "enum" in node:
        found.append(tuple(node["enum"]))
    if "const" in node:
        found.append((node["const"],))
    if node.get("type") == "null":
        found.append((None,))
    found.extend(listed for listed in map(values, node.get("allOf", [])) if listed is not None)
    alternatives = [*node.get("anyOf", []), *node.get("oneOf", [])]
    if "if" in node:
        alternatives += [node.get("then", node["if"]), node.get("else", {})]
    options = [values(alternative) for alternative in alternatives]
    if options and all(option is not None for option in options):
        found.append(tuple(dict.fromkeys(v for option in options for v in option or ())))
    if not found:
        return None
    return tuple(v for v in found[0] if all(v in other for other in found[1:]))


def enum_rule(node: JSON | None) -> str | None:
    """The rule id of the enum that restricts a node, if one is annotated."""
    for branch in branches(node):
        if "enum" in branch and isinstance(rule := branch.get("x-rules", {}).get("enum"), dict):
            return str(rule["id"])
    return None


def items(node: JSON | None) -> JSON | None:
    """The schema of an array node's items."""
    return next((branch["items"] for branch in branches(node) if "items" in branch), None)


def inline_object(node: JSON | None) -> JSON | None:
    """The branch of a node that describes an object's fields."""
    return next((branch for branch in branches(node) if "properties" in branch), None)


def mirrors(node: JSON | None) -> dict[str, list[str]]:
    """The documents inlined at a node that mirror SDK models: name -> x-sdk models."""
    return {
        branch["$id"].removeprefix(ID_PREFIX): list(branch["x-sdk"].get("models", []))
        for branch in branches(node)
        if "$id" in branch and isinstance(branch.get("x-sdk"), dict)
    }


def ids(node: JSON | None) -> list[str]:
    """The ``$id`` of every document inlined at a node."""
    return [branch["$id"] for branch in branches(node) if "$id" in branch]


def rule_home(contract: Contract, rule: str, default: str) -> str:
    """The document whose own text (refs not followed) defines a rule."""
    return next((name for name, doc in contract.documents.items() if _defines(doc, rule)), default)


def _defines(node: JSON, rule: str) -> bool:
    if isinstance(node, dict):
        specs = node.get("x-rules", {})
        if any(isinstance(spec, dict) and spec.get("id") == rule for spec in specs.values()):
            return True
        return any(_defines(child, rule) for key, child in node.items() if key != "x-rules")
    return isinstance(node, list) and any(_defines(child, rule) for child in node)
