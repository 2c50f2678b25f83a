"""Checking requests against their schemas: the part every resource's field rules share.

A validator per schema document, compiled on its first use (start-up pays only for what is
called); the list queries read by their ``x-query`` annotations; optional fields sent as null
dropped where the schema says null means absent. Each refusal is a 400 listing every
violation, sorted by field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.query import QueryReader
from mockserver.validation import DocumentValidator, Location, Violation


class RequestChecks:
    """The schemas of one resource's requests, checked; ``lenient`` ignores unknown fields."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self.contract = contract
        self._lenient = lenient
        self._validators: dict[tuple[str, Location], DocumentValidator] = {}
        self._readers: dict[str, QueryReader] = {}

    def body(self, name: str, body: Any) -> dict[str, Any]:
        """A JSON body that conforms to schema ``name``."""
        return checked(body, self._validator(name, "body").violations(body))

    def present(self, name: str, body: Any) -> dict[str, Any]:
        """A conforming body without the nulls its schema reads as absent (x-null-as-absent)."""
        valid = self.body(name, body)
        absent = self.contract.annotated(name, "x-null-as-absent")
        return {k: v for k, v in valid.items() if not (v is None and k in absent)}

    def path(self, name: str, parameter: str, value: str) -> str:
        """A well-formed path parameter."""
        checked(value, self._validator(name, "path").violations({parameter: value}))
        return value

    def query(self, name: str, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """A query as the JSON object schema ``name`` describes, every parameter read and
        checked (one given twice is refused too)."""
        reader = self._readers.get(name)
        if reader is None:
            reader = self._readers[name] = QueryReader(self.contract, name)
        query, repeated = reader.read(pairs)
        found = {*repeated, *self._validator(name, "query").violations(query)}
        return checked(query, sorted(found, key=lambda v: (v.path, v.rule)))

    def default(self, name: str, parameter: str) -> Any:
        """The ``default`` a schema gives a parameter (``limit`` 20, say)."""
        return self.contract.resolved(name)["properties"][parameter]["default"]

    def _validator(self, name: str, location: Location) -> DocumentValidator:
        key = (name, location)
        found = self._validators.get(key)
        if found is None:
            lenient = self._lenient and location != "path"
            found = DocumentValidator(self.contract, name, lenient=lenient, location=location)
            self._validators[key] = found
        return found


def checked(value: Any, violations: Sequence[Violation]) -> dict[str, Any]:
    """``value`` once it is known to conform (an object, since every schema here wants one)."""
    if violations:
        raise InvalidRequest.from_violations(violations)
    return dict(value) if isinstance(value, dict) else {}
