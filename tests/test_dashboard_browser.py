"""The dashboard in a real browser: Debian's headless chromium, driven by Playwright, on a
live mock (``python -m mockserver serve``). Checks what a person sees: the studies and a
filter, the latest-requests table refreshing by itself, a fault added with the form acting
on the next API call and removed with its button; and a screenshot.

Playwright never downloads a browser here: it drives /usr/bin/chromium (.ci/run installs the
Debian package when it is missing).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    expect,
    sync_playwright,
)

from tests.conftest import AUTH, fresh_uid, live_server
from tests.state_world import created

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 8000
"""How long to wait for what the page shows: a few refreshes (every 2 s) with room to spare."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STUDIES = "/v1/viewer/studies"
HOSTILE = '<script>alert("owned")</script>'
_tags = itertools.count(1)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install "
    "chromium; .ci/run does it), and Playwright must not download a browser of its own",
)


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One live mock for the module, with its control plane open (loopback, no token)."""
    with live_server("--seed", "7", log=tmp_path_factory.mktemp("dashboard") / "stderr.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Headless chromium with a fresh profile, shared by the module's tests."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    opened = browser.new_page()
    opened.set_default_timeout(WAIT_MS)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def api(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_url, headers=AUTH, timeout=10) as client:
        yield client


def create(api: httpx.Client, description: str, severity: str) -> dict[str, Any]:
    return created(api, fresh_uid(), studyDescription=description, severity=severity)


def troubles(page: Page) -> list[str]:
    """What goes wrong in the page from now on: script errors, console errors (a blocked
    script or style says so there) and alerts (which an unescaped script would raise)."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.append(f"console: {message.text}")

    def dialog(opened: Dialog) -> None:
        found.append(f"dialog: {opened.message}")
        opened.dismiss()

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"error: {error}"))
    page.on("dialog", dialog)
    return found


def descriptions(page: Page) -> list[str]:
    """The description column of the studies table, as the browser shows it."""
    return page.locator("#studies-table tbody tr td:nth-child(2)").all_inner_texts()


def test_dashboard_browser_shows_the_studies_and_filters_them(
    page: Page, api: httpx.Client, mock_url: str
) -> None:
    tag = f"B{next(_tags)}"
    names = {s: f"{tag} {s} study" for s in ("normal", "high", "stat")}
    for severity, name in names.items():
        create(api, name, severity)
    create(api, f"{tag} {HOSTILE}", "normal")
    seen = troubles(page)
    page.goto(f"{mock_url}/_mock/")
    expect(page.locator("h1")).to_have_text("avara-mock control plane")
    shown = descriptions(page)
    assert set(names.values()) <= set(shown)
    assert f"{tag} {HOSTILE}" in shown
    page.select_option("#study-filters select[name=severity]", "high")
    page.click("#study-filters button[type=submit]")
    page.wait_for_url("**/_mock/?*severity=high*")
    filtered = descriptions(page)
    assert names["high"] in filtered
    assert names["normal"] not in filtered
    assert names["stat"] not in filtered
    assert f"{tag} {HOSTILE}" not in filtered
    assert page.locator("#study-filters select[name=severity]").input_value() == "high"
    assert seen == []


def test_dashboard_browser_refreshes_the_latest_requests_without_reload(
    page: Page, api: httpx.Client, mock_url: str
) -> None:
    seen = troubles(page)
    page.goto(f"{mock_url}/_mock/")
    page.evaluate("window.sameDocument = true")
    study = create(api, f"B{next(_tags)} refreshed", "high")
    path = f"{STUDIES}/{study['studyId']}"
    assert api.get(path).status_code == 200
    newest = page.locator("#requests-table tbody tr").first
    expect(newest).to_contain_text(path, timeout=WAIT_MS)
    expect(newest.locator("td").nth(3)).to_have_text("200")
    expect(page.locator("#requests-refreshed")).to_contain_text("refreshed at")
    assert page.evaluate("window.sameDocument") is True
    assert seen == []


def test_dashboard_browser_adds_a_fault_the_api_answers_and_removes_it(
    page: Page, api: httpx.Client, mock_url: str, tmp_path: Path
) -> None:
    page.goto(f"{mock_url}/_mock/")
    expect(page.locator("#no-faults")).to_be_visible()
    form = page.locator("#add-fault")
    form.locator("[name=method]").fill("POST")
    form.locator("[name=path]").fill(STUDIES)
    form.locator("[name=status]").fill("503")
    form.locator("[name=first]").fill("2")
    form.locator("[name=retryAfterMs]").fill("10")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/_mock/#faults")
    row = page.locator("#faults-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("POST")
    expect(row.locator("td").nth(2)).to_have_text(STUDIES)
    expect(row.locator("td").nth(3)).to_have_text("first 2")
    expect(row.locator("td").nth(4)).to_have_text("respond 503 (retry-after-ms: 10)")

    body = {"studyInstanceUid": fresh_uid(), "studyDescription": "faulted", "severity": "stat"}
    refused = api.post(STUDIES, json=body)
    assert refused.status_code == 503
    assert refused.headers["retry-after-ms"] == "10"
    fault_id = row.locator("td").first.inner_text()
    newest = page.locator("#requests-table tbody tr").first
    expect(newest.locator("td").nth(3)).to_have_text("503", timeout=WAIT_MS)
    expect(newest.locator("td").nth(5)).to_have_text(fault_id)

    page.reload()
    expect(row.locator("td").nth(6)).to_have_text("1")  # fired once
    screenshot = tmp_path / "dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000

    row.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/_mock/#faults")
    expect(page.locator("#no-faults")).to_be_visible()
    assert api.post(STUDIES, json=body).status_code == 201


def test_dashboard_browser_shows_a_refused_fault_form(page: Page, mock_url: str) -> None:
    page.goto(f"{mock_url}/_mock/")
    form = page.locator("#add-fault")
    form.locator("[name=path]").fill(STUDIES)
    form.locator("[name=status]").fill("lots")
    with page.expect_response(f"{mock_url}/_mock/dashboard/faults") as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The fault was not added")
    expect(alert).to_contain_text("respond.status")
    expect(page.locator("#add-fault [name=status]")).to_have_value("lots")
    expect(page.locator("#no-faults")).to_be_visible()
