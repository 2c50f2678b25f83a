"""The HTML pages the mock serves itself: what a reroute URL opens, offline, in a browser.

Rendered on the server from the study's current state; every value is escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:44rem;color:#1d2733}"
    "h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}"
    "dt{font-weight:600}code{font-size:.95em}.note{color:#5b6b7b;font-size:.9rem}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def study_page(study: dict[str, Any]) -> str:
    """The Viewer's stand-in for one study: description, UID, severity and state."""
    state = "cancelled" if study.get("isCancelled") else "active"
    rows = {
        "Description": study.get("studyDescription", ""),
        "Study Instance UID": study.get("studyInstanceUid", ""),
        "Study id": study.get("studyId", ""),
        "Severity": study.get("severity", ""),
        "State": state,
        "Viewer status": study.get("studyViewerStatus", ""),
    }
    assigned = study.get("assignedTo") or {}
    if assigned:
        name = " ".join(str(assigned.get(k) or "") for k in ("firstName", "lastName")).strip()
        rows["Assigned to"] = f"{name} <{assigned.get('email', '')}>".strip()
    items = "".join(
        f"<dt>{escape(label)}</dt><dd><code>{escape(str(value))}</code></dd>"
        for label, value in rows.items()
    )
    description = str(study.get("studyDescription", ""))
    return _page(
        f"{description} - Avara Viewer (avara-mock)",
        f"<h1>{escape(description)}</h1><dl>{items}</dl>"
        '<p class="note">Served by avara-mock in place of the Avara Viewer.</p>',
    )


def not_found_page(reason: str) -> str:
    """The page for a token that is unknown or has expired."""
    return _page(
        "Link expired or unknown - avara-mock",
        f"<h1>This viewer link does not open a study</h1><p>{escape(reason)}</p>",
    )


NO_PROTOCOL = "none (the viewer's default)"
EMPTY_VIEWPORT = "(empty)"
GRID_STYLE = "border-collapse:collapse;margin:1rem 0"
CELL_STYLE = "border:1px solid #9aa7b4;padding:.6rem 1rem;text-align:center"


def session_page(session: dict[str, Any]) -> str:
    """The Viewer's stand-in for an ephemeral session: its retrievalId, its hanging protocol
    (the layout, and what each viewport shows, drawn as the grid) and its options."""
    retrieval_id = str(session.get("retrievalId", ""))
    protocol = session.get("hangingProtocol") or {}
    layout = str(protocol.get("layout", "")) if protocol else ""
    rows = {"Retrieval id": retrieval_id, "Layout": layout or NO_PROTOCOL}
    if "options" in session and session["options"] is not None:
        rows["Options"] = json.dumps(session["options"], ensure_ascii=False)
    items = "".join(
        f"<dt>{escape(label)}</dt><dd><code>{escape(value)}</code></dd>"
        for label, value in rows.items()
    )
    grid = _viewport_grid(layout, list(protocol.get("viewportAssignments") or []))
    return _page(
        f"{retrieval_id} - Avara Viewer ephemeral session (avara-mock)",
        f"<h1>Ephemeral session {escape(retrieval_id)}</h1><dl>{items}</dl>{grid}"
        '<p class="note">Served by avara-mock in place of the Avara Viewer.</p>',
    )


def _viewport_grid(layout: str, assignments: list[Any]) -> str:
    """The viewport assignments as a table of the layout's rows and columns (row by row);
    one row when the layout does not read as ``rows x columns``."""
    if not assignments:
        return ""
    _, _, columns = layout.partition("x")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else len(assignments)
    cells = [EMPTY_VIEWPORT if a is None else str(a) for a in assignments]
    rows = "".join(
        "<tr>"
        + "".join(f'<td style="{CELL_STYLE}">{escape(cell)}</td>' for cell in cells[i : i + width])
        + "</tr>"
        for i in range(0, len(cells), width)
    )
    return f'<table style="{GRID_STYLE}"><caption>Viewports</caption>{rows}</table>'
