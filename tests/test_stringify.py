"""JSON.stringify's byte length, counted without JavaScript (checked against node if present)."""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.stringify import NotJson, js_number, stringify_bytes

NODE = shutil.which("node")


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (0.1, "0.1"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e16, "10000000000000000"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.2345e22, "1.2345e+22"),
        (5e-324, "5e-324"),
        (2**53, "9007199254740992"),
        (2**53 + 1, "9007199254740992"),
        (10**21, "1e+21"),
        (-(10**25), "-1e+25"),
        (10**400, "null"),
        (float("inf"), "null"),
        (float("nan"), "null"),
    ],
)
def test_stringify_numbers_as_javascript_writes_them(number: float, written: str) -> None:
    assert js_number(number) == written


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("", 2),
        ("abc", 5),
        ('"', 4),
        ("\\", 4),
        ("\n\t\r\b\f", 12),
        ("\x00\x1f", 14),
        ("\x7f/\u2028", 2 + 1 + 1 + 3),
        ("é€😀", 2 + 2 + 3 + 4),
        ("\ud800", 8),
        ("\udc00\ud800", 14),
        ("\ud83d\ude00", 6),
    ],
)
def test_stringify_strings_escape_as_javascript_does(text: str, size: int) -> None:
    assert stringify_bytes(text) == size


def test_stringify_containers_are_compact() -> None:
    value: dict[str, Any] = {"a": [1, True, None, False, {}], "b": {"c": []}}
    assert stringify_bytes(value) == len(b'{"a":[1,true,null,false,{}],"b":{"c":[]}}')


def test_stringify_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(NotJson):
        stringify_bytes({"a": {1, 2}})


safe_text = st.text(st.characters(exclude_categories=["Cs"]))
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | safe_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(safe_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(plain_values)
def test_stringify_matches_compact_json_without_floats_or_surrogates(value: Any) -> None:
    """With no float, no big integer and no lone surrogate, Python's compact JSON is
    JavaScript's text."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert stringify_bytes(value) == len(text.encode())


def random_values(count: int, seed: int = 1) -> list[Any]:
    """Values full of what tells JavaScript's text from orjson's: floats of every size,
    big integers, escapes, multi-byte characters, surrogates alone and paired."""
    rnd = random.Random(seed)
    chars = ["a", '"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\u2028", "\ud800"]
    chars += ["\udc00", "/"]

    def number() -> Any:
        kind = rnd.randrange(4)
        if kind == 0:
            return rnd.randint(-(10**25), 10**25)
        if kind == 1:
            return struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        if kind == 2:
            return 10.0 ** rnd.randint(-30, 30) * rnd.random()
        return float(rnd.randint(-1000, 1000))

    def value(depth: int) -> Any:
        kind = rnd.randrange(6 if depth < 3 else 3)
        if kind == 0:
            return "".join(rnd.choice(chars) for _ in range(rnd.randrange(6)))
        if kind == 1:
            return number()
        if kind == 2:
            return rnd.choice([None, True, False])
        if kind == 3:
            return number()
        if kind == 4:
            return {str(value(3)): value(depth + 1) for _ in range(rnd.randrange(4))}
        return [value(depth + 1) for _ in range(rnd.randrange(4))]

    drawn = (value(0) for _ in range(count * 2))
    return [v for v in drawn if not (isinstance(v, float) and not math.isfinite(v))][:count]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_stringify_agrees_with_node() -> None:
    """The real JSON.stringify, on fixed edge cases and values drawn to hit every difference
    from orjson's text."""
    corpus: list[Any] = [
        1.0,
        -0.0,
        1e21,
        1e-7,
        123456789012345680000.0,
        2**53 + 1,
        10**25,
        "\ud800x\udfff",
        "\ud83d\ude00",
        {"k": ["\x00", "\x7f", "\u2028", "é€😀", '"\\/']},
        [0.1, 1.5e300, 5e-324, -2.5e-8, 1e16],
        *random_values(1000),
    ]
    source = json.dumps(corpus, ensure_ascii=True)  # JSON.parse reads \udXXX escapes back
    script = (
        "const v=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(v.map(x=>Buffer.byteLength(JSON.stringify(x),'utf8'))))"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script], input=source, capture_output=True, text=True, timeout=30, check=True
    )
    assert [stringify_bytes(v) for v in corpus] == json.loads(done.stdout)
