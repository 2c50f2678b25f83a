"""Page cursors: opaque, signed, refused when another mock (or nobody) made them."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.world.cursors import SIGNATURE_BYTES, CursorCodec, UnknownCursor

POSITION = "2026-01-05T09:00:00.000Z|stu_0123456789abcdef0123456789abcdef"
FEW = settings(max_examples=150, deadline=None, database=None)
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="


def position_whose_cursor(codec: CursorCodec, wanted: str) -> tuple[str, str]:
    """A position whose cursor holds one of the ``wanted`` characters, and that cursor."""
    for n in itertools.count():
        position = f"2026-01-05T09:00:{n % 60:02d}.{n % 1000:03d}Z|stu_{n:032x}"
        cursor = codec.encode(position)
        if any(c in cursor for c in wanted):
            return position, cursor
    raise AssertionError("unreachable")


def retampered(cursor: str, index: int) -> str:
    """The cursor with one byte of its decoded form changed, encoded again."""
    raw = bytearray(base64.b64decode(cursor))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


def test_cursors_round_trip() -> None:
    codec = CursorCodec(seed=3)
    for position in (POSITION, "", "|", "é|ü|日本"):
        assert codec.decode(codec.encode(position)) == position


def test_cursors_are_base64_text() -> None:
    cursor = CursorCodec(seed=3).encode(POSITION)
    assert set(cursor) <= set(BASE64)
    assert base64.b64decode(cursor, validate=True)


def test_cursors_same_seed_accepted_by_another_codec() -> None:
    cursor = CursorCodec(seed=3).encode(POSITION)
    assert CursorCodec(seed=3).decode(cursor) == POSITION
    assert CursorCodec(seed=3).encode(POSITION) == cursor


@pytest.mark.parametrize("other", [CursorCodec(seed=4), CursorCodec(), CursorCodec(seed=None)])
def test_cursors_of_another_seed_or_process_refused(other: CursorCodec) -> None:
    with pytest.raises(UnknownCursor):
        other.decode(CursorCodec(seed=3).encode(POSITION))


def test_cursors_of_an_unseeded_codec_refused_by_another_unseeded_one() -> None:
    cursor = CursorCodec().encode(POSITION)
    with pytest.raises(UnknownCursor):
        CursorCodec().decode(cursor)


@pytest.mark.parametrize("index", [0, 10, len(POSITION) - 1, len(POSITION), -1, -SIGNATURE_BYTES])
def test_cursors_tampered_refused(index: int) -> None:
    codec = CursorCodec(seed=3)
    with pytest.raises(UnknownCursor):
        codec.decode(retampered(codec.encode(POSITION), index))


def test_cursors_signature_of_another_position_refused() -> None:
    codec = CursorCodec(seed=3)
    raw = base64.b64decode(codec.encode(POSITION))
    other = base64.b64decode(codec.encode(POSITION.replace("stu_0", "stu_1")))
    spliced = raw[:-SIGNATURE_BYTES] + other[-SIGNATURE_BYTES:]
    with pytest.raises(UnknownCursor):
        codec.decode(base64.b64encode(spliced).decode("ascii"))


@pytest.mark.parametrize("keep", [1, 4, 8, 20, -4, -8])
def test_cursors_truncated_refused(keep: int) -> None:
    codec = CursorCodec(seed=3)
    cursor = codec.encode(POSITION).rstrip("=")
    with pytest.raises(UnknownCursor):
        codec.decode(cursor[:keep])


@pytest.mark.parametrize("text", ["", "!!!!", "@@@", "====", "A", "AB=C", "é", "QQ", "\x00"])
def test_cursors_not_base64_or_too_short_refused(text: str) -> None:
    with pytest.raises(UnknownCursor):
        CursorCodec(seed=3).decode(text)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda cursor: cursor[:10] + "!" + cursor[10:],
        lambda cursor: cursor[:10] + "=" + cursor[10:],
        lambda cursor: cursor + " \n",
        lambda cursor: "*" + cursor,
    ],
    ids=["bang-inside", "padding-inside", "trailing-space", "leading-star"],
)
def test_cursors_with_characters_outside_base64_refused(spoil: Callable[[str], str]) -> None:
    codec = CursorCodec(seed=3)
    with pytest.raises(UnknownCursor):
        codec.decode(spoil(codec.encode(POSITION)))


def test_cursors_url_safe_alphabet_accepted() -> None:
    codec = CursorCodec(seed=3)
    position, cursor = position_whose_cursor(codec, "+/")
    url_safe = cursor.translate(str.maketrans("+/", "-_"))
    assert url_safe != cursor
    assert codec.decode(url_safe) == position


def test_cursors_missing_padding_accepted() -> None:
    codec = CursorCodec(seed=3)
    position, cursor = position_whose_cursor(codec, "=")
    assert codec.decode(cursor.rstrip("=")) == position


@FEW
@given(st.text())
def test_cursors_arbitrary_text_only_unknown_cursor(text: str) -> None:
    try:
        CursorCodec(seed=3).decode(text)
    except UnknownCursor:
        return
    pytest.fail(f"{text!r} decoded as a cursor")


@FEW
@given(st.text(alphabet=BASE64, min_size=1))
def test_cursors_arbitrary_base64_text_only_unknown_cursor(text: str) -> None:
    with pytest.raises(UnknownCursor):
        CursorCodec(seed=3).decode(text)


@FEW
@given(st.binary())
def test_cursors_arbitrary_bytes_only_unknown_cursor(raw: bytes) -> None:
    with pytest.raises(UnknownCursor):
        CursorCodec(seed=3).decode(base64.b64encode(raw).decode("ascii"))


@FEW
@given(st.binary(max_size=40))
def test_cursors_arbitrary_payload_with_separator_refused(payload: bytes) -> None:
    forged = payload + b"|" + b"\x00" * SIGNATURE_BYTES
    with pytest.raises(UnknownCursor):
        CursorCodec(seed=3).decode(base64.urlsafe_b64encode(forged).decode("ascii"))


@FEW
@given(st.text(max_size=80))
def test_cursors_round_trip_any_position(position: str) -> None:
    codec = CursorCodec(seed=11)
    assert codec.decode(codec.encode(position)) == position
