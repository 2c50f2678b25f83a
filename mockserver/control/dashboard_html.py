"""The dashboard's HTML: the page at ``/_mock/`` and the latest-requests table it refreshes.

Pure functions from what the mock holds (wire documents: studies, users, journal entries and
faults as their ``document()`` forms) to text, so they are tested without a server. Every
value is escaped; the one inline script and the style carry the response's CSP nonce, so
markup that slipped through unescaped would still not run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

REFRESH_MS = 2000
"""How often the page reloads the latest-requests table."""
FRAGMENT_PATH = "/_mock/fragments/requests"
PAGE_PATH = "/_mock/"
ADD_FAULT_PATH = "/_mock/dashboard/faults"
NONE = "\u2014"

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2733;background:#fbfcfd}"
    "h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.8rem 0 .5rem}"
    "table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}"
    "th,td{border:1px solid #d5dce3;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#eef2f6}tbody tr:nth-child(even){background:#f7f9fb}"
    "code{font-size:.85rem}.note{color:#5b6b7b;font-size:.9rem}"
    "form.inline{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.4rem 0 .8rem}"
    "label{display:flex;flex-direction:column;font-size:.8rem;gap:.15rem}"
    "input,select,button{font:inherit;font-size:.9rem;padding:.2rem .4rem}"
    ".error{border:1px solid #c0392b;background:#fdecea;padding:.6rem 1rem;margin:1rem 0}"
    ".invalid{outline:2px solid #c0392b}.num{text-align:right}"
)

SCRIPT = """(function () {
  var box = document.getElementById("requests");
  var stamp = document.getElementById("requests-refreshed");
  function refresh() {
    fetch(%(path)s, {cache: "no-store", credentials: "same-origin"})
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        stamp.textContent = "refreshed at " + new Date().toISOString().slice(11, 23) + " UTC";
      })
      .catch(function (error) { stamp.textContent = "refresh failed: " + error.message; });
  }
  setInterval(refresh, %(every)d);
})();"""


@dataclass(frozen=True)
class Filter:
    """One studies filter of the GET form: a query parameter of the list call, the values a
    select offers (None: a text input) and the value chosen ('' for any)."""

    name: str
    options: tuple[str, ...] | None
    value: str = ""


@dataclass(frozen=True)
class Problem:
    """What went wrong with the last action, shown above everything: the API's error message
    and each violation as (field, message)."""

    message: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FaultForm:
    """The add-fault form: its fields with the values to show (refilled after a refusal),
    the methods its select offers (None: a text input) and the fields to mark invalid."""

    values: Mapping[str, str]
    methods: tuple[str, ...] | None
    invalid: frozenset[str] = frozenset()


@dataclass(frozen=True)
class View:
    """Everything the page shows; ``stateless`` replaces the studies and users with a note."""

    stateless: bool
    studies: Sequence[Mapping[str, Any]]
    more_studies: bool
    filters: Sequence[Filter]
    users: Sequence[Mapping[str, Any]]
    revoked: frozenset[str]
    requests: Sequence[Mapping[str, Any]]
    faults: Sequence[Mapping[str, Any]]
    form: FaultForm
    latency: tuple[float, float] | None = None
    fault_rate: float = 0.0
    problem: Problem | None = None
    nonce: str = field(default="", repr=False)


FORM_LABELS = {
    "method": "method",
    "path": "path (template or glob)",
    "status": "status",
    "first": "first N matches",
    "retryAfterMs": "retry-after-ms",
}
"""The add-fault form's fields, in order, and their labels."""
FORM_HINTS = {
    "method": "*",
    "path": "/v1/viewer/studies/*",
    "status": "503",
    "first": "every match",
}


def render_page(view: View) -> str:
    """The whole dashboard."""
    nonce = escape(view.nonce)
    script = SCRIPT % {"path": json.dumps(FRAGMENT_PATH), "every": REFRESH_MS}
    body = "".join(
        (
            "<header><h1>avara-mock control plane</h1>",
            f'<p class="note">{escape(_mode(view))}</p></header>',
            _problem(view.problem),
            _studies_section(view),
            _users_section(view),
            '<section id="latest-requests"><h2>Latest requests</h2>',
            '<p class="note">Newest first; API calls only (the control plane is not journalled).'
            ' <span id="requests-refreshed"></span></p>',
            f'<div id="requests">{render_requests(view.requests)}</div></section>',
            _faults_section(view),
        )
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>avara-mock dashboard</title>"
        f'<style nonce="{nonce}">{STYLE}</style></head>'
        f'<body>{body}<script nonce="{nonce}">{script}</script></body></html>'
    )


