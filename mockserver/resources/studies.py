"""The studies resource: the rules of every viewer.studies call and the state behind them.

What a study looks like comes from the schemas (``resources/shape.py``), what each request
may hold from their field rules (``resources/requests.py``); this module adds the rules that
need the store or several fields, each named in a schema's ``x-stateful-rules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import InvalidRequest, NotFound
from mockserver.resources.requests import LIST_QUERY, StudyRequests
from mockserver.resources.shape import StudyShape
from mockserver.validation import violation
from mockserver.world.clock import Clock, later_than
from mockserver.world.cursors import CursorCodec, UnknownCursor
from mockserver.world.ids import IdSource
from mockserver.world.store import FieldPath, Filters, StudyStore
from mockserver.world.tokens import TokenBook

SELECTOR = "study-selector"
ASSIGNED = ("assignedTo", "userId")
VIEW_PATH = "/viewer/studies/"


class Studies(Protocol):
    """What the routes of viewer.studies call; the stateful service and the stateless one
    (mockserver/stateless.py) both are one. Each takes the parsed request (a JSON body, the
    query's decoded pairs, a path parameter) and returns the JSON answer's bytes, or raises an
    ApiError; none of them sees HTTP."""

    def create(self, request: Any, api_key: str) -> bytes:
        """POST /v1/viewer/studies (answered 201)."""
        ...

    def retrieve(self, study_id: str) -> bytes:
        """GET /v1/viewer/studies/{studyId}."""
        ...

    def retrieve_by_uid(self, uid: str) -> bytes:
        """GET /v1/viewer/studies/by-uid/{studyInstanceUid}."""
        ...

    def update(self, study_id: str, request: Any) -> bytes:
        """PATCH /v1/viewer/studies/{studyId}."""
        ...

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """GET /v1/viewer/studies: one page."""
        ...

    def cancel(self, request: Any) -> bytes:
        """POST /v1/viewer/studies/cancel."""
        ...

    def uncancel(self, request: Any) -> bytes:
        """POST /v1/viewer/studies/uncancel."""
        ...

    def reroute_url(self, request: Any, origin: str) -> bytes:
        """POST /v1/viewer/studies/reroute-url; ``origin`` (``http://host:port``) is where the
        mock is reached, so the URL answered opens on it."""
        ...

    def viewed(self, token: str) -> dict[str, Any] | None:
        """The study a reroute URL's token opens, while the token lives; else None."""
        ...

    def stored(self) -> Sequence[dict[str, Any]]:
        """Every stored study, oldest first (none in stateless mode)."""
        ...

    def reset(self) -> None:
        """As new: nothing stored, seeded ids and clock back at their start."""
        ...


class StudyService:
    """Owns the studies and every rule of the calls on them; HTTP handlers only call it."""

    def __init__(
        self,
        contract: Contract,
        store: StudyStore,
        clock: Clock,
        ids: IdSource,
        shape: StudyShape,
        tokens: TokenBook,
        cursors: CursorCodec,
        *,
        lenient: bool = False,
    ) -> None:
        self.store = store
        self._clock = clock
        self._ids = ids
        self._shape = shape
        self._tokens = tokens
        self._cursors = cursors
        self._requests = StudyRequests(contract, lenient=lenient)
        self._filters = filters_of(contract)
        self._rules = {
            **contract.stateful_rules(SELECTOR),
            **contract.stateful_rules(LIST_QUERY),
        }
        self._key_references: dict[str, bytes] = {}

    def create(self, request: Any, api_key: str) -> bytes:
        """Validate a create request and store the new study; returns its JSON."""
        valid = self._requests.create(request)
        study = self._shape.new(valid, self._ids.study_id(), self._clock.now())
        return self.store.add(study, self._key_json(api_key))

    def retrieve(self, study_id: str) -> bytes:
        """A study by id; 404 names the id."""
        body = self.store.get_json(self._requests.study_id(study_id))
        if body is None:
            raise _no_study("studyId", study_id)
        return body

    def retrieve_by_uid(self, uid: str) -> bytes:
        """A study by Study Instance UID; 404 names the UID."""
        found = self.store.id_of_uid(self._requests.uid(uid))
        if found is None:
            raise _no_study("studyInstanceUid", uid)
        return self.retrieve(found)

    def update(self, study_id: str, request: Any) -> bytes:
        """Apply the fields sent; a change moves ``updatedAt``, an update of nothing does not."""
        self._requests.study_id(study_id)
        update = self._requests.update(request)
        study = self.store.get(study_id)
        if study is None:
            raise _no_study("studyId", study_id)
        changes = self._shape.changes(study, update)
        if not changes:
            return self.retrieve(study_id)
        study.update(changes)
        study["updatedAt"] = later_than(study.get("updatedAt"), self._clock.now())
        return self.store.replace(study)

    def list(self, query: Sequence[tuple[str, str]]) -> bytes:
        """One page, newest first, after the cursor's position."""
        params = self._requests.list_query(query)
        limit = int(params.get("limit", self._requests.default_limit))
        after = self._position(params["cursor"]) if "cursor" in params else None
        equal = {path: params[name] for name, path in self._filters.items() if name in params}
        page = self.store.page(Filters(equal, params.get("studyDescription")), after, limit)
        cursor = None if page.next_after is None else self._cursors.encode(page.next_after)
        tail = orjson.dumps({"cursor": cursor, "hasMore": cursor is not None})
        return b'{"studies":[' + b",".join(page.studies) + b"]," + tail[1:]

    def cancel(self, request: Any) -> bytes:
        """Mark the named study cancelled; cancelling it again changes nothing."""
        study = self._named(request)
        if study["isCancelled"]:
            return _done(f"Study {study['studyId']} was already cancelled; nothing changed.")
        now = later_than(study.get("updatedAt"), self._clock.now())
        study.update(isCancelled=True, cancelledAt=now, updatedAt=now)
        self.store.replace(study)
        return _done()

    def uncancel(self, request: Any) -> bytes:
        """Undo a cancel; uncancelling a study that is not cancelled changes nothing."""
        study = self._named(request)
        if not study["isCancelled"]:
            return _done(f"Study {study['studyId']} is not cancelled; nothing changed.")
        now = later_than(study.get("updatedAt"), self._clock.now())
        study.update(isCancelled=False, cancelledAt=None, updatedAt=now)
        self.store.replace(study)
        return _done()

    def reroute_url(self, request: Any, origin: str) -> bytes:
        """A URL on this mock that opens the study for the token's lifetime."""
        study = self._named(request)
        token = self._tokens.issue(study["studyId"])
        return orjson.dumps({"url": f"{origin}{VIEW_PATH}{token}"})

    def viewed(self, token: str) -> dict[str, Any] | None:
        study_id = self._tokens.subject(token)
        body = None if study_id is None else self.store.get_json(study_id)
        return None if body is None else orjson.loads(body)

    def stored(self) -> Sequence[dict[str, Any]]:
        return list(self.store.studies())

    def refresh_user(self, user_id: str) -> None:
        """Show a user's current names in every study assigned to them (the clinic changed
        them); the studies themselves did not change, so their ``updatedAt`` stays."""
        reference = self._shape.user(user_id)
        for study_id in self.store.ids_with(ASSIGNED, user_id):
            study = self.store.get(study_id)
            if study is not None and study.get("assignedTo") != reference:
                study["assignedTo"] = reference
                self.store.replace(study)

    def reset(self) -> None:
        """As new: no studies, and seeded ids, clock and tokens back at their start."""
        self.store.clear()
        self._ids.reset()
        self._clock.reset()
        self._tokens.reset()

    def _named(self, request: Any) -> dict[str, Any]:
        """The study a cancel / uncancel / reroute-url body names, by id, UID or both."""
        selector = self._requests.selector(request)
        study_id, uid = selector.get("studyId"), selector.get("studyInstanceUid")
        if study_id is None and uid is None:
            raise self._refused("", "selector.names-study", "body")
        if uid is not None:
            by_uid = self.store.id_of_uid(uid)
            if by_uid is None:
                raise _no_study("studyInstanceUid", uid)
            if study_id is not None and study_id != by_uid:
                detail = f"studyInstanceUid {uid!r} is the UID of {by_uid}, not of {study_id}"
                raise self._refused("studyInstanceUid", "selector.same-study", "body", detail)
            study_id = by_uid
        study = self.store.get(str(study_id))
        if study is None:
            raise _no_study("studyId", str(study_id))
        return study

    def _position(self, cursor: str) -> str:
        try:
            return self._cursors.decode(cursor)
        except UnknownCursor:
            raise self._refused("cursor", "cursor.unknown", "query") from None

    def _refused(
        self, field: str, rule_id: str, location: Any, detail: str | None = None
    ) -> InvalidRequest:
        rule: Rule = self._rules[rule_id]
        return InvalidRequest.from_violations([violation(field, rule, detail, location)])

    def _key_json(self, api_key: str) -> bytes:
        """The JSON of a key's reference, made once per key and shared by its studies."""
        reference = self._key_references.get(api_key)
        if reference is None:
            reference = orjson.dumps(self._shape.api_key(api_key))
            self._key_references[api_key] = reference
        return reference


def filters_of(contract: Contract) -> dict[str, FieldPath]:
    """Query parameter -> the Study field it filters by equality (``x-filter``)."""
    return {
        name: tuple(spec["field"])
        for name, spec in contract.annotated(LIST_QUERY, "x-filter").items()
        if spec["match"] == "equals"
    }


def _no_study(field: str, value: str) -> NotFound:
    return NotFound(
        f"No study has {field} {value!r}; create it first, or check the {field} "
        "(ids are listed by GET /v1/viewer/studies)."
    )


def _done(message: str | None = None) -> bytes:
    answer: dict[str, Any] = {"success": True}
    if message is not None:
        answer["message"] = message
    return orjson.dumps(answer)
