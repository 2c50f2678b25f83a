"""The studies part of the machine: one rule per viewer.studies operation with valid inputs,
rules that send a well-formed id or UID nobody created, a UID in use, and one-rule-invalid
requests, and the walk over pages with writes between them.

Every study a sequence makes has the sequence's token in its description, and every list
filters by it (``studyDescription`` is a contains-match, stated), so a server holding other
studies never breaks an expectation. The clinic's users, listed once per sequence, are the
users studies are assigned to, so a server that knows only real users accepts them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    initialize,
    multiple,
    precondition,
    rule,
)

from contract_tests.stateful.machine import MachineBase, World
from contract_tests.stateful.observations import (
    ActionSeen,
    ListSeen,
    MissingSeen,
    PageSeen,
    RefusalSeen,
    StudySeen,
    UidTakenSeen,
    WalkSeen,
)
from contract_tests.stateful.studies.draws import StudyDraws
from contract_tests.stateful.studies.model import KnownStudy, StudiesModel, StudyRules, at_path
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Probe
from mockserver.validation import DocumentValidator

STUDIES = "viewer.studies"
SELECTOR = "study-selector"
USERS_LIST = "viewer.users.list"
Selector = Literal["id", "uid", "both"]
LISTED = 2
WALK_LIMIT = 5
"""Pages of a walk hold at most this many studies (and fewer than its matches)."""
"""Studies a sequence makes before it lists them (an order needs two)."""
PAGES_BEYOND = 3
"""Pages a walk may read beyond what the model's matches need before it is cut off."""


