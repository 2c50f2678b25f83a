"""The checks: small named functions with one signature, registered in one place (``CHECKS``).

A check looks at one exchange and returns ``None`` when it does not apply, else the list of
findings (empty: passed). Each finding carries the rule it rests on and that rule's tag, read
from the schema annotations: a stated breach fails the run, an inferred one warns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from contract_tests.create.uids import FRESH_DIGITS, fresh_digits
from contract_tests.transport.exchange import Exchange
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

STUDY = "study"


@dataclass(frozen=True)
class Finding:
    """One breach: the rule, its tag, and the facts."""

    rule: str
    tag: str
    message: str


@dataclass
class RunState:
    """What checks may remember across exchanges, and the contract they read."""

    contract: Contract
    study_validator: DocumentValidator
    study_ids: set[str] = field(default_factory=set)
    created_uids: set[Any] = field(default_factory=set)

    @classmethod
    def of(cls, contract: Contract) -> RunState:
        """State for a new run."""
        return cls(contract, DocumentValidator(contract, STUDY))


Check = Callable[[Exchange, RunState], "list[Finding] | None"]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check and what it is about."""

    name: str
    run: Check
    about: str


CHECKS: dict[str, CheckSpec] = {}


def check(about: str) -> Callable[[Check], Check]:
    """Register a check under its function name."""

    def register(function: Check) -> Check:
        CHECKS[function.__name__] = CheckSpec(function.__name__, function, about)
        return function

    return register


def _created(exchange: Exchange) -> dict[str, Any] | None:
    """The study of a 2xx answer to a valid probe, if that is what this exchange is."""
    answer = exchange.answer
    if exchange.probe.kind != "valid" or answer is None or not 200 <= answer.status < 300:
        return None
    return answer.document if isinstance(answer.document, dict) else {}


@check("every request gets an answer within the timeout")
def answers(exchange: Exchange, run: RunState) -> list[Finding] | None:
    if exchange.answer is not None:
        return []
    return [Finding("http.answers", "stated", exchange.error or "no answer")]


