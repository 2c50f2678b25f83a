"""Reading a query string into the JSON object its schema describes, so one validator checks it.

Each parameter's ``x-query`` annotation says how its text reads: ``number`` as a JSON number,
``boolean`` as ``true`` or ``false``, ``string`` as is, ``comma`` as the list of its
comma-separated texts (the Avara client's array format; the empty text is the empty list);
``null`` names a literal text that reads as null. Text that does not read stays text, and the
rule of the parameter's type refuses it with the field named; nothing here decides what is
valid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import InvalidRequest
from mockserver.validation import Violation, violation

JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
BOOLEANS = {"true": True, "false": False}
REPEATED = "query.repeated-parameter"


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    """The decoded (name, value) pairs of a raw query string, blanks kept, in order."""
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            "The query string is not valid UTF-8 once percent-decoded; encode each "
            "parameter's text as UTF-8 before percent-encoding it."
        ) from exc


class QueryReader:
    """Reads the pairs of one query schema's parameters; unknown names are kept as text."""

    def __init__(self, contract: Contract, name: str) -> None:
        self._readers: dict[str, dict[str, Any]] = contract.annotated(name, "x-query")
        self._repeated: Rule = contract.stateful_rule(name, REPEATED, "x-query-rules")

    def read(self, pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, Any], list[Violation]]:
        """The query as a JSON object, and a violation for each parameter given twice."""
        found: dict[str, Any] = {}
        twice: list[Violation] = []
        for name, text in pairs:
            if name in found:
                if not any(v.field == name for v in twice):
                    twice.append(violation(name, self._repeated, None, "query"))
                continue
            found[name] = self._value(name, text)
        return found, twice

    def _value(self, name: str, text: str) -> Any:
        reader = self._readers.get(name, {})
        if "null" in reader and text == reader["null"]:
            return None
        how = reader.get("read", "string")
        if how == "number" and JSON_NUMBER.fullmatch(text):
            try:
                number = orjson.loads(text)
            except orjson.JSONDecodeError:
                return text  # past a double's range: it stays text, and its type rule refuses it
            return int(number) if isinstance(number, float) and number.is_integer() else number
        if how == "boolean" and text in BOOLEANS:
            return BOOLEANS[text]
        if how == "comma":
            return text.split(",") if text else []
        return text
