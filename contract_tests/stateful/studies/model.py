"""The studies of the Viewer world as the contract says they behave: a plain-Python model.

The model knows the studies one sequence made, says what each call must answer and leave
behind (``Expect``: one field, how it must be, and the rule that says so), and learns what only
the server chooses (ids, timestamps, references) from the answers. What it knows of the API it
reads from schemas/ (``StudyRules``): the fields an update sets and what a null means
(x-null-means), what each list filter matches (x-filter, x-query), the order of a list
(x-order), what a new study echoes and starts as (x-echo, x-on-create, x-link), the fields that
never change (update.keeps-identity).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any, Literal

from mockserver.contract import Contract

STUDY = "study"
CREATE = "study-create-request"
UPDATE = "study-update-request"
LIST = "study-list-query"
SELECTOR = "study-selector"
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)

Group = Literal["fields", "identity", "updated", "cancel"]
"""Which invariant judges an expectation: ``fields`` by reads_own_writes (reads) or
writes_answer_model (write answers), the others by identity_kept, updated_at_moves and
cancel_transitions."""
How = Literal["equal", "none", "link", "later", "same", "set", "null"]


def instant(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp as an aware instant (naive text is read as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def at_path(document: Any, path: Sequence[str]) -> Any:
    """The value at a field path (``("assignedTo", "userId")``); None where a step is missing."""
    node = document
    for step in path:
        if not isinstance(node, dict):
            return None
        node = node.get(step)
    return node


def short(value: Any, limit: int = 80) -> str:
    """A value for a message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


@dataclass(frozen=True)
class Expect:
    """One field of an answer, what it must be, and the rule (id and tag) that says so.

    ``how``: ``equal`` (the same JSON value; timestamps the same instant, a null the same as
    an absent member), ``none`` (null, absent or {}), ``link`` (a reference whose ``property``
    is ``value``; null when ``value`` is None), ``later`` (an instant after ``value``),
    ``same`` (the instant ``value``), ``set`` (any timestamp), ``null`` (null or absent).
    ``stated_when``: the answer's values under which the rule is stated whatever ``tag`` says
    (x-on-create's ``stated-when``).
    """

    field: str
    how: How
    value: Any
    rule: str
    tag: str
    group: Group = "fields"
    property: str = ""
    stated_when: Mapping[str, Any] | None = None
    alternative: tuple[Any, str, str] | None = None
    """(value, rule, tag): an answer holding this other value breaks that other rule."""

    def tag_for(self, document: Mapping[str, Any]) -> str:
        """The tag of this expectation's rule, given the answer it judges."""
        when = self.stated_when
        if when and all(document.get(name) == value for name, value in when.items()):
            return "stated"
        return self.tag

    def mismatch(self, document: Mapping[str, Any], timestamps: frozenset[str]) -> str | None:
        """Why the answer breaks this expectation (the facts), or None when it holds."""
        got = document.get(self.field)
        if self.how == "equal":
            if same(got, self.value, self.field in timestamps):
                return None
            return f"{self.field} is {short(got)}, expected {short(self.value)}"
        if self.how == "none":
            return None if got in (None, {}) else f"{self.field} is {short(got)}, expected none"
        if self.how == "null":
            return None if got is None else f"{self.field} is {short(got)}, expected null"
        if self.how == "link":
            if self.value is None:
                return None if got is None else f"{self.field} is {short(got)}, expected null"
            linked = got.get(self.property) if isinstance(got, dict) else None
            if linked == self.value:
                return None
            return f"{self.field}.{self.property} is {short(linked)}, expected {self.value!r}"
        moment = instant(got)
        if moment is None:
            return f"{self.field} is {short(got)}, expected a timestamp"
        if self.how == "later" and not moment > self.value:
            return f"{self.field} is {got}, not later than {_iso(self.value)}"
        if self.how == "same" and moment != self.value:
            return f"{self.field} is {got}, expected the instant {_iso(self.value)}"
        return None


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def normalized(value: Any, empty: bool = False) -> Any:
    """A JSON value as the SDK reads it: a null member is the same as an absent one; with
    ``empty``, so is an empty object (a map with nothing in it: CONTRACT.md reads absent,
    null and {} alike for a study's metadata)."""
    if isinstance(value, dict):
        return {
            k: normalized(v, empty)
            for k, v in value.items()
            if v is not None and not (empty and v == {})
        }
    if isinstance(value, list):
        return [normalized(v, empty) for v in value]
    return value


