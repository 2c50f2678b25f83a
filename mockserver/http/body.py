"""Reading a JSON request body from ASGI, safe against hostile input.

Checks the media type before reading, stops reading at the size limit, and turns every
decoding failure (bad JSON, bad UTF-8, lone surrogates, nesting past 1024) into a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.types import Receive

from mockserver.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

Headers = Iterable[tuple[bytes, bytes]]


def header(headers: Headers, name: bytes) -> bytes | None:
    """The first value of a header (ASGI names are lower case)."""
    for key, value in headers:
        if key == name:
            return value
    return None


def check_media_type(content_type: bytes | None) -> None:
    """Accept ``application/json``, with no charset or ``charset=utf-8``; 415 otherwise."""
    if content_type is None:
        raise UnsupportedMediaType(
            "The request has no Content-Type header; send the body as JSON with "
            "'Content-Type: application/json'."
        )
    media, _, params = content_type.decode("latin-1").partition(";")
    if media.strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type {media.strip()!r} is not supported; send the body as JSON with "
            "'Content-Type: application/json'."
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise UnsupportedMediaType(
                f"charset {value.strip()!r} is not supported; JSON bodies must be UTF-8."
            )


async def read_body(headers: Headers, receive: Receive, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to pass ``limit`` bytes."""
    declared = header(headers, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequest("The client disconnected before the body was complete.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """Decode JSON; the error says where and why, and never echoes the body."""
    if not raw.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg
        if "UTF-8" in reason or "surrogate" in reason:
            hint = "the body must be valid UTF-8 JSON without lone surrogates"
        elif "depth" in reason or "recursion" in reason:
            hint = "the body is nested too deeply (at most 1024 levels)"
        else:
            hint = "the body is not valid JSON"
        raise InvalidRequest(
            f"Malformed request body: {hint} ({reason} at line {exc.lineno}, column {exc.colno})."
        ) from exc


async def read_json(headers: Headers, receive: Receive, limit: int) -> Any:
    """Media type, size, then JSON: in that order, so no refused body is read in full."""
    check_media_type(header(headers, b"content-type"))
    return parse_json(await read_body(headers, receive, limit))


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is over the limit of {limit} bytes; send a smaller body."
    )
