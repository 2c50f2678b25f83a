"""The field rules of every viewer.users call: each request checked against its schema.

The stateful service and stateless mode share these checks, as ``requests.py`` does for
studies; the rules that need the clinic or several fields (``x-stateful-rules``) are applied
by the stateful service alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from mockserver.contract import Contract
from mockserver.resources.request_checks import RequestChecks

INVITE = "user-invite-request"
UPDATE = "user-update-request"
ACCESS = "user-access-request"
PATH = "user-path"
USER_LIST_QUERY = "user-list-query"


class UserRequests:
    """Validates the body, query and path parameter of each users call; 400 lists every
    violation."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._checks = RequestChecks(contract, lenient=lenient)

    @cached_property
    def default_limit(self) -> int:
        """The page size of a list that gives no ``limit``."""
        return int(self._checks.default(USER_LIST_QUERY, "limit"))

    def invite(self, body: Any) -> dict[str, Any]:
        """A valid invite request, its optional fields sent as null dropped (x-null-as-absent)."""
        return self._checks.present(INVITE, body)

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request (what a null does is the service's business: x-null-means)."""
        return self._checks.body(UPDATE, body)

    def access(self, body: Any) -> str:
        """The ``userId`` of a valid revoke-access / reactivate body."""
        return str(self._checks.body(ACCESS, body)["userId"])

    def user_id(self, value: str) -> str:
        """A well-formed ``{userId}`` path parameter."""
        return self._checks.path(PATH, "userId", value)

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked."""
        return self._checks.query(USER_LIST_QUERY, pairs)
