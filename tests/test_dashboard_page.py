"""The dashboard at /_mock/, rendered in-process: what it shows, what it escapes, what it
refuses (each refusal is the page again with the message, never a traceback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.control.dashboard import fault_document, number
from mockserver.control.dashboard_html import FaultForm, View, render_page, render_requests
from tests.conftest import AUTH, fresh_uid
from tests.state_world import created

STUDIES = "/v1/viewer/studies"
HOSTILE = '<script>alert("owned")</script>'
FAULT_FORM = {"method": "POST", "path": STUDIES, "status": "503", "first": "1"}


class Tables(HTMLParser):
    """The text of each cell of each table with an id, row by row (header row left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None and not self._in_head:
            self.tables[self._table].append([])
        elif tag == "td" and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        elif tag == "td" and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    reader = Tables()
    reader.feed(html)
    return reader.tables


def column(html: str, table_id: str, index: int) -> list[str]:
    return [row[index] for row in tables(html).get(table_id, [])]


def create(client: TestClient, description: str, severity: str = "normal") -> dict[str, Any]:
    return created(client, fresh_uid(), studyDescription=description, severity=severity)


@pytest.fixture
def stateless() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(stateless=True)), headers=AUTH) as test_client:
        yield test_client


def test_dashboard_page_shows_a_hostile_description_as_text(client: TestClient) -> None:
    create(client, HOSTILE)
    page = client.get("/_mock/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in page.text
    assert column(page.text, "studies-table", 1) == [HOSTILE]
    assert page.text.count("<script") == 1  # the page's own refresh script only


def test_dashboard_page_script_and_style_carry_the_policy_nonce(client: TestClient) -> None:
    page = client.get("/_mock/")
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in page.text
    assert f'<style nonce="{nonce.group(1)}">' in page.text
    assert client.get("/_mock/").headers["content-security-policy"] != policy


def test_dashboard_html_escapes_users_requests_and_faults() -> None:
    evil = '<img src=x onerror="alert(1)">'
    view = View(
        stateless=False,
        studies=[],
        more_studies=False,
        filters=[],
        users=[{"userId": "usr_1", "firstName": evil, "email": evil, "clinicRole": evil}],
        revoked=frozenset(),
        requests=[{"at": evil, "method": evil, "path": evil, "query": evil, "status": 200}],
        faults=[{"id": evil, "method": "*", "path": evil, "respond": {"status": 503}}],
        form=FaultForm({"path": evil}, None),
    )
    html = render_page(view)
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<img" not in render_requests(view.requests)


def test_dashboard_filter_options_are_the_schemas_values(
    client: TestClient, contract: Contract
) -> None:
    page = client.get("/_mock/").text
    query = contract.resolved("study-list-query")["properties"]
    for name in ("severity", "studyViewerStatus"):
        select = re.search(rf'<select name="{name}">(.*?)</select>', page)
        assert select is not None, name
        offered = re.findall(r'<option value="([^"]*)"', select.group(1))
        assert offered == ["", *query[name]["enum"]]
    cancelled = re.search(r'<select name="isCancelled">(.*?)</select>', page)
    assert cancelled is not None
    assert re.findall(r'<option value="([^"]*)"', cancelled.group(1)) == ["", "true", "false"]


def test_dashboard_filters_narrow_the_studies(client: TestClient) -> None:
    create(client, "CT head routine", "normal")
    urgent = create(client, "MR spine urgent", "high")
    create(client, "XR chest now", "stat")
    client.post(f"{STUDIES}/cancel", json={"studyId": urgent["studyId"]})
    everything = column(client.get("/_mock/").text, "studies-table", 1)
    assert everything == ["XR chest now", "MR spine urgent", "CT head routine"]
    high = client.get("/_mock/", params={"severity": "high"}).text
    assert column(high, "studies-table", 1) == ["MR spine urgent"]
    assert '<option value="high" selected>' in high
    cancelled = client.get("/_mock/", params={"isCancelled": "false", "severity": ""}).text
    assert column(cancelled, "studies-table", 1) == ["XR chest now", "CT head routine"]
    none = client.get("/_mock/", params={"studyViewerStatus": "complete"}).text
    assert "studies-table" not in none
    assert "No study matches." in none


def test_dashboard_bad_filter_is_a_400_page_naming_it(client: TestClient) -> None:
    create(client, "CT head routine")
    page = client.get("/_mock/", params={"severity": "urgent!"})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "The studies filter was refused" in page.text
    assert "<code>severity</code>" in page.text
    assert "studies-table" not in page.text


def test_dashboard_fault_form_adds_a_fault_the_api_answers(client: TestClient) -> None:
    added = client.post(
        "/_mock/dashboard/faults",
        data={**FAULT_FORM, "retryAfterMs": "10"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"].startswith("/_mock/")
    faults = tables(client.get("/_mock/").text)["faults-table"]
    assert len(faults) == 1
    assert faults[0][1:5] == ["POST", STUDIES, "first 1", "respond 503 (retry-after-ms: 10)"]
    refused = client.post(
        STUDIES,
        json={"studyInstanceUid": fresh_uid(), "studyDescription": "x", "severity": "normal"},
    )
    assert refused.status_code == 503
    assert refused.headers["retry-after-ms"] == "10"
    assert create(client, "after the first")["studyDescription"] == "after the first"


def test_dashboard_bad_fault_form_is_a_400_page_with_the_form_refilled(
    client: TestClient,
) -> None:
    page = client.post("/_mock/dashboard/faults", data={**FAULT_FORM, "status": "lots"})
    assert page.status_code == 400
    assert "The fault was not added" in page.text
    assert "<code>respond.status</code>" in page.text
    assert 'name="status" value="lots"' in page.text
    assert re.search(r'name="status" value="lots"[^>]*aria-invalid="true"', page.text)
    assert "faults-table" not in page.text
    assert create(client, "no fault")["studyDescription"] == "no fault"


def test_dashboard_fault_form_refuses_what_no_form_sends(client: TestClient) -> None:
    as_json = client.post("/_mock/dashboard/faults", json=FAULT_FORM)
    assert as_json.status_code == 400
    assert "application/x-www-form-urlencoded" in as_json.text
    unknown = client.post("/_mock/dashboard/faults", data={**FAULT_FORM, "colour": "red"})
    assert unknown.status_code == 400
    assert "&#x27;colour&#x27; is not a field of this form" in unknown.text
    twice = client.post(
        "/_mock/dashboard/faults",
        content=b"path=%2Fv1&path=%2Fv2&status=500",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400
    assert "more than once" in twice.text
    assert "faults-table" not in client.get("/_mock/").text


def test_dashboard_remove_button_removes_the_fault(client: TestClient) -> None:
    client.post("/_mock/dashboard/faults", data=FAULT_FORM)
    page = client.get("/_mock/").text
    action = re.search(r'<form method="post" action="(/_mock/dashboard/faults/[^"]+/delete)"', page)
    assert action is not None
    removed = client.post(action.group(1), follow_redirects=False)
    assert removed.status_code == 303
    assert "No fault is active." in client.get("/_mock/").text
    again = client.post(action.group(1))
    assert again.status_code == 404
    assert "The fault was not removed" in again.text


def test_dashboard_forms_posted_from_another_site_are_refused(client: TestClient) -> None:
    page = client.post(
        "/_mock/dashboard/faults", data=FAULT_FORM, headers={"origin": "https://evil.example"}
    )
    assert page.status_code == 403
    assert "another site" in page.text
    assert "faults-table" not in client.get("/_mock/").text


def test_dashboard_requests_fragment_lists_api_calls_newest_first(client: TestClient) -> None:
    study = create(client, "CT head")
    client.get(f"{STUDIES}/{study['studyId']}")
    client.get("/_mock/")
    fragment = client.get("/_mock/fragments/requests")
    assert fragment.status_code == 200
    assert fragment.text.startswith('<table id="requests-table">')
    rows = tables(fragment.text)["requests-table"]
    assert [row[1:4] for row in rows[:2]] == [
        ["GET", f"{STUDIES}/{study['studyId']}", "200"],
        ["POST", STUDIES, "201"],
    ]
    assert not any(row[2].startswith("/_mock") for row in rows)


def test_dashboard_stateless_says_nothing_is_stored(stateless: TestClient) -> None:
    stateless.post(
        STUDIES,
        json={"studyInstanceUid": fresh_uid(), "studyDescription": "gone", "severity": "high"},
    )
    page = stateless.get("/_mock/")
    assert page.status_code == 200
    assert "stateless: it stores nothing" in page.text
    assert "studies-table" not in page.text
    assert "users-table" not in page.text
    assert f"<code>{STUDIES}</code>" in stateless.get("/_mock/fragments/requests").text


def test_dashboard_form_values_read_numbers_and_leave_other_text() -> None:
    assert fault_document({"path": "/v1/*", "status": "429", "retryAfterMs": "5"}) == {
        "path": "/v1/*",
        "respond": {"status": 429, "headers": {"retry-after-ms": "5"}},
    }
    texts = ("12", "-3", "0.5", "1e999", "12x", "1" * 30)
    assert [number(t) for t in texts] == [12, -3, 0.5, "1e999", "12x", "1" * 30]
