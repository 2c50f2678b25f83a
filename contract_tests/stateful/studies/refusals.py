"""The studies part's refusals: calls that name what nobody made, a create with a UID in use,
and one-rule-invalid creates, updates and selectors.

Each is judged by what the server answers and by what it leaves behind: a refused call
changes nothing, so the studies it names (or the token's list) are read before and after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import MultipleResults, multiple, precondition, rule

from contract_tests.stateful.observations import MissingSeen, RefusalSeen, UidTakenSeen
from contract_tests.stateful.studies.calls import STUDIES, StudyCalls, by_id, document_of
from contract_tests.stateful.studies.rules import SELECTOR
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Probe


class StudyRefusals(StudyCalls):
    """The rules of the studies part whose calls must be refused."""

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

    @rule(target=StudyCalls.studies, study=StudyCalls.studies, data=st.data())
    def create_uid_taken(self, study: str, data: st.DataObject) -> str | MultipleResults[str]:
        """A second create with a stored study's UID: refused, the first study unchanged."""
        model = self.studies_model
        known = model.known(study)
        if known is None:
            return multiple()
        read = Call(f"{STUDIES}.retrieve", {"studyId": study})
        before = document_of(self.call(read, script=False))
        body = {
            "severity": data.draw(self.draws.severity()),
            "studyDescription": data.draw(self.draws.description(self.token)),
            "studyInstanceUid": known.uid,
        }
        answer = self.call(Call(f"{STUDIES}.create", body=body))
        second = self.last
        after = document_of(self.call(read))
        seen = UidTakenSeen((second,), known.uid, before, after, self.study_rules.timestamps)
        self.judge(seen)
        document = document_of(answer)
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
        document = document_of(answer)
        if document is not None and isinstance(document.get("studyId"), str):
            self.studies_model.add(document, body["studyInstanceUid"])

    @rule(study=StudyCalls.studies, data=st.data())
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
        before = document_of(self.call(read, script=False))
        answer = self.call(Call(f"{STUDIES}.update", path, body=body), probe)
        refused = self.last
        after = document_of(self.call(read))
        reads = {f"retrieve {study}": (by_id(before), by_id(after))}
        self.judge(RefusalSeen((self.last,), refused, reads, self.study_rules.timestamps))
        document = document_of(answer)
        if document is not None and path["studyId"] == study:
            model.adopt(known, document)

    @rule(study=StudyCalls.studies, other=StudyCalls.studies, data=st.data())
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
        before = {i: document_of(self.call(self._read_call(i), script=False)) for i in named}
        answer = self.call(Call(f"{STUDIES}.{operation}", body=body), probe)
        refused = self.last
        after = {i: document_of(self.call(self._read_call(i))) for i in named}
        reads = {f"retrieve {i}": (by_id(before[i]), by_id(after[i])) for i in named}
        self.judge(RefusalSeen((self.last,), refused, reads, self.study_rules.timestamps))
        if document_of(answer) is not None:
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
        document = document_of(answer)
        items = document.get("studies") if document is not None else None
        if not isinstance(items, list):
            return None
        return {str(s.get("studyId")): s for s in items if isinstance(s, dict)}
