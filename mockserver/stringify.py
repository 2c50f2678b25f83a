"""How many bytes JavaScript's ``JSON.stringify`` writes for a JSON value, in UTF-8.

A cap "on JSON.stringify" (ephemeral session ``options``) is measured on the text a JavaScript
client would send: compact (no spaces), non-ASCII written as itself, and every number written
as ECMAScript's ``Number::toString`` spells the double it parses to. That is not orjson's text:
orjson writes ``1.0`` and ``-0.0`` where JavaScript writes ``1`` and ``0``, ``1e+16`` where it
writes ``10000000000000000``, and it refuses lone surrogates, which JSON.stringify escapes as
``\\udXXX`` (six bytes). So the length is counted here, value by value, without building the
text: strings by their UTF-8 bytes plus escapes, numbers by their JavaScript spelling.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

SAFE_INTEGER = 2**53
"""Integers up to this size are doubles exactly, so JavaScript writes their digits as given."""
JS_PLAIN_LIMIT = 21
"""Number::toString writes decimal exponents up to 21 in full, larger ones as ``1e+21``."""
SHORT_ESCAPES = frozenset('"\\\b\f\n\r\t')
"""Characters JSON.stringify escapes in two bytes (``\\n``); other controls take six."""
_SPECIAL = re.compile('[\ud800-\udbff][\udc00-\udfff]|[\x00-\x1f"\\\\\ud800-\udfff]')
"""A surrogate pair (one character to JavaScript), or a character JSON.stringify escapes."""


class NotJson(TypeError):
    """The value holds something JSON cannot write (a set, bytes, an object)."""


def stringify_bytes(value: Any) -> int:
    """UTF-8 byte length of ``JSON.stringify(value)`` (no indentation)."""
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, str):
        return string_bytes(value)
    if isinstance(value, (int, float)):
        return len(js_number(value))
    if isinstance(value, dict):
        pairs = sum(string_bytes(str(k)) + 1 + stringify_bytes(v) for k, v in value.items())
        return 2 + pairs + max(len(value) - 1, 0)
    if isinstance(value, (list, tuple)):
        items = sum(stringify_bytes(item) for item in value)
        return 2 + items + max(len(value) - 1, 0)
    raise NotJson(f"{type(value).__name__} is not a JSON value")


def string_bytes(text: str) -> int:
    """The quoted, escaped string's UTF-8 bytes (surrogate code points counted as JS does)."""
    size = 2 + len(text.encode("utf-8", "surrogatepass"))
    for found in _SPECIAL.finditer(text):
        char = found.group()
        if len(char) == 2:
            size -= 2  # a pair: one 4-byte character, not two 3-byte halves
        elif char in SHORT_ESCAPES:
            size += 1
        elif char < " ":
            size += 5  # \u00XX for a 1-byte control
        else:
            size += 3  # a lone surrogate: \udXXX for its 3 surrogatepass bytes
    return size


def js_number(number: float) -> str:
    """The number as JSON.stringify writes the double a JSON parser reads it as."""
    if isinstance(number, int) and abs(number) <= SAFE_INTEGER:
        return str(number)
    try:
        double = float(number)
    except OverflowError:
        return "null"  # past the largest double: Infinity, which JSON.stringify writes null
    if not math.isfinite(double):
        return "null"
    if double == 0:
        return "0"  # -0 too
    sign = "-" if double < 0 else ""
    # repr is the shortest text that reads back as the same double: the digits
    # Number::toString chooses; only their layout differs.
    _, digit_tuple, exponent = Decimal(repr(abs(double))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    point = int(exponent) + len("".join(map(str, digit_tuple)))
    return sign + _layout(digits, point)


def _layout(digits: str, point: int) -> str:
    """ECMAScript Number::toString steps 6-10: digits ``d1d2...dk`` times 10**(point-k)."""
    count = len(digits)
    if count <= point <= JS_PLAIN_LIMIT:
        return digits + "0" * (point - count)
    if 0 < point <= JS_PLAIN_LIMIT:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    power = point - 1
    mantissa = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
