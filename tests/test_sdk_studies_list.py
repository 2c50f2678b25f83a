"""The official ``avara`` SDK listing studies: pages, auto-pagination, every filter, the order.

Every test runs twice, through the ``target`` fixture of conftest.py: against a live server
shared by the whole session (other tests create studies in it) and against an app in this
process. So every test gives its studies a fresh ``expressCustomerId`` (or a fresh assignee, or
a fresh word in their descriptions) and lists with that filter: it sees its own studies only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from avara import AsyncAvara, Avara, omit
from avara.types.viewer import StudyCreateResponse, StudyListResponse

from mockserver.contract import Contract
from tests.sdk_targets import Severity, new_customer_id, new_uid, new_user_id

LIST_QUERY = "study-list-query"
PAGE = 7

Listed = StudyCreateResponse | StudyListResponse


def position(study: Listed) -> tuple[datetime, str]:
    """Where a study stands in a list: newest first by createdAt, then studyId."""
    assert study.created_at is not None
    return study.created_at, study.study_id


def newest_first(studies: Sequence[Listed]) -> list[str]:
    return [study.study_id for study in sorted(studies, key=position, reverse=True)]


def create_many(sdk: Avara, customer: str, count: int, **fields: Any) -> list[StudyCreateResponse]:
    return [
        sdk.viewer.studies.create(
            severity=fields.get("severity", "normal"),
            study_description=fields.get("study_description", f"Series {index}"),
            study_instance_uid=new_uid(),
            express_customer_id=customer,
        )
        for index in range(count)
    ]


# --- pages and auto-pagination -------------------------------------------------------------


def test_sdk_list_auto_pagination_visits_every_study_once(sdk_client: Avara) -> None:
    customer = new_customer_id()
    created = create_many(sdk_client, customer, 2 * PAGE + 1)
    visited = [
        s.study_id for s in sdk_client.viewer.studies.list(limit=PAGE, express_customer_id=customer)
    ]
    assert visited == newest_first(created)
    first = sdk_client.viewer.studies.list(limit=PAGE, express_customer_id=customer)
    sizes = [len(page.studies) for page in first.iter_pages()]
    assert sizes == [PAGE, PAGE, 1]


def test_sdk_list_has_more_is_exact_and_last_cursor_is_null(sdk_client: Avara) -> None:
    customer = new_customer_id()
    created = create_many(sdk_client, customer, 2 * PAGE)
    first = sdk_client.viewer.studies.list(limit=PAGE, express_customer_id=customer)
    assert len(first.studies) == PAGE
    assert first.has_more is True
    assert isinstance(first.cursor, str)
    assert first.cursor
    second = first.get_next_page()
    assert len(second.studies) == PAGE
    # exactly 2 * PAGE studies: the second page is the last, though it is full
    assert second.has_more is False
    assert second.cursor is None
    assert not second.has_next_page()
    ids = [s.study_id for s in [*first.studies, *second.studies]]
    assert ids == newest_first(created)


def test_sdk_list_default_limit(sdk_client: Avara, contract: Contract) -> None:
    default = contract.resolved(LIST_QUERY)["properties"]["limit"]["default"]
    customer = new_customer_id()
    create_many(sdk_client, customer, default + 1)
    first = sdk_client.viewer.studies.list(express_customer_id=customer)
    assert len(first.studies) == default
    assert first.has_more is True
    rest = first.get_next_page()
    assert len(rest.studies) == 1
    assert rest.has_more is False


def test_sdk_list_with_no_match_is_one_empty_last_page(
    sdk_client: Avara, contract: Contract
) -> None:
    maximum = contract.rule_value(LIST_QUERY, "limit.maximum")
    page = sdk_client.viewer.studies.list(limit=maximum, express_customer_id=new_customer_id())
    assert page.studies == []
    assert page.has_more is False
    assert page.cursor is None


def test_sdk_list_pages_stay_exact_while_studies_are_created(sdk_client: Avara) -> None:
    customer = new_customer_id()
    original = create_many(sdk_client, customer, 3 * PAGE)
    newer: list[str] = []
    seen: list[str] = []
    page = sdk_client.viewer.studies.list(limit=PAGE, express_customer_id=customer)
    while True:
        assert len(page.studies) <= PAGE
        seen.extend(s.study_id for s in page.studies)
        if not page.has_next_page():
            break
        newer.extend(s.study_id for s in create_many(sdk_client, customer, 3))
        page = page.get_next_page()
    assert len(seen) == len(set(seen)), "a study was listed twice"
    assert {s.study_id for s in original} <= set(seen), "an original study was skipped"
    assert set(seen) <= {s.study_id for s in original} | set(newer)
    # the originals keep their order, newest first
    assert [i for i in seen if i not in newer] == newest_first(original)


def test_sdk_list_pages_skip_studies_that_stop_matching(sdk_client: Avara) -> None:
    customer = new_customer_id()
    original = newest_first(create_many(sdk_client, customer, 3 * PAGE))
    page = sdk_client.viewer.studies.list(
        limit=PAGE, express_customer_id=customer, is_cancelled=False
    )
    first = [s.study_id for s in page.studies]
    assert first == original[:PAGE]
    # cancel one study of each later page, and one already seen
    dropped = {original[PAGE + 1], original[2 * PAGE + 2]}
    for study_id in [*dropped, original[0]]:
        assert sdk_client.viewer.studies.cancel(study_id=study_id).success is True
    rest = [s.study_id for later in page.get_next_page().iter_pages() for s in later.studies]
    assert rest == [i for i in original[PAGE:] if i not in dropped]


@pytest.mark.anyio
async def test_async_sdk_list_auto_pagination_visits_every_study_once(
    async_sdk_client: AsyncAvara, sdk_client: Avara
) -> None:
    customer = new_customer_id()
    created = create_many(sdk_client, customer, 2 * PAGE + 3)
    visited = [
        s.study_id
        async for s in async_sdk_client.viewer.studies.list(
            limit=PAGE, express_customer_id=customer
        )
    ]
    assert visited == newest_first(created)


@pytest.mark.anyio
async def test_async_sdk_list_manual_pages_with_creates_between(
    async_sdk_client: AsyncAvara,
) -> None:
    customer = new_customer_id()
    original: list[StudyCreateResponse] = []
    for index in range(2 * PAGE + 2):
        original.append(
            await async_sdk_client.viewer.studies.create(
                severity="high",
                study_description=f"Async series {index}",
                study_instance_uid=new_uid(),
                express_customer_id=customer,
            )
        )
    seen: list[str] = []
    pages = 0
    page = await async_sdk_client.viewer.studies.list(limit=PAGE, express_customer_id=customer)
    while True:
        pages += 1
        seen.extend(s.study_id for s in page.studies)
        if not page.has_next_page():
            assert page.cursor is None
            break
        await async_sdk_client.viewer.studies.create(
            severity="stat",
            study_description="Created mid-walk",
            study_instance_uid=new_uid(),
            express_customer_id=customer,
        )
        page = await page.get_next_page()
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in {s.study_id for s in original}] == newest_first(original)


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Six studies of one fresh customer, in known states; ``ids(*n)`` lists some newest first."""

    customer: str
    users: tuple[str, str]
    studies: list[StudyCreateResponse]

    def ids(self, *indices: int) -> list[str]:
        return newest_first([self.studies[index] for index in indices])


