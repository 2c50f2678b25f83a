"""The checks: small named functions with one signature, registered in one place (``CHECKS``).

A check looks at one exchange and returns ``None`` when it does not apply, else the list of
findings (empty: passed). Each finding carries the rule it rests on and that rule's tag, read
from the schema annotations (``x-rules``, ``x-echo``…, and ``x-exchange-rules`` of
``common`` for the rules about every request): a stated breach fails the run, an inferred one
warns.

Every operation is judged: a valid call is accepted, its answer has the shape of the
operation's answer document, an invalid one is refused naming its field, none gets in without
credentials. The create checks of echo, links, initial state, unique ids and timestamps judge
create alone. A ``stateful`` exchange (a step of the state machine) is judged by the checks of
shape only; a stateless run (``RunState.stateless``) skips every check that needs the server
to keep state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from contract_tests.create.uids import FRESH_DIGITS, fresh_digits
from contract_tests.transport.call import operation
from contract_tests.transport.exchange import CREATE, Exchange
from mockserver.contract import Contract
from mockserver.openapi import build_openapi
from mockserver.validation import DocumentValidator

STUDY = "study"
COMMON, EXCHANGE_RULES = "common", "x-exchange-rules"
STATE_STATUSES = ("404", "409")
"""The statuses a stateful server may answer a valid call for what it stores (no such id, a
conflict), when the call's operation documents them."""
SHAPE_KINDS = ("valid", "stateful")
"""The probes whose 2xx answers are judged by their shape."""


@dataclass(frozen=True)
class Finding:
    """One breach: the rule, its tag, and the facts."""

    rule: str
    tag: str
    message: str


@dataclass
class RunState:
    """What checks may remember across exchanges, and the contract they read; ``stateless``:
    the target keeps no state (a Prism-style mock), so no check that needs it applies."""

    contract: Contract
    study_validator: DocumentValidator
    study_ids: set[str] = field(default_factory=set)
    created_uids: set[Any] = field(default_factory=set)
    stateless: bool = False
    _answers: dict[str, DocumentValidator] = field(default_factory=dict)

    @classmethod
    def of(cls, contract: Contract, *, stateless: bool = False) -> RunState:
        """State for a new run."""
        return cls(contract, DocumentValidator(contract, STUDY), stateless=stateless)

    def answer_validator(self, document: str) -> DocumentValidator:
        """The validator of an answer document (built on first use)."""
        if document == STUDY:
            return self.study_validator
        if document not in self._answers:
            self._answers[document] = DocumentValidator(self.contract, document)
        return self._answers[document]

    def tag(self, rule_id: str) -> str:
        """The tag of a rule about every request and answer (``x-exchange-rules``)."""
        return self.contract.stateful_rule(COMMON, rule_id, EXCHANGE_RULES).tag

    @cached_property
    def stored_statuses(self) -> dict[str, frozenset[int]]:
        """For each operation, the 404 and 409 its OpenAPI answers document (from the
        ``status`` of its documents' rules, or the errors ``mockserver.openapi`` writes)."""
        paths = build_openapi(self.contract)["paths"]
        found: dict[str, frozenset[int]] = {}
        for route in paths.values():
            for described in route.values():
                if "operationId" in described:
                    statuses = described["responses"].keys() & set(STATE_STATUSES)
                    found[described["operationId"]] = frozenset(int(s) for s in statuses)
        return found


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


def _created(exchange: Exchange, run: RunState) -> dict[str, Any] | None:
    """The study of a 2xx answer to a valid create probe, if that is what this exchange is
    and the target keeps state (what a stateless one answers need not echo the request)."""
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "valid" or probe.operation != CREATE or run.stateless:
        return None
    if answer is None or not 200 <= answer.status < 300:
        return None
    return answer.document if isinstance(answer.document, dict) else {}


@check("every request gets an answer within the timeout")
def answers(exchange: Exchange, run: RunState) -> list[Finding] | None:
    if exchange.answer is not None:
        return []
    return [Finding("http.answers", run.tag("http.answers"), exchange.error or "no answer")]


