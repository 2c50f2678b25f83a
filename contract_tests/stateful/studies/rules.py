"""What the studies model knows of the API, read once per contract from schemas/.

``StudyRules`` holds the fields an update sets and what a null means (x-null-means), what each
list filter matches (x-filter, x-query; one ``Filter`` each), the order of a list (x-order),
what a new study echoes and starts as (x-echo, x-on-create, x-link), the fields that never
change (update.keeps-identity) and the fields of a selector. Nothing here is copied by hand
from the schemas: change a schema and the model follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from contract_tests.stateful.studies.values import at_path
from mockserver.contract import Contract

STUDY = "study"
CREATE = "study-create-request"
UPDATE = "study-update-request"
LIST = "study-list-query"
SELECTOR = "study-selector"


@dataclass(frozen=True)
class Filter:
    """One list filter: the query parameter, the Study field it matches and how (x-filter),
    how its text is read and the literal that means null (x-query)."""

    name: str
    field: tuple[str, ...]
    match: str
    read: str
    null: str | None

    def text(self, value: Any) -> str:
        """The query text of a filter value (True -> 'true', None -> the null literal)."""
        if value is None:
            return self.null or ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def holds(self, document: Mapping[str, Any], wanted: Any) -> bool:
        """Whether a study (as shown) matches this filter's value."""
        value = at_path(document, self.field)
        if self.match == "contains-ignoring-case":
            return str(wanted).casefold() in str(value or "").casefold()
        return bool(value == wanted)


@dataclass(frozen=True)
class StudyRules:
    """What the model reads from the contract, once per contract."""

    contract: Contract
    update_fields: tuple[str, ...]
    null_means: Mapping[str, Mapping[str, Any]]
    filters: Mapping[str, Filter]
    order_by: tuple[str, ...]
    descending: bool
    timestamps: frozenset[str]
    echo: Mapping[str, Mapping[str, Any]]
    on_create: Mapping[str, Mapping[str, Any]]
    links: Mapping[str, Mapping[str, Any]]
    identity: tuple[str, ...]
    selector_fields: tuple[str, ...]

    @classmethod
    def of(cls, contract: Contract) -> StudyRules:
        """The rules of this contract (read once, then cached)."""
        return _rules_of(contract)

    def tag(self, document: str, rule_id: str) -> str:
        """The tag of a rule of a document's ``x-stateful-rules``."""
        return self.contract.stateful_rule(document, rule_id).tag


@cache
def _rules_of(contract: Contract) -> StudyRules:
    study = contract.resolved(STUDY)["properties"]
    update = contract.resolved(UPDATE)["properties"]
    query = contract.resolved(LIST)
    filters = {
        name: Filter(
            name,
            tuple(spec["x-filter"]["field"]),
            spec["x-filter"]["match"],
            spec["x-query"]["read"],
            spec["x-query"].get("null"),
        )
        for name, spec in query["properties"].items()
        if "x-filter" in spec
    }
    order = query["x-order"]
    keeps = contract.documents[UPDATE]["x-stateful-rules"]["update.keeps-identity"]
    return StudyRules(
        contract=contract,
        update_fields=tuple(update),
        null_means={
            name: spec["x-null-means"] for name, spec in update.items() if "x-null-means" in spec
        },
        filters=filters,
        order_by=tuple(order["by"]),
        descending=order["direction"] == "descending",
        timestamps=frozenset(n for n, s in study.items() if _is_timestamp(s)),
        echo=contract.annotated(STUDY, "x-echo"),
        on_create=contract.annotated(STUDY, "x-on-create"),
        links=contract.annotated(STUDY, "x-link"),
        identity=tuple(keeps["fields"]),
        selector_fields=tuple(contract.resolved(SELECTOR)["properties"]),
    )


def _is_timestamp(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return schema.get("format") == "date-time" or any(
        _is_timestamp(schema.get(key)) for key in ("else", "then")
    )
