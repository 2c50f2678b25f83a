"""The in-memory store: keyset pages against a naive model, indexes kept up to date."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mockserver.contract import Contract
from mockserver.errors import Conflict
from mockserver.resources.studies import filters_of
from mockserver.world.clock import SEEDED_EPOCH, rfc3339
from mockserver.world.memory import MemoryStudyStore
from mockserver.world.store import FieldPath, Filters, position, value_at

CONTRACT = Contract.load()
INDEXED: tuple[FieldPath, ...] = tuple(filters_of(CONTRACT).values())
SEVERITIES: list[str] = CONTRACT.resolved("study")["properties"]["severity"]["enum"]
STATUSES: list[str] = CONTRACT.resolved("study")["properties"]["studyViewerStatus"]["enum"]
USERS = [f"usr_{n:032x}" for n in (1, 2, 3)]
CUSTOMERS = [f"cus_{n:032x}" for n in (1, 2)]
DESCRIPTIONS = ["Chest CT", "chest ct with contrast", "Brain MRI", "BRAIN mri", "Straße", ""]
NEEDLES = ["ct", "CT", "Chest", "mri", "BRAIN", "ss", "STRASSE", "", "x-ray"]
REFERENCES = [orjson.dumps({"apiKeyId": str(n), "description": f"key {n}"}) for n in (1, 2)]
OPTIONS: dict[str, list[Any]] = {
    "severity": SEVERITIES,
    "description": DESCRIPTIONS[:2],
    "cancelled": [False, True],
    "user": [None, *USERS],
    "customer": [None, *CUSTOMERS],
    "status": STATUSES,
}


def at_ms(ms: int) -> str:
    """A fixed-width RFC 3339 timestamp ``ms`` milliseconds after the seeded epoch."""
    return rfc3339(SEEDED_EPOCH + timedelta(milliseconds=ms))


def make_study(
    number: int,
    created_at: str,
    *,
    uid: str | None = None,
    severity: str = SEVERITIES[0],
    description: str = "Chest CT",
    cancelled: bool = False,
    user: str | None = None,
    customer: str | None = None,
    status: str = STATUSES[0],
) -> dict[str, Any]:
    """A stored study's fields (without its createdByApiKey reference)."""
    return {
        "studyId": f"stu_{number:032x}",
        "studyInstanceUid": uid or f"2.25.{number}",
        "createdAt": created_at,
        "updatedAt": created_at,
        "severity": severity,
        "studyDescription": description,
        "isCancelled": cancelled,
        "cancelledAt": created_at if cancelled else None,
        "assignedTo": None if user is None else {"userId": user, "email": f"{user}@example.org"},
        "expressCustomer": (
            None
            if customer is None
            else {"expressCustomerId": customer, "expressCustomerName": "Acme Imaging"}
        ),
        "studyViewerStatus": status,
        "metadata": None,
        "createdByUser": None,
    }


EXEMPLARS = [
    make_study(0, at_ms(0), **dict(zip(OPTIONS, values, strict=True)))
    for values in itertools.product(*OPTIONS.values())
]
DOMAIN: dict[FieldPath, list[Any]] = {
    path: sorted({value_at(s, path) for s in EXEMPLARS} | {None}, key=repr) for path in INDEXED
}


def full(study: dict[str, Any], reference: bytes) -> dict[str, Any]:
    """What the store answers for a study: its fields and the reference, last."""
    return {**study, "createdByApiKey": orjson.loads(reference)}


def decoded(page: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(body) for body in page]


def key(study: dict[str, Any]) -> tuple[str, str]:
    return study["createdAt"], study["studyId"]


def matches(study: dict[str, Any], filters: Filters) -> bool:
    if any(value_at(study, path) != wanted for path, wanted in filters.equal.items()):
        return False
    if filters.contains is None:
        return True
    return filters.contains.casefold() in str(study["studyDescription"] or "").casefold()


