"""Stateful defects of the catalog in lists and pages, made by mechanism (b): the studies
service's ``list`` reads another query than the one sent, or its store's pages end at another
cursor position than their own (tests/catalog_stateful.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache

from mockserver.contract import Contract
from mockserver.resources.studies import StudyService
from mockserver.world.store import Filters, Page, position
from tests.defects_patched import Build, on_studies, shadow

LIST_QUERY = "study-list-query"
Query = list[tuple[str, str]]


@cache
def _contract() -> Contract:
    return Contract.load()


# --- pages ------------------------------------------------------------------------------------


def page_of_limit_plus_one(service: StudyService) -> None:
    """A page asked with a limit below the maximum holds one study more than the limit."""
    original = service.list
    maximum = _contract().rule_value(LIST_QUERY, "limit.maximum")

    def listing(query: Sequence[tuple[str, str]]) -> bytes:
        service._requests.list_query(query)
        return original([(k, _one_more(v, maximum) if k == "limit" else v) for k, v in query])

    shadow(service, "list", listing)


def _one_more(limit: str, maximum: int) -> str:
    return str(int(limit) + 1) if int(limit) < maximum else limit


def last_page_cursor(service: StudyService) -> None:
    """The last page (hasMore false) still has a cursor: the position of its last study."""
    original = service.list

    def listing(query: Sequence[tuple[str, str]]) -> bytes:
        answer = json.loads(original(query))
        if answer["cursor"] is None and answer["studies"]:
            answer["cursor"] = service._cursors.encode(position(answer["studies"][-1]))
        return json.dumps(answer).encode()

    shadow(service, "list", listing)


def cursor_moved(step: Callable[[Page, Callable[[str], Page]], str | None]) -> Build:
    """A store whose pages end with the cursor position ``step`` gives instead of their own
    (``step`` may read the page after any position)."""

    def change(service: StudyService) -> None:
        original = service.store.page

        def page(filters: Filters, after: str | None, limit: int) -> Page:
            found = original(filters, after, limit)
            if found.next_after is None:
                return found
            return Page(found.studies, step(found, lambda at: original(filters, at, 1)))

        shadow(service.store, "page", page)

    return on_studies(change)


def skips_one(found: Page, after: Callable[[str], Page]) -> str | None:
    """The cursor points past the first study of the next page."""
    assert found.next_after is not None
    following = after(found.next_after).studies
    return position(json.loads(following[0])) if following else found.next_after


def repeats_last(found: Page, after: Callable[[str], Page]) -> str | None:
    """The cursor points before the page's last study, so the next page starts with it."""
    if len(found.studies) < 2:
        return found.next_after
    return position(json.loads(found.studies[-2]))


# --- lists ------------------------------------------------------------------------------------


def list_query_changed(change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> Build:
    """A list whose query (once valid) the mock reads as ``change`` makes it."""

    def patch(service: StudyService) -> None:
        original = service.list

        def listing(query: Sequence[tuple[str, str]]) -> bytes:
            service._requests.list_query(query)
            return original(change(list(query)))

        shadow(service, "list", listing)

    return on_studies(patch)


def ignoring(name: str, value: str) -> Build:
    """A list that ignores the filter ``name=value`` (and no other value of it)."""
    return list_query_changed(lambda query: [p for p in query if p != (name, value)])


def hiding_cancelled(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Without an isCancelled filter, only the studies that are not cancelled."""
    return (
        query if any(k == "isCancelled" for k, _ in query) else [*query, ("isCancelled", "false")]
    )


def case_sensitive_description(service: StudyService) -> None:
    """The studyDescription filter matches case-sensitively (pages stay consistent: the store
    is walked in chunks and only the case-sensitive matches are kept)."""
    original = service.store.page

    def page(filters: Filters, after: str | None, limit: int) -> Page:
        needle = filters.contains
        if needle is None:
            return original(filters, after, limit)
        kept: list[tuple[bytes, str]] = []
        at = after
        while len(kept) <= limit:
            chunk = original(filters, at, limit)
            for raw in chunk.studies:
                study = json.loads(raw)
                at = position(study)
                if needle in study["studyDescription"]:
                    kept.append((raw, at))
            if chunk.next_after is None:
                break
        more = len(kept) > limit
        kept = kept[:limit]
        return Page([raw for raw, _ in kept], kept[-1][1] if more else None)

    shadow(service.store, "page", page)
