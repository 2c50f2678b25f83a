"""Stateful defects of the catalog made by mechanism (b): the mock with one method of one of its
service objects (``app.state.services``: the studies service and its store) shadowed, on that
instance only, by a wrapper around the original.

Each wrapper lets the mock validate the request as it does (so a refusal stays a refusal) and
then does one thing wrong with the state; answers keep their shape (tests/catalog_stateful.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from starlette.types import ASGIApp

from mockserver import create_app
from mockserver.contract import Contract
from mockserver.errors import InvalidRequest, NotFound
from mockserver.resources.studies import StudyService
from mockserver.services import Services
from mockserver.world.clock import later_than
from mockserver.world.store import Filters

Build = Callable[[], ASGIApp]
Json = Any


@cache
def _contract() -> Contract:
    return Contract.load()


def patched(change: Callable[[Services], None]) -> Build:
    """A builder of the mock whose services ``change`` patched."""

    def build() -> ASGIApp:
        app = create_app()
        change(app.state.services)
        return app

    return build


def shadow(obj: object, name: str, method: Callable[..., Any]) -> None:
    """``obj.name`` is ``method`` on this instance only; the class stays as it is."""
    vars(obj)[name] = method


def on_studies(change: Callable[[StudyService], None]) -> Build:
    """A builder of the mock whose studies service ``change`` patched."""

    def studies(services: Services) -> None:
        if not isinstance(services.studies, StudyService):
            raise TypeError("the catalog patches the stateful studies service")
        change(services.studies)

    return patched(studies)


def now_after(service: StudyService, study: dict[str, Json]) -> str:
    """The time of a change to ``study``: the clock, strictly after its ``updatedAt``."""
    return later_than(study.get("updatedAt"), service._clock.now())


def stored(service: StudyService, study_id: Any) -> dict[str, Json] | None:
    return service.store.get(study_id) if isinstance(study_id, str) else None


def newest(service: StudyService) -> str | None:
    """The id of the newest stored study (None when there is none)."""
    page = service.store.page(Filters(), None, 1)
    return json.loads(page.studies[0])["studyId"] if page.studies else None


# --- reads ------------------------------------------------------------------------------------


def by_uid_answers_first_study(service: StudyService) -> None:
    """retrieve_by_uid of any stored UID answers the first study ever created."""
    original = service.retrieve_by_uid

    def retrieve_by_uid(uid: str) -> bytes:
        original(uid)
        first = next(iter(service.store.studies()))
        return service.retrieve(first["studyId"])

    shadow(service, "retrieve_by_uid", retrieve_by_uid)


# --- writes -----------------------------------------------------------------------------------


def update_drops(field_name: str, only: Callable[[Json], bool] = lambda value: True) -> Build:
    """An update that validates its body, then forgets ``field_name`` when ``only`` its value."""

    def change(service: StudyService) -> None:
        original = service.update

        def update(study_id: str, request: Any) -> bytes:
            service._requests.update(request)
            if field_name in request and only(request[field_name]):
                request = {k: v for k, v in request.items() if k != field_name}
            return original(study_id, request)

        shadow(service, "update", update)

    return on_studies(change)


def merges_metadata(service: StudyService) -> None:
    """An update's metadata object is merged into the stored map instead of replacing it (a
    merge that changes nothing is a no-op, as a merging server would see it)."""
    original = service.update

    def update(study_id: str, request: Any) -> bytes:
        sent = service._requests.update(request).get("metadata")
        old = stored(service, study_id)
        if old is None or not isinstance(sent, dict) or not isinstance(old.get("metadata"), dict):
            return original(study_id, request)
        answer = original(study_id, {k: v for k, v in request.items() if k != "metadata"})
        study = stored(service, study_id)
        merged = {**old["metadata"], **sent}
        if study is None or study["metadata"] == merged:
            return answer
        if study["updatedAt"] == old["updatedAt"]:
            study["updatedAt"] = now_after(service, study)
        study["metadata"] = merged
        return service.store.replace(study)

    shadow(service, "update", update)


def touches_absent_severity(service: StudyService) -> None:
    """An update that changes something also turns a severity it was not sent to the next one."""
    original = service.update
    order = _contract().rule_value("common", "severity.enum")

    def update(study_id: str, request: Any) -> bytes:
        valid = service._requests.update(request)
        study = stored(service, study_id)
        if study is not None and "severity" not in valid and service._shape.changes(study, valid):
            severity = order[(order.index(study["severity"]) + 1) % len(order)]
            request = {**request, "severity": severity}
        return original(study_id, request)

    shadow(service, "update", update)


# --- refusals ---------------------------------------------------------------------------------


def refused_update_moves_updated_at(service: StudyService) -> None:
    """An update refused for its body (400) still moves the stored study's ``updatedAt``."""
    original = service.update

    def update(study_id: str, request: Any) -> bytes:
        try:
            return original(study_id, request)
        except InvalidRequest:
            study = stored(service, study_id)
            if study is not None:
                study["updatedAt"] = now_after(service, study)
                service.store.replace(study)
            raise

    shadow(service, "update", update)


