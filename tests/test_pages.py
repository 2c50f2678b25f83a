"""The HTML pages the mock serves: a study's fields shown, every value escaped."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from mockserver.http.pages import not_found_page, session_page, study_page

SCRIPT = "<script>alert('x')</script>"
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "dl", "dt", "dd", "code", "p"}


class Text(HTMLParser):
    """The page's text by element, and every tag opened (to spot injected ones)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.title = ""
        self.heading = ""
        self.terms: list[str] = []
        self.values: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "title":
            self.title += data
        elif where == "h1":
            self.heading += data
        elif where == "dt":
            self.terms.append(data)
        elif where == "code":
            self.values.append(data)


def parsed(page: str) -> Text:
    text = Text()
    text.feed(page)
    text.close()
    return text


def study(**fields: Any) -> dict[str, Any]:
    return {
        "studyId": "stu_" + "ab" * 16,
        "studyInstanceUid": "1.2.840.5",
        "studyDescription": "Chest CT",
        "severity": "high",
        "isCancelled": False,
        "studyViewerStatus": "incomplete",
        "assignedTo": None,
        **fields,
    }


def shown(page: str) -> dict[str, str]:
    text = parsed(page)
    return dict(zip(text.terms, text.values, strict=True))


def test_pages_study_shows_its_fields() -> None:
    page = study_page(study())
    assert page.startswith("<!doctype html>")
    assert shown(page) == {
        "Description": "Chest CT",
        "Study Instance UID": "1.2.840.5",
        "Study id": "stu_" + "ab" * 16,
        "Severity": "high",
        "State": "active",
        "Viewer status": "incomplete",
    }
    text = parsed(page)
    assert text.heading == "Chest CT"
    assert text.title.startswith("Chest CT")


def test_pages_study_cancelled_state() -> None:
    assert shown(study_page(study(isCancelled=True)))["State"] == "cancelled"


def test_pages_study_shows_who_it_is_assigned_to() -> None:
    user = {
        "userId": "usr_" + "1" * 32,
        "firstName": "Ada",
        "lastName": "Byron",
        "email": "a@b.org",
    }
    assert shown(study_page(study(assignedTo=user)))["Assigned to"] == "Ada Byron <a@b.org>"


def test_pages_study_without_assignee_has_no_assigned_row() -> None:
    assert "Assigned to" not in shown(study_page(study()))


@pytest.mark.parametrize(
    "value", [SCRIPT, '"><img src=x onerror=alert(1)>', "a & b < c", "</code></dd><dt>x"]
)
def test_pages_study_values_are_escaped(value: str) -> None:
    user = {"userId": "usr_1", "firstName": value, "lastName": "", "email": value}
    page = study_page(study(studyDescription=value, severity=value, assignedTo=user))
    text = parsed(page)
    assert set(text.tags) <= PAGE_TAGS
    assert text.heading == value
    assert text.title.startswith(value)
    assert shown(page)["Description"] == value
    assert shown(page)["Severity"] == value
    assert value in shown(page)["Assigned to"]
    assert html.escape(value) in page


def test_pages_study_escapes_script_in_description() -> None:
    page = study_page(study(studyDescription=SCRIPT))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_pages_not_found_escapes_its_reason() -> None:
    page = not_found_page(f"gone {SCRIPT}")
    assert "<script>" not in page
    text = parsed(page)
    assert "script" not in text.tags
    assert re.search(r"<p>gone &lt;script&gt;", page)


# --- the ephemeral session page ----------------------------------------------------------------

SESSION_TAGS = PAGE_TAGS | {"table", "caption", "tr", "td"}


class Grid(Text):
    """The page's text, and its viewport table's cells row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.rows[-1].append("")

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self._open and self._open[-1] == "td":
            self.rows[-1][-1] += data


def grid(page: str) -> Grid:
    text = Grid()
    text.feed(page)
    text.close()
    return text


def session(**fields: Any) -> dict[str, Any]:
    return {
        "retrievalId": "order-12345",
        "hangingProtocol": {
            "layout": "2x2",
            "viewportAssignments": ["Axial T1", "Axial T2", None, "Sagittal T2"],
        },
        **fields,
    }


def test_pages_session_names_its_retrieval_id_and_layout() -> None:
    page = session_page(session())
    assert page.startswith("<!doctype html>")
    assert shown(page) == {"Retrieval id": "order-12345", "Layout": "2x2"}
    text = parsed(page)
    assert "order-12345" in text.heading
    assert text.title.startswith("order-12345")


def test_pages_session_draws_the_viewports_row_by_row() -> None:
    assert grid(session_page(session())).rows == [
        ["Axial T1", "Axial T2"],
        ["(empty)", "Sagittal T2"],
    ]


def test_pages_session_one_column_layout() -> None:
    protocol = {"layout": "3x1", "viewportAssignments": ["a", "b", "c"]}
    assert grid(session_page(session(hangingProtocol=protocol))).rows == [["a"], ["b"], ["c"]]


def test_pages_session_without_protocol_says_so_and_draws_no_grid() -> None:
    page = session_page({"retrievalId": "r"})
    assert shown(page)["Layout"].startswith("none")
    assert "table" not in parsed(page).tags


def test_pages_session_shows_its_options_as_json() -> None:
    options = {"studyInstanceUids": ["1.2.3"], "n": 1}
    assert json.loads(shown(session_page(session(options=options)))["Options"]) == options


@pytest.mark.parametrize(
    "value", [SCRIPT, '"><img src=x onerror=alert(1)>', "a & b < c", "</td></tr><tr><td>x"]
)
def test_pages_session_values_are_escaped(value: str) -> None:
    protocol = {"layout": value, "viewportAssignments": [value, None]}
    page = session_page(
        session(retrievalId=value, hangingProtocol=protocol, options={value: value})
    )
    text = grid(page)
    assert set(text.tags) <= SESSION_TAGS
    assert value in text.heading
    assert text.title.startswith(value)
    assert shown(page)["Retrieval id"] == value
    assert shown(page)["Layout"] == value
    assert json.loads(shown(page)["Options"]) == {value: value}
    assert text.rows == [[value, "(empty)"]]
    assert "<script>" not in page
