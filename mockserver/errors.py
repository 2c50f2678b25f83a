"""The errors the mock answers with: specific exceptions that know their status and JSON body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from mockserver.validation import WHOLE, Violation


class ApiError(Exception):
    """An answer other than success; ``body()`` follows schemas/error.schema.json."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal_error"

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = tuple(violations)

    def body(self) -> bytes:
        """The JSON error body."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.violations:
            error["errors"] = [v.as_json() for v in self.violations]
        return orjson.dumps({"error": error})


class InvalidRequest(ApiError):
    """The body is not JSON, or breaks rules of the contract (every one is listed)."""

    status = 400
    type = "invalid_request"

    @classmethod
    def from_violations(cls, violations: Sequence[Violation]) -> InvalidRequest:
        """Summarise the violations in one line, and keep them all."""
        count = len(violations)
        noun = "problem" if count == 1 else "problems"
        first = violations[0].message
        more = "" if count == 1 else f" See errors[] for all {count}."
        places = {v.location for v in violations}
        whole = WHOLE[violations[0].location] if len(places) == 1 else "the request"
        return cls(f"{whole.capitalize()} has {count} {noun}: {first}{more}", violations)


class Unauthorized(ApiError):
    """No usable ``Authorization: Bearer <key>`` header."""

    status = 401
    type = "unauthorized"


class NotFound(ApiError):
    """No such route, or no such study."""

    status = 404
    type = "not_found"


class MethodNotAllowed(ApiError):
    """The route exists, but not with this method."""

    status = 405
    type = "method_not_allowed"


class Conflict(ApiError):
    """A study with this Study Instance UID exists already."""

    status = 409
    type = "conflict"


class PayloadTooLarge(ApiError):
    """The body is over the size limit; the rest of it was not read."""

    status = 413
    type = "payload_too_large"


class UnsupportedMediaType(ApiError):
    """The body is not declared as ``application/json``."""

    status = 415
    type = "unsupported_media_type"


class TooManyRequests(ApiError):
    """A fault of the control plane answered as a rate-limited API would."""

    status = 429
    type = "rate_limited"


class ServiceUnavailable(ApiError):
    """A fault of the control plane answered as an overloaded or restarting API would."""

    status = 503
    type = "service_unavailable"
