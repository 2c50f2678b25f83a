"""The field rules of every viewer.studies call: each request checked against its schema.

The stateful service and stateless mode share these checks; neither applies a rule that is
not here unless it needs the store or several fields (``x-stateful-rules``), which only the
stateful service applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from mockserver.contract import Contract
from mockserver.resources.request_checks import RequestChecks

LIST_QUERY = "study-list-query"
PATH = "study-path"


class StudyRequests:
    """Validates the body, query and path parameters of each call; 400 lists every violation."""

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._checks = RequestChecks(contract, lenient=lenient)

    @cached_property
    def default_limit(self) -> int:
        """The page size of a list that gives no ``limit``."""
        return int(self._checks.default(LIST_QUERY, "limit"))

    def create(self, body: Any) -> dict[str, Any]:
        """A valid create request."""
        return self._checks.body("study-create-request", body)

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request."""
        return self._checks.body("study-update-request", body)

    def selector(self, body: Any) -> dict[str, Any]:
        """A valid cancel / uncancel / reroute-url body (naming the study is not checked here)."""
        return self._checks.body("study-selector", body)

    def study_id(self, value: str) -> str:
        """A well-formed ``{studyId}`` path parameter."""
        return self._checks.path(PATH, "studyId", value)

    def uid(self, value: str) -> str:
        """A well-formed ``{studyInstanceUid}`` path parameter."""
        return self._checks.path(PATH, "studyInstanceUid", value)

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked."""
        return self._checks.query(LIST_QUERY, pairs)
