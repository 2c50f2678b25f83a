"""Near misses, read from schemas/: well-formed ids of the other kinds where one kind
belongs (a ``cus_`` id for a ``usr_`` field), and the values of the other enums.

An id kind is a pattern of a literal prefix and a run of one character class
(``^usr_[0-9a-fA-F]{32}$``); the enums are every ``enum`` (and ``const``) of every document.
Nothing here is a list of kinds or values: a kind or an enum added to schemas/ is a near miss
of the others at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from hypothesis import strategies as st

from contract_tests.operations.values import pattern_strings
from mockserver.contract import Contract

ID_KIND = re.compile(r"\^([a-z][a-z0-9]*_)\[[^\]]+\]\{\d+\}\$")
"""An id pattern: a literal lower-case prefix, then a run of one character class."""


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema node of a document (the values of ``properties`` and ``$defs`` included,
    not their names)."""
    if isinstance(node, dict):
        yield node
        for key, child in node.items():
            if key in ("properties", "$defs", "patternProperties"):
                for member in child.values():
                    yield from schema_nodes(member)
            elif key not in ("examples", "enum", "const", "default", "x-rules"):
                yield from schema_nodes(child)
    elif isinstance(node, list):
        for child in node:
            yield from schema_nodes(child)


@cache
def _id_kinds(contract: Contract) -> tuple[str, ...]:
    """The id patterns of schemas/, one per prefix, in prefix order."""
    kinds: dict[str, str] = {}
    for document in contract.documents.values():
        for node in schema_nodes(document):
            pattern = node.get("pattern")
            if not isinstance(pattern, str):
                continue
            shape = ID_KIND.fullmatch(pattern)
            if shape is not None:
                kinds.setdefault(shape.group(1), pattern)
    return tuple(kinds[prefix] for prefix in sorted(kinds))


def id_prefixes(contract: Contract) -> tuple[str, ...]:
    """The prefixes of the id kinds of schemas/ (``cus_``, ``inv_``, ``stu_``, ``usr_``)."""
    return tuple(prefix for prefix in map(id_prefix, _id_kinds(contract)) if prefix)


def id_prefix(pattern: str) -> str | None:
    """The prefix of an id pattern (``usr_``), or None for another pattern."""
    shape = ID_KIND.fullmatch(pattern)
    return shape.group(1) if shape else None


def well_formed_ids(pattern: str) -> st.SearchStrategy[str]:
    """Ids of a kind in lower case, as a server writes them (``usr_`` and 32 hex digits)."""
    return pattern_strings(pattern, None, "").map(str.lower)


def near_miss_ids(contract: Contract, pattern: str) -> st.SearchStrategy[str]:
    """Well-formed ids of every other kind than ``pattern``'s: a ``cus_`` id where a ``usr_``
    one belongs. Nothing when schemas/ know no other kind."""
    mine = id_prefix(pattern)
    others = [p for p in _id_kinds(contract) if id_prefix(p) != mine]
    if not others:
        return st.nothing()
    return st.one_of([well_formed_ids(p) for p in others]).filter(
        lambda value: re.fullmatch(pattern, value) is None
    )


@cache
def _enum_values(contract: Contract) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for document in contract.documents.values():
        for node in schema_nodes(document):
            for value in [*node.get("enum", []), *([node["const"]] if "const" in node else [])]:
                if isinstance(value, str):
                    found.setdefault(value)
    return tuple(found)


def other_enum_values(contract: Contract, values: Any) -> st.SearchStrategy[str]:
    """The values of the other enums of schemas/ that ``values`` (an enum) does not hold:
    ``incomplete`` where a severity belongs."""
    mine = set(values)
    others = [value for value in _enum_values(contract) if value not in mine]
    return st.sampled_from(others) if others else st.nothing()
