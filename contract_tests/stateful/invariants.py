"""The invariants of the state machine: small named functions with one signature, registered
in one place (``INVARIANTS``), as the per-request checks are in ``contract_tests.checks``.

An invariant looks at one observation (``observations.py``) and returns ``None`` when it does
not apply, else its findings (empty: it held). Every finding names a rule of schemas/ and
carries that rule's tag, read from the schema: the ``x-stateful-rules`` (or another
``x-*-rules`` table) entry of the id, or the tag of the annotation an expectation came from
(x-echo, x-on-create, x-link). Each invariant judges its own fields, so that one defect breaks
one invariant: identity_kept the identity, updated_at_moves ``updatedAt``, cancel_transitions
``isCancelled`` and ``cancelledAt``, and reads_own_writes / writes_answer_model the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from contract_tests.checks import Finding
from contract_tests.stateful.observations import (
    ActionSeen,
    ListSeen,
    MissingSeen,
    Observation,
    RefusalSeen,
    StudySeen,
    UidTakenSeen,
    WalkSeen,
)
from contract_tests.stateful.studies.expects import Expect, Group
from contract_tests.stateful.studies.values import same, same_study, short
from mockserver.contract import Contract, Rule

RULE_TABLES = ("x-stateful-rules", "x-exchange-rules", "x-query-rules")

Invariant = Callable[[Observation, Contract], "list[Finding] | None"]


class UnknownRule(KeyError):
    """A rule id that no rule table of schemas/ has (a typo, or a rule not written down)."""


@dataclass(frozen=True)
class InvariantSpec:
    """A registered invariant and what it is about."""

    name: str
    run: Invariant
    about: str


INVARIANTS: dict[str, InvariantSpec] = {}


def invariant(about: str) -> Callable[[Invariant], Invariant]:
    """Register an invariant under its function name."""

    def register(function: Invariant) -> Invariant:
        INVARIANTS[function.__name__] = InvariantSpec(function.__name__, function, about)
        return function

    return register


@cache
def _rule_index(contract: Contract) -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for name, document in contract.documents.items():
        for table in RULE_TABLES:
            for rule_id in document.get(table, {}):
                found.setdefault(rule_id, contract.stateful_rule(name, rule_id, table))
    return found


def rule(contract: Contract, rule_id: str) -> Rule:
    """The rule of that id, from whichever schema document's rule table has it."""
    try:
        return _rule_index(contract)[rule_id]
    except KeyError:
        raise UnknownRule(f"no rule table of schemas/ has {rule_id!r}") from None


def finding(contract: Contract, rule_id: str, message: str, tag: str | None = None) -> Finding:
    """A finding of that rule with its tag read from schemas/ (``tag`` overrides it only
    where the request itself rests on our reading, as create.accepts-valid says)."""
    return Finding(rule_id, tag or rule(contract, rule_id).tag, message)


def _judged(seen: StudySeen, group: Group) -> list[Finding] | None:
    """The findings of one group of a study's expectations; None if it has none."""
    expects = [e for e in seen.expects if e.group == group]
    if seen.document is None or not expects:
        return None
    return list(_mismatches(expects, seen.document, seen.timestamps, _who(seen)))


def _mismatches(
    expects: Iterable[Expect], document: Mapping[str, Any], timestamps: frozenset[str], who: str
) -> Iterable[Finding]:
    broken: set[str] = set()
    for expect in expects:
        if expect.field in broken:
            continue  # one finding per field: the first (the surest) rule it breaks
        problem = expect.mismatch(document, timestamps)
        if problem is None:
            continue
        broken.add(expect.field)
        rule_id, tag = expect.rule, expect.tag_for(document)
        other = expect.alternative
        if other is not None and same(document.get(expect.field), other[0]):
            rule_id, tag = other[1], other[2]
        yield Finding(rule_id, tag, f"{who}: {problem}")


def _who(seen: Observation) -> str:
    """The call an observation rests on, for messages (``PATCH /v1/viewer/studies/stu_…``)."""
    sent = seen.exchange.sent
    return f"{sent.method} {sent.path}"


