"""What a filtered list of studies must hold, as the studies model predicts it.

``StudyLists`` is the part of ``StudiesModel`` that answers for viewer.studies.list: which of
the sequence's studies match the filters (x-filter), in the list's order (x-order), whether
another page must follow a page's last study, the query text of the filters (x-query), and
which rule a list breaks by listing a study against the model or leaving one out (the
readings of a null literal and of "ignoring case" are inferred, the rest stated).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from contract_tests.stateful.studies.known import KnownStudy
from contract_tests.stateful.studies.rules import StudyRules
from contract_tests.stateful.studies.values import at_path, instant

EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


class StudyLists:
    """The list expectations of the model (a base of ``StudiesModel``, which holds both)."""

    rules: StudyRules
    studies: dict[str, KnownStudy]

    def order_key(self, document: Mapping[str, Any]) -> tuple[Any, ...]:
        """The sort key of x-order (timestamps as instants)."""
        key: list[Any] = []
        for name in self.rules.order_by:
            value = document.get(name)
            key.append(
                (instant(value) or EARLIEST) if name in self.rules.timestamps else str(value)
            )
        return tuple(key)

    def matches(self, filters: Mapping[str, Any]) -> list[KnownStudy]:
        """The model's studies that match every filter, in the contract's order."""
        found = [s for s in self.studies.values() if self.holds(s.shown, filters)]
        return sorted(found, key=lambda s: self.order_key(s.shown), reverse=self.rules.descending)

    def holds(self, document: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
        """Whether a study matches every filter given."""
        return all(
            self.rules.filters[name].holds(document, value) for name, value in filters.items()
        )

    def follows(self, filters: Mapping[str, Any], last: Mapping[str, Any] | None) -> bool:
        """Whether a match comes after ``last`` in the order (None: the page was empty)."""
        matches = self.matches(filters)
        if last is None:
            return bool(matches)
        edge = self.order_key(last)
        if self.rules.descending:
            return any(self.order_key(s.shown) < edge for s in matches)
        return any(self.order_key(s.shown) > edge for s in matches)

    def difference_rule(
        self, document: Mapping[str, Any], filters: Mapping[str, Any], changed: bool
    ) -> str:
        """The rule a list breaks by listing this study against the model, or leaving it out:
        a study left out that matches only by the null literal or by ignoring case rests on
        an inferred reading (list.filters-null, list.ignores-case), as does one listed that
        fails only a null-literal filter; everything else breaks list.filters (stated)."""
        failing = [n for n, v in filters.items() if not self.rules.filters[n].holds(document, v)]
        nulls = {n for n, v in filters.items() if v is None}
        if failing:
            return "list.filters-null" if set(failing) <= nulls else "list.filters"
        if nulls:
            return "list.filters-null"
        contains = [
            n for n, f in self.rules.filters.items() if n in filters and f.match != "equals"
        ]
        for name in contains:
            value = str(at_path(document, self.rules.filters[name].field) or "")
            if changed and str(filters[name]) not in value:
                return "list.ignores-case"
        return "list.filters"

    def query(self, filters: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        """The query text of filters."""
        return tuple((name, self.rules.filters[name].text(v)) for name, v in filters.items())