# severity, description, assignee (index into users, or None), complete, cancelled
LAYOUT: list[tuple[Severity, str, int | None, bool, bool]] = [
    ("normal", "Chest CT", None, False, False),
    ("high", "chest ct angiography", 0, False, False),
    ("stat", "Brain MRI", 0, True, False),
    ("normal", "CHEST X-ray 2 views", 1, False, True),
    ("stat", "Knee MRI", None, True, True),
    ("high", "Abdomen US", 1, False, False),
]


def populate(sdk: Avara) -> Population:
    customer, users = new_customer_id(), (new_user_id(), new_user_id())
    studies = []
    for severity, description, assignee, complete, cancelled in LAYOUT:
        study = sdk.viewer.studies.create(
            severity=severity,
            study_description=description,
            study_instance_uid=new_uid(),
            express_customer_id=customer,
            assigned_to=omit if assignee is None else users[assignee],
        )
        if complete:
            sdk.viewer.studies.update(study.study_id, study_viewer_status="complete")
        if cancelled:
            sdk.viewer.studies.cancel(study_id=study.study_id)
        studies.append(study)
    return Population(customer, users, studies)


Filter = Callable[[Population], dict[str, Any]]
FILTERS: dict[str, tuple[Filter, tuple[int, ...]]] = {
    "customer alone": (lambda p: {}, (0, 1, 2, 3, 4, 5)),
    "severity": (lambda p: {"severity": "stat"}, (2, 4)),
    "study_viewer_status complete": (lambda p: {"study_viewer_status": "complete"}, (2, 4)),
    "study_viewer_status incomplete": (
        lambda p: {"study_viewer_status": "incomplete"},
        (0, 1, 3, 5),
    ),
    "is_cancelled true": (lambda p: {"is_cancelled": True}, (3, 4)),
    "is_cancelled false": (lambda p: {"is_cancelled": False}, (0, 1, 2, 5)),
    "assigned_to": (lambda p: {"assigned_to": p.users[0]}, (1, 2)),
    "assigned_to null": (lambda p: {"extra_query": {"assignedTo": "null"}}, (0, 4)),
    "study_description contains": (lambda p: {"study_description": "MRI"}, (2, 4)),
    "study_description ignores case": (lambda p: {"study_description": "cHeSt"}, (0, 1, 3)),
    "severity and is_cancelled": (lambda p: {"severity": "stat", "is_cancelled": True}, (4,)),
    "assignee and status": (
        lambda p: {"assigned_to": p.users[0], "study_viewer_status": "complete"},
        (2,),
    ),
    "description, severity, not cancelled": (
        lambda p: {"study_description": "chest", "severity": "normal", "is_cancelled": False},
        (0,),
    ),
    "contradiction": (lambda p: {"severity": "normal", "study_viewer_status": "complete"}, ()),
}