def _refusal(seen: StudySeen | ActionSeen, contract: Contract) -> list[Finding] | None:
    """The finding of a valid call that got no 2xx (None when there was no answer at all:
    the ``answers`` check reports that)."""
    status = seen.status
    if status is None:
        return None
    tag = seen.refused_tag if isinstance(seen, StudySeen) else None
    answer = seen.exchange.answer
    excerpt = answer.excerpt() if answer is not None else ""
    message = f"{_who(seen)}: a valid call answered {status}: {excerpt}"
    return [finding(contract, seen.refused, message, tag)]


@invariant("retrieve, retrieve_by_uid and list show a study as the last 2xx write answered it")
def reads_own_writes(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, StudySeen) or seen.role != "read":
        return None
    if seen.document is None:
        return _refusal(seen, contract)
    return _judged(seen, "fields")


@invariant("create, update, cancel, uncancel and reroute-url answer what the model predicts")
def writes_answer_model(seen: Observation, contract: Contract) -> list[Finding] | None:
    if isinstance(seen, ActionSeen):
        return _action(seen, contract)
    if not isinstance(seen, StudySeen) or seen.role == "read":
        return None
    if seen.document is None:
        return _refusal(seen, contract)
    return _judged(seen, "fields")


def _action(seen: ActionSeen, contract: Contract) -> list[Finding] | None:
    answer = seen.exchange.answer
    if answer is None:
        return None
    if not 200 <= answer.status < 300:
        return _refusal(seen, contract)
    if seen.operation.endswith("reroute_url"):
        return []
    document = answer.document if isinstance(answer.document, dict) else {}
    found = []
    if document.get("success") is not True:
        message = f"{_who(seen)}: success is {short(document.get('success'))}, expected true"
        found.append(finding(contract, "cancel.answers-success", message))
    if seen.idempotent and not document.get("message"):
        message = f"{_who(seen)}: a repeat that changes nothing answered no message"
        found.append(finding(contract, seen.idempotent, message))
    return found


@invariant("studyId, studyInstanceUid and createdAt never change")
def identity_kept(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, StudySeen):
        return None
    return _judged(seen, "identity")


@invariant("updatedAt moves strictly later on a change and stays on a no-op")
def updated_at_moves(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, StudySeen):
        return None
    return _judged(seen, "updated")


@invariant("cancel and uncancel set isCancelled and cancelledAt as the contract says")
def cancel_transitions(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, StudySeen):
        return None
    return _judged(seen, "cancel")


@invariant("a list with filters answers exactly the model's matches, in the contract's order")
def lists_match(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, ListSeen):
        return None
    answer = seen.exchange.answer
    if answer is None:
        return None
    who = _who(seen)
    if not 200 <= answer.status < 300:
        return [finding(contract, "list.filters", f"{who}: a valid list answered {answer.status}")]
    expected = set(seen.expected)
    missing = [i for i in seen.expected if i not in seen.listed]
    extra = [i for i in seen.listed if i not in expected]
    by_rule: dict[str, list[str]] = {}
    for study_id in missing:
        by_rule.setdefault(seen.rules.get(study_id, "list.filters"), []).append(
            f"missing {study_id}"
        )
    for study_id in extra:
        what = "fails the filters" if study_id in seen.foreign else "does not match"
        by_rule.setdefault(seen.rules.get(study_id, "list.filters"), []).append(
            f"listed {study_id}, which {what}"
        )
    found = [finding(contract, r, f"{who}: {'; '.join(parts)}") for r, parts in by_rule.items()]
    if not found and list(seen.listed) != list(seen.expected):
        message = f"{who}: order {', '.join(seen.listed)}; expected {', '.join(seen.expected)}"
        found.append(finding(contract, "list.order", message))
    return found


