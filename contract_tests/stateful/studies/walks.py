"""The studies part's lists: one filtered list read on a single page, and walks over every
page of a filtered list with writes (creates, updates, cancels) between the pages.

Every list filters by the sequence's token (``studyDescription`` is a contains-match, stated),
maybe in another case than the descriptions, plus a few other filters; the studies model says
which of the sequence's studies must be listed and whether a page's last study has a match
after it, and the invariants judge the pages by that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import MultipleResults, multiple, precondition, rule

from contract_tests.stateful.observations import ListSeen, PageSeen, StudySeen, WalkSeen
from contract_tests.stateful.studies.calls import STUDIES, StudyCalls, document_of
from contract_tests.transport.call import Call

LISTED = 2
"""Studies a sequence makes before it lists them (an order needs two)."""
WALK_LIMIT = 5
"""Pages of a walk hold at most this many studies (and fewer than its matches)."""
PAGES_BEYOND = 3
"""Pages a walk may read beyond what the model's matches need before it is cut off."""


class StudyWalks(StudyCalls):
    """The list and walk rules of the studies part."""

    def _filters(self, data: st.DataObject, most: int = 2) -> tuple[dict[str, Any], bool]:
        """Filters scoped by the token, plus up to ``most`` of the others; whether the
        description filter is written in another case than the descriptions."""
        choices: dict[str, st.SearchStrategy[Any]] = {
            "severity": self.draws.severity(),
            "studyViewerStatus": self.draws.status(),
            "isCancelled": st.booleans(),
            "assignedTo": st.sampled_from([None, *self.users]),
            "expressCustomerId": st.sampled_from([None, *self.customers]),
        }
        names = [name for name in self.study_rules.filters if name in choices]
        chosen = data.draw(st.lists(st.sampled_from(names), max_size=most, unique=True))
        filters: dict[str, Any] = {name: data.draw(choices[name]) for name in chosen}
        descriptions = [
            str(s.shown.get("studyDescription", "")) for s in self.studies_model.studies.values()
        ]
        text = self.token
        longer = [d for d in descriptions if d.startswith(self.token) and len(d) > len(self.token)]
        if bool(longer) and data.draw(st.booleans()):
            picked = data.draw(st.sampled_from(longer))
            text = picked[: data.draw(st.integers(len(self.token) + 1, len(picked)))]
        changed = data.draw(st.booleans())
        filters["studyDescription"] = text.upper() if changed else text
        return filters, changed

    @precondition(lambda self: len(self.studies_model.studies) >= LISTED)
    @rule(data=st.data())
    def list(self, data: st.DataObject) -> None:
        """List with filters (one page holds every match): exactly the model's matches."""
        model = self.studies_model
        filters, changed = self._filters(data)
        limit = self.draws.limit_max
        query = (*model.query(filters), ("limit", str(limit)))
        answer = self.call(Call(f"{STUDIES}.list", query=query))
        document = document_of(answer)
        listed = document.get("studies") if document is not None else None
        items = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
        foreign = tuple(
            str(s.get("studyId"))
            for s in items
            if model.known(str(s.get("studyId"))) is None and not model.holds(s, filters)
        )
        known_ids = tuple(
            str(s.get("studyId")) for s in items if model.known(str(s.get("studyId")))
        )
        expected = tuple(s.study_id for s in model.matches(filters))[:limit]
        differ = (set(expected) ^ set(known_ids)) | set(foreign)
        rules = {i: model.difference_rule(self._shown(i, items), filters, changed) for i in differ}
        self.judge(ListSeen((self.last,), expected, known_ids + foreign, rules, foreign))
        for item in items:
            known = model.known(str(item.get("studyId")))
            if known is None:
                continue
            seen = StudySeen(
                (self.last,),
                "read",
                item,
                tuple(model.read_expectations(known)),
                self.study_rules.timestamps,
                "study.read-your-writes",
            )
            self.judge(seen)
            model.adopt(known, item)

    def _shown(self, study_id: str, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """A study as the model knows it, else as the list showed it."""
        known = self.studies_model.known(study_id)
        if known is not None:
            return known.shown
        return next((s for s in items if str(s.get("studyId")) == study_id), {})

    @precondition(lambda self: len(self.studies_model.studies) >= LISTED)
    @rule(target=StudyCalls.studies, data=st.data())
    def walk(self, data: st.DataObject) -> MultipleResults[str]:
        """Walk every page of a filtered list, with writes between the pages."""
        model = self.studies_model
        filters, _ = self._filters(data, most=data.draw(st.sampled_from([0, 0, 1])))
        must = {s.study_id for s in model.matches(filters)}
        limit = data.draw(self.draws.limit(min(WALK_LIMIT, max(1, len(must) - 1))))
        pages: list[PageSeen] = []
        created: list[str] = []
        cursor: str | None = None
        edge: Mapping[str, Any] | None = None
        writes = 0
        cut = ""
        while True:
            bound = len(model.matches(filters)) // limit + PAGES_BEYOND + writes
            if len(pages) >= bound:
                cut = f"still hasMore after {len(pages)} pages of {limit}"
                break
            query = (*model.query(filters), ("limit", str(limit)))
            query += (("cursor", cursor),) if cursor is not None else ()
            answer = self.call(Call(f"{STUDIES}.list", query=query))
            document = document_of(answer)
            if document is None:
                status = "no answer" if answer is None else f"{answer.status}"
                cut = f"page {len(pages) + 1} answered {status}"
                break
            items = document.get("studies")
            items = [s for s in items if isinstance(s, dict)] if isinstance(items, list) else []
            ids = tuple(str(s.get("studyId")) for s in items if model.known(str(s.get("studyId"))))
            # An empty page after a cursor ends where the page before it ended.
            last = edge = items[-1] if items else edge
            follow = (
                None
                if last is not None and model.known(str(last.get("studyId"))) is None
                else model.follows(filters, last)
            )
            has_more, cursor = document.get("hasMore"), document.get("cursor")
            pages.append(PageSeen(self.last, ids, limit, has_more, cursor, follow))
            if has_more is False or (has_more is None and not cursor):
                break
            if not isinstance(cursor, str) or not cursor:
                cut = f"page {len(pages)} has hasMore {has_more!r} but cursor {cursor!r}"
                break
            if data.draw(st.integers(0, 3)) == 0:
                writes += 1
                made = self._write_between(data)
                created += [made] if made else []
                must &= {s.study_id for s in model.matches(filters)}
        self.judge(
            WalkSeen(
                tuple(p.exchange for p in pages) or (self.last,), tuple(pages), frozenset(must), cut
            )
        )
        return multiple(*created)

    def _write_between(self, data: st.DataObject) -> str | None:
        """A write during a walk: a new study, an update, a cancel or an uncancel."""
        ids = list(self.studies_model.studies)
        kind = data.draw(
            st.sampled_from(["create", "update", "cancel", "uncancel"] if ids else ["create"])
        )
        if kind == "create":
            return self._create(data)
        study = data.draw(st.sampled_from(ids))
        if kind == "update":
            self._update(study, data)
        else:
            self._transition(study, "cancel" if kind == "cancel" else "uncancel", data)
        return None
