"""Turning a JSON document into every contract violation, each named by field and rule."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import jsonschema_rs
import orjson

from mockserver.contract import Contract, Rule

EXCERPT_CHARS = 60
SHALLOW_DEPTH = 32


Location = Literal["body", "query", "path"]
SUBJECTS: dict[str, str] = {"body": "", "query": "query parameter ", "path": "path parameter "}
WHOLE: dict[str, str] = {"body": "the request body", "query": "the query", "path": "the path"}


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (``field`` dotted, ``path`` exact, ``location`` body, query or
    path), which rule, and what to do."""

    field: str
    path: tuple[str, ...]
    rule: str
    tag: str
    message: str
    location: Location = "body"

    def as_json(self) -> dict[str, Any]:
        """The wire form, as error.schema.json describes it."""
        body = asdict(self)
        body["path"] = list(self.path)
        body["in"] = body.pop("location")
        return body


def violation(
    field: str, rule: Rule, detail: str | None = None, location: Location = "body"
) -> Violation:
    """A violation of a rule that no schema keyword checks (a ``x-stateful-rules`` entry)."""
    subject = f"{SUBJECTS[location]}{field}" if field else WHOLE[location]
    message = f"{subject} {rule.message}" + (f" ({detail})" if detail else "")
    path = tuple(field.split(".")) if field else ()
    return Violation(field, path, rule.id, rule.tag, message + ".", location)


class DocumentValidator:
    """Validates instances of one schema document and explains every failure.

    The fast path is a single ``is_valid`` call; explaining happens only for invalid input.
    """

    def __init__(
        self, contract: Contract, name: str, *, lenient: bool = False, location: Location = "body"
    ) -> None:
        self._contract = contract
        self._name = name
        self._location = location
        self._validator = contract.validator(name, lenient=lenient)

    def violations(self, instance: Any) -> list[Violation]:
        """Every violation of the instance, sorted by field; empty when it conforms."""
        try:
            if self._validator.is_valid(instance):
                return []
            errors = list(self._validator.iter_errors(instance))
        except ValueError:
            # Nesting past jsonschema-rs's recursion limit: no rule of ours looks that deep,
            # so the same errors are found in a copy cut off at SHALLOW_DEPTH.
            errors = list(self._validator.iter_errors(_shallow(instance, SHALLOW_DEPTH)))
        found: list[Violation] = []
        for error in errors:
            found.extend(self._explain(error))
        return sorted(set(found), key=lambda v: (v.path, v.rule))

    def _explain(self, error: jsonschema_rs.ValidationError) -> list[Violation]:
        kind = error.kind
        base = tuple(str(step) for step in error.instance_path)
        rule = self._contract.rule_at(self._name, list(error.schema_path)) or _unannotated(error)
        where = self._location
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            return [_violation((*base, str(kind.property)), rule, None, where)]
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            return [_violation((*base, str(name)), rule, None, where) for name in kind.unexpected]
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
            key = str(kind.error.instance)
            subject = f"{'.'.join(base)} key {_excerpt(key)}"
            facts = _facts(kind.error.kind.name, key)
            return [_violation((*base, key), rule, facts, where, subject)]
        return [_violation(base, rule, _facts(kind.name, error.instance), where)]


def _shallow(value: Any, depth: int) -> Any:
    """A copy whose containers below ``depth`` levels are emptied (same JSON types)."""
    if isinstance(value, dict):
        return {k: _shallow(v, depth - 1) for k, v in value.items()} if depth else {}
    if isinstance(value, list):
        return [_shallow(v, depth - 1) for v in value] if depth else []
    return value


def _violation(
    path: tuple[str, ...],
    rule: Rule,
    facts: str | None,
    location: Location,
    subject: str | None = None,
) -> Violation:
    field = ".".join(path)
    subject = subject or (f"{SUBJECTS[location]}{field}" if field else WHOLE[location])
    message = f"{subject} {rule.message}" + (f" (got {facts})" if facts else "")
    return Violation(field, path, rule.id, rule.tag, message + ".", location)


def _facts(keyword: str, value: Any) -> str:
    """What was actually sent, stated in the terms of the keyword that refused it."""
    if keyword in ("maxLength", "minLength") and isinstance(value, str):
        return f"{len(value)} characters"
    if keyword in ("maxProperties", "minProperties") and isinstance(value, dict):
        return f"{len(value)} pairs"
    if keyword == "type":
        kind = _json_type(value)
        return f"{kind} {_excerpt(value)}" if kind in ("a string", "a number") else kind
    return _excerpt(value)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _excerpt(value: Any) -> str:
    try:
        text = orjson.dumps(_shallow(value, 4)).decode()
    except TypeError:  # an integer past 64 bits (documents built in Python, not parsed JSON)
        text = json.dumps(_shallow(value, 4), ensure_ascii=False, default=str)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _unannotated(error: jsonschema_rs.ValidationError) -> Rule:
    keyword = str(error.schema_path[-1]) if error.schema_path else "schema"
    return Rule(id=f"schema.{keyword}", tag="stated", message=error.message, source="")