def refused_cancel_cancels(service: StudyService) -> None:
    """A cancel refused for its body (400) still cancels the study its ``studyId`` names."""
    original = service.cancel

    def cancel(request: Any) -> bytes:
        try:
            return original(request)
        except InvalidRequest:
            study = stored(service, request.get("studyId") if isinstance(request, dict) else None)
            if study is not None and not study["isCancelled"]:
                now = now_after(service, study)
                study.update(isCancelled=True, cancelledAt=now, updatedAt=now)
                service.store.replace(study)
            raise

    shadow(service, "cancel", cancel)


# --- updatedAt --------------------------------------------------------------------------------


def after_update(
    change: Callable[[StudyService, dict[str, Json], dict[str, Json]], None],
    *,
    when_changed: bool,
) -> Callable[[StudyService], None]:
    """An update that answers as ``change`` leaves the study (given it as before and after)
    when the update changed it (``when_changed``) or when it changed nothing."""

    def install(service: StudyService) -> None:
        original = service.update

        def update(study_id: str, request: Any) -> bytes:
            old = stored(service, study_id)
            answer = original(study_id, request)
            study = stored(service, study_id)
            if old is None or study is None or (study != old) != when_changed:
                return answer
            change(service, old, study)
            return service.store.replace(study)

        shadow(service, "update", update)

    install.__doc__ = change.__doc__
    return install


def _keeps_updated_at(service: StudyService, old: dict[str, Json], study: dict[str, Json]) -> None:
    """An update that changes the study leaves its ``updatedAt`` as it was."""
    study["updatedAt"] = old["updatedAt"]


def _moves_updated_at(service: StudyService, old: dict[str, Json], study: dict[str, Json]) -> None:
    """An update that changes nothing still moves ``updatedAt``."""
    study["updatedAt"] = now_after(service, study)


update_keeps_updated_at = after_update(_keeps_updated_at, when_changed=True)
noop_update_moves_updated_at = after_update(_moves_updated_at, when_changed=False)


# --- identity ---------------------------------------------------------------------------------


def _moves_created_at(service: StudyService, old: dict[str, Json], study: dict[str, Json]) -> None:
    """An update that changes the study also sets its ``createdAt`` to the time of the change."""
    study["createdAt"] = study["updatedAt"]


update_moves_created_at = after_update(_moves_created_at, when_changed=True)


# --- cancel and uncancel ----------------------------------------------------------------------


def after_selector(
    name: str, change: Callable[[StudyService, dict[str, Json], dict[str, Json]], None]
) -> Build:
    """Cancel or uncancel (``name``) as the mock does it, then ``change(service, before, now)``
    on the study it named (stored again when changed)."""

    def patch(service: StudyService) -> None:
        original = getattr(service, name)

        def call(request: Any) -> bytes:
            before = service._named(request)
            answer: bytes = original(request)
            study = stored(service, before["studyId"])
            if study is not None:
                again = dict(study)
                change(service, before, again)
                if again != study:
                    service.store.replace(again)
            return answer

        shadow(service, name, call)

    return on_studies(patch)


def forgets_cancelled_at(service: StudyService, before: Json, study: Json) -> None:
    study["cancelledAt"] = None


def keeps_cancelled_at(service: StudyService, before: Json, study: Json) -> None:
    study["cancelledAt"] = before["cancelledAt"]


def cancelled_at_created_at(service: StudyService, before: Json, study: Json) -> None:
    if study["isCancelled"] and not before["isCancelled"]:
        study["cancelledAt"] = study["createdAt"]


def cancels_again(service: StudyService, before: Json, study: Json) -> None:
    """Cancelling a cancelled study sets its cancelledAt again (its updatedAt stays)."""
    if before["isCancelled"]:
        study["cancelledAt"] = now_after(service, study)