@invariant("walking the pages: limit, hasMore, the last cursor, no study twice, none skipped")
def pages_walk(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, WalkSeen):
        return None
    found: list[Finding] = []
    visits: dict[str, int] = {}
    for page in seen.pages:
        who = f"{page.exchange.sent.method} {page.exchange.sent.path}"
        if len(page.listed) > page.limit:
            message = f"{who}: {len(page.listed)} studies on a page of limit {page.limit}"
            found.append(finding(contract, "page.limit", message))
        known = page.more_follow is not None and page.has_more is not None
        if known and bool(page.has_more) != page.more_follow:
            follow = "another page follows" if page.more_follow else "no more studies match"
            message = f"{who}: hasMore is {short(page.has_more)}, but {follow}"
            found.append(finding(contract, "page.has-more", message))
        if page.has_more is False and page.cursor is not None:
            message = f"{who}: the last page has cursor {short(page.cursor)}, expected null"
            found.append(finding(contract, "page.last-cursor", message))
        for study_id in page.listed:
            visits[study_id] = visits.get(study_id, 0) + 1
    twice = sorted(i for i, n in visits.items() if n > 1)
    skipped = sorted(seen.must_see - set(visits))
    if twice or skipped or seen.cut:
        parts = [f"listed twice: {', '.join(twice)}"] if twice else []
        parts += [f"never listed: {', '.join(skipped)}"] if skipped else []
        parts += [seen.cut] if seen.cut else []
        found.append(
            finding(contract, "page.walk", f"walk of {len(seen.pages)} pages: " + "; ".join(parts))
        )
    return found


@invariant("after a refused request (4xx) the studies it named and the list are as before")
def refusals_change_nothing(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, RefusalSeen):
        return None
    answer = seen.refused.answer
    if answer is None or not 400 <= answer.status < 500:
        return None
    changed = []
    for what, (before, after) in seen.reads.items():
        if before is None or after is None:
            continue  # a read that failed shows nothing (reads_own_writes judges reads)
        gone, new = sorted(set(before) - set(after)), sorted(set(after) - set(before))
        parts = [f"{', '.join(new)} appeared"] if new else []
        parts += [f"{', '.join(gone)} went away"] if gone else []
        for study_id in sorted(set(before) & set(after)):
            fields = same_study(after[study_id], before[study_id], seen.timestamps)
            parts += [f"{study_id} changed in {', '.join(fields)}"] if fields else []
        if parts:
            changed.append(f"{what}: {'; '.join(parts)}")
    if not changed:
        return []
    sent = seen.refused.sent
    message = f"{sent.method} {sent.path} was refused ({answer.status}), yet " + "; ".join(changed)
    return [finding(contract, "refusal.changes-nothing", message)]


@invariant("a well-formed id or UID nobody created gets 404")
def missing_is_404(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, MissingSeen):
        return None
    status = seen.status
    if status is None or status == 404:
        return None if status is None else []
    message = f"{_who(seen)}: {seen.named}, which no study has, answered {status}, not 404"
    return [finding(contract, seen.rule, message)]


@invariant("a create with a UID in use is refused, and the first study is unchanged")
def uids_unique(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, UidTakenSeen):
        return None
    answer = seen.exchange.answer
    if answer is None:
        return None
    found = []
    if not 400 <= answer.status < 500:
        message = f"{_who(seen)}: a second create with UID {seen.uid} answered {answer.status}"
        found.append(finding(contract, "create.uid-taken", message))
    if isinstance(seen.before, dict) and isinstance(seen.after, dict):
        fields = same_study(seen.after, seen.before, seen.timestamps)
        if fields:
            message = f"the study with UID {seen.uid} changed in {', '.join(fields)}"
            found.append(finding(contract, "create.uid-taken", message))
    return found


@invariant("no two studies share a studyId")
def ids_unique(seen: Observation, contract: Contract) -> list[Finding] | None:
    if not isinstance(seen, StudySeen) or seen.role != "create" or seen.document is None:
        return None
    if not seen.id_taken:
        return []
    message = f"{_who(seen)}: studyId {seen.document.get('studyId')} was given to an earlier study"
    return [finding(contract, "studyId.unique", message)]
