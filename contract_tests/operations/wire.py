"""How a call's inputs travel: a query value as the text the SDK sends (by its ``x-query``
reading), a path parameter as one segment of the URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

READ_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "number": frozenset({"integer", "number", "string"}),
    "boolean": frozenset({"boolean", "string"}),
    "comma": frozenset({"array"}),
}
"""The JSON types a query parameter's text can read as, by its ``x-query`` reading."""
FORBIDDEN_SEGMENTS = ("", ".", "..")
"""Path parameters a URL cannot carry as one segment (they change the route instead)."""
SEPARATORS = ("/", "\\")
"""Characters a server may read as a path separator even percent-encoded (uvicorn decodes
``%2F`` before routing), so that the request reaches another route."""


def write(reading: Mapping[str, Any], value: Any) -> str | None:
    """The text the SDK sends for a query value, by the parameter's ``x-query`` reading:
    ``true``/``false``, a number's JSON spelling, a list joined with ``,``, the literal of
    null; None when the reading has no text for it (null without a literal, a list item
    holding a comma)."""
    if value is None:
        literal = reading.get("null")
        return str(literal) if literal is not None else None
    if reading.get("read") == "comma":
        if not isinstance(value, list) or not all(
            isinstance(v, str) and "," not in v for v in value
        ):
            return None
        return ",".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def one_segment(value: Any) -> bool:
    """Whether a path parameter travels as one segment of the URL, whatever the server."""
    return (
        isinstance(value, str)
        and value not in FORBIDDEN_SEGMENTS
        and not any(c in value for c in SEPARATORS)
    )
