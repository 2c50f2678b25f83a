"""The list steps of the people part: lists with filters read to their end, and walks over
small pages (``people_lists`` judges both).

The users list is always scoped by the sequence's token (every last name the machine writes
holds it; ``lastName`` is a contains-match, stated), so a server full of other users lists
only the sequence's. The invitations list has no text filter to scope by: it is read to
its end when that takes a few pages, and otherwise only what it lists is judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from contract_tests.stateful.people.entities import Entity, Mismatch
from contract_tests.stateful.people.lists import Listing, Walk
from contract_tests.stateful.people.steps import (
    INVITATION_LISTS,
    INVITATION_WALKS,
    INVITATIONS,
    USER_LISTS,
    USER_WALKS,
    USERS,
    Steps,
    items,
    ok,
)
from contract_tests.stateful.studies.values import instant
from contract_tests.transport.call import Call

LIST_PAGES = 3
"""Pages a list (at the largest page size) follows before it counts as incomplete."""
WALK_BEYOND = 5
"""Pages a users walk may read beyond one per known user before it is cut off."""
INVITATION_WALK_PAGES = 25
"""Pages an invitations walk reads at most (it has no token to scope by)."""
TIMES = ("createdAt", "updatedAt")


class ListSteps:
    """The steps of the users and invitations lists, on a ``Steps``' plumbing; ``write``
    is the step a users walk may run between two pages."""

    def __init__(self, steps: Steps, write: Callable[[st.DataObject], None]) -> None:
        self.steps = steps
        self.write = write

    def list_users(self, data: st.DataObject) -> None:
        """List users with filters, scoped by the token: exactly the known matches."""
        steps = self.steps
        known = {k: e.values for k, e in steps.model.users.items()}
        self._list(steps.user_listing, self._user_filters(data), known)
        steps.judge(USER_LISTS)

    def list_invitations(self, data: st.DataObject) -> None:
        """List invitations with filters: exactly the known matches."""
        steps = self.steps
        known = {k: e.values for k, e in steps.model.invitations.items()}
        self._list(steps.invitation_listing, self._invitation_filters(data), known)
        steps.judge(INVITATION_LISTS)

    def _list(
        self, listing: Listing, params: dict[str, Any], known: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Read a list at the largest page size to its end (or ``LIST_PAGES`` pages)."""
        steps = self.steps
        params = {**params, "limit": listing.limit_max}
        listed: list[dict[str, Any]] = []
        cursor: str | None = None
        complete = False
        for _ in range(LIST_PAGES):
            query = listing.query({**params, **({"cursor": cursor} if cursor else {})})
            answer = steps.send(Call(f"{_resource(listing)}.list", query=query))
            if answer is None or not ok(answer):
                status = None if answer is None else answer.status
                steps.note([Mismatch(listing.rules.filters, "list", "a 2xx page", status)])
                return
            page = items(answer, listing.items)
            steps.model.saw(*(item.get(name) for item in page for name in TIMES))
            listed += page
            document = answer.document if isinstance(answer.document, dict) else {}
            cursor = document.get("cursor") if document.get("hasMore") is not False else None
            if not isinstance(cursor, str) or not cursor:
                complete = True
                break
        now = steps.model.latest
        steps.note(listing.judge_listing(params, listed, known, now, complete))

    def _user_filters(self, data: st.DataObject) -> dict[str, Any]:
        """The token (a lastName contains-match) and up to two of the other filters, drawn
        from what the known users hold (a part of a first name, maybe in another case), so
        that a list usually has matches to judge."""
        draws = self.steps.draws
        users = [u.values for u in self.steps.model.users.values()]
        choices: dict[str, st.SearchStrategy[Any]] = {
            "level": st.sampled_from(draws.all_levels),
            "invitedSource": st.sampled_from(draws.sources),
        }
        if users:
            chosen = st.sampled_from(users)
            choices["email"] = chosen.map(lambda user: str(user.get("email")))
            choices["firstName"] = chosen.flatmap(lambda user: _part(str(user.get("firstName"))))
        names = data.draw(st.lists(st.sampled_from(sorted(choices)), max_size=2, unique=True))
        params: dict[str, Any] = {"lastName": self.steps.token}
        for name in names:
            params[name] = data.draw(choices[name])
        return params

    def _invitation_filters(self, data: st.DataObject) -> dict[str, Any]:
        """Up to three of the invitation filters, drawn near what the known invitations hold
        (a known user, the days of their createdAt)."""
        steps, draws = self.steps, self.steps.draws
        days = sorted(
            moment.date()
            for e in steps.model.invitations.values()
            if (moment := instant(e.values.get("createdAt"))) is not None
        )
        choices: dict[str, st.SearchStrategy[Any]] = {
            "status": _statuses(draws.statuses),
            "expired": st.sampled_from(draws.expiries),
        }
        if steps.model.users:
            choices["userId"] = st.sampled_from(steps.user_ids()) | draws.unknown_id("userId")
        if days:
            choices["startDate"] = draws.days_around(days[0])
            choices["endDate"] = draws.days_around(days[-1])
        names = data.draw(st.lists(st.sampled_from(sorted(choices)), max_size=3, unique=True))
        params: dict[str, Any] = {name: data.draw(choices[name]) for name in names}
        if params.get("startDate", "") > params.get("endDate", "9999"):
            del params["endDate"]
        return params

    def walk_users(self, data: st.DataObject) -> None:
        """Walk the token's users a few at a time, maybe updating one between pages: no
        one twice, no one skipped who matched throughout."""
        steps = self.steps
        model, listing = steps.model, steps.user_listing
        params: dict[str, Any] = {"lastName": steps.token}
        matched = self._matching(listing, params, model.users)
        limit = data.draw(steps.draws.limit(max(1, len(matched) - 1)))
        write = data.draw(st.booleans()) and bool(model.users)
        walk = Walk(listing, limit)
        for page in range(len(model.users) + WALK_BEYOND):
            cursor = {"cursor": walk.cursor} if walk.cursor else {}
            answer = steps.send(
                Call(f"{USERS}.list", query=listing.query({**params, "limit": limit, **cursor}))
            )
            if answer is None:
                return
            steps.note(walk.page(answer.status, answer.document))
            if walk.cursor is None:
                break
            if write and page == 0:
                kept = steps.aside()
                self.write(data)
                steps.resume(kept)
                walk.wrote = True
        matched &= self._matching(listing, params, model.users)
        steps.note(walk.finish(matched))
        steps.judge(USER_WALKS)

    def walk_invitations(self, data: st.DataObject) -> None:
        """Walk the invitations a few at a time, maybe by status, nothing written meanwhile:
        none twice, none of the known matches skipped. With no token to scope by, the walk
        stops a page after it has gone past the oldest known match, when the pages come
        newest first (x-order) as far as they went: the sequence's invitations are the
        newest, so a known match not listed by then was skipped (judged by our reading of
        the order: the inferred walk rule)."""
        steps = self.steps
        model, listing = steps.model, steps.invitation_listing
        params: dict[str, Any] = {}
        if data.draw(st.booleans()):
            params["status"] = data.draw(_statuses(steps.draws.statuses))
        must = {
            key
            for key, entity in model.invitations.items()
            if listing.verdict(params, entity.values, model.latest).settled is True
        }
        created = [instant(model.invitations[key].values.get("createdAt")) for key in must]
        oldest = min((moment for moment in created if moment is not None), default=None)
        limit = data.draw(steps.draws.limit(max(1, len(must) - 1)))
        walk = Walk(listing, limit)
        times: list[datetime] = []
        past = False
        for _ in range(INVITATION_WALK_PAGES):
            cursor = {"cursor": walk.cursor} if walk.cursor else {}
            query = listing.query({**params, "limit": limit, **cursor})
            answer = steps.send(Call(f"{INVITATIONS}.list", query=query))
            if answer is None:
                return
            steps.note(walk.page(answer.status, answer.document))
            page = [instant(i.get("createdAt")) for i in items(answer, listing.items)]
            times += [moment for moment in page if moment is not None]
            if walk.cursor is None or past:
                break
            past = oldest is None or (bool(times) and times[-1] < oldest)
        newest_first = all(a >= b for a, b in pairwise(times))
        steps.note(walk.finish(must, ordered=past and newest_first))
        steps.judge(INVITATION_WALKS)

    def _matching(
        self, listing: Listing, params: Mapping[str, Any], entities: Mapping[str, Entity]
    ) -> set[str]:
        """The known entities our reading of the filters lists."""
        now = self.steps.model.latest
        return {
            k for k, e in entities.items() if listing.verdict(params, e.values, now).ours is True
        }


def _resource(listing: Listing) -> str:
    return USERS if listing.kind == "users" else INVITATIONS


def _part(name: str) -> st.SearchStrategy[str]:
    """A part of a name, as written or in swapped case."""
    bounds = st.tuples(st.integers(0, len(name)), st.integers(0, len(name))).map(sorted)
    parts = bounds.map(lambda b: name[b[0] : b[1]])
    return parts.flatmap(lambda part: st.sampled_from([part, part.swapcase()]))


def _statuses(statuses: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    """A non-empty list of invitation statuses (an empty one filtering nothing out is our
    reading, so it is never sent)."""
    return st.lists(st.sampled_from(statuses), min_size=1, unique=True)
