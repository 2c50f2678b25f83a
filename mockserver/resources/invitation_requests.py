"""The field rules of every viewer.users.invitations call: each request checked against its
schema, and the list query read by its ``x-query`` annotations (``status`` is a comma list:
``status=sent,revoked``, the Avara client's array format).

The stateful service and stateless mode share these checks, as ``requests.py`` does for
studies; the rules that need the clinic or several fields (``x-stateful-rules``) are applied by
the stateful service alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from mockserver.contract import Contract
from mockserver.resources.request_checks import RequestChecks

PATH = "invitation-path"
UPDATE = "invitation-update-request"
REVOKE = "invitation-revoke-request"
LIST_QUERY = "invitation-list-query"


class InvitationRequests:
    """Validates the path parameter, bodies and list query of each invitations call; 400 lists
    every violation."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._contract = contract
        self._checks = RequestChecks(contract, lenient=lenient)

    @cached_property
    def default_limit(self) -> int:
        """The page size of a list that gives no ``limit``."""
        return int(self._checks.default(LIST_QUERY, "limit"))

    @cached_property
    def default_expired(self) -> str:
        """The ``expired`` filter of a list that gives none (it filters nothing out)."""
        return str(self._checks.default(LIST_QUERY, "expired"))

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
        return self._checks.path(PATH, "invitationId", value)

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request, as sent (nulls kept: each says keep or clear)."""
        return self._checks.body(UPDATE, body)

    def revoke(self, body: Any) -> dict[str, Any]:
        """A valid revoke request without its nulls (x-null-as-absent); naming the invitation
        is not checked here."""
        return self._checks.present(REVOKE, body)

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked."""
        return self._checks.query(LIST_QUERY, pairs)
