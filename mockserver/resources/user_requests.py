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
from mockserver.errors import InvalidRequest
from mockserver.query import QueryReader
from mockserver.validation import DocumentValidator, Violation

INVITE = "user-invite-request"
UPDATE = "user-update-request"
ACCESS = "user-access-request"
PATH = "user-path"
USER_LIST_QUERY = "user-list-query"


class UserRequests:
    """Validates the body, query and path parameter of each users call; 400 lists every
    violation. Each validator is compiled on its call's first use."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._contract = contract
        self._lenient = lenient

    @cached_property
    def _invite(self) -> DocumentValidator:
        return DocumentValidator(self._contract, INVITE, lenient=self._lenient)

    @cached_property
    def _update(self) -> DocumentValidator:
        return DocumentValidator(self._contract, UPDATE, lenient=self._lenient)

    @cached_property
    def _access(self) -> DocumentValidator:
        return DocumentValidator(self._contract, ACCESS, lenient=self._lenient)

    @cached_property
    def _path(self) -> DocumentValidator:
        return DocumentValidator(self._contract, PATH, location="path")

    @cached_property
    def _query(self) -> DocumentValidator:
        lenient = self._lenient
        return DocumentValidator(self._contract, USER_LIST_QUERY, lenient=lenient, location="query")

    @cached_property
    def _reader(self) -> QueryReader:
        return QueryReader(self._contract, USER_LIST_QUERY)

    @cached_property
    def _nullable(self) -> frozenset[str]:
        return frozenset(self._contract.annotated(INVITE, "x-null-as-absent"))

    @cached_property
    def default_limit(self) -> int:
        """The page size of a list that gives no ``limit``."""
        properties = self._contract.resolved(USER_LIST_QUERY)["properties"]
        return int(properties["limit"]["default"])

    def invite(self, body: Any) -> dict[str, Any]:
        """A valid invite request, its optional fields sent as null dropped (x-null-as-absent)."""
        valid = _checked(body, self._invite.violations(body))
        return {k: v for k, v in valid.items() if not (v is None and k in self._nullable)}

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request (what a null does is the service's business: x-null-means)."""
        return _checked(body, self._update.violations(body))

    def access(self, body: Any) -> str:
        """The ``userId`` of a valid revoke-access / reactivate body."""
        return str(_checked(body, self._access.violations(body))["userId"])

    def user_id(self, value: str) -> str:
        """A well-formed ``{userId}`` path parameter."""
        _checked(value, self._path.violations({"userId": value}))
        return value

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked."""
        query, repeated = self._reader.read(pairs)
        found = {*repeated, *self._query.violations(query)}
        return _checked(query, sorted(found, key=lambda v: (v.path, v.rule)))


def _checked(value: Any, violations: list[Violation]) -> dict[str, Any]:
    """``value`` once it is known to conform (an object, since every schema here wants one)."""
    if violations:
        raise InvalidRequest.from_violations(violations)
    return dict(value) if isinstance(value, dict) else {}
