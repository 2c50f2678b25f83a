"""Stateless mode: every valid request answered from the request alone; nothing is stored.

It serves suites written for a Prism-style mock (the Stainless-generated SDK tests): they create
one UID again and again, read and change ids nobody created, cancel with an empty body and pass
cursors this server never made. Each request still meets every field rule (``StudyRequests``:
400 listing each violation, as in stateful mode); no rule across requests or fields applies
(``x-stateful-rules``: no 409, no 404 for a well-formed id, no "name the study", no "unknown
cursor"). Each answer comes from SHA-256 of (seed, operation, canonical request), so the same
request gets the same bytes in every run and process, and another seed another answer.

Ids link where a hash can link them: a UID always names the same studyId (create,
retrieve_by_uid), and a studyId always names the same study (retrieve, update, list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import orjson

from mockserver.contract import Contract, UnsupportedFilter
from mockserver.resources.requests import LIST_QUERY, StudyRequests
from mockserver.resources.shape import StudyShape
from mockserver.resources.studies import VIEW_PATH
from mockserver.settings import Settings
from mockserver.stateless.draws import Draws, canonical, later
from mockserver.world.clock import SEEDED_EPOCH, rfc3339
from mockserver.world.references import DESCRIPTIONS, ReferenceFactory

PAST_MS = 365 * 24 * 3600 * 1000
"""Studies that "exist" were created within a year before SEEDED_EPOCH, and last updated
between then and SEEDED_EPOCH."""
LATER_MS = 24 * 3600 * 1000
"""Creates and updates happen within a day after SEEDED_EPOCH: later than any existing study."""
PAGE_STUDIES = 3
"""A list page holds this many studies, or ``limit`` if fewer."""
CONTAINS = "contains-ignoring-case"
DEPARTMENTS = ("radiology", "emergency", "neurology", "oncology", "orthopedics")


class StatelessStudies:
    """The ``Studies`` of stateless mode: field rules only, answers derived from requests."""

    def __init__(self, contract: Contract, settings: Settings) -> None:
        self._seed = 0 if settings.seed is None else settings.seed
        self._requests = StudyRequests(contract, lenient=settings.lenient)
        self._references = ReferenceFactory(settings.seed)
        self._shape = StudyShape(contract, self._references)
        self._severities: tuple[str, ...] = tuple(contract.rule_value("study", "severity.enum"))
        self._statuses: tuple[str, ...] = tuple(
            contract.rule_value("study", "studyViewerStatus.enum")
        )
        self._nullable = tuple(contract.annotated("study-create-request", "x-null-as-absent"))
        order = contract.resolved(LIST_QUERY)["x-order"]
        self._order: tuple[str, ...] = tuple(order["by"])
        self._newest_first = order["direction"] == "descending"
        self._makers: dict[str, Callable[[str], dict[str, Any] | None]] = {
            "assignedTo": self._shape.user,
            "expressCustomer": self._references.customer,
        }
        self._filters: dict[str, dict[str, Any]] = contract.annotated(LIST_QUERY, "x-filter")
        for name, spec in self._filters.items():
            match, field = spec["match"], spec["field"]
            top = len(field) == 1 and match in ("equals", CONTAINS)
            if not top and not (match == "equals" and len(field) == 2 and field[0] in self._makers):
                raise UnsupportedFilter(f"stateless mode cannot satisfy filter {name}: {spec}")

    # --- the Studies protocol --------------------------------------------------------------

    def create(self, request: Any, api_key: str) -> bytes:
        """The new study: its id from its UID, its time from the whole request."""
        body = self._requests.create(request)
        present = {k: v for k, v in body.items() if not (v is None and k in self._nullable)}
        draws = Draws(self._seed, "create", canonical(present))
        now = later(SEEDED_EPOCH, draws.below(LATER_MS))
        study = self._shape.new(body, self._id_of(body["studyInstanceUid"]), now)
        study["createdByApiKey"] = self._shape.api_key(api_key)
        return orjson.dumps(study)

    def retrieve(self, study_id: str) -> bytes:
        """The study this id names; every well-formed id names one."""
        self._requests.study_id(study_id)
        return orjson.dumps(self._study(study_id))

    def retrieve_by_uid(self, uid: str) -> bytes:
        """The study of this UID, with the id create gives it."""
        self._requests.uid(uid)
        return orjson.dumps(self._study(self._id_of(uid), uid))

    def update(self, study_id: str, request: Any) -> bytes:
        """The study of ``retrieve`` with the update applied; a change moves ``updatedAt``."""
        self._requests.study_id(study_id)
        body = self._requests.update(request)
        study = self._study(study_id)
        changes = self._shape.changes(study, body)
        if changes:
            study.update(changes)
            draws = Draws(self._seed, "update", study_id, canonical(body))
            study["updatedAt"] = later(SEEDED_EPOCH, draws.below(LATER_MS))
        return orjson.dumps(study)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One last page of a few studies, each meeting every filter given; a cursor is read
        for its form only (nothing to page through)."""
        found = self._requests.list_query(query)
        found.setdefault("limit", self._requests.default_limit)
        text = canonical(found)
        studies = []
        for index in range(min(found["limit"], PAGE_STUDIES)):
            study = self._study("stu_" + Draws(self._seed, "list", text, str(index)).hex(32))
            self._satisfy(study, found)
            studies.append(study)
        studies.sort(key=lambda s: tuple(s[f] for f in self._order), reverse=self._newest_first)
        return orjson.dumps({"studies": studies, "cursor": None, "hasMore": False})

    def cancel(self, request: Any) -> bytes:
        """Success, and a message saying nothing changed."""
        return self._success(request, "cancelled")

    def uncancel(self, request: Any) -> bytes:
        """Success, and a message saying nothing changed."""
        return self._success(request, "uncancelled")

    def reroute_url(self, request: Any, origin: str) -> bytes:
        """A URL on ``origin`` with a token derived from the request (it opens no page)."""
        body = self._requests.selector(request)
        token = Draws(self._seed, "reroute-url", canonical(body)).hex(40)
        return orjson.dumps({"url": f"{origin.rstrip('/')}{VIEW_PATH}{token}"})

    def viewed(self, token: str) -> dict[str, Any] | None:
        """Always None: nothing is stored, so no token opens a study (the page answers 404)."""
        return None

    def stored(self) -> Sequence[dict[str, Any]]:
        """None: stateless mode stores nothing."""
        return []

    def reset(self) -> None:
        """Nothing to forget: every answer is made from its request."""

    # --- deterministic studies -------------------------------------------------------------

    def _id_of(self, uid: str) -> str:
        return "stu_" + Draws(self._seed, "study-of-uid", uid).hex(32)

    def _uid_of(self, study_id: str) -> str:
        """A UID for an id: ``2.25.`` and a 128-bit number (DICOM's UUID-derived form)."""
        return f"2.25.{Draws(self._seed, 'uid-of-study', study_id).bits(128)}"

    def _study(self, study_id: str, uid: str | None = None) -> dict[str, Any]:
        """The study a well-formed id names: made as a create request would make it, then
        aged (created in the year before SEEDED_EPOCH), perhaps completed or cancelled."""
        draws = Draws(self._seed, "study", study_id)
        request: dict[str, Any] = {
            "severity": draws.choice(self._severities),
            "studyDescription": draws.choice(DESCRIPTIONS),
            "studyInstanceUid": uid or self._uid_of(study_id),
        }
        if draws.below(2):
            request["assignedTo"] = "usr_" + draws.hex(32)
        if draws.below(3) == 0:
            request["expressCustomerId"] = "cus_" + draws.hex(32)
        if draws.below(2):
            request["metadata"] = {"department": draws.choice(DEPARTMENTS)}
        age = 1 + draws.below(PAST_MS)
        created = SEEDED_EPOCH - timedelta(milliseconds=age)
        study = self._shape.new(request, study_id, rfc3339(created))
        study["updatedAt"] = later(created, draws.below(age))
        study["studyViewerStatus"] = draws.choice(self._statuses)
        study["isCancelled"] = draws.below(8) == 0
        self._cancelled_at(study)
        study["createdByApiKey"] = self._shape.api_key("stateless-" + draws.hex(16))
        return study

    def _satisfy(self, study: dict[str, Any], query: dict[str, Any]) -> None:
        """Change ``study`` so that it meets every filter of the query (x-filter)."""
        for name, spec in self._filters.items():
            if name not in query:
                continue
            value, field = query[name], spec["field"]
            if spec["match"] == CONTAINS:
                if not _contains(study[field[0]], value):
                    study[field[0]] = value
            elif len(field) == 1:
                study[field[0]] = value
            else:
                study[field[0]] = None if value is None else self._makers[field[0]](value)
        self._cancelled_at(study)

    @staticmethod
    def _cancelled_at(study: dict[str, Any]) -> None:
        """A cancelled study was cancelled at its last update; another has cancelledAt null."""
        study["cancelledAt"] = study["updatedAt"] if study["isCancelled"] else None

    def _success(self, request: Any, done: str) -> bytes:
        body = self._requests.selector(request)
        if body.get("studyId") is not None:
            subject = f"study {body['studyId']}"
        elif body.get("studyInstanceUid") is not None:
            subject = f"the study of studyInstanceUid {body['studyInstanceUid']}"
        else:
            subject = "the study (none was named)"
        message = f"avara-mock is stateless: {subject} is reported {done}, but nothing is stored."
        return orjson.dumps({"success": True, "message": message})


def _contains(text: str, part: str) -> bool:
    """Whether ``part`` is in ``text`` ignoring case, by either reading of "ignoring case"."""
    return part.lower() in text.lower() and part.casefold() in text.casefold()
