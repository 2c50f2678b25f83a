"""The studies of the Viewer world as the contract says they behave: a plain-Python model.

The model knows the studies one sequence made (``KnownStudy``), says what each call must
answer and leave behind (``Expect``: one field, how it must be, and the rule that says so), and
learns what only the server chooses (ids, timestamps, references) from the answers. What it
knows of the API it reads from schemas/ (``StudyRules``). This module holds the model of the
single-study calls (create, read, update, cancel / uncancel, selectors); what a list must hold
is its base ``StudyLists``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contract_tests.stateful.studies.expects import Expect, How
from contract_tests.stateful.studies.known import KnownStudy, Selected, Transition
from contract_tests.stateful.studies.lists import StudyLists
from contract_tests.stateful.studies.rules import STUDY, UPDATE, StudyRules
from contract_tests.stateful.studies.values import at_path, instant, same_study


@dataclass
class StudiesModel(StudyLists):
    """The studies of one sequence, by id and by Study Instance UID."""

    rules: StudyRules
    studies: dict[str, KnownStudy] = field(default_factory=dict)
    by_uid: dict[str, str] = field(default_factory=dict)

    # --- what the sequence knows -----------------------------------------------------------

    def known(self, study_id: str) -> KnownStudy | None:
        """The study of that id, if this sequence made it."""
        return self.studies.get(study_id)

    def user_changed(self, user_id: str) -> None:
        """A user's names may have changed: the references to them in the studies assigned to
        them are judged by userId only until an answer shows each study again."""
        for study in self.studies.values():
            if any(at_path(study.shown, (n, "userId")) == user_id for n in self._user_fields()):
                study.names_may_differ = True

    def add(self, document: Mapping[str, Any], uid: str) -> KnownStudy:
        """A study the server created (its 2xx answer): from now on the model tracks it."""
        study = KnownStudy(
            str(document.get("studyId")),
            uid,
            instant(document.get("createdAt")),
            copy.deepcopy(dict(document)),
        )
        if uid in self.by_uid:
            study.uid_shared = True
            self.studies[self.by_uid[uid]].uid_shared = True
        else:
            self.by_uid[uid] = study.study_id
        self.studies[study.study_id] = study
        return study

    def adopt(self, study: KnownStudy, document: Mapping[str, Any]) -> None:
        """Learn the representation an answer showed (after the invariants judged it)."""
        study.shown = copy.deepcopy(dict(document))
        study.names_may_differ = False

    # --- create ----------------------------------------------------------------------------

    def create_expectations(self, request: Mapping[str, Any]) -> list[Expect]:
        """What a new study's answer must hold: the fields it echoes (x-echo), its initial
        state (x-on-create) and the references it links to (x-link)."""
        found: list[Expect] = []
        for name, spec in self.rules.echo.items():
            sent = request.get(spec["from"])
            how: How = "none" if sent in (None, {}) else "equal"
            found.append(Expect(name, how, sent, f"study.echo.{name}", spec["tag"]))
        for name, spec in self.rules.on_create.items():
            how = "null" if spec["const"] is None else "equal"
            found.append(
                Expect(
                    name,
                    how,
                    spec["const"],
                    f"study.on-create.{name}",
                    spec["tag"],
                    stated_when=spec.get("stated-when"),
                )
            )
        for name, spec in self.rules.links.items():
            sent = request.get(spec["from"])
            rule = f"study.link.{name}"
            found.append(Expect(name, "link", sent, rule, spec["tag"], property=spec["property"]))
        return found

    # --- reads -----------------------------------------------------------------------------

    def read_expectations(self, study: KnownStudy) -> list[Expect]:
        """A read must show the study as last answered (study.read-your-writes), its identity
        unchanged; the names of a user who changed are judged by userId only."""
        tag = self.rules.tag(STUDY, "study.read-your-writes")
        found = [
            self._as_shown(study, name, "study.read-your-writes", tag)
            for name in sorted(set(study.shown) - set(self.rules.identity))
        ]
        return found + self.identity_expectations(study)

    def identity_expectations(self, study: KnownStudy) -> list[Expect]:
        """studyId, studyInstanceUid and createdAt never change (update.keeps-identity)."""
        rule = "update.keeps-identity"
        tag = self.rules.tag(UPDATE, rule)
        values: dict[str, Any] = {
            **study.shown,
            "studyId": study.study_id,
            "studyInstanceUid": study.uid,
        }
        found = []
        for name in self.rules.identity:
            if name in self.rules.timestamps:
                moment = instant(values.get(name))
                if moment is not None:
                    found.append(Expect(name, "same", moment, rule, tag, "identity"))
            else:
                found.append(Expect(name, "equal", values.get(name), rule, tag, "identity"))
        return found

    def _as_shown(self, study: KnownStudy, name: str, rule: str, tag: str) -> Expect:
        """The field as last shown; a changed user's reference by its userId only."""
        value = study.shown.get(name)
        user = at_path(value, ("userId",)) if name in self._user_fields() else None
        if user is not None and study.names_may_differ:
            return Expect(name, "link", user, rule, tag, property="userId")
        return Expect(name, "equal", value, rule, tag)

    def _user_fields(self) -> set[str]:
        """Study fields that are references to a user (x-link by userId)."""
        return {n for n, spec in self.rules.links.items() if spec["property"] == "userId"}

    # --- update ----------------------------------------------------------------------------

    def update_expectations(self, study: KnownStudy, body: Mapping[str, Any]) -> list[Expect]:
        """What an update's answer must hold: each field sent as sent (x-null-means for a
        null; a reference by the id sent, x-link), each field not sent as it was, the identity
        kept. updatedAt is judged apart (``updated_expectation``)."""
        applies = self.rules.tag(UPDATE, "update.applies")
        links = {spec["from"]: (name, spec["property"]) for name, spec in self.rules.links.items()}
        sent = {links.get(name, (name, ""))[0]: (name, value) for name, value in body.items()}
        found: list[Expect] = []
        for name in sorted(set(study.shown) | set(sent)):
            if name in self.rules.identity or name == "updatedAt":
                continue
            if name not in sent:
                found.append(self._as_shown(study, name, "update.applies", applies))
                continue
            wire, value = sent[name]
            linked = links.get(wire, ("", ""))[1]
            if value is None and wire in self.rules.null_means:
                rule = f"update.null-{self.rules.null_means[wire]['effect']}"
                tag = self.rules.tag(UPDATE, rule)
                how: How = "link" if linked else "none"
                found.append(Expect(name, how, None, rule, tag, property=linked))
            elif linked:
                found.append(
                    Expect(name, "link", value, "update.applies", applies, property=linked)
                )
            elif value == {}:
                found.append(Expect(name, "none", value, "update.applies", applies))
            else:
                found.append(
                    Expect(
                        name,
                        "equal",
                        value,
                        "update.applies",
                        applies,
                        alternative=self._merged(study, name, value),
                    )
                )
        return found + self.identity_expectations(study)

    def _merged(self, study: KnownStudy, name: str, value: Any) -> tuple[Any, str, str] | None:
        """What a server that merges a map sent into the old one would answer, and the rule
        that breaks (update.replaces-metadata); None when merging and replacing agree."""
        old = study.shown.get(name)
        if not (isinstance(old, dict) and isinstance(value, dict)):
            return None
        merged = {**old, **value}
        if merged == value:
            return None
        rule = "update.replaces-metadata"
        return merged, rule, self.rules.tag(UPDATE, rule)

    def updated_expectation(self, study: KnownStudy, answer: Mapping[str, Any]) -> Expect | None:
        """updatedAt of an update's answer: later than before when the answer differs from the
        study as it was, the same instant when it does not (update.moves-updatedAt)."""
        before = study.updated_at
        if before is None:
            return None
        tag = self.rules.tag(UPDATE, "update.moves-updatedAt")
        ignored = {"updatedAt", *self._stale_names(study, answer)}
        exact, alike = (
            [
                n
                for n in same_study(answer, study.shown, self.rules.timestamps, e)
                if n not in ignored
            ]
            for e in (False, True)
        )
        if bool(exact) != bool(alike):
            return None  # only null became {} or back: a change or not, both readings hold
        how: How = "later" if exact else "same"
        return Expect("updatedAt", how, before, "update.moves-updatedAt", tag, "updated")

    def _stale_names(self, study: KnownStudy, answer: Mapping[str, Any]) -> Iterable[str]:
        """Reference fields whose only difference may be a changed user's names."""
        for name in self._user_fields():
            got, had = at_path(answer, (name, "userId")), at_path(study.shown, (name, "userId"))
            if got == had and study.names_may_differ:
                yield name

    # --- cancel, uncancel ------------------------------------------------------------------

    def transition(self, study: KnownStudy, kind: Literal["cancel", "uncancel"]) -> Transition:
        """What a cancel or uncancel of this study must do: act, or change nothing."""
        effective = study.cancelled != (kind == "cancel")
        return Transition(kind, effective, copy.deepcopy(study))

    def transition_expectations(self, change: Transition) -> list[Expect]:
        """What a read after a cancel or uncancel must show (cancel.* and uncancel.* rules)."""
        study = change.before
        tags = self.rules.contract.stateful_rules("study-cancel-response")
        before = study.updated_at
        if not change.effective:
            rule = f"{change.kind}.idempotent"
            tag = tags[rule].tag
            found = [
                Expect("isCancelled", "equal", study.cancelled, rule, tag, "cancel"),
                Expect("cancelledAt", "equal", study.shown.get("cancelledAt"), rule, tag, "cancel"),
            ]
            if before is not None:
                found.append(Expect("updatedAt", "same", before, rule, tag, "updated"))
            return found
        if change.kind == "cancel":
            sets, times = tags["cancel.sets-cancelled"], tags["cancel.times"]
            found = [
                Expect("isCancelled", "equal", True, sets.id, sets.tag, "cancel"),
                Expect("cancelledAt", "set", None, sets.id, sets.tag, "cancel"),
            ]
            if before is not None:
                found.append(Expect("cancelledAt", "later", before, times.id, times.tag, "cancel"))
                found.append(Expect("updatedAt", "later", before, times.id, times.tag, "updated"))
            return found
        clears = tags["uncancel.clears-cancelled"]
        found = [
            Expect("isCancelled", "equal", False, clears.id, clears.tag, "cancel"),
            Expect("cancelledAt", "null", None, clears.id, clears.tag, "cancel"),
        ]
        if before is not None:
            found.append(Expect("updatedAt", "later", before, clears.id, clears.tag, "updated"))
        return found

    def after_transition(self, change: Transition) -> list[Expect]:
        """Every expectation of the read after a cancel or uncancel: the transition's, and
        every other field as it was (study.read-your-writes), the identity kept."""
        judged = {"isCancelled", "cancelledAt", "updatedAt"}
        rest = [e for e in self.read_expectations(change.before) if e.field not in judged]
        return self.transition_expectations(change) + rest

    # --- selectors -------------------------------------------------------------------------

    def select(self, selector: Mapping[str, Any]) -> Selected:
        """The study a cancel / uncancel / reroute-url body names, or why it names none."""
        study_id, uid = selector.get("studyId"), selector.get("studyInstanceUid")
        if study_id is None and uid is None:
            return Selected(None, "selector.names-study")
        if uid is not None:
            by_uid = self.by_uid.get(uid)
            if by_uid is None:
                return Selected(None, "selector.not-found")
            if study_id is not None and study_id != by_uid:
                return Selected(None, "selector.same-study")
            study_id = by_uid
        study = self.studies.get(str(study_id))
        return Selected(study, "" if study else "selector.not-found")
