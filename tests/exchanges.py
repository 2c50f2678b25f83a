"""Hand-made exchanges for the check tests: a good request and study, and builders around them.

A plain helper module (not a test file), shared by ``test_checks_requests.py`` and
``test_checks_studies.py``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.create.cases import CUSTOMER, USER, minimal
from contract_tests.transport.call import NO_BODY, Call
from contract_tests.transport.exchange import CREATE_PATH, Answer, Exchange, Kind, Probe, Sent
from mockserver.contract import Contract

REQUEST = minimal(assignedTo=USER, expressCustomerId=CUSTOMER, metadata={"site": "north"})
STUDY: dict[str, Any] = {
    "studyId": "stu_cd613e30d8f16adf91b7584a2265b1f5",
    "metadata": {"site": "north"},
    "severity": "normal",
    "studyDescription": "Chest CT",
    "studyInstanceUid": "1.2.840.10008.5.1.4.1.1.2",
    "cancelledAt": None,
    "isCancelled": False,
    "studyViewerStatus": "incomplete",
    "createdAt": "2026-01-05T09:00:00.000Z",
    "updatedAt": "2026-01-05T09:00:00.000Z",
    "assignedTo": {
        "userId": USER,
        "email": "lisa.stewart@example.com",
        "firstName": "Lisa",
        "lastName": "Stewart",
        "middleName": None,
        "suffix1": None,
        "suffix2": None,
    },
    "expressCustomer": {
        "expressCustomerId": CUSTOMER,
        "expressCustomerName": "Pierce Imaging Center",
    },
    "createdByApiKey": {
        "apiKeyId": "8b6f81e8-3e1b-4745-98fc-ba0a205b1549",
        "description": "Riverside Medical Center PACS integration key",
        "isViewerEnabled": True,
        "isClinicalContextEnrichmentEnabled": False,
    },
    "createdByUser": None,
}


_EXAMPLES = Contract.load().documents
A_USER: dict[str, Any] = _EXAMPLES["user"]["examples"][0]
AN_INVITATION: dict[str, Any] = _EXAMPLES["invitation"]["examples"][0]
USER_ID = A_USER["userId"]


def answer(
    status: int, document: Any = None, *, content_type: str | None = "application/json"
) -> Answer:
    """An answer whose body is ``document`` as JSON (``bytes``: sent as they are)."""
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {} if content_type is None else {"content-type": content_type}
    return Answer.of(status, headers, content)


def probe(
    kind: Kind = "valid", body: Any = None, *, tag: str = "stated", rule: str = "", field: str = ""
) -> Probe:
    return Probe(kind, REQUEST if body is None else body, tag=tag, rule=rule, field=field)


def exchange(the_probe: Probe, the_answer: Answer | None, error: str = "") -> Exchange:
    sent = Sent("POST", CREATE_PATH, {}, json.dumps(the_probe.body).encode())
    return Exchange(the_probe, sent, the_answer, error)


def call_probe(
    operation: str,
    kind: Kind = "valid",
    *,
    path: dict[str, str] | None = None,
    query: tuple[tuple[str, str], ...] = (),
    body: Any = NO_BODY,
    tag: str = "stated",
    rule: str = "",
    field: str = "",
    location: str = "body",
) -> Probe:
    """A probe of an operation other than create, with its call."""
    call = Call(operation, path or {}, query, body)
    sent_body = None if body is NO_BODY else body
    return Probe(
        kind,
        sent_body,
        tag=tag,
        rule=rule,
        field=field,
        operation=operation,
        call=call,
        location=location,
    )


def called(the_probe: Probe, the_answer: Answer | None, error: str = "") -> Exchange:
    """The exchange of a probe with a call, sent with a key."""
    assert the_probe.call is not None
    return Exchange(the_probe, the_probe.call.sent("Bearer k"), the_answer, error)


def created(study: Any = None, body: Any = None) -> Exchange:
    """A valid probe answered 201 with ``study`` (default: the good one)."""
    return exchange(probe("valid", body), answer(201, STUDY if study is None else study))


def study(**changes: Any) -> dict[str, Any]:
    """The good study with some fields changed; ``...`` drops a field."""
    changed = {**copy.deepcopy(STUDY), **changes}
    return {k: v for k, v in changed.items() if v is not ...}


def run(name: str, the_exchange: Exchange, state: RunState) -> list[Finding] | None:
    return CHECKS[name].run(the_exchange, state)


def rules(findings: list[Finding] | None) -> set[tuple[str, str]]:
    assert findings is not None
    return {(f.rule, f.tag) for f in findings}