def test_sdk_list_filters_alone_and_combined(sdk_client: Avara) -> None:
    # one population for every filter (each would cost a dozen requests); all mismatches shown
    population = populate(sdk_client)
    wrong = {}
    for name, (make, expected) in FILTERS.items():
        listed = sdk_client.viewer.studies.list(
            express_customer_id=population.customer, limit=PAGE, **make(population)
        )
        got, want = [s.study_id for s in listed], population.ids(*expected)
        if got != want:
            wrong[name] = {"got": got, "want": want}
    assert wrong == {}


def test_sdk_list_assigned_to_alone(sdk_client: Avara) -> None:
    population = populate(sdk_client)
    listed = sdk_client.viewer.studies.list(assigned_to=population.users[1])
    assert [s.study_id for s in listed] == population.ids(3, 5)
    assert all(
        s.assigned_to is not None and s.assigned_to.user_id == population.users[1] for s in listed
    )


def test_sdk_list_study_description_alone_and_null_customer(sdk_client: Avara) -> None:
    word = uuid.uuid4().hex
    mixed = word[:16].upper() + word[16:]
    with_customer = sdk_client.viewer.studies.create(
        severity="normal",
        study_description=f"Chest CT {word.upper()}",
        study_instance_uid=new_uid(),
        express_customer_id=new_customer_id(),
    )
    without = sdk_client.viewer.studies.create(
        severity="high", study_description=f"MRI ({word}) head", study_instance_uid=new_uid()
    )
    listed = sdk_client.viewer.studies.list(study_description=mixed)
    assert [s.study_id for s in listed] == newest_first([with_customer, without])
    no_customer = sdk_client.viewer.studies.list(
        study_description=word, extra_query={"expressCustomerId": "null"}
    )
    assert [s.study_id for s in no_customer] == [without.study_id]


def test_sdk_list_answers_studies_as_retrieve_does(sdk_client: Avara) -> None:
    population = populate(sdk_client)
    listed = sdk_client.viewer.studies.list(express_customer_id=population.customer)
    for study in listed:
        assert study.model_dump() == sdk_client.viewer.studies.retrieve(study.study_id).model_dump()
    states = {s.study_id: (s.severity, s.is_cancelled, s.study_viewer_status) for s in listed}
    for (severity, _, _, complete, cancelled), made in zip(LAYOUT, population.studies, strict=True):
        status = "complete" if complete else "incomplete"
        assert states[made.study_id] == (severity, cancelled, status)


@pytest.mark.anyio
async def test_async_sdk_list_filters(async_sdk_client: AsyncAvara, sdk_client: Avara) -> None:
    population = populate(sdk_client)
    page = await async_sdk_client.viewer.studies.list(
        express_customer_id=population.customer, is_cancelled=False, severity="high"
    )
    assert [s.study_id for s in page.studies] == population.ids(1, 5)
    assert page.has_more is False
