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
from mockserver.errors import InvalidRequest
from mockserver.query import QueryReader
from mockserver.validation import DocumentValidator, Violation

LIST_QUERY = "study-list-query"


class StudyRequests:
    """Validates the body, query and path parameters of each call; 400 lists every violation.

    Each validator is compiled on its call's first use, so start-up pays only for create's.
    """

    def __init__(self, contract: Contract, *, lenient: bool = False) -> None:
        self._contract = contract
        self._lenient = lenient

    @cached_property
    def _create(self) -> DocumentValidator:
        return DocumentValidator(self._contract, "study-create-request", lenient=self._lenient)

    @cached_property
    def _update(self) -> DocumentValidator:
        return DocumentValidator(self._contract, "study-update-request", lenient=self._lenient)

    @cached_property
    def _selector(self) -> DocumentValidator:
        return DocumentValidator(self._contract, "study-selector", lenient=self._lenient)

    @cached_property
    def _path(self) -> DocumentValidator:
        return DocumentValidator(self._contract, "study-path", location="path")

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

    def create(self, body: Any) -> dict[str, Any]:
        """A valid create request."""
        return _checked(body, self._create.violations(body))

    def update(self, body: Any) -> dict[str, Any]:
        """A valid update request."""
        return _checked(body, self._update.violations(body))

    def selector(self, body: Any) -> dict[str, Any]:
        """A valid cancel / uncancel / reroute-url body (naming the study is not checked here)."""
        return _checked(body, self._selector.violations(body))

    def study_id(self, value: str) -> str:
        """A well-formed ``{studyId}`` path parameter."""
        _checked(value, self._path.violations({"studyId": value}))
        return value

    def uid(self, value: str) -> str:
        """A well-formed ``{studyInstanceUid}`` path parameter."""
        _checked(value, self._path.violations({"studyInstanceUid": value}))
        return value

    def list_query(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The list query as a JSON object, every parameter read and checked."""
        query, repeated = self._reader.read(pairs)
        violations = sorted({*repeated, *self._query.violations(query)}, key=_order)
        return _checked(query, violations)


def _order(violation: Violation) -> tuple[tuple[str, ...], str]:
    return violation.path, violation.rule


def _checked(value: Any, violations: list[Violation]) -> dict[str, Any]:
    """``value`` once it is known to conform (an object, since every schema here wants one)."""
    if violations:
        raise InvalidRequest.from_violations(violations)
    return value if isinstance(value, dict) else {}