@check("a valid request is accepted (2xx)")
def accepts_valid(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "valid" or answer is None:
        return None
    if probe.operation == CREATE:
        return _accepts_create(exchange, run)
    if 200 <= answer.status < 300:
        return []
    if not run.stateless and answer.status in run.stored_statuses.get(probe.operation, ()):
        return None
    return [Finding("request.accepts-valid", probe.tag, _refused_valid(probe.tag, answer.status))]


def _accepts_create(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if answer is None or not isinstance(probe.body, dict):
        return None
    uid = probe.body.get("studyInstanceUid")
    if 200 <= answer.status < 300:
        run.created_uids.add(uid)
        return []
    if answer.status == 409 and not run.stateless:
        # A UID this run created, or one with too few digits to redraw (an earlier run against
        # the same server may have stored it), can rightly conflict.
        if uid in run.created_uids or not isinstance(uid, str) or fresh_digits(uid) < FRESH_DIGITS:
            return None
        message = f"409 (conflict) for UID {uid!r}, which this run never created"
        return [Finding("create.accepts-valid", probe.tag, message)]
    return [Finding("create.accepts-valid", probe.tag, _refused_valid(probe.tag, answer.status))]


def _refused_valid(tag: str, status: int) -> str:
    reason = "our reading (null as absent, or code points)" if tag == "inferred" else "rules"
    return f"a request valid by the contract's {reason} got {status}"


@check("a 2xx answer is JSON that validates against its operation's answer schema")
def answer_schema(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind not in SHAPE_KINDS or answer is None or not 200 <= answer.status < 300:
        return None
    document = operation(probe.operation).answer
    noun = "the " + document.replace("-", " ")
    if not answer.is_json:
        rule = run.contract.rule_at(document, ["type"])
        rule_id, tag = (rule.id, rule.tag) if rule else ("schema.type", "stated")
        return [Finding(rule_id, tag, f"{noun}: the 2xx body is not JSON")]
    return [
        Finding(v.rule, v.tag, v.message.replace("the request body", noun))
        for v in run.answer_validator(document).violations(answer.document)
    ]


@check("a 2xx answer says Content-Type: application/json")
def json_content_type(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer = exchange.answer
    if answer is None or not 200 <= answer.status < 300:
        return None
    media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        return []
    if media.endswith("json"):
        message = f"Content-Type is {media!r}, not application/json"
        return [Finding("http.json-exact", run.tag("http.json-exact"), message)]
    return [Finding("http.json", run.tag("http.json"), f"Content-Type is {media or 'missing'!r}")]


@check("the study echoes the values sent (x-echo)")
def echoes_request(exchange: Exchange, run: RunState) -> list[Finding] | None:
    study = _created(exchange, run)
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
    study = _created(exchange, run)
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
    study = _created(exchange, run)
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
    study = _created(exchange, run)
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
    study = _created(exchange, run)
    if not study:
        return None
    times = {name: _parse(study.get(name)) for name in ("createdAt", "updatedAt")}
    found = []
    future = datetime.now(timezone.utc) + timedelta(days=1)
    for name, moment in times.items():
        if moment is not None and not datetime(2000, 1, 1, tzinfo=timezone.utc) < moment < future:
            message = f"{name} {study[name]} is implausible"
            found.append(Finding("timestamp.sane", run.tag("timestamp.sane"), message))
    created, updated = times["createdAt"], times["updatedAt"]
    if created and updated and updated < created:
        message = "updatedAt is before createdAt"
        found.append(Finding("timestamp.order", run.tag("timestamp.order"), message))
    return found


@check("a request that breaks a rule is refused with 400 or 422")
def refuses_invalid(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "invalid" or answer is None:
        return None
    if answer.status in (400, 422):
        return []
    if probe.location == "path" and answer.status == 404:
        # The path documents: a real server may answer 404 for a malformed path parameter.
        return []
    if 200 <= answer.status < 300:
        message = f"accepted ({answer.status}) though it breaks {probe.rule}"
        return [Finding(probe.rule, probe.tag, message)]
    if answer.status >= 500:
        message = f"server error {answer.status} on invalid input"
        return [Finding("http.no-5xx", run.tag("http.no-5xx"), message)]
    rule = "create.refusal-status" if probe.operation == CREATE else "request.refusal-status"
    return [Finding(rule, run.tag(rule), f"refused with {answer.status}, not 400/422")]


@check("the error body of a refusal names the offending field, and where it is")
def error_names_field(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer, probe = exchange.answer, exchange.probe
    if probe.kind != "invalid" or not probe.field or answer is None:
        return None
    if not 400 <= answer.status < 500:
        return None
    if probe.location == "path" and answer.status == 404:
        return None  # "no such thing" is a fair answer to a malformed id, and names nothing
    tag = run.tag("error.names-field")
    if not answer.is_json or probe.field not in _strings(answer.document):
        return [Finding("error.names-field", tag, f"the error body does not name {probe.field!r}")]
    placed = [entry for entry in _objects(answer.document) if isinstance(entry.get("in"), str)]
    if placed and not any(
        entry["in"] == probe.location and probe.field in _strings(entry) for entry in placed
    ):
        where = sorted({str(entry["in"]) for entry in placed})
        message = f"the error body names {probe.field!r} in {where}, not in {probe.location!r}"
        return [Finding("error.names-field", tag, message)]
    return []


@check("a refusal (4xx) has a JSON error body")
def error_body(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer = exchange.answer
    if answer is None or not 400 <= answer.status < 500:
        return None
    if answer.is_json and isinstance(answer.document, dict):
        return []
    message = f"the {answer.status} body is not a JSON object: {answer.excerpt()!r}"
    return [Finding("error.json", run.tag("error.json"), message)]


@check("a request without credentials is refused with 401")
def requires_auth(exchange: Exchange, run: RunState) -> list[Finding] | None:
    answer = exchange.answer
    if exchange.probe.kind != "unauthenticated" or answer is None:
        return None
    if answer.status == 401:
        return []
    if answer.status < 400 or answer.status >= 500:
        message = f"answered {answer.status} without credentials"
        return [Finding("auth.required", run.tag("auth.required"), message)]
    message = f"refused with {answer.status}, not 401"
    return [Finding("auth.status-401", run.tag("auth.status-401"), message)]


def _objects(document: Any) -> list[dict[str, Any]]:
    """Every JSON object in a document (the entries of an error's ``errors`` among them)."""
    found: list[dict[str, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


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