def _by_id(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A study read as {studyId: study} (None: it could not be read)."""
    return None if document is None else {str(document.get("studyId")): document}


def _document(answer: Answer | None) -> dict[str, Any] | None:
    """The JSON object of a 2xx answer, else None."""
    if answer is None or not 200 <= answer.status < 300 or not isinstance(answer.document, dict):
        return None
    return answer.document


class StudiesPart(MachineBase):
    """Rules and model of viewer.studies."""

    studies = Bundle("studies")

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.study_rules = StudyRules.of(world.contract)
        self.studies_model = StudiesModel(self.study_rules)
        self.draws = world.cached("study-draws", lambda: StudyDraws(world.contract))
        self.selector_rules = world.cached(
            "selector-validator", lambda: DocumentValidator(world.contract, SELECTOR)
        )
        self.users: list[str] = []
        self.customers: list[str] = []

    # --- setup ---------------------------------------------------------------------------

    @initialize(customers=st.data())
    def begin_studies(self, customers: st.DataObject) -> None:
        """The clinic's users (studies are assigned to them) and a few customer ids."""
        self.customers = customers.draw(self.draws.customers())
        answer = self.call(Call(USERS_LIST), script=False)
        document = _document(answer) or {}
        listed = document.get("users")
        if isinstance(listed, list):
            self.users = [u["userId"] for u in listed if isinstance(u, dict) and "userId" in u][:4]

    # --- valid calls ---------------------------------------------------------------------

    @rule(target=studies, data=st.data())
    def create(self, data: st.DataObject) -> str | MultipleResults[str]:
        """Create a study with the token in its description."""
        made = self._create(data)
        return multiple() if made is None else made

    def _create(self, data: st.DataObject) -> str | None:
        body: dict[str, Any] = {
            "severity": data.draw(self.draws.severity()),
            "studyDescription": data.draw(self.draws.description(self.token)),
            "studyInstanceUid": self.draws.fresh_uid(self.fresh),
        }
        if bool(self.users) and data.draw(st.booleans()):
            body["assignedTo"] = data.draw(st.sampled_from(self.users))
        if data.draw(st.booleans()):
            body["expressCustomerId"] = data.draw(st.sampled_from(self.customers))
        if data.draw(st.booleans()):
            body["metadata"] = data.draw(self.draws.metadata())
        answer = self.call(Call(f"{STUDIES}.create", body=body))
        document = _document(answer)
        model = self.studies_model
        taken = document is not None and document.get("studyId") in self.world.study_ids
        self.judge(
            StudySeen(
                (self.last,),
                "create",
                document,
                tuple(model.create_expectations(body)),
                self.study_rules.timestamps,
                "create.accepts-valid",
                "inferred" if "expressCustomerId" in body else None,
                id_taken=taken,
            )
        )
        if document is None or not isinstance(document.get("studyId"), str):
            return None
        self.world.study_ids.add(document["studyId"])
        return model.add(document, body["studyInstanceUid"]).study_id

    @rule(study=studies)
    def retrieve(self, study: str) -> None:
        """Read a study by id: exactly as last answered."""
        self._read(study, by_uid=False)

    @rule(study=studies)
    def retrieve_by_uid(self, study: str) -> None:
        """Read a study by its UID: exactly as last answered."""
        known = self.studies_model.known(study)
        if known is not None and not known.uid_shared:
            self._read(study, by_uid=True)

    def _read(self, study_id: str, *, by_uid: bool, after: Any = None) -> None:
        model = self.studies_model
        known = model.known(study_id)
        if known is None:
            return
        if by_uid:
            call = Call(f"{STUDIES}.retrieve_by_uid", {"studyInstanceUid": known.uid})
        else:
            call = Call(f"{STUDIES}.retrieve", {"studyId": study_id})
        answer = self.call(call)
        document = _document(answer)
        expects = model.read_expectations(known) if after is None else model.after_transition(after)
        self.judge(
            StudySeen(
                (self.last,),
                "read",
                document,
                tuple(expects),
                self.study_rules.timestamps,
                "study.read-your-writes",
            )
        )
        if document is not None:
            model.adopt(known, document)

    @rule(study=studies, data=st.data())
    def update(self, study: str, data: st.DataObject) -> None:
        """Update some fields (maybe none, maybe to null) of a study."""
        self._update(study, data)

    def _update(self, study_id: str, data: st.DataObject) -> None:
        model = self.studies_model
        known = model.known(study_id)
        if known is None:
            return
        body = self._near(known, data) if data.draw(st.integers(0, 3)) == 0 else None
        if body is None:
            body = self._fresh_update(data)
        answer = self.call(Call(f"{STUDIES}.update", {"studyId": study_id}, body=body))
        document = _document(answer)
        expects = model.update_expectations(known, body)
        if document is not None:
            moved = model.updated_expectation(known, document)
            expects += [moved] if moved is not None else []
        self.judge(
            StudySeen(
                (self.last,),
                "update",
                document,
                tuple(expects),
                self.study_rules.timestamps,
                "update.applies",
            )
        )
        if document is not None:
            model.adopt(known, document)

    def _fresh_update(self, data: st.DataObject) -> dict[str, Any]:
        """Some update fields (maybe none) with drawn values, null among them."""
        makers: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
            "severity": self.draws.severity,
            "studyViewerStatus": self.draws.status,
            "studyDescription": lambda: self.draws.description(self.token),
            "metadata": lambda: st.none() | self.draws.metadata(),
            "assignedTo": lambda: st.sampled_from([None, *self.users]),
        }
        body: dict[str, Any] = {}
        for name in self.study_rules.update_fields:
            make = makers.get(name)
            if make is not None and data.draw(st.booleans()):
                body[name] = data.draw(make())
        return body

    def _near(self, known: KnownStudy, data: st.DataObject) -> dict[str, Any] | None:
        """An update near the study as shown: nothing, a field set to the value it has, a
        metadata map with other keys than it has, or a null for an assigned user."""
        shown = known.shown
        options: list[dict[str, Any]] = [{}]
        for name in ("severity", "studyViewerStatus", "studyDescription"):
            if name in self.study_rules.update_fields and name in shown:
                options.append({name: shown[name]})
        metadata = shown.get("metadata")
        if isinstance(metadata, dict) and metadata:
            options.append({"metadata": {"other" + "".join(sorted(metadata))[:20]: "v"}})
        if at_path(shown, ("assignedTo", "userId")) is not None:
            options.append({"assignedTo": None})
        chosen: dict[str, Any] = data.draw(st.sampled_from(options))
        return chosen

    @rule(study=studies, data=st.data())
    def cancel(self, study: str, data: st.DataObject) -> None:
        """Cancel a study (maybe again), then read it back."""
        self._transition(study, "cancel", data)

    @rule(study=studies, data=st.data())
    def uncancel(self, study: str, data: st.DataObject) -> None:
        """Uncancel a study (maybe one that is not cancelled), then read it back."""
        self._transition(study, "uncancel", data)

    def _transition(
        self, study_id: str, kind: Literal["cancel", "uncancel"], data: st.DataObject
    ) -> None:
        model = self.studies_model
        known = model.known(study_id)
        if known is None:
            return
        how = self._selector_kind(known.uid_shared, data)
        change = model.transition(known, kind)
        self.call(Call(f"{STUDIES}.{kind}", body=self._selector(study_id, how)))
        main = "cancel.sets-cancelled" if kind == "cancel" else "uncancel.clears-cancelled"
        idempotent = "" if change.effective else f"{kind}.idempotent"
        seen = ActionSeen((self.last,), f"{STUDIES}.{kind}", self._refusal(how, main), idempotent)
        self.judge(seen)
        if seen.status is not None and 200 <= seen.status < 300:
            self._read(study_id, by_uid=False, after=change)

    @rule(study=studies, data=st.data())
    def reroute_url(self, study: str, data: st.DataObject) -> None:
        """Ask for a study's reroute URL."""
        known = self.studies_model.known(study)
        if known is None:
            return
        how = self._selector_kind(known.uid_shared, data)
        self.call(Call(f"{STUDIES}.reroute_url", body=self._selector(study, how)))
        refused = self._refusal(how, "reroute.names-study")
        self.judge(ActionSeen((self.last,), f"{STUDIES}.reroute_url", refused))

    def _selector_kind(self, uid_shared: bool, data: st.DataObject) -> Selector:
        kinds: list[Selector] = ["id"] if uid_shared else ["id", "uid", "both"]
        return data.draw(st.sampled_from(kinds))

    def _selector(self, study_id: str, how: Selector) -> dict[str, str]:
        known = self.studies_model.known(study_id)
        uid = known.uid if known is not None else ""
        if how == "id":
            return {"studyId": study_id}
        if how == "uid":
            return {"studyInstanceUid": uid}
        return {"studyId": study_id, "studyInstanceUid": uid}

    def _refusal(self, how: Selector, main: str) -> str:
        """The rule a refusal of a valid selector breaks: the call's own for a studyId, the
        selector's for a UID (that each alone names the study)."""
        return main if how == "id" else "selector.names-either"

    # --- lists ---------------------------------------------------------------------------

    def _filters(self, data: st.DataObject, most: int = 2) -> tuple[dict[str, Any], bool]:
        """Filters scoped by the token, plus up to ``most`` of the others; whether the
        description filter is written in another case than the descriptions."""
        choices: dict[str, st.SearchStrategy[Any]] = {
            "severity": self.draws.severity(),
            "studyViewerStatus": self.draws.status(),
            "isCancelled": st.booleans(),
            "assignedTo": st.sampled_from([None, *self.users]),
            "expressCustomerId": st.sampled_from([None, *self.customers]),
        }
        names = [name for name in self.study_rules.filters if name in choices]
        chosen = data.draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
        filters: dict[str, Any] = {name: data.draw(choices[name]) for name in chosen}
        descriptions = [
            str(s.shown.get("studyDescription", "")) for s in self.studies_model.studies.values()
        ]
        text = self.token
        longer = [d for d in descriptions if d.startswith(self.token) and len(d) > len(self.token)]
        if bool(longer) and data.draw(st.booleans()):
            picked = data.draw(st.sampled_from(longer))
            text = picked[: data.draw(st.integers(len(self.token) + 1, len(picked)))]
        changed = data.draw(st.booleans())
        filters["studyDescription"] = text.upper() if changed else text
        return filters, changed

    @precondition(lambda self: len(self.studies_model.studies) >= LISTED)
    @rule(data=st.data())
    def list(self, data: st.DataObject) -> None:
        """List with filters (one page holds every match): exactly the model's matches."""
        model = self.studies_model
        filters, changed = self._filters(data)
        limit = self.draws.limit_max
        query = (*model.query(filters), ("limit", str(limit)))
        answer = self.call(Call(f"{STUDIES}.list", query=query))
        document = _document(answer)
        listed = document.get("studies") if document is not None else None
        items = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
        foreign = tuple(
            str(s.get("studyId"))
            for s in items
            if model.known(str(s.get("studyId"))) is None and not model.holds(s, filters)
        )
        known_ids = tuple(
            str(s.get("studyId")) for s in items if model.known(str(s.get("studyId")))
        )
        expected = tuple(s.study_id for s in model.matches(filters))[:limit]
        differ = (set(expected) ^ set(known_ids)) | set(foreign)
        rules = {i: model.difference_rule(self._shown(i, items), filters, changed) for i in differ}
        self.judge(ListSeen((self.last,), expected, known_ids + foreign, rules, foreign))
        for item in items:
            known = model.known(str(item.get("studyId")))
            if known is None:
                continue
            seen = StudySeen(
                (self.last,),
                "read",
                item,
                tuple(model.read_expectations(known)),
                self.study_rules.timestamps,
                "study.read-your-writes",
            )
            self.judge(seen)
            model.adopt(known, item)

    def _shown(self, study_id: str, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """A study as the model knows it, else as the list showed it."""
        known = self.studies_model.known(study_id)
        if known is not None:
            return known.shown
        return next((s for s in items if str(s.get("studyId")) == study_id), {})

    @precondition(lambda self: len(self.studies_model.studies) >= LISTED)
    @rule(target=studies, data=st.data())
    def walk(self, data: st.DataObject) -> MultipleResults[str]:
        """Walk every page of a filtered list, with writes between the pages."""
        model = self.studies_model
        filters, _ = self._filters(data, most=data.draw(st.sampled_from([0, 0, 1])))
        must = {s.study_id for s in model.matches(filters)}
        limit = data.draw(self.draws.limit(min(WALK_LIMIT, max(1, len(must) - 1))))
        pages: list[PageSeen] = []
        created: list[str] = []
        cursor: str | None = None
        writes = 0
        cut = ""
        while True:
            bound = len(model.matches(filters)) // limit + PAGES_BEYOND + writes
            if len(pages) >= bound:
                cut = f"still hasMore after {len(pages)} pages of {limit}"
                break
            query = (*model.query(filters), ("limit", str(limit)))
            query += (("cursor", cursor),) if cursor is not None else ()
            answer = self.call(Call(f"{STUDIES}.list", query=query))
            document = _document(answer)
            if document is None:
                status = "no answer" if answer is None else f"{answer.status}"
                cut = f"page {len(pages) + 1} answered {status}"
                break
            items = document.get("studies")
            items = [s for s in items if isinstance(s, dict)] if isinstance(items, list) else []
            ids = tuple(str(s.get("studyId")) for s in items if model.known(str(s.get("studyId"))))
            last = items[-1] if items else None
            follow = (
                None
                if last is not None and model.known(str(last.get("studyId"))) is None
                else model.follows(filters, last)
            )
            has_more, cursor = document.get("hasMore"), document.get("cursor")
            pages.append(PageSeen(self.last, ids, limit, has_more, cursor, follow))
            if has_more is False or (has_more is None and not cursor):
                break
            if not isinstance(cursor, str) or not cursor:
                cut = f"page {len(pages)} has hasMore {has_more!r} but cursor {cursor!r}"
                break
            if data.draw(st.integers(0, 3)) == 0:
                writes += 1
                made = self._write_between(data)
                created += [made] if made else []
                must &= {s.study_id for s in model.matches(filters)}
        self.judge(
            WalkSeen(
                tuple(p.exchange for p in pages) or (self.last,), tuple(pages), frozenset(must), cut
            )
        )
        return multiple(*created)

    def _write_between(self, data: st.DataObject) -> str | None:
        """A write during a walk: a new study, an update, a cancel or an uncancel."""
        ids = list(self.studies_model.studies)
        kind = data.draw(
            st.sampled_from(["create", "update", "cancel", "uncancel"] if ids else ["create"])
        )
        if kind == "create":
            return self._create(data)
        study = data.draw(st.sampled_from(ids))
        if kind == "update":
            self._update(study, data)
        else:
            self._transition(study, "cancel" if kind == "cancel" else "uncancel", data)
        return None

    # --- what nobody made, what is taken, what is invalid -------------------------------

    @precondition(lambda self: bool(self.studies_model.studies))
    @rule(data=st.data())
    def missing(self, data: st.DataObject) -> None:
        """A call naming a well-formed studyId or UID that no study has: 404."""
        study_id = data.draw(self.draws.unknown_id())
        if self.studies_model.known(study_id) is not None:
            return
        uid = self.draws.fresh_uid(self.fresh)
        choices: dict[str, tuple[Call, str, str]] = {
            "retrieve": (
                Call(f"{STUDIES}.retrieve", {"studyId": study_id}),
                "study.not-found",
                study_id,
            ),
            "retrieve_by_uid": (
                Call(f"{STUDIES}.retrieve_by_uid", {"studyInstanceUid": uid}),
                "study.not-found",
                uid,
            ),
            "update": (
                Call(
                    f"{STUDIES}.update",
                    {"studyId": study_id},
                    body={"severity": data.draw(self.draws.severity())},
                ),
                "update.not-found",
                study_id,
            ),
        }
        for operation in ("cancel", "uncancel", "reroute_url"):
            by_uid = data.draw(st.booleans())
            body = {"studyInstanceUid": uid} if by_uid else {"studyId": study_id}
            named = uid if by_uid else study_id
            choices[operation] = (
                Call(f"{STUDIES}.{operation}", body=body),
                "selector.not-found",
                named,
            )
        call, rule_id, named = choices[data.draw(st.sampled_from(sorted(choices)))]
        self.call(call)
        self.judge(MissingSeen((self.last,), rule_id, named))

    @rule(target=studies, study=studies, data=st.data())
    def create_uid_taken(self, study: str, data: st.DataObject) -> str | MultipleResults[str]:
        """A second create with a stored study's UID: refused, the first study unchanged."""
        model = self.studies_model
        known = model.known(study)
        if known is None:
            return multiple()
        read = Call(f"{STUDIES}.retrieve", {"studyId": study})
        before = _document(self.call(read, script=False))
        body = {
            "severity": data.draw(self.draws.severity()),
            "studyDescription": data.draw(self.draws.description(self.token)),
            "studyInstanceUid": known.uid,
        }
        answer = self.call(Call(f"{STUDIES}.create", body=body))
        second = self.last
        after = _document(self.call(read))
        seen = UidTakenSeen((second,), known.uid, before, after, self.study_rules.timestamps)
        self.judge(seen)
        document = _document(answer)
        if document is None or not isinstance(document.get("studyId"), str):
            return multiple()
        self.world.study_ids.add(document["studyId"])
        return model.add(document, known.uid).study_id

    @precondition(lambda self: bool(self.studies_model.studies))
    @rule(data=st.data())
    def invalid_create(self, data: st.DataObject) -> None:
        """A create that breaks one rule: refused, and no study appears."""
        fields = ("severity", "metadata")
        wrong = data.draw(self.draws.invalid(fields, "study-create-request"))
        body: dict[str, Any] = {
            "severity": data.draw(self.draws.severity()),
            "studyDescription": data.draw(self.draws.description(self.token)),
            "studyInstanceUid": self.draws.fresh_uid(self.fresh),
            wrong.field: wrong.value,
        }
        probe = Probe("invalid", body, "stateful invalid", wrong.tag, wrong.rule, wrong.field)
        listing = self._scoped_list()
        before = self._listed(self.call(listing, script=False))
        answer = self.call(Call(f"{STUDIES}.create", body=body), probe)
        refused = self.last
        after = self._listed(self.call(listing))
        reads = {"the token's list": (before, after)}
        self.judge(RefusalSeen((self.last,), refused, reads, self.study_rules.timestamps))
        document = _document(answer)
        if document is not None and isinstance(document.get("studyId"), str):
            self.studies_model.add(document, body["studyInstanceUid"])

    @rule(study=studies, data=st.data())
    def invalid_update(self, study: str, data: st.DataObject) -> None:
        """An update that breaks one rule: refused, and the study is as before."""
        model = self.studies_model
        known = model.known(study)
        if known is None:
            return
        drawn = data.draw(self.draws.invalid_update())
        body = drawn.call.body if drawn.call is not None else drawn.body
        path = {"studyId": study}
        if drawn.location == "path" and drawn.call is not None:
            path = dict(drawn.call.path)  # the rule broken is the id's: it names no study
        probe = replace(drawn, name="stateful invalid")
        read = Call(f"{STUDIES}.retrieve", {"studyId": study})
        before = _document(self.call(read, script=False))
        answer = self.call(Call(f"{STUDIES}.update", path, body=body), probe)
        refused = self.last
        after = _document(self.call(read))
        reads = {f"retrieve {study}": (_by_id(before), _by_id(after))}
        self.judge(RefusalSeen((self.last,), refused, reads, self.study_rules.timestamps))
        document = _document(answer)
        if document is not None and path["studyId"] == study:
            model.adopt(known, document)

    @rule(study=studies, other=studies, data=st.data())
    def refused_selector(self, study: str, other: str, data: st.DataObject) -> None:
        """A cancel, uncancel or reroute-url that names a stored study by studyId and is still
        refused: the UID of another study with it, or a malformed UID. The studies named
        are as before."""
        model = self.studies_model
        known, second = model.known(study), model.known(other)
        if known is None or second is None:
            return
        operation = data.draw(st.sampled_from(["cancel", "uncancel", "reroute_url"]))
        if other != study and not second.uid_shared:
            body = {"studyId": study, "studyInstanceUid": second.uid}
            rule_id, tag = "selector.same-study", model.rules.tag(SELECTOR, "selector.same-study")
        else:
            body = {"studyId": study, "studyInstanceUid": known.uid + "."}
            broken = self.selector_rules.violations(body)
            if len(broken) != 1:
                return
            rule_id, tag = broken[0].rule, broken[0].tag
        probe = Probe("invalid", body, "stateful invalid", tag, rule_id, "studyInstanceUid")
        named = sorted({study, other})
        before = {i: _document(self.call(self._read_call(i), script=False)) for i in named}
        answer = self.call(Call(f"{STUDIES}.{operation}", body=body), probe)
        refused = self.last
        after = {i: _document(self.call(self._read_call(i))) for i in named}
        reads = {f"retrieve {i}": (_by_id(before[i]), _by_id(after[i])) for i in named}
        self.judge(RefusalSeen((self.last,), refused, reads, self.study_rules.timestamps))
        if _document(answer) is not None:
            for study_id, document in after.items():
                found = model.known(study_id)
                if document is not None and found is not None:
                    model.adopt(found, document)

    def _read_call(self, study_id: str) -> Call:
        return Call(f"{STUDIES}.retrieve", {"studyId": study_id})

    def _scoped_list(self) -> Call:
        """Every study of this sequence (the token's list), on one page."""
        query = (("studyDescription", self.token), ("limit", str(self.draws.limit_max)))
        return Call(f"{STUDIES}.list", query=query)

    def _listed(self, answer: Answer | None) -> Mapping[str, Any] | None:
        """The studies of a list answer by id (None: not a 2xx list)."""
        document = _document(answer)
        items = document.get("studies") if document is not None else None
        if not isinstance(items, list):
            return None
        return {str(s.get("studyId")): s for s in items if isinstance(s, dict)}