@check("a valid create request is accepted (2xx)")
def accepts_valid(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "valid" or answer is None or not isinstance(probe.body, dict):
        return None
    uid = probe.body.get("studyInstanceUid")
    if 200 <= answer.status < 300:
        run.created_uids.add(uid)
        return []
    if answer.status == 409:
        # A UID this run created, or one with too few digits to redraw (an earlier run against
        # the same server may have stored it), can rightly conflict.
        if uid in run.created_uids or not isinstance(uid, str) or fresh_digits(uid) < FRESH_DIGITS:
            return None
        message = f"409 (conflict) for UID {uid!r}, which this run never created"
        return [Finding("create.accepts-valid", probe.tag, message)]
    reason = "our reading (null as absent, or code points)" if probe.tag == "inferred" else "rules"
    return [
        Finding(
            "create.accepts-valid",
            probe.tag,
            f"a request valid by the contract's {reason} got {answer.status}",
        )
    ]


@check("a created study is JSON that validates against the Study schema")
def study_schema(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if study is None:
        return None
    answer = exchange.answer
    if answer is None or not answer.is_json:
        return [Finding("study.type", "stated", "the 2xx body is not JSON")]
    return [
        Finding(v.rule, v.tag, v.message.replace("the request body", "the study"))
        for v in run.study_validator.violations(answer.document)
    ]


@check("a 2xx answer says Content-Type: application/json")
def json_content_type(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer = exchange.answer
    if answer is None or not 200 <= answer.status < 300:
        return None
    media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        return []
    return [Finding("http.json", "stated", f"Content-Type is {media or 'missing'!r}")]


@check("the study echoes the values sent (x-echo)")
def echoes_request(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if not study:
        return None
    sent = exchange.probe.body
    found = []
    for name, spec in run.contract.annotated(STUDY, "x-echo").items():
        expected, got = sent.get(spec["from"]), study.get(name)
        if expected is None and got in (None, {}):
            continue
        if got != expected:
            found.append(
                Finding(
                    f"study.echo.{name}",
                    spec["tag"],
                    f"{name} is {_short(got)}, but {spec['from']} sent was {_short(expected)}",
                )
            )
    return found


@check("nested references link to the ids sent (x-link)")
def links_references(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if not study:
        return None
    found = []
    for name, spec in run.contract.annotated(STUDY, "x-link").items():
        sent, reference = exchange.probe.body.get(spec["from"]), study.get(name)
        linked = reference.get(spec["property"]) if isinstance(reference, dict) else None
        if sent is not None and linked != sent:
            message = f"{name}.{spec['property']} is {_short(linked)}, sent {_short(sent)}"
        elif sent is None and reference is not None:
            message = f"{name} is {_short(reference)} though no {spec['from']} was sent"
        else:
            continue
        found.append(Finding(f"study.link.{name}", spec["tag"], message))
    return found


@check("a new study has its initial state (x-on-create)")
def new_study_state(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if not study:
        return None
    return [
        Finding(
            f"study.on-create.{name}",
            _on_create_tag(spec, study),
            f"{name} of a new study is {_short(study.get(name))}, expected {_short(spec['const'])}",
        )
        for name, spec in run.contract.annotated(STUDY, "x-on-create").items()
        if study.get(name, spec["const"]) != spec["const"]
    ]


def _on_create_tag(spec: dict[str, Any], study: dict[str, Any]) -> str:
    """The rule's tag; ``stated-when`` names the other fields' values under which it is stated
    (``cancelledAt`` is null by statement only on a study that is not cancelled)."""
    when = spec.get("stated-when", {})
    if when and all(study.get(name) == value for name, value in when.items()):
        return "stated"
    return str(spec["tag"])


@check("study ids are unique across the run (x-unique)")
def unique_study_ids(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if not study or not isinstance(study.get("studyId"), str):
        return None
    tag = run.contract.resolved(STUDY)["properties"]["studyId"].get("x-unique", "inferred")
    study_id = study["studyId"]
    if study_id in run.study_ids:
        return [Finding("studyId.unique", tag, f"studyId {study_id} was given to an earlier study")]
    run.study_ids.add(study_id)
    return []


@check("timestamps are sane: not in the future, createdAt <= updatedAt")
def sane_timestamps(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange)
    if not study:
        return None
    times = {name: _parse(study.get(name)) for name in ("createdAt", "updatedAt")}
    found = []
    future = datetime.now(timezone.utc) + timedelta(days=1)
    for name, moment in times.items():
        if moment is not None and not datetime(2000, 1, 1, tzinfo=timezone.utc) < moment < future:
            found.append(
                Finding("timestamp.sane", "inferred", f"{name} {study[name]} is implausible")
            )
    created, updated = times["createdAt"], times["updatedAt"]
    if created and updated and updated < created:
        found.append(Finding("timestamp.order", "inferred", "updatedAt is before createdAt"))
    return found


@check("a request that breaks a rule is refused with 400 or 422")
def refuses_invalid(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "invalid" or answer is None:
        return None
    if answer.status in (400, 422):
        return []
    if 200 <= answer.status < 300:
        return [
            Finding(
                probe.rule, probe.tag, f"accepted ({answer.status}) though it breaks {probe.rule}"
            )
        ]
    if answer.status >= 500:
        return [Finding("http.no-5xx", "stated", f"server error {answer.status} on invalid input")]
    return [
        Finding("create.refusal-status", "inferred", f"refused with {answer.status}, not 400/422")
    ]


@check("the error body of a refusal names the offending field")
def error_names_field(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "invalid" or not probe.field or answer is None:
        return None
    if not 400 <= answer.status < 500:
        return None
    if answer.is_json and probe.field in _strings(answer.document):
        return []
    return [
        Finding("error.names-field", "inferred", f"the error body does not name {probe.field!r}")
    ]


@check("a request without credentials is refused with 401")
def requires_auth(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer = exchange.answer
    if exchange.probe.kind != "unauthenticated" or answer is None:
        return None
    if answer.status == 401:
        return []
    if answer.status < 400 or answer.status >= 500:
        return [Finding("auth.required", "stated", f"answered {answer.status} without credentials")]
    return [Finding("auth.status-401", "inferred", f"refused with {answer.status}, not 401")]


def _strings(document: Any) -> set[str]:
    """Every string in a JSON document, and the words of each (a message naming the field)."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            found.add(node)
            found.update(node.replace("'", " ").replace('"', " ").replace(".", " ").split())
    return found


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
