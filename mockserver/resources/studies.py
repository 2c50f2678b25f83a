"""The studies resource: creating and finding studies, as the contract says.

What a new study looks like comes from the Study schema's annotations (``x-on-create`` for
initial values, ``x-echo`` for fields copied from the request), not from constants here.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest, NotFound
from mockserver.validation import DocumentValidator
from mockserver.world.clock import Clock
from mockserver.world.ids import IdSource
from mockserver.world.references import ReferenceFactory
from mockserver.world.store import StudyStore


class StudyService:
    """Owns the rules of create and the state behind it; HTTP handlers only call it."""

    def __init__(
        self,
        contract: Contract,
        store: StudyStore,
        clock: Clock,
        ids: IdSource,
        references: ReferenceFactory,
        *,
        lenient: bool = False,
    ) -> None:
        self.store = store
        self._clock = clock
        self._ids = ids
        self._references = references
        self._key_references: dict[str, bytes] = {}
        self._validator = DocumentValidator(contract, "study-create-request", lenient=lenient)
        self._initial = {
            field: spec["const"]
            for field, spec in contract.annotated("study", "x-on-create").items()
        }
        self._echoed = {
            field: spec["from"] for field, spec in contract.annotated("study", "x-echo").items()
        }

    def create(self, request: Any, api_key: str) -> bytes:
        """Validate a create request and store the new study; returns its JSON."""
        violations = self._validator.violations(request)
        if violations:
            raise InvalidRequest.from_violations(violations)
        uid = request["studyInstanceUid"]
        self.store.reserve_uid(uid)
        now = self._clock.now()
        study: dict[str, Any] = {"studyId": self._ids.study_id()}
        for field, source in self._echoed.items():
            study[field] = request.get(source)
        study.update(self._initial)
        study["createdAt"] = now
        study["updatedAt"] = now
        assigned = request.get("assignedTo")
        customer = request.get("expressCustomerId")
        study["assignedTo"] = None if assigned is None else self._references.user(assigned)
        study["expressCustomer"] = None if customer is None else self._references.customer(customer)
        study["createdByUser"] = None
        return self.store.add(study["studyId"], uid, orjson.dumps(study), self._key_json(api_key))

    def _key_json(self, api_key: str) -> bytes:
        """The JSON of a key's reference, made once per key and shared by its studies."""
        reference = self._key_references.get(api_key)
        if reference is None:
            reference = orjson.dumps(self._references.api_key(api_key))
            self._key_references[api_key] = reference
        return reference

    def reset(self) -> None:
        """As new: no studies, and seeded ids and clock back at their start."""
        self.store.clear()
        self._ids.reset()
        self._clock.reset()

    def retrieve(self, study_id: str) -> bytes:
        """A study by id; 404 names the id."""
        body = self.store.get(study_id)
        if body is None:
            raise NotFound(f"No study has studyId {study_id!r}; create it first.")
        return body

    def retrieve_by_uid(self, uid: str) -> bytes:
        """A study by Study Instance UID; 404 names the UID."""
        body = self.store.get_by_uid(uid)
        if body is None:
            raise NotFound(f"No study has studyInstanceUid {uid!r}; create it first.")
        return body
