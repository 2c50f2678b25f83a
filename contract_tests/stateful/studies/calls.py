"""The studies part's calls with valid inputs: one rule per viewer.studies operation that
acts on a single study (create, retrieve, retrieve by UID, update, cancel, uncancel, reroute
URL), each judged against what the studies model says it must answer.

``StudyCalls`` is also the base the other rule groups of the part build on (``StudyWalks``,
``StudyRefusals``): it holds the part's state (the model, the draws, the clinic's users), the
bundle of the studies a sequence made, and the calls the walks make between pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, MultipleResults, initialize, multiple, rule

from contract_tests.stateful.machine import MachineBase, World
from contract_tests.stateful.observations import ActionSeen, StudySeen
from contract_tests.stateful.studies.draws import StudyDraws
from contract_tests.stateful.studies.known import KnownStudy
from contract_tests.stateful.studies.model import StudiesModel
from contract_tests.stateful.studies.rules import SELECTOR, StudyRules
from contract_tests.stateful.studies.values import at_path
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer
from mockserver.validation import DocumentValidator

STUDIES = "viewer.studies"
USERS_LIST = "viewer.users.list"
Selector = Literal["id", "uid", "both"]


def by_id(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A study read as {studyId: study} (None: it could not be read)."""
    return None if document is None else {str(document.get("studyId")): document}


def document_of(answer: Answer | None) -> dict[str, Any] | None:
    """The JSON object of a 2xx answer, else None."""
    if answer is None or not 200 <= answer.status < 300 or not isinstance(answer.document, dict):
        return None
    return answer.document


class StudyCalls(MachineBase):
    """The state of the studies part and its rules with valid inputs."""

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
        document = document_of(answer) or {}
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
        document = document_of(answer)
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
        document = document_of(answer)
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
        document = document_of(answer)
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