def render_requests(entries: Sequence[Mapping[str, Any]]) -> str:
    """The latest-requests table (journal entries' documents, newest first)."""
    if not entries:
        return '<p class="note" id="no-requests">No API request since the journal was cleared.</p>'
    rows = "".join(
        _row(
            _cell(_time(entry.get("at")), title=str(entry.get("at", ""))),
            _cell(entry.get("method")),
            _cell(_target(entry), code=True),
            _cell("dropped" if entry.get("status") is None else entry["status"], num=True),
            _cell(_ms(entry.get("durationMs")), num=True),
            _cell(entry.get("fault") or "", code=True),
        )
        for entry in entries
    )
    columns = ("time (UTC)", "method", "path", "status", "ms", "fault")
    return _table(columns, rows, "requests-table")


def _mode(view: View) -> str:
    """The header's line: mode, latency and random faults."""
    parts = ["Stateless: nothing is stored." if view.stateless else "Stateful: an in-memory world."]
    if view.latency is not None:
        low, high = view.latency
        parts.append(
            f"Latency {_ms(low)} ms." if low == high else f"Latency {_ms(low)}..{_ms(high)} ms."
        )
    if view.fault_rate:
        parts.append(f"Random faults on {view.fault_rate:.1%} of API requests.")
    return " ".join(parts)


def _problem(problem: Problem | None) -> str:
    if problem is None:
        return ""
    items = "".join(
        f"<li><code>{escape(name)}</code>: {escape(message)}</li>"
        for name, message in problem.details
    )
    listing = f"<ul>{items}</ul>" if items else ""
    return f'<div class="error" role="alert"><p>{escape(problem.message)}</p>{listing}</div>'


def _studies_section(view: View) -> str:
    head = '<section id="studies"><h2>Studies</h2>'
    if view.stateless:
        return (
            f'{head}<p class="note" id="stateless-note">This mock runs stateless: it stores '
            "nothing, so there are no studies to show. Each answer is made from its request "
            "alone; the requests and faults below still work.</p></section>"
        )
    controls = "".join(_filter_control(f) for f in view.filters)
    form = (
        f'<form class="inline" method="get" action="{PAGE_PATH}" id="study-filters">'
        f'{controls}<button type="submit">Filter</button> <a href="{PAGE_PATH}">clear</a></form>'
    )
    if not view.studies:
        return f'{head}{form}<p class="note" id="no-studies">No study matches.</p></section>'
    rows = "".join(
        _row(
            _cell(s.get("studyId"), code=True),
            _cell(s.get("studyDescription")),
            _cell(s.get("severity")),
            _cell(s.get("studyViewerStatus")),
            _cell("yes" if s.get("isCancelled") else "no", title=str(s.get("cancelledAt") or "")),
            _cell(_person(s.get("assignedTo"))),
            _cell(s.get("createdAt")),
        )
        for s in view.studies
    )
    count = len(view.studies)
    shown = (
        f"The newest {count} matching studies; narrow them with the filters."
        if view.more_studies
        else f"{count} {'study' if count == 1 else 'studies'}, newest first."
    )
    columns = ("studyId", "description", "severity", "status", "cancelled", "assigned", "created")
    table = _table(columns, rows, "studies-table")
    return f'{head}{form}<p class="note">{escape(shown)}</p>{table}</section>'


def _filter_control(chosen: Filter) -> str:
    name = escape(chosen.name)
    if chosen.options is None:
        control = f'<input name="{name}" value="{escape(chosen.value)}">'
    else:
        options = "".join(
            _option(value, value or "any", value == chosen.value) for value in ("", *chosen.options)
        )
        control = f'<select name="{name}">{options}</select>'
    return f"<label>{name}{control}</label>"


def _users_section(view: View) -> str:
    head = '<section id="users"><h2>Users</h2>'
    if view.stateless:
        return f'{head}<p class="note">Stateless: no clinic, so no users are stored.</p></section>'
    rows = "".join(
        _row(
            _cell(_name(user), title=str(user.get("userId", ""))),
            _cell(user.get("email")),
            _cell(f"{user.get('clinicRole') or NONE} ({user.get('level') or NONE})"),
            _cell(_access(user, view.revoked)),
        )
        for user in view.users
    )
    return f"{head}{_table(('name', 'e-mail', 'role', 'access'), rows, 'users-table')}</section>"


def _access(user: Mapping[str, Any], revoked: frozenset[str]) -> str:
    state = "revoked" if user.get("userId") in revoked else "active"
    extras = [
        label
        for key, label in (("hasDashboardAccess", "dashboard"), ("canManageStudies", "studies"))
        if user.get(key)
    ]
    return f"{state}; {', '.join(extras)}" if extras else state