def same(got: Any, expected: Any, timestamp: bool = False, empty: bool = True) -> bool:
    """Equal JSON values as a client reads them; timestamps compared as instants, never as
    text; ``empty``: an empty object equals null (``False``: the exact representation)."""
    if timestamp:
        return instant(got) == instant(expected) and (got is None) == (expected is None)
    if empty and got in (None, {}) and expected in (None, {}):
        return True
    return bool(normalized(got, empty) == normalized(expected, empty))


def same_study(
    got: Mapping[str, Any],
    expected: Mapping[str, Any],
    timestamps: frozenset[str],
    empty: bool = False,
) -> list[str]:
    """The fields in which two study documents differ (timestamps as instants; ``empty``:
    an empty object as null)."""
    names = sorted(set(got) | set(expected))
    return [n for n in names if not same(got.get(n), expected.get(n), n in timestamps, empty)]


@dataclass
class KnownStudy:
    """One study the sequence made: its identity and the representation last answered."""

    study_id: str
    uid: str
    created_at: datetime | None
    shown: dict[str, Any]
    uid_shared: bool = False
    names_may_differ: bool = False

    @property
    def cancelled(self) -> bool:
        """Whether the study is cancelled, as last shown."""
        return bool(self.shown.get("isCancelled"))

    @property
    def updated_at(self) -> datetime | None:
        """updatedAt as last shown."""
        return instant(self.shown.get("updatedAt"))


@dataclass(frozen=True)
class Transition:
    """What a cancel or uncancel did (``effective``) or did not do (an idempotent repeat)."""

    kind: Literal["cancel", "uncancel"]
    effective: bool
    before: KnownStudy


@dataclass(frozen=True)
class Selected:
    """The study a selector names, or the rule a refusal of it rests on."""

    study: KnownStudy | None
    refusal: str = ""


@dataclass
class StudiesModel:
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

    # --- lists -----------------------------------------------------------------------------

    def order_key(self, document: Mapping[str, Any]) -> tuple[Any, ...]:
        """The sort key of x-order (timestamps as instants)."""
        key: list[Any] = []
        for name in self.rules.order_by:
            value = document.get(name)
            key.append(
                (instant(value) or EARLIEST) if name in self.rules.timestamps else str(value)
            )
        return tuple(key)

    def matches(self, filters: Mapping[str, Any]) -> list[KnownStudy]:
        """The model's studies that match every filter, in the contract's order."""
        found = [s for s in self.studies.values() if self.holds(s.shown, filters)]
        return sorted(found, key=lambda s: self.order_key(s.shown), reverse=self.rules.descending)

    def holds(self, document: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
        """Whether a study matches every filter given."""
        return all(
            self.rules.filters[name].holds(document, value) for name, value in filters.items()
        )

    def follows(self, filters: Mapping[str, Any], last: Mapping[str, Any] | None) -> bool:
        """Whether a match comes after ``last`` in the order (None: the page was empty)."""
        matches = self.matches(filters)
        if last is None:
            return bool(matches)
        edge = self.order_key(last)
        if self.rules.descending:
            return any(self.order_key(s.shown) < edge for s in matches)
        return any(self.order_key(s.shown) > edge for s in matches)

    def difference_rule(
        self, document: Mapping[str, Any], filters: Mapping[str, Any], changed: bool
    ) -> str:
        """The rule a list breaks by listing this study against the model, or leaving it out:
        a study left out that matches only by the null literal or by ignoring case rests on
        an inferred reading (list.filters-null, list.ignores-case), as does one listed that
        fails only a null-literal filter; everything else breaks list.filters (stated)."""
        failing = [n for n, v in filters.items() if not self.rules.filters[n].holds(document, v)]
        nulls = {n for n, v in filters.items() if v is None}
        if failing:
            return "list.filters-null" if set(failing) <= nulls else "list.filters"
        if nulls:
            return "list.filters-null"
        contains = [
            n for n, f in self.rules.filters.items() if n in filters and f.match != "equals"
        ]
        for name in contains:
            value = str(at_path(document, self.rules.filters[name].field) or "")
            if changed and str(filters[name]) not in value:
                return "list.ignores-case"
        return "list.filters"

    def query(self, filters: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        """The query text of filters."""
        return tuple((name, self.rules.filters[name].text(v)) for name, v in filters.items())
