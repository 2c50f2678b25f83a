"""The contract as read from ``schemas/``: its documents, validators and rule annotations.

This module is the only reader of the data folders; everything else derives from it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema_rs

ID_PREFIX = "urn:avara-mock:"
STATEFUL = "x-stateful-rules"
CONTROL_PREFIX = "mock-"
Tag = Literal["stated", "inferred"]
JSON = Any


class DataFolderNotFound(FileNotFoundError):
    """Raised when neither the wheel nor the checkout holds a data folder."""


class UnsupportedFilter(ValueError):
    """A list filter's ``x-filter`` annotation asks for a match the mock cannot meet (the
    schemas and the code disagree: raised when the mock is built, never while it serves)."""


def data_folder(name: str) -> Path:
    """Find ``schemas`` or ``fixtures``: inside the installed wheel, else atop a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise DataFolderNotFound(
        f"avara-mock cannot find its {name}/ folder next to {here}; reinstall the package"
    )


def is_control(name: str) -> bool:
    """Whether a document describes the mock's control plane (``/_mock/``), not the Viewer
    API: such documents stay out of the public OpenAPI document and of drift."""
    return name.startswith(CONTROL_PREFIX)


@dataclass(frozen=True)
class Rule:
    """One constraint of the contract, from an ``x-rules`` annotation."""

    id: str
    tag: Tag
    message: str
    source: str


@dataclass(frozen=True)
class AnnotatedRule:
    """A rule and where it stands: the schema path of its node and its keyword."""

    schema_path: tuple[str | int, ...]
    keyword: str
    rule: Rule


class Contract:
    """The JSON Schema documents of ``schemas/``, keyed by name (the ``$id`` after the prefix)."""

    def __init__(self, documents: dict[str, JSON]) -> None:
        self.documents = documents
        self._registry = jsonschema_rs.Registry(
            [(ID_PREFIX + name, doc) for name, doc in documents.items()]
        )
        self._resolved: dict[str, JSON] = {}

    @classmethod
    def load(cls, folder: Path | None = None) -> Contract:
        """Read every ``*.schema.json`` of the folder (default: the package's schemas/)."""
        folder = folder or data_folder("schemas")
        documents: dict[str, JSON] = {}
        for path in sorted(folder.glob("*.schema.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            documents[doc["$id"].removeprefix(ID_PREFIX)] = doc
        return cls(documents)

    @property
    def viewer_documents(self) -> dict[str, JSON]:
        """The documents of the Viewer API: every one but the control plane's."""
        return {name: doc for name, doc in self.documents.items() if not is_control(name)}

    @property
    def control_documents(self) -> dict[str, JSON]:
        """The documents of the control plane (``mock-*``), validated like the API's."""
        return {name: doc for name, doc in self.documents.items() if is_control(name)}

    def resolved(self, name: str) -> JSON:
        """The document with every ``$ref`` inlined, so that error schema paths walk it directly."""
        if name not in self._resolved:
            self._resolved[name] = jsonschema_rs.dereference(
                self.documents[name], registry=self._registry
            )
        return self._resolved[name]

    def validator(
        self, name: str, *, lenient: bool = False, formats: bool = True
    ) -> jsonschema_rs.Validator:
        """A validator of a document; ``lenient`` drops the root's ban on unknown fields."""
        schema = self.resolved(name)
        if lenient:
            schema = copy.copy(schema)
            schema.pop("additionalProperties", None)
        return jsonschema_rs.validator_for(schema, validate_formats=formats)

    def rule_at(self, name: str, schema_path: Sequence[str | int]) -> Rule | None:
        """The rule annotated for the keyword that ends ``schema_path``."""
        node: JSON = self.resolved(name)
        for step in schema_path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        rules = node.get("x-rules", {}) if isinstance(node, dict) else {}
        spec = rules.get(schema_path[-1]) if schema_path else None
        return _rule(spec) if spec else None

    def rules(self, name: str) -> Iterator[AnnotatedRule]:
        """Every annotated rule of a document, depth first."""
        yield from _walk_rules(self.resolved(name), ())

    def rule_value(self, name: str, rule_id: str) -> Any:
        """The operand of a rule's keyword (the 64 of maxLength 64): limits are read, not copied."""
        for found in self.rules(name):
            if found.rule.id == rule_id:
                node: JSON = self.resolved(name)
                for step in found.schema_path:
                    node = node[step]
                return node[found.keyword]
        raise KeyError(f"no rule {rule_id!r} in schema {name!r}")

    def annotated(self, name: str, keyword: str) -> dict[str, JSON]:
        """Top-level properties that carry an annotation (``x-echo``, ``x-on-create`` …)."""
        props = self.resolved(name).get("properties", {})
        return {field: schema[keyword] for field, schema in props.items() if keyword in schema}

    def stateful_rule(self, name: str, rule_id: str, annotation: str = STATEFUL) -> Rule:
        """A rule no schema keyword checks: by default one of a document's
        ``x-stateful-rules``, which need the store or several fields (stateless mode skips
        them); ``annotation`` names another such table (``x-query-rules``)."""
        spec = self.documents[name].get(annotation, {}).get(rule_id)
        if spec is None:
            raise KeyError(f"no rule {rule_id!r} in {annotation} of schema {name!r}")
        return _rule({"id": rule_id, **spec})

    def stateful_rules(self, name: str) -> dict[str, Rule]:
        """Every ``x-stateful-rules`` entry of a document, by id."""
        specs = self.documents[name].get(STATEFUL, {})
        return {rule_id: _rule({"id": rule_id, **spec}) for rule_id, spec in specs.items()}

    @cached_property
    def request_fields(self) -> tuple[str, ...]:
        """The create request's wire names, in schema order."""
        return tuple(self.resolved("study-create-request")["properties"])


def _rule(spec: dict[str, Any]) -> Rule:
    tag = spec["tag"]
    if tag not in ("stated", "inferred"):
        raise ValueError(f"rule {spec['id']}: tag must be 'stated' or 'inferred', not {tag!r}")
    source = spec.get("source", "")
    return Rule(id=spec["id"], tag=cast(Tag, tag), message=spec["message"], source=source)


def _walk_rules(node: JSON, path: tuple[str | int, ...]) -> Iterator[AnnotatedRule]:
    if isinstance(node, dict):
        for keyword, spec in node.get("x-rules", {}).items():
            yield AnnotatedRule(path, keyword, _rule(spec))
        for key, child in node.items():
            if key != "x-rules":
                yield from _walk_rules(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk_rules(child, (*path, index))
