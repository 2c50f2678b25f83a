"""The studies service without HTTP: list pages, filters, order and cursors."""

from __future__ import annotations

import pytest

from mockserver.resources.requests import LIST_QUERY
from mockserver.resources.studies import Studies
from tests.study_calls import (
    CONTRACT,
    CUSTOMER,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MIN_LIMIT,
    USERS,
    FixedClock,
    create,
    listing,
    page_ids,
    refused,
    service,
    walk,
)

# --- list ----------------------------------------------------------------------------------


def test_studies_list_default_limit_is_the_schemas() -> None:
    studies = service()
    made = [create(studies) for _ in range(DEFAULT_LIMIT + 1)]
    page = listing(studies)
    assert len(page["studies"]) == DEFAULT_LIMIT
    assert page["hasMore"] is True
    assert isinstance(page["cursor"], str)
    rest = listing(studies, ("cursor", page["cursor"]))
    assert page_ids(rest) == [made[0]["studyId"]]


def test_studies_list_limit_bounds() -> None:
    studies = service()
    for _ in range(MAX_LIMIT + 1):
        create(studies)
    assert len(listing(studies, ("limit", str(MIN_LIMIT)))["studies"]) == MIN_LIMIT
    largest = listing(studies, ("limit", str(MAX_LIMIT)))
    assert (len(largest["studies"]), largest["hasMore"]) == (MAX_LIMIT, True)
    assert refused(lambda: studies.list([("limit", str(MIN_LIMIT - 1))])) == {
        ("limit", "limit.minimum", "query")
    }
    assert refused(lambda: studies.list([("limit", str(MAX_LIMIT + 1))])) == {
        ("limit", "limit.maximum", "query")
    }
    assert refused(lambda: studies.list([("limit", "2.5")])) == {
        ("limit", "limit.integer", "query")
    }
    assert len(listing(studies, ("limit", "3.0"))["studies"]) == 3


@pytest.fixture(scope="module")
def catalog() -> tuple[Studies, dict[str, str]]:
    """Four studies with every filterable field varied; letters name them oldest first."""
    studies = service(seed=21)
    a = create(
        studies,
        severity="high",
        assignedTo=USERS[0],
        expressCustomerId=CUSTOMER,
        studyDescription="Chest CT",
    )
    b = create(studies, severity="stat", studyDescription="Brain MRI")
    c = create(studies, severity="high", assignedTo=USERS[1], studyDescription="CHEST x-ray")
    d = create(
        studies,
        severity="normal",
        assignedTo=USERS[0],
        expressCustomerId=CUSTOMER,
        studyDescription="Knee",
    )
    studies.cancel({"studyId": c["studyId"]})
    studies.update(d["studyId"], {"studyViewerStatus": "complete"})
    return studies, {"A": a["studyId"], "B": b["studyId"], "C": c["studyId"], "D": d["studyId"]}


FILTER_CASES: list[tuple[list[tuple[str, str]], str]] = [
    ([], "DCBA"),
    ([("assignedTo", USERS[0])], "DA"),
    ([("assignedTo", "null")], "B"),
    ([("expressCustomerId", CUSTOMER)], "DA"),
    ([("expressCustomerId", "null")], "CB"),
    ([("isCancelled", "true")], "C"),
    ([("isCancelled", "false")], "DBA"),
    ([("severity", "high")], "CA"),
    ([("severity", "normal")], "D"),
    ([("studyViewerStatus", "complete")], "D"),
    ([("studyViewerStatus", "incomplete")], "CBA"),
    ([("studyDescription", "cHeSt")], "CA"),
    ([("studyDescription", "mri")], "B"),
    ([("studyDescription", "")], "DCBA"),
    ([("studyDescription", "nothing")], ""),
    ([("severity", "high"), ("isCancelled", "false")], "A"),
    ([("assignedTo", USERS[0]), ("studyViewerStatus", "complete")], "D"),
    ([("studyDescription", "chest"), ("assignedTo", USERS[1])], "C"),
    ([("expressCustomerId", "null"), ("severity", "stat"), ("isCancelled", "false")], "B"),
    ([("severity", "stat"), ("assignedTo", USERS[0])], ""),
]


@pytest.mark.parametrize(("pairs", "expected"), FILTER_CASES)
def test_studies_list_filters_combine_with_and(
    catalog: tuple[Studies, dict[str, str]], pairs: list[tuple[str, str]], expected: str
) -> None:
    studies, names = catalog
    page = listing(studies, *pairs)
    assert page_ids(page) == [names[letter] for letter in expected]
    assert (page["cursor"], page["hasMore"]) == (None, False)


