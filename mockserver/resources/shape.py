"""What a study looks like: made from a create request, changed by an update.

The Study schema's annotations say which fields a new study echoes (``x-echo``) and which
start at a fixed value (``x-on-create``); nested references come from the reference factory.
The stateful service and stateless mode make studies the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.contract import Contract
from mockserver.world.references import ReferenceFactory

UPDATE_REQUEST = "study-update-request"


class StudyShape:
    """Makes new studies and applies updates, as the contract's annotations say."""

    def __init__(
        self,
        contract: Contract,
        references: ReferenceFactory,
        people: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        """``people`` gives the UserReference of a user id (default: a fake, consistent one;
        the stateful service passes the clinic's)."""
        self._references = references
        self._people = people or references.user
        self._initial = {
            field: spec["const"]
            for field, spec in contract.annotated("study", "x-on-create").items()
        }
        self._echoed = {
            field: spec["from"] for field, spec in contract.annotated("study", "x-echo").items()
        }
        self.update_fields = tuple(contract.resolved(UPDATE_REQUEST)["properties"])

    def new(self, request: dict[str, Any], study_id: str, now: str) -> dict[str, Any]:
        """A new study (without ``createdByApiKey``) from a valid create request."""
        study: dict[str, Any] = {"studyId": study_id}
        for field, source in self._echoed.items():
            study[field] = request.get(source)
        study.update(self._initial)
        study["createdAt"] = now
        study["updatedAt"] = now
        study["assignedTo"] = self.user(request.get("assignedTo"))
        customer = request.get("expressCustomerId")
        study["expressCustomer"] = None if customer is None else self._references.customer(customer)
        study["createdByUser"] = None
        return study

    def user(self, user_id: str | None) -> dict[str, Any] | None:
        """The UserReference a study shows for an assigned user id (None: unassigned)."""
        return None if user_id is None else self._people(user_id)

    def api_key(self, key: str) -> dict[str, Any]:
        """The APIKeyReference of a study created with ``key``."""
        return self._references.api_key(key)

    def changes(self, study: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        """The fields a valid update sets to a new value; empty when it changes nothing.

        A field absent from the update is left as it is; ``assignedTo: null`` unassigns and
        ``metadata: null`` clears (x-null-means); a metadata object replaces the whole map.
        """
        found: dict[str, Any] = {}
        for field in self.update_fields:
            if field not in update:
                continue
            value = update[field]
            if field == "assignedTo":
                current = (study.get("assignedTo") or {}).get("userId")
                if value != current:
                    found[field] = self.user(value)
            elif study.get(field) != value:
                found[field] = value
        return found
