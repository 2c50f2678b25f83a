"""What a valid request must also keep against a stateful server: the ``x-stateful-rules``
that refuse a request with 400 for what several of its fields say together.

No schema keyword states these rules, so no strategy of ``values`` keeps them; this module
holds, for each such rule (by its id in schemas/), how to make a drawn document keep it, or
None when it cannot. A stateless target applies none of them (``Settings.stateless``), so
probes fix documents only for a stateful one. The rules that answer 404 or 409 need the
store, not the document: checks allow those statuses (``status`` of the rule, or the
operation's documented errors). A rule id of this table that schemas/ no longer has is an
error (``CrossField`` raises), so the table cannot silently drift from the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mockserver.contract import ID_PREFIX, STATEFUL, Contract
from mockserver.resources.sessions import viewport_counts

Fix = Callable[[dict[str, Any], Contract], "dict[str, Any] | None"]
ADMIN, MEMBER = "admin", "member"
DASHBOARD = "hasDashboardAccess"


def _one_named(document: dict[str, Any], contract: Contract, name: str) -> dict[str, Any] | None:
    """Exactly one of the document's selectors is given (both may disagree, none names
    nothing): the first one given is kept, and a null one stays (it is absent)."""
    fields = list(contract.resolved(name)["properties"])
    given = [field for field in fields if document.get(field) is not None]
    if not given:
        return None
    return {k: v for k, v in document.items() if k not in given[1:]}


def _admin_has_dashboard(document: dict[str, Any], contract: Contract) -> dict[str, Any] | None:
    """An admin keeps dashboard access, whatever the stored user has: a body that makes a
    user admin grants it, a body that takes it away leaves a member."""
    if document.get("level") == ADMIN:
        return {**document, DASHBOARD: True}
    if document.get(DASHBOARD) is False:
        return {**document, "level": MEMBER}
    return document


def _viewports(document: dict[str, Any], contract: Contract) -> dict[str, Any] | None:
    """One assignment per viewport of the layout: the list cut, or padded with null."""
    counts = viewport_counts(contract)
    layout, assignments = document.get("layout"), document.get("viewportAssignments")
    if layout not in counts or not isinstance(assignments, list):
        return document
    wanted = counts[layout]
    fitted = (assignments + [None] * wanted)[:wanted]
    return {**document, "viewportAssignments": fitted}


def _dates_in_order(document: dict[str, Any], contract: Contract) -> dict[str, Any] | None:
    """startDate not after endDate: the two swapped when they are not."""
    start, end = document.get("startDate"), document.get("endDate")
    if isinstance(start, str) and isinstance(end, str) and start > end:
        return {**document, "startDate": end, "endDate": start}
    return document


def _no_cursor(document: dict[str, Any], contract: Contract) -> dict[str, Any] | None:
    """No cursor: a stateful server knows only the cursors it made."""
    return {k: v for k, v in document.items() if k != "cursor"}


FIXES: dict[str, Fix] = {
    "selector.names-study": lambda d, c: _one_named(d, c, "study-selector"),
    "selector.same-study": lambda d, c: _one_named(d, c, "study-selector"),
    "invitationRevoke.names-invitation": lambda d, c: _one_named(d, c, "invitation-revoke-request"),
    "invitationRevoke.same-invitation": lambda d, c: _one_named(d, c, "invitation-revoke-request"),
    "invite.admin-dashboard-access": _admin_has_dashboard,
    "userUpdate.admin-dashboard-access": _admin_has_dashboard,
    "invitationUpdate.admin-dashboard-access": _admin_has_dashboard,
    "hangingProtocol.viewport-count": _viewports,
    "invitationList.date-order": _dates_in_order,
    "cursor.unknown": _no_cursor,
}
"""The 400 rules across fields, by id, and how a document keeps each."""


class UnknownRule(KeyError):
    """``FIXES`` names a rule that no document of schemas/ has any more."""


@dataclass(frozen=True)
class Placed:
    """The fixes of one schema document, and where its values sit in a request's document
    (the property names on the way; empty: the document itself)."""

    path: tuple[str, ...]
    fixes: tuple[Fix, ...]


class CrossField:
    """Makes documents of one schema keep the cross-field rules of it and of the documents
    it holds (``ephemeral-hanging-protocol`` inside an ephemeral session's body)."""

    def __init__(self, contract: Contract, name: str) -> None:
        self.contract = contract
        every = {rule for doc in contract.documents.values() for rule in doc.get(STATEFUL, {})}
        missing = sorted(set(FIXES) - every)
        if missing:
            raise UnknownRule(f"FIXES names rules schemas/ do not have: {missing}")
        self._placed = tuple(self._find(contract.resolved(name), ()))

    def _find(self, node: Any, path: tuple[str, ...]) -> Iterator[Placed]:
        if not isinstance(node, dict):
            return
        name = str(node.get("$id", "")).removeprefix(ID_PREFIX)
        rules = self.contract.documents.get(name, {}).get(STATEFUL, {}) if name else {}
        fixes = tuple(FIXES[rule] for rule in rules if rule in FIXES)
        if fixes:
            yield Placed(path, fixes)
        for key, child in node.items():
            if key == "properties":
                for prop, member in child.items():
                    yield from self._find(member, (*path, prop))
            elif key in ("allOf", "anyOf", "oneOf"):
                for member in child:
                    yield from self._find(member, path)
            elif key in ("then", "else"):
                yield from self._find(child, path)

    def fixed(self, document: Any) -> Any:
        """The document made to keep every rule, or None when it cannot be."""
        for placed in self._placed:
            document = _at(document, placed.path, placed.fixes, self.contract)
            if document is UNFIXABLE:
                return None
        return document


UNFIXABLE: Any = object()


def _at(document: Any, path: tuple[str, ...], fixes: tuple[Fix, ...], contract: Contract) -> Any:
    """The document with the value at ``path`` fixed (a value that is not an object has
    nothing to fix), or ``UNFIXABLE``."""
    if not isinstance(document, dict):
        return document
    if path:
        head, rest = path[0], path[1:]
        if head not in document:
            return document
        inner = _at(document[head], rest, fixes, contract)
        return UNFIXABLE if inner is UNFIXABLE else {**document, head: inner}
    fixed: dict[str, Any] | None = document
    for fix in fixes:
        fixed = fix(fixed, contract) if fixed is not None else None
    return UNFIXABLE if fixed is None else fixed