def model_matches(
    model: dict[str, dict[str, Any]], filters: Filters, before: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """The naive answer: all studies newest first, filtered, after the position ``before``."""
    newest_first = sorted(model.values(), key=key, reverse=True)
    return [s for s in newest_first if matches(s, filters) and (before is None or key(s) < before)]


def store_with(*studies: dict[str, Any]) -> MemoryStudyStore:
    store = MemoryStudyStore(INDEXED)
    for study in studies:
        store.add(study, REFERENCES[0])
    return store


def ids(page: list[bytes]) -> list[str]:
    return [s["studyId"] for s in decoded(page)]


# --- plain cases ---------------------------------------------------------------------------


def test_memory_helper_covers_every_indexed_field() -> None:
    assert INDEXED
    for path in INDEXED:
        assert len([v for v in DOMAIN[path] if v is not None]) >= 2, path


def test_memory_add_returns_the_study_with_its_reference_last() -> None:
    store = MemoryStudyStore(INDEXED)
    study = make_study(1, at_ms(0))
    body = store.add(study, REFERENCES[1])
    assert orjson.loads(body) == full(study, REFERENCES[1])
    assert list(orjson.loads(body))[-1] == "createdByApiKey"
    assert len(store) == 1


def test_memory_uid_conflict_raises_and_stores_nothing() -> None:
    first = make_study(1, at_ms(0), uid="1.2.3")
    store = store_with(first)
    clash = make_study(2, at_ms(5), uid="1.2.3", severity=SEVERITIES[-1], user=USERS[0])
    with pytest.raises(Conflict) as raised:
        store.add(clash, REFERENCES[0])
    assert raised.value.status == 409
    assert "1.2.3" in raised.value.message
    assert len(store) == 1
    assert store.get(clash["studyId"]) is None
    assert store.get_json(clash["studyId"]) is None
    assert store.id_of_uid("1.2.3") == first["studyId"]
    assert [s["studyId"] for s in store.studies()] == [first["studyId"]]
    assert ids(store.page(Filters(), None, 10).studies) == [first["studyId"]]
    by_user = Filters({("assignedTo", "userId"): USERS[0]})
    assert store.page(by_user, None, 10).studies == []


def test_memory_get_get_json_and_id_of_uid() -> None:
    study = make_study(7, at_ms(3), uid="1.2.840.7")
    store = MemoryStudyStore(INDEXED)
    store.add(study, REFERENCES[1])
    assert store.get(study["studyId"]) == study
    raw = store.get_json(study["studyId"])
    assert raw is not None
    assert orjson.loads(raw) == full(study, REFERENCES[1])
    assert store.id_of_uid("1.2.840.7") == study["studyId"]
    assert store.get("stu_" + "f" * 32) is None
    assert store.get_json("stu_" + "f" * 32) is None
    assert store.id_of_uid("1.2.840.8") is None


def test_memory_keeps_a_copy_not_the_callers_dict() -> None:
    study = make_study(1, at_ms(0))
    store = store_with(study)
    study["severity"] = SEVERITIES[-1]
    got = store.get(study["studyId"])
    assert got is not None
    assert got["severity"] == SEVERITIES[0]
    got["studyDescription"] = "changed"
    assert store.get(study["studyId"]) == {**study, "severity": SEVERITIES[0]}


def test_memory_studies_oldest_first_ties_by_id() -> None:
    late, tie_high, tie_low, early = (
        make_study(4, at_ms(9)),
        make_study(3, at_ms(5)),
        make_study(2, at_ms(5)),
        make_study(1, at_ms(1)),
    )
    store = store_with(late, tie_high, tie_low, early)
    assert list(store.studies()) == [
        full(s, REFERENCES[0]) for s in (early, tie_low, tie_high, late)
    ]
    assert ids(store.page(Filters(), None, 10).studies) == [
        s["studyId"] for s in (late, tie_high, tie_low, early)
    ]


def test_memory_clear_forgets_everything() -> None:
    study = make_study(1, at_ms(0), uid="1.2.3", user=USERS[0])
    store = store_with(study, make_study(2, at_ms(1)))
    store.clear()
    assert len(store) == 0
    assert store.get(study["studyId"]) is None
    assert store.id_of_uid("1.2.3") is None
    assert list(store.studies()) == []
    assert store.page(Filters(), None, 10).studies == []
    assert store.page(Filters({("assignedTo", "userId"): USERS[0]}), None, 10).studies == []
    store.add(study, REFERENCES[0])
    assert ids(store.page(Filters(), None, 10).studies) == [study["studyId"]]


def test_memory_replace_keeps_position_and_moves_indexes() -> None:
    older, middle, newer = (make_study(n, at_ms(n)) for n in (1, 2, 3))
    store = store_with(older, middle, newer)
    changed = {**middle, "updatedAt": at_ms(99), "severity": SEVERITIES[-1], "isCancelled": True}
    body = store.replace(changed)
    assert orjson.loads(body) == full(changed, REFERENCES[0])
    assert store.get(middle["studyId"]) == changed
    assert ids(store.page(Filters(), None, 10).studies) == [
        s["studyId"] for s in (newer, middle, older)
    ]
    assert [s["studyId"] for s in store.studies()] == [s["studyId"] for s in (older, middle, newer)]
    severity: FieldPath = ("severity",)
    assert ids(store.page(Filters({severity: SEVERITIES[0]}), None, 10).studies) == [
        newer["studyId"],
        older["studyId"],
    ]
    assert ids(store.page(Filters({severity: SEVERITIES[-1]}), None, 10).studies) == [
        middle["studyId"]
    ]
    assert ids(store.page(Filters({("isCancelled",): False}), None, 10).studies) == [
        newer["studyId"],
        older["studyId"],
    ]


def test_memory_replace_keeps_the_reference() -> None:
    study = make_study(1, at_ms(0))
    store = MemoryStudyStore(INDEXED)
    store.add(study, REFERENCES[1])
    body = store.replace({**study, "studyDescription": "Knee MRI"})
    assert orjson.loads(body)["createdByApiKey"] == orjson.loads(REFERENCES[1])


def test_memory_page_next_after_only_when_another_match_follows() -> None:
    store = store_with(*(make_study(n, at_ms(n)) for n in range(4)))
    first = store.page(Filters(), None, 2)
    assert first.next_after is not None
    second = store.page(Filters(), first.next_after, 2)
    assert ids(second.studies) == [f"stu_{n:032x}" for n in (1, 0)]
    assert second.next_after is None
    assert store.page(Filters(), None, 4).next_after is None


def test_memory_page_contains_ignores_case() -> None:
    store = store_with(
        make_study(1, at_ms(1), description="Chest CT"),
        make_study(2, at_ms(2), description="CHEST ct, follow-up"),
        make_study(3, at_ms(3), description="Brain MRI"),
    )
    page = store.page(Filters(contains="chest CT"), None, 10)
    assert ids(page.studies) == [f"stu_{n:032x}" for n in (2, 1)]


def test_memory_page_refuses_a_field_that_is_not_indexed() -> None:
    store = store_with(make_study(1, at_ms(0)))
    with pytest.raises(KeyError):
        store.page(Filters({("metadata",): None}), None, 10)


# --- the model-based test ------------------------------------------------------------------

study_fields = st.fixed_dictionaries(
    {
        "severity": st.sampled_from(SEVERITIES),
        "description": st.sampled_from(DESCRIPTIONS),
        "cancelled": st.booleans(),
        "user": st.sampled_from([None, *USERS]),
        "customer": st.sampled_from([None, *CUSTOMERS]),
        "status": st.sampled_from(STATUSES),
    }
)


CONDITIONS = [(path, value) for path in INDEXED for value in DOMAIN[path]]
filters = st.builds(
    Filters,
    equal=st.lists(st.sampled_from(CONDITIONS), max_size=len(INDEXED)).map(dict),
    contains=st.none() | st.sampled_from(NEEDLES),
)
new_studies = st.lists(
    st.tuples(
        st.integers(0, 2**128 - 1),
        st.integers(0, 12),
        study_fields,
        st.sampled_from(REFERENCES),
    ),
    max_size=5,
)


@dataclass
class Walk:
    """A list walk in progress: its query, where it stands, and what it must not skip."""

    filters: Filters
    limit: int
    steady: set[str]
    after: str | None = None
    before: tuple[str, str] | None = None
    seen: list[str] = field(default_factory=list)


class StoreMachine(RuleBasedStateMachine):
    """Random adds (same-millisecond ties), replaces of indexed fields, pages and walks."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStudyStore(INDEXED)
        self.model: dict[str, dict[str, Any]] = {}
        self.references: dict[str, bytes] = {}
        self.walks: list[Walk] = []

    def free(self, number: int) -> int:
        """``number``, or the next one whose study id is not taken yet."""
        while make_study(number, "")["studyId"] in self.model:
            number = (number + 1) % 2**128
        return number

    def expected(self, study_id: str) -> dict[str, Any]:
        return full(self.model[study_id], self.references[study_id])

    def check_page(
        self, filters: Filters, after: str | None, before: tuple[str, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        page = self.store.page(filters, after, limit)
        hits = model_matches(self.model, filters, before)
        assert decoded(page.studies) == [self.expected(s["studyId"]) for s in hits[:limit]]
        assert (page.next_after is not None) == (len(hits) > limit)
        return hits[:limit] if page.next_after is not None else hits

    @initialize(batch=new_studies.map(lambda b: b * 3))
    def add_some(self, batch: list[tuple[int, int, dict[str, Any], bytes]]) -> None:
        self.add(batch)

    @rule(batch=new_studies)
    def add(self, batch: list[tuple[int, int, dict[str, Any], bytes]]) -> None:
        for number, ms, fields, reference in batch:
            study = make_study(self.free(number), at_ms(ms), **fields)
            body = self.store.add(study, reference)
            self.model[study["studyId"]] = study
            self.references[study["studyId"]] = reference
            assert orjson.loads(body) == self.expected(study["studyId"])

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), number=st.integers(0, 2**128 - 1))
    def add_with_a_taken_uid(self, data: st.DataObject, number: int) -> None:
        taken = data.draw(st.sampled_from(sorted(self.model)))
        uid = self.model[taken]["studyInstanceUid"]
        clash = make_study(self.free(number), at_ms(0), uid=uid)
        with pytest.raises(Conflict):
            self.store.add(clash, REFERENCES[0])
        assert self.store.get(clash["studyId"]) is None
        assert self.store.id_of_uid(uid) == taken

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), fields=study_fields, updated_ms=st.integers(0, 50))
    def replace(self, data: st.DataObject, fields: dict[str, Any], updated_ms: int) -> None:
        target = self.model[data.draw(st.sampled_from(sorted(self.model)))]
        number = int(target["studyId"].removeprefix("stu_"), 16)
        study = make_study(number, target["createdAt"], uid=target["studyInstanceUid"], **fields)
        study["updatedAt"] = at_ms(updated_ms)
        body = self.store.replace(study)
        self.model[study["studyId"]] = study
        assert orjson.loads(body) == self.expected(study["studyId"])
        for walk in self.walks:
            if not matches(study, walk.filters):
                walk.steady.discard(study["studyId"])

    @rule(
        data=st.data(),
        query=filters,
        limit=st.integers(1, 6),
        fake_ms=st.integers(0, 12),
        fake_number=st.integers(0, 2**128 - 1),
    )
    def page(
        self, data: st.DataObject, query: Filters, limit: int, fake_ms: int, fake_number: int
    ) -> None:
        anchors: list[dict[str, Any] | None] = [None, make_study(fake_number, at_ms(fake_ms))]
        anchor = data.draw(st.sampled_from([*anchors, *self.model.values()]))
        after = None if anchor is None else position(anchor)
        before = None if anchor is None else key(anchor)
        self.check_page(query, after, before, limit)

    @rule(query=filters, limit=st.integers(1, 4))
    def walk_all_pages(self, query: Filters, limit: int) -> None:
        seen: list[str] = []
        after: str | None = None
        for _ in range(len(self.model) + 2):
            page = self.store.page(query, after, limit)
            assert len(page.studies) <= limit
            seen.extend(ids(page.studies))
            if page.next_after is None:
                break
            assert len(page.studies) == limit
            after = page.next_after
        else:
            pytest.fail("the walk did not end")
        assert seen == [s["studyId"] for s in model_matches(self.model, query, None)]

    @precondition(lambda self: len(self.walks) < 3)
    @rule(query=filters, limit=st.integers(1, 3))
    def start_walk(self, query: Filters, limit: int) -> None:
        steady = {s["studyId"] for s in model_matches(self.model, query, None)}
        self.walks.append(Walk(query, limit, steady))

    @precondition(lambda self: bool(self.walks))
    @rule(data=st.data())
    def step_walk(self, data: st.DataObject) -> None:
        walk = data.draw(st.sampled_from(self.walks))
        page = self.store.page(walk.filters, walk.after, walk.limit)
        self.check_page(walk.filters, walk.after, walk.before, walk.limit)
        got = ids(page.studies)
        assert not set(got) & set(walk.seen), "a study was listed twice in one walk"
        assert len(set(got)) == len(got)
        walk.seen.extend(got)
        if page.next_after is None:
            assert walk.steady <= set(walk.seen), "a study that matched throughout was skipped"
            self.walks.remove(walk)
            return
        walk.after = page.next_after
        walk.before = key(self.model[got[-1]])

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        study = self.model[data.draw(st.sampled_from(sorted(self.model)))]
        assert self.store.get(study["studyId"]) == study
        raw = self.store.get_json(study["studyId"])
        assert raw is not None
        assert orjson.loads(raw) == self.expected(study["studyId"])
        assert self.store.id_of_uid(study["studyInstanceUid"]) == study["studyId"]

    @invariant()
    def same_size_and_order(self) -> None:
        assert len(self.store) == len(self.model)
        oldest_first = sorted(self.model.values(), key=key)
        assert [s["studyId"] for s in self.store.studies()] == [s["studyId"] for s in oldest_first]


def test_memory_matches_the_naive_model() -> None:
    run_state_machine_as_test(
        StoreMachine,
        settings=settings(max_examples=25, stateful_step_count=30, deadline=None, database=None),
    )
