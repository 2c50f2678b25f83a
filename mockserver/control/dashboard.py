"""The dashboard at ``GET /_mock/``: what a person running the mock sees in a browser.

Server-rendered (``dashboard_html.py``), no build step: the studies (filtered by the list
call's own query rules, so a filter means what it means on the API), the clinic's users, the
latest journal entries (the page refreshes them from ``/_mock/fragments/requests``) and the
active faults, with a form that adds one and a button that removes each. The forms post
``application/x-www-form-urlencoded`` bodies, read here with ``urllib.parse`` (Starlette's
``request.form()`` needs python-multipart); the fault they describe is validated by the plane
like a ``POST /_mock/faults`` body, and a refusal shows the page again with the 400's message.

The admin guard (``admin.py``) stands in front of every route here.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mockserver.contract import Contract
from mockserver.control.dashboard_html import (
    ADD_FAULT_PATH,
    FORM_LABELS,
    FRAGMENT_PATH,
    PAGE_PATH,
    FaultForm,
    Filter,
    Problem,
    View,
    render_page,
    render_requests,
)
from mockserver.errors import ApiError, InvalidRequest, PayloadTooLarge
from mockserver.query import JSON_NUMBER
from mockserver.resources.requests import LIST_QUERY
from mockserver.services import Services

if TYPE_CHECKING:
    from mockserver.control.plane import ControlPlane

LATEST = 50
"""Journal entries the page shows, newest first."""
FORM_LIMIT = 16 * 1024
"""Bytes a dashboard form may hold; its few short fields need far less."""
FORM_TYPE = "application/x-www-form-urlencoded"
FAULT_DOCUMENT = "mock-fault"
INTEGER = re.compile(r"-?[0-9]+")
FIELD_OF_DOCUMENT = {
    "method": "method",
    "path": "path",
    "first": "first",
    "respond.status": "status",
    "respond.headers.retry-after-ms": "retryAfterMs",
}
"""Which form field a fault document's field comes from, to mark the input it refuses."""


class FormRefused(InvalidRequest):
    """A dashboard form that is no form of ours (wrong type, too long, repeated or unknown
    fields): shown like any refused fault, with the message saying what to send."""


def dashboard_routes(
    services: Services, plane: ControlPlane, contract: Contract | None = None
) -> list[BaseRoute]:
    """The dashboard's routes; ``contract`` (default: schemas/) gives the filters' options."""
    dashboard = Dashboard(services, plane, contract or Contract.load())
    return [
        Route(PAGE_PATH, dashboard.page, methods=["GET"]),
        Route(FRAGMENT_PATH, dashboard.requests_fragment, methods=["GET"]),
        Route(ADD_FAULT_PATH, dashboard.add_fault, methods=["POST"]),
        Route(f"{ADD_FAULT_PATH}/{{faultId}}/delete", dashboard.remove_fault, methods=["POST"]),
    ]


class Dashboard:
    """The handlers: each reads the services and the plane as they are now."""

    def __init__(self, services: Services, plane: ControlPlane, contract: Contract) -> None:
        self._services = services
        self._plane = plane
        self._filters = filter_options(contract)
        self._limit = int(contract.rule_value(LIST_QUERY, "limit.maximum"))
        self._methods = fault_methods(contract)

    async def page(self, request: Request) -> Response:
        """GET /_mock/: the page, its studies filtered by the query's list parameters."""
        chosen = [(n, v) for n, v in request.query_params.multi_items() if n in self._filters]
        try:
            return self._render(chosen)
        except InvalidRequest as refused:
            trouble = problem(refused, "The studies filter was refused")
            return self._render(chosen, trouble, refused.status, studies=([], False))

    async def requests_fragment(self, request: Request) -> Response:
        """GET /_mock/fragments/requests: the latest-requests table alone."""
        return HTMLResponse(render_requests(self._latest()), headers=_no_store())

    async def add_fault(self, request: Request) -> Response:
        """POST /_mock/dashboard/faults: add the form's fault; 303 back to the page."""
        refused = _cross_site(request)
        if refused is not None:
            return refused
        values: dict[str, str] = {}
        try:
            values = await read_form(request, tuple(FORM_LABELS))
            self._plane.faults.add(fault_document(values))
        except ApiError as error:
            invalid = frozenset(
                FIELD_OF_DOCUMENT[v.field] for v in error.violations if v.field in FIELD_OF_DOCUMENT
            )
            trouble = problem(error, "The fault was not added")
            return self._render([], trouble, error.status, form=values, invalid=invalid)
        return RedirectResponse(f"{PAGE_PATH}#faults", status_code=303)

    async def remove_fault(self, request: Request) -> Response:
        """POST /_mock/dashboard/faults/{faultId}/delete: remove it; 303 back to the page."""
        refused = _cross_site(request)
        if refused is not None:
            return refused
        try:
            self._plane.faults.remove(str(request.path_params["faultId"]))
        except ApiError as error:
            return self._render([], problem(error, "The fault was not removed"), error.status)
        return RedirectResponse(f"{PAGE_PATH}#faults", status_code=303)

    def _render(
        self,
        chosen: Sequence[tuple[str, str]],
        trouble: Problem | None = None,
        status: int = 200,
        *,
        studies: tuple[list[Any], bool] | None = None,
        form: Mapping[str, str] | None = None,
        invalid: frozenset[str] = frozenset(),
    ) -> Response:
        """The page; ``chosen`` filters the studies (the list call refuses a bad filter with
        InvalidRequest), unless ``studies`` gives them (none, for a refused filter)."""
        stateless = self._services.clinic is None
        if studies is None:
            studies = ([], False) if stateless else self._studies(chosen)
        found, more = studies
        selected = dict(chosen)
        nonce = secrets.token_urlsafe(16)
        view = View(
            stateless=stateless,
            studies=found,
            more_studies=more,
            filters=[
                Filter(name, options, selected.get(name, ""))
                for name, options in self._filters.items()
            ],
            users=self._services.people(),
            revoked=frozenset(() if stateless else self._revoked()),
            requests=self._latest(),
            faults=[fault.document() for fault in self._plane.faults.list()],
            form=FaultForm(form or {}, self._methods, invalid),
            latency=self._plane.latency,
            fault_rate=self._plane.fault_rate,
            problem=trouble,
            nonce=nonce,
        )
        return HTMLResponse(render_page(view), status_code=status, headers=_policy(nonce))

    def _studies(self, chosen: Sequence[tuple[str, str]]) -> tuple[list[Any], bool]:
        """The newest page of matching studies, read by the list call itself."""
        given = [(name, value) for name, value in chosen if value != ""]
        answer = orjson.loads(self._services.studies.list([*given, ("limit", str(self._limit))]))
        return list(answer["studies"]), bool(answer["hasMore"])

    def _revoked(self) -> set[str]:
        clinic = self._services.clinic
        return set() if clinic is None else set(clinic.revoked)

    def _latest(self) -> list[dict[str, Any]]:
        """The newest entries, newest first, in their documents' names; only the fields the
        table shows, so bodies and answers are never parsed for it."""
        entries = self._plane.journal.entries()
        return [
            {
                "at": entry.at,
                "method": entry.method,
                "path": entry.path,
                "query": entry.query,
                "status": entry.status,
                "durationMs": entry.duration_ms,
                "fault": entry.fault,
            }
            for entry in reversed(entries[-LATEST:])
        ]


