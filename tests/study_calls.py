"""Calling the studies service directly in tests: built as the app builds it."""

import itertools
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.resources.requests import LIST_QUERY
from mockserver.resources.studies import Studies
from mockserver.services import studies_of
from mockserver.settings import Settings

CONTRACT = Contract.load()
KEY = "test-key"
ORIGIN = "http://127.0.0.1:4010"
FIXED = "2026-02-03T04:05:06.789Z"
USERS = ("usr_" + "1" * 32, "usr_" + "2" * 32)
CUSTOMER = "cus_" + "3" * 32
UNKNOWN_ID = "stu_" + "0" * 32
UNKNOWN_UID = "9.9.9"
DEFAULT_LIMIT: int = CONTRACT.resolved(LIST_QUERY)["properties"]["limit"]["default"]
MAX_LIMIT: int = CONTRACT.rule_value(LIST_QUERY, "limit.maximum")
MIN_LIMIT: int = CONTRACT.rule_value(LIST_QUERY, "limit.minimum")
_uids = itertools.count(1)
Json = dict[str, Any]


class FixedClock:
    """A clock that has stopped: every reading is the same instant."""

    def now(self) -> str:
        return FIXED

    def reset(self) -> None:
        """Nothing to rewind."""


def service(seed: int | None = 7, clock: FixedClock | None = None) -> Studies:
    return studies_of(Settings(seed=seed), CONTRACT, clock)


def create(studies: Studies, uid: str | None = None, **fields: Any) -> Json:
    request = {
        "severity": "normal",
        "studyDescription": "Chest CT",
        "studyInstanceUid": uid or f"2.25.{next(_uids)}",
        **fields,
    }
    created: Json = orjson.loads(studies.create(request, KEY))
    return created


def retrieve(studies: Studies, study_id: str) -> Json:
    found: Json = orjson.loads(studies.retrieve(study_id))
    return found


def listing(studies: Studies, *pairs: tuple[str, str]) -> Json:
    page: Json = orjson.loads(studies.list(list(pairs)))
    return page


def page_ids(page: Json) -> list[str]:
    return [study["studyId"] for study in page["studies"]]


def refused(call: Callable[[], Any]) -> set[tuple[str, str, str]]:
    with pytest.raises(InvalidRequest) as raised:
        call()
    assert raised.value.status == 400
    return {(v.field, v.rule, v.location) for v in raised.value.violations}


def walk(studies: Studies, *pairs: tuple[str, str]) -> list[Json]:
    """Every page of a list, following cursors while hasMore."""
    pages = [listing(studies, *pairs)]
    query = [pair for pair in pairs if pair[0] != "cursor"]
    while pages[-1]["hasMore"]:
        pages.append(listing(studies, *query, ("cursor", pages[-1]["cursor"])))
        assert len(pages) < 100
    return pages