def _faults_section(view: View) -> str:
    head = '<section id="faults"><h2>Active faults</h2>'
    if view.faults:
        rows = "".join(
            _row(
                _cell(f.get("id"), code=True),
                _cell(f.get("method", "*")),
                _cell(f.get("path"), code=True),
                _cell(_when(f)),
                _cell(_action(f)),
                _cell(f.get("hits", 0), num=True),
                _cell(f.get("fired", 0), num=True),
                _remove_button(str(f.get("id", ""))),
            )
            for f in view.faults
        )
        columns = ("id", "method", "path", "when", "action", "hits", "fired", "")
        table = _table(columns, rows, "faults-table")
    else:
        table = '<p class="note" id="no-faults">No fault is active.</p>'
    return f"{head}{table}{_fault_form(view.form)}</section>"


def _remove_button(fault_id: str) -> str:
    action = escape(f"{ADD_FAULT_PATH}/{fault_id}/delete")
    return (
        f'<td><form method="post" action="{action}">'
        f'<button type="submit" aria-label="Remove {escape(fault_id)}">Remove</button>'
        "</form></td>"
    )


def _fault_form(form: FaultForm) -> str:
    controls = []
    for name, label in FORM_LABELS.items():
        value = form.values.get(name, "")
        mark = ' class="invalid" aria-invalid="true"' if name in form.invalid else ""
        if name == "method" and form.methods is not None:
            options = "".join(_option(m, m, m == (value or "*")) for m in form.methods)
            control = f'<select name="method"{mark}>{options}</select>'
        else:
            hint = FORM_HINTS.get(name, "")
            mode = ' inputmode="numeric"' if name in ("status", "first", "retryAfterMs") else ""
            control = (
                f'<input name="{name}" value="{escape(value)}" placeholder="{escape(hint)}"'
                f"{mode}{mark}>"
            )
        controls.append(f"<label>{escape(label)}{control}</label>")
    return (
        "<h3>Add a fault</h3>"
        '<p class="note">Answers the status on matching API calls (with retry-after-ms when '
        "given); empty first N: every match.</p>"
        f'<form class="inline" method="post" action="{ADD_FAULT_PATH}" id="add-fault">'
        f'{"".join(controls)}<button type="submit">Add fault</button></form>'
    )


def _when(fault: Mapping[str, Any]) -> str:
    if "first" in fault:
        return f"first {fault['first']}"
    if "after" in fault:
        return f"after {fault['after']}"
    if "probability" in fault:
        return f"probability {fault['probability']}"
    return "every match"


def _action(fault: Mapping[str, Any]) -> str:
    respond = fault.get("respond")
    if isinstance(respond, Mapping):
        headers = respond.get("headers") or {}
        shown = (
            ", ".join(f"{k}: {v}" for k, v in headers.items())
            if isinstance(headers, Mapping)
            else ""
        )
        return f"respond {respond.get('status')}" + (f" ({shown})" if shown else "")
    delay = fault.get("delay")
    if isinstance(delay, Mapping):
        return f"delay {delay.get('ms')} ms"
    if "drop" in fault:
        if fault["drop"] == "after":
            return "apply the write, then close the connection"
        return "close the connection without answering"
    return NONE


def _person(reference: Any) -> str:
    if not isinstance(reference, Mapping):
        return NONE
    name = _name(reference)
    email = reference.get("email")
    return f"{name} <{email}>" if email else name


def _name(person: Mapping[str, Any]) -> str:
    keys = ("firstName", "middleName", "lastName", "suffix1", "suffix2")
    name = " ".join(str(person[k]) for k in keys if person.get(k))
    return name or str(person.get("userId") or NONE)


def _target(entry: Mapping[str, Any]) -> str:
    query = entry.get("query") or ""
    return f"{entry.get('path', '')}?{query}" if query else str(entry.get("path", ""))


def _time(at: Any) -> str:
    """The time of day of an RFC 3339 instant (the page is about the last minutes)."""
    text = str(at or "")
    _, sep, rest = text.partition("T")
    return rest.removesuffix("Z") if sep else text


def _ms(value: Any) -> str:
    if isinstance(value, (int, float)):
        return f"{value:.1f}".removesuffix(".0")
    return NONE


def _table(columns: Sequence[str], rows: str, table_id: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _row(*cells: str) -> str:
    return f"<tr>{''.join(cells)}</tr>"


def _cell(value: Any, *, code: bool = False, num: bool = False, title: str = "") -> str:
    text = NONE if value is None else escape(str(value))
    if code and value not in (None, ""):
        text = f"<code>{text}</code>"
    attrs = (' class="num"' if num else "") + (f' title="{escape(title)}"' if title else "")
    return f"<td{attrs}>{text}</td>"


def _option(value: str, label: str, selected: bool) -> str:
    chosen = " selected" if selected else ""
    return f'<option value="{escape(value)}"{chosen}>{escape(label)}</option>'
