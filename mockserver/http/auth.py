"""Bearer authentication: which requests carry a key the mock accepts."""

from __future__ import annotations

from collections.abc import Iterable

from mockserver.errors import Unauthorized


class Authenticator:
    """Accepts any non-empty bearer key, or only ``api_keys`` when some are given."""

    def __init__(self, api_keys: Iterable[str] = ()) -> None:
        self._allowed = frozenset(api_keys)

    def key(self, authorization: bytes | None) -> str:
        """The API key of an ``Authorization`` header value; 401 says what is wrong with it."""
        if authorization is None:
            raise Unauthorized(
                "Missing Authorization header; send 'Authorization: Bearer <api key>' "
                "(the SDK does this from AVARA_API_KEY)."
            )
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(
                "The Authorization header must use the Bearer scheme: 'Bearer <api key>'."
            )
        token = token.strip()
        if not token:
            raise Unauthorized("The bearer token is empty; send 'Authorization: Bearer <api key>'.")
        if self._allowed and token not in self._allowed:
            raise Unauthorized(
                "This API key is not accepted by this mock (it was started with --api-key); "
                "use one of the keys it was started with."
            )
        return token
