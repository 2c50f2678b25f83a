"""The field rules of every viewer.users.invitations call: each request checked against its
schema, and the list query read by its ``x-query`` annotations.

The stateful service and stateless mode share these checks, as ``requests.py`` does for
studies; the rules that need the clinic or several fields (``x-stateful-rules``) are applied by
the stateful service alone.

``QueryReader`` reads one text per parameter; the ``comma`` reading of invitation-list-query
(``status=sent,revoked``, the Avara client's array format) is done here, on its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.query import QueryReader
from mockserver.validation import DocumentValidator, Violation

PATH = "invitation-path"
UPDATE = "invitation-update-request"
REVOKE = "invitation-revoke-request"
LIST_QUERY = "invitation-list-query"
COMMA = "comma"


class InvitationRequests:
    """Validates the path parameter, bodies and list query of each invitations call; 400 lists
    every violation. Each validator is compiled on its call's first use."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._contract = contract
        self._lenient = lenient
        readings = contract.annotated(LIST_QUERY, "x-query")
        self._comma = tuple(name for name, spec in readings.items() if spec["read"] == COMMA)
        self._absent_if_null = tuple(contract.annotated(REVOKE, "x-null-as-absent"))

    @cached_property
    def _path(self) -> DocumentValidator:
        return DocumentValidator(self._contract, PATH, location="path")

    @cached_property
    def _update(self) -> DocumentValidator:
        return DocumentValidator(self._contract, UPDATE, lenient=self._lenient)

    @cached_property
    def _revoke(self) -> DocumentValidator:
        return DocumentValidator(self._contract, REVOKE, lenient=self._lenient)

    @cached_property
    def _query(self) -> DocumentValidator:
        lenient = self._lenient
        return DocumentValidator(self._contract, LIST_QUERY, lenient=lenient, location="query")

    @cached_property
    def _reader(self) -> QueryReader:
        return QueryReader(self._contract, LIST_QUERY)

    @cached_property
    def default_limit(self) -> int:
        """The page size of a list that gives no ``limit``."""
        return int(self._contract.resolved(LIST_QUERY)["properties"]["limit"]["default"])

    @cached_property
    def default_expired(self) -> str:
        """The ``expired`` filter of a list that gives none (it filters nothing out)."""
        return str(self._contract.resolved(LIST_QUERY)["properties"]["expired"]["default"])

    @cached_property
    def update_fields(self) -> tuple[str, ...]:
        """The fields an update may change, in schema order."""
        return tuple(self._contract.resolved(UPDATE)["properties"])

    @cached_property
    def null_means(self) -> dict[str, str]:
        """Update field -> what its null does (``keep`` or ``clear``, x-null-means)."""
        notes = self._contract.annotated(UPDATE, "x-null-means")
        return {field: str(spec["effect"]) for field, spec in notes.items()}

    def invitation_id(self, value: str) -> str:
        """A well-formed ``{invitationId}`` path parameter."""
        _checked(value, self._path.violations({"invitationId": value}))
        return value

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request, as sent (nulls kept: each says keep or clear)."""
        return _checked(body, self._update.violations(body))

    def revoke(self, body: Any) -> dict[str, Any]:
        """A valid revoke request without its nulls (x-null-as-absent); naming the invitation
        is not checked here."""
        valid = _checked(body, self._revoke.violations(body))
        return {k: v for k, v in valid.items() if not (v is None and k in self._absent_if_null)}

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked; a ``comma``
        parameter reads as a list of its comma-separated texts (the empty text: [])."""
        query, repeated = self._reader.read(pairs)
        for name in self._comma:
            text = query.get(name)
            if isinstance(text, str):
                query[name] = text.split(",") if text else []
        violations = sorted({*repeated, *self._query.violations(query)}, key=_order)
        return _checked(query, violations)


def _order(violation: Violation) -> tuple[tuple[str, ...], str]:
    return violation.path, violation.rule


def _checked(value: Any, violations: list[Violation]) -> dict[str, Any]:
    """``value`` once it is known to conform (an object, since every schema here wants one)."""
    if violations:
        raise InvalidRequest.from_violations(violations)
    return value if isinstance(value, dict) else {}