def filter_options(contract: Contract) -> dict[str, tuple[str, ...] | None]:
    """The list call's filters, by query parameter: the values a select offers (an enum's,
    or true and false), or None for a text filter; read from the query schema's x-filter."""
    properties = contract.resolved(LIST_QUERY)["properties"]
    options: dict[str, tuple[str, ...] | None] = {}
    for name in contract.annotated(LIST_QUERY, "x-filter"):
        schema = properties[name]
        if "enum" in schema:
            options[name] = tuple(str(value) for value in schema["enum"])
        elif schema.get("type") == "boolean":
            options[name] = ("true", "false")
        else:
            options[name] = None
    return dict(sorted(options.items(), key=lambda item: item[1] is None))


def fault_methods(contract: Contract) -> tuple[str, ...] | None:
    """The methods a fault may match, from the fault schema's enum (None: a text input)."""
    document = contract.documents.get(FAULT_DOCUMENT)
    if document is None:
        return None
    method = contract.resolved(FAULT_DOCUMENT).get("properties", {}).get("method", {})
    enum = method.get("enum")
    return tuple(str(value) for value in enum) if isinstance(enum, list) else None


async def read_form(request: Request, fields: Sequence[str]) -> dict[str, str]:
    """The fields of a url-encoded form body; FormRefused for anything else."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise FormRefused(f"Send the dashboard's forms as {FORM_TYPE} (an HTML form does).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise PayloadTooLarge(f"A dashboard form holds at most {FORM_LIMIT} bytes.")
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise FormRefused("The form is not UTF-8 once percent-decoded.") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields:
            raise FormRefused(f"{name!r} is not a field of this form (its fields: {fields}).")
        if name in values:
            raise FormRefused(f"The form gives {name!r} more than once; give it once.")
        values[name] = value.strip()
    return values


def fault_document(values: Mapping[str, str]) -> dict[str, Any]:
    """The fault document (schemas/mock-fault.schema.json) the add form describes: numbers
    read as numbers, text that is none left as text, so the schema refuses it by name."""
    document: dict[str, Any] = {"path": values.get("path", "")}
    if values.get("method"):
        document["method"] = values["method"]
    if values.get("first"):
        document["first"] = number(values["first"])
    respond: dict[str, Any] = {}
    if values.get("status"):
        respond["status"] = number(values["status"])
    if values.get("retryAfterMs"):
        respond["headers"] = {"retry-after-ms": values["retryAfterMs"]}
    document["respond"] = respond
    return document


def number(text: str) -> Any:
    """A JSON number read from text, or the text itself when it is none (or an integer past
    64 bits, which no JSON body parsed by the mock holds either)."""
    if INTEGER.fullmatch(text):
        whole = int(text)
        return whole if -(2**63) <= whole < 2**64 else text
    if JSON_NUMBER.fullmatch(text):
        real = float(text)
        return real if math.isfinite(real) else text
    return text


def problem(error: ApiError, what: str) -> Problem:
    """What the page says about a refused action: what failed, the API's message and each
    violation."""
    details = tuple((v.field or "(form)", v.message) for v in error.violations)
    return Problem(f"{what}: {error.message}", details)


def _cross_site(request: Request) -> Response | None:
    """A 403 for a form posted from another site's page (its Origin is not this host), so a
    web page cannot add or remove faults of a mock running on the visitor's machine."""
    origin = request.headers.get("origin")
    if origin is None or urlsplit(origin).netloc == request.headers.get("host"):
        return None
    return HTMLResponse(
        "<!doctype html><title>Refused</title><p>This form was posted from another site "
        "(its Origin is not this mock); open the dashboard at /_mock/ and use its forms.</p>",
        status_code=403,
    )


def _policy(nonce: str) -> dict[str, str]:
    """Only the page's own style and script run, and its forms post to itself."""
    return {
        "content-security-policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        **_no_store(),
    }


def _no_store() -> dict[str, str]:
    return {"cache-control": "no-store"}
