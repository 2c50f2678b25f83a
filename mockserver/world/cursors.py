"""Page cursors: a list position, signed, so a cursor the server did not make is refused.

A cursor is Base64 of ``position|signature``. The signature is an HMAC under a secret of the
mock's: random per process, or derived from ``--seed`` so seeded answers are identical
across runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

SIGNATURE_BYTES = 12


class UnknownCursor(ValueError):
    """The cursor does not decode, or was not signed by this mock."""


class CursorCodec:
    """Turns list positions into opaque cursors and back."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            self._secret = os.urandom(32)
        else:
            self._secret = hashlib.sha256(f"avara-mock cursor {seed}".encode()).digest()

    def encode(self, position: str) -> str:
        """The cursor of the page after ``position``."""
        raw = position.encode()
        return base64.b64encode(raw + b"|" + self._sign(raw)).decode("ascii")

    def decode(self, cursor: str) -> str:
        """The position a cursor of ours names; ``UnknownCursor`` otherwise."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UnknownCursor(cursor) from exc
        payload, signature = raw[: -SIGNATURE_BYTES - 1], raw[-SIGNATURE_BYTES:]
        separator = raw[-SIGNATURE_BYTES - 1 : -SIGNATURE_BYTES]
        if separator != b"|" or not hmac.compare_digest(signature, self._sign(payload)):
            raise UnknownCursor(cursor)
        return payload.decode()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
