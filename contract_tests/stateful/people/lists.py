"""What a list of users or invitations must hold: filters, order and pages, judged against
the people the machine knows and, for everyone else, against their own fields.

A filter is judged under every defensible reading of it (``Verdict``): where the sources
leave it open (a text filter that ignores case, a day read in UTC, what a null expiry means,
filters that combine with AND, an empty status list), our reading decides only an inferred
finding (``<list>.filter-readings``); a listed entity that no reading admits breaks the
stated ``<list>.filters``. A known entity missing from a complete listing breaks
``invitationList.filters`` (stated) for an invitation, and ``userList.every-user``
(inferred) for a user: every user the machine knows is an invitee, and whether a list shows
invitees is our reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from contract_tests.stateful.people.entities import Mismatch
from contract_tests.stateful.people.state import CLOCK_MARGIN, INVITATION_LIST, USER_LIST
from contract_tests.stateful.studies.values import instant
from mockserver.contract import Contract, Rule

Kind = Literal["users", "invitations"]
WEST, EAST = timedelta(hours=-12), timedelta(hours=14)
"""The widest offsets of a local day from UTC: a day read in any time zone lies within."""


@dataclass(frozen=True)
class Verdict:
    """Whether an entity meets a filter: under our reading (``ours``; None when even ours
    cannot tell, as for an expiry when the server's time is unknown), and the answer every
    defensible reading gives (``settled``; None when readings differ)."""

    ours: bool | None
    settled: bool | None

    @classmethod
    def sure(cls, value: bool) -> Verdict:
        return cls(value, value)


@dataclass(frozen=True)
class ListRules:
    """The rules a list's findings break."""

    filters: Rule
    readings: Rule
    missing: Rule
    order: Rule
    limit: Rule
    has_more: Rule
    last_cursor: Rule
    walk: Rule
    every_match: Rule
    """What a walk with nothing written meanwhile breaks by a repeat or a skip (the walk
    rule for users: whether a list shows invitees is our reading)."""


class Listing:
    """One list call (users or invitations): its filters (x-filter), how each parameter is
    written (x-query), its order (x-order) and its rules."""

    def __init__(self, contract: Contract, kind: Kind) -> None:
        self.kind = kind
        self.document = USER_LIST if kind == "users" else INVITATION_LIST
        self.items = kind
        self.id_field = "userId" if kind == "users" else "invitationId"
        self.filters = contract.annotated(self.document, "x-filter")
        self.reads = {
            name: spec["read"]
            for name, spec in contract.annotated(self.document, "x-query").items()
        }
        props = contract.resolved(self.document)["properties"]
        self.defaults = {name: props[name].get("default") for name in self.filters}
        order = contract.documents[self.document]["x-order"]
        self.order_by: tuple[str, ...] = tuple(order["by"])
        self.descending = order["direction"] == "descending"
        self.limit_max = int(contract.rule_value(self.document, "limit.maximum"))
        rules = contract.stateful_rules(self.document)
        one, page = (
            ("userList", "userPage") if kind == "users" else ("invitationList", "invitationPage")
        )
        self.rules = ListRules(
            filters=rules[f"{one}.filters"],
            readings=rules[f"{one}.filter-readings"],
            missing=rules["userList.every-user"] if kind == "users" else rules[f"{one}.filters"],
            order=rules[f"{one}.order"],
            limit=rules[f"{page}.limit"],
            has_more=rules[f"{page}.has-more"],
            last_cursor=rules[f"{page}.last-cursor"],
            walk=rules[f"{page}.walk"],
            every_match=rules.get(f"{page}.every-match", rules[f"{page}.walk"]),
        )
        for name, spec in self.filters.items():
            if spec["match"] not in MATCHES or len(spec["field"]) != 1:
                raise ValueError(f"{self.document}: cannot judge the filter {name}: {spec}")

    def query(self, params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        """The query text of parameters given as JSON values (x-query: a comma list, a
        number, a string)."""
        pairs: list[tuple[str, str]] = []
        for name, value in params.items():
            read = self.reads.get(name, "string")
            if read == "comma":
                pairs.append((name, ",".join(value)))
            elif read == "number":
                pairs.append((name, str(int(value))))
            else:
                pairs.append((name, str(value)))
        return tuple(pairs)

    def verdict(
        self, params: Mapping[str, Any], item: Mapping[str, Any], now: datetime | None
    ) -> Verdict:
        """Whether an entity meets every filter given, under every reading (module doc)."""
        verdicts = [
            MATCHES[spec["match"]](
                item.get(spec["field"][0]), params[name], self.defaults[name], now
            )
            for name, spec in self.filters.items()
            if name in params
        ]
        return combined(verdicts)

    # --- one listing ----------------------------------------------------------------------

    def judge_listing(
        self,
        params: Mapping[str, Any],
        items: Sequence[Mapping[str, Any]],
        known: Mapping[str, Mapping[str, Any]],
        now: datetime | None,
        complete: bool,
    ) -> list[Mismatch]:
        """A listing read to its end (or not: ``complete``) with nothing written meanwhile:
        every entity listed meets the filters, every known match is listed, in order."""
        found: list[Mismatch] = []
        listed: set[str] = set()
        for item in items:
            key = str(item.get(self.id_field))
            listed.add(key)
            verdict = self.verdict(params, item, now)
            if verdict.settled is False:
                found.append(
                    Mismatch(self.rules.filters, f"listed {key}", params, _shown(item, self))
                )
            elif verdict.ours is False:
                found.append(
                    Mismatch(self.rules.readings, f"listed {key}", params, _shown(item, self))
                )
        if complete:
            for key, values in known.items():
                if key in listed:
                    continue
                verdict = self.verdict(params, values, now)
                if verdict.ours is True:
                    rule = self.rules.missing if verdict.settled else self.rules.readings
                    found.append(Mismatch(rule, f"{key} not listed", params, "absent"))
        found += self.judge_order(items)
        return found

    def judge_order(self, items: Sequence[Mapping[str, Any]]) -> list[Mismatch]:
        """Each neighbour pair in the x-order (pairs without a readable createdAt skipped)."""
        found: list[Mismatch] = []
        keys = [self._key(item) for item in items]
        for index in range(1, len(items)):
            first, second = keys[index - 1], keys[index]
            one, two = items[index - 1], items[index]
            if first is None or second is None:
                continue
            if (first < second) if self.descending else (first > second):
                subject = f"{one.get(self.id_field)} before {two.get(self.id_field)}"
                found.append(Mismatch(self.rules.order, subject, self.order_by, "out of order"))
        return found

    def _key(self, item: Mapping[str, Any]) -> tuple[Any, ...] | None:
        key: list[Any] = []
        for name in self.order_by:
            value = item.get(name)
            moment = instant(value)
            if moment is not None:
                key.append(moment)
            elif isinstance(value, str) and name == self.id_field:
                key.append(value)
            else:
                return None
        return tuple(key)


@dataclass
class Walk:
    """A walk over a list's pages, judged page by page: each page holds at most ``limit``,
    ``hasMore`` and ``cursor`` agree, no entity comes twice; at the end, none of
    ``must_see`` (known entities that matched from the walk's start to its end) is skipped."""

    listing: Listing
    limit: int
    seen: list[str] = field(default_factory=list)
    wrote: bool = False
    complete: bool = False
    cursor: str | None = None
    _empty_after_more: bool = False

    def page(self, status: int, answer: Any) -> list[Mismatch]:
        """Judge one page; afterwards ``cursor`` is the next page's (None: the walk ends)."""
        rules = self.listing.rules
        self.cursor = None
        if not 200 <= status < 300 or not isinstance(answer, dict):
            return [Mismatch(rules.walk, "page", "a 2xx page", status)]
        items = [i for i in answer.get(self.listing.items) or [] if isinstance(i, dict)]
        found: list[Mismatch] = []
        if len(items) > self.limit:
            found.append(Mismatch(rules.limit, "page size", f"at most {self.limit}", len(items)))
        if self._empty_after_more and not items and not self.wrote:
            found.append(
                Mismatch(
                    rules.has_more, "page after hasMore true", "more entities", "an empty page"
                )
            )
        for item in items:
            key = str(item.get(self.listing.id_field))
            if key in self.seen:
                rule = rules.walk if self.wrote else rules.every_match
                found.append(Mismatch(rule, f"{key} listed again", "once", "twice"))
            self.seen.append(key)
        more, cursor = answer.get("hasMore"), answer.get("cursor")
        if more is True and not cursor:
            found.append(Mismatch(rules.has_more, "hasMore true", "a cursor to follow", cursor))
        if more is False and cursor:
            found.append(Mismatch(rules.last_cursor, "last page cursor", None, cursor))
        if more is not False and isinstance(cursor, str) and cursor:
            self.cursor = cursor
            self._empty_after_more = more is True
        else:
            self.complete = True
        return found

    def finish(self, must_see: Iterable[str], ordered: bool = False) -> list[Mismatch]:
        """After the last page: a known entity that matched throughout and was never listed.
        A walk read to its end with nothing written meanwhile breaks ``every_match``; one
        with writes the walk rule. A walk cut short is judged only if ``ordered``: it went
        past where the x-order puts every one of ``must_see`` (our reading of the order, so
        the inferred walk rule)."""
        if not self.complete and not ordered:
            return []
        rules = self.listing.rules
        rule = rules.every_match if self.complete and not self.wrote else rules.walk
        return [
            Mismatch(rule, f"{key} skipped", "listed once", "never listed")
            for key in sorted(set(must_see) - set(self.seen))
        ]


# --- filters ------------------------------------------------------------------------------


def combined(verdicts: Sequence[Verdict]) -> Verdict:
    """Filters combined: with AND by our reading; settled only when every outcome the
    filters allow, combined with AND or with OR, is the same."""
    if not verdicts:
        return Verdict.sure(True)
    may_match = [v.settled is not False for v in verdicts]
    may_fail = [v.settled is not True for v in verdicts]
    outcomes: set[bool] = set()
    if all(may_match):
        outcomes.add(True)
    if any(may_fail):
        outcomes.add(False)
    if len(verdicts) > 1:
        if any(may_match):
            outcomes.add(True)
        if all(may_fail):
            outcomes.add(False)
    ours = [v.ours for v in verdicts]
    mine = False if False in ours else None if None in ours else True
    return Verdict(mine, outcomes.pop() if len(outcomes) == 1 else None)


def _equals(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    if actual == value:
        return Verdict.sure(True)
    if isinstance(actual, str) and isinstance(value, str) and actual.casefold() == value.casefold():
        return Verdict(False, None)
    return Verdict.sure(False)


def _contains(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    if not isinstance(actual, str):
        return Verdict(str(value) == "", None) if actual is None else Verdict.sure(False)
    if str(value) in actual:
        return Verdict.sure(True)
    if str(value).casefold() in actual.casefold():
        return Verdict(True, None)
    return Verdict.sure(False)


def _in(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    if not value:
        return Verdict(True, None)
    return Verdict.sure(actual in value)


def _days(actual: Any) -> tuple[date, date, date] | None:
    """The UTC day of a timestamp, and the earliest and latest local day it may be."""
    moment = instant(actual)
    if moment is None:
        return None
    return moment.date(), (moment + WEST).date(), (moment + EAST).date()


def _on_or_after(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    days, first = _days(actual), date.fromisoformat(value)
    if days is None:
        return Verdict(False, None)
    utc, earliest, latest = days
    return Verdict(utc >= first, True if earliest >= first else False if latest < first else None)


def _on_or_before(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    days, last = _days(actual), date.fromisoformat(value)
    if days is None:
        return Verdict(False, None)
    utc, earliest, latest = days
    return Verdict(utc <= last, True if latest <= last else False if earliest > last else None)


def _expired(actual: Any, value: Any, default: Any, now: datetime | None) -> Verdict:
    """``default`` ('all') filters nothing out; 'expired' and the other value split by
    whether the expiry has passed. Only the latest time the server answered is known of its
    clock: an expiry within a day after it is judged by our reading alone."""
    if value == default:
        return Verdict.sure(True)
    wants_expired = value == "expired"
    moment = instant(actual)
    if moment is None:
        return Verdict(not wants_expired, None)
    if now is None:
        return Verdict(None, None)
    if moment <= now:
        return Verdict.sure(wants_expired)
    return Verdict(not wants_expired, (not wants_expired) if moment > now + CLOCK_MARGIN else None)


MATCHES = {
    "equals": _equals,
    "contains-ignoring-case": _contains,
    "in": _in,
    "on-or-after": _on_or_after,
    "on-or-before": _on_or_before,
    "expired": _expired,
}
"""x-filter ``match`` -> the verdict of an entity's field value for a parameter's value."""


def _shown(item: Mapping[str, Any], listing: Listing) -> dict[str, Any]:
    """The fields of a listed entity that its filters read, for a message."""
    return {spec["field"][0]: item.get(spec["field"][0]) for spec in listing.filters.values()}