def touches_again(service: StudyService, before: Json, study: Json) -> None:
    """Cancelling a cancelled study, or uncancelling one that is not, moves its updatedAt."""
    if before["isCancelled"] == study["isCancelled"]:
        study["updatedAt"] = now_after(service, study)


def stays_cancelled(service: StudyService, before: Json, study: Json) -> None:
    """Uncancel moves updatedAt, but leaves the study cancelled."""
    study.update({k: before[k] for k in ("isCancelled", "cancelledAt")})


def answers(change: Callable[[StudyService, dict[str, Json], bytes], bytes], name: str) -> Build:
    """Cancel or uncancel (``name``) acts as the mock's does, then answers what ``change``
    makes of its answer, given the study as it was before the call."""

    def patch(service: StudyService) -> None:
        original = getattr(service, name)

        def call(request: Any) -> bytes:
            before = service._named(request)
            answer: bytes = original(request)
            return change(service, before, answer)

        shadow(service, name, call)

    return on_studies(patch)


def no_message_when_cancelled(service: StudyService, before: Json, answer: bytes) -> bytes:
    """A cancel of a cancelled study answers success without saying it changed nothing."""
    return b'{"success":true}' if before["isCancelled"] else answer


def success_false(service: StudyService, before: Json, answer: bytes) -> bytes:
    """A cancel that cancels answers success: false."""
    return answer if before["isCancelled"] else b'{"success":false}'


# --- what nobody created -----------------------------------------------------------------------


def answers_newest_when_missing(name: str) -> Build:
    """retrieve or retrieve_by_uid (``name``) of what nobody created answers the newest study."""

    def patch(service: StudyService) -> None:
        original = getattr(service, name)

        def call(key: str) -> bytes:
            try:
                answer: bytes = original(key)
            except NotFound:
                found = newest(service)
                if found is None:
                    raise
                return service.retrieve(found)
            return answer

        shadow(service, name, call)

    return on_studies(patch)


def update_missing_answers_newest(service: StudyService) -> None:
    """An update of an id nobody created answers 200: the newest study, unchanged."""
    original = service.update

    def update(study_id: str, request: Any) -> bytes:
        try:
            return original(study_id, request)
        except NotFound:
            found = newest(service)
            if found is None:
                raise
            return service.retrieve(found)

    shadow(service, "update", update)


def succeeds_when_missing(name: str) -> Build:
    """Cancel or uncancel (``name``) of a study nobody created answers success."""

    def patch(service: StudyService) -> None:
        original = getattr(service, name)

        def call(request: Any) -> bytes:
            try:
                answer: bytes = original(request)
            except NotFound:
                return b'{"success":true}'
            return answer

        shadow(service, name, call)

    return on_studies(patch)


# --- UIDs and ids -----------------------------------------------------------------------------


def accepts_taken_uid(service: StudyService) -> None:
    """A create with a UID in use makes a second study with it (the UID still finds the first)."""
    store = service.store
    original = store.add
    uids: dict[str, str] = vars(store)["_id_of_uid"]

    def add(study: dict[str, Json], reference: bytes) -> bytes:
        first = uids.pop(study["studyInstanceUid"], None)
        answer = original(study, reference)
        if first is not None:
            uids[study["studyInstanceUid"]] = first
        return answer

    shadow(store, "add", add)


def refused_create_overwrites(service: StudyService) -> None:
    """A create refused for its taken UID (409) still writes its fields over the first study's."""
    store = service.store
    original = store.add

    def add(study: dict[str, Json], reference: bytes) -> bytes:
        first_id = store.id_of_uid(study["studyInstanceUid"])
        first = None if first_id is None else store.get(first_id)
        if first is not None:
            fields = ("severity", "studyDescription", "metadata", "assignedTo", "expressCustomer")
            changed = {**first, **{k: study[k] for k in fields}}
            if changed != first:
                changed["updatedAt"] = now_after(service, first)
                store.replace(changed)
        return original(study, reference)

    shadow(store, "add", add)


def reuses_ids(service: StudyService) -> None:
    """Every second create gives the new study the id of the study created before it."""
    ids = service._ids
    original = ids.study_id
    made: list[str] = []

    def study_id() -> str:
        made.append(made[-1] if len(made) % 2 == 1 else original())
        return made[-1]

    shadow(ids, "study_id", study_id)