def test_studies_list_filter_cases_cover_every_filter() -> None:
    filtered = {name for pairs, _ in FILTER_CASES for name, _ in pairs}
    declared = CONTRACT.annotated(LIST_QUERY, "x-filter")
    assert filtered == set(declared)


def test_studies_list_newest_first() -> None:
    studies = service()
    made = [create(studies)["studyId"] for _ in range(4)]
    assert page_ids(listing(studies)) == made[::-1]


def test_studies_list_same_instant_orders_by_id_descending() -> None:
    studies = service(clock=FixedClock())
    made = [create(studies)["studyId"] for _ in range(6)]
    assert page_ids(listing(studies)) == sorted(made, reverse=True)
    assert [s["studyId"] for p in walk(studies, ("limit", "4")) for s in p["studies"]] == sorted(
        made, reverse=True
    )


@pytest.mark.parametrize(
    ("count", "limit", "sizes"), [(5, 2, [2, 2, 1]), (4, 2, [2, 2]), (3, 3, [3])]
)
def test_studies_list_has_more_exactly_when_another_page_follows(
    count: int, limit: int, sizes: list[int]
) -> None:
    studies = service()
    made = [create(studies)["studyId"] for _ in range(count)]
    pages = walk(studies, ("limit", str(limit)))
    assert [len(p["studies"]) for p in pages] == sizes
    assert [p["hasMore"] for p in pages] == [True] * (len(sizes) - 1) + [False]
    assert all(isinstance(p["cursor"], str) for p in pages[:-1])
    assert pages[-1]["cursor"] is None
    assert [s for p in pages for s in page_ids(p)] == made[::-1]


def test_studies_list_empty_store() -> None:
    assert listing(service()) == {"studies": [], "cursor": None, "hasMore": False}


def test_studies_list_walk_with_a_filter_lists_each_match_once() -> None:
    studies = service()
    high = [create(studies, severity=("high" if i % 3 else "stat"))["studyId"] for i in range(10)]
    wanted = [s for i, s in enumerate(high) if i % 3][::-1]
    pages = walk(studies, ("severity", "high"), ("limit", "2"))
    assert [s for p in pages for s in page_ids(p)] == wanted


def test_studies_list_walk_survives_changes_between_pages() -> None:
    studies = service()
    made = [create(studies)["studyId"] for _ in range(6)]
    first = listing(studies, ("limit", "2"), ("isCancelled", "false"))
    create(studies)
    studies.cancel({"studyId": made[1]})
    studies.update(made[2], {"severity": "stat"})
    rest = walk(studies, ("limit", "2"), ("isCancelled", "false"), ("cursor", first["cursor"]))
    seen = page_ids(first) + [s for p in rest for s in page_ids(p)]
    assert seen == [made[5], made[4], made[3], made[2], made[0]]


def test_studies_list_foreign_cursor_is_refused() -> None:
    other = service(seed=8)
    for _ in range(3):
        create(other)
    foreign = listing(other, ("limit", "1"))["cursor"]
    studies = service(seed=7)
    create(studies)
    assert refused(lambda: studies.list([("cursor", foreign)])) == {
        ("cursor", "cursor.unknown", "query")
    }
    unseeded = service(seed=None)
    for _ in range(3):
        create(unseeded)
    cursor = listing(unseeded, ("limit", "1"))["cursor"]
    assert refused(lambda: service(seed=None).list([("cursor", cursor)])) == {
        ("cursor", "cursor.unknown", "query")
    }


def test_studies_list_cursor_of_the_same_seed_accepted_by_another_service() -> None:
    first, second = service(seed=7), service(seed=7)
    for studies in (first, second):
        for n in range(3):
            create(studies, uid=f"1.2.{n}")
    cursor = listing(first, ("limit", "1"))["cursor"]
    assert listing(second, ("limit", "1"), ("cursor", cursor)) == listing(
        first, ("limit", "1"), ("cursor", cursor)
    )


def test_studies_list_bad_filter_names_the_parameter() -> None:
    assert refused(lambda: service().list([("severity", "HIGH"), ("isCancelled", "True")])) == {
        ("severity", "severity.enum", "query"),
        ("isCancelled", "isCancelled.type", "query"),
    }
