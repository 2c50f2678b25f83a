"""The invariants a mixed workload (tests/load.py) must leave behind, checked on the server.

After the run, with no load: the whole list is walked (largest pages, following cursors),
every acknowledged study is retrieved by id, every contested and every refused Study
Instance UID is looked up by UID. Each check returns the problems it found, as sentences;
an empty list is a pass.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.load import PATH, Connection, Ledger, Study, differences, listed

CHECK_THREADS = 8
SHOWN = 5


@dataclass(frozen=True)
class Verdict:
    """What the checks found: the problems, and the figures they are about."""

    problems: list[str]
    listed: int
    acknowledged: int
    existing: int
    counts: dict[str, int]

    def summary(self) -> str:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(self.counts.items()))
        head = "PASS" if not self.problems else f"FAIL ({len(self.problems)} problems)"
        lines = [
            f"{head}: {self.listed} studies listed = {self.existing} before the run + "
            f"{self.acknowledged} acknowledged creates; answers: {counts}",
            *(f"  {text}" for text in self.problems[:20]),
        ]
        return "\n".join(lines)


def twice(values: Iterable[str]) -> list[str]:
    return sorted(value for value, n in Counter(values).items() if n > 1)


def list_problems(ledger: Ledger, studies: list[dict[str, Any]]) -> list[str]:
    """No study lost or duplicated; nothing listed that no create explains; fields as written."""
    problems: list[str] = []
    ids = [study["studyId"] for study in studies]
    if doubled := twice(ids):
        problems.append(f"{len(doubled)} study ids listed twice: {doubled[:SHOWN]}")
    if doubled := twice(study["studyInstanceUid"] for study in studies):
        problems.append(f"{len(doubled)} UIDs listed twice: {doubled[:SHOWN]}")
    shown = {study["studyId"]: study for study in studies}
    if lost := sorted(set(ledger.studies) - set(shown)):
        problems.append(f"{len(lost)} acknowledged studies are not listed: {lost[:SHOWN]}")
    if gone := sorted(ledger.existing - set(shown)):
        problems.append(f"{len(gone)} studies listed before the run are gone: {gone[:SHOWN]}")
    extra = set(shown) - set(ledger.studies) - ledger.existing
    unexplained = sorted(
        sid for sid in extra if shown[sid]["studyInstanceUid"] not in ledger.unknown_uids
    )
    if unexplained:
        problems.append(
            f"{len(unexplained)} studies listed that no acknowledged create (nor one left "
            f"unanswered) made: {unexplained[:SHOWN]}"
        )
    expected = len(ledger.existing) + len(ledger.studies)
    if not expected <= len(studies) <= expected + len(ledger.unknown_uids):
        problems.append(
            f"the list holds {len(studies)} studies; {len(ledger.existing)} before the run "
            f"+ {len(ledger.studies)} acknowledged creates "
            f"(+ at most {len(ledger.unknown_uids)} unanswered) = {expected}"
        )
    for sid, study in ledger.studies.items():
        if sid in shown:
            problems.extend(differences(study, shown[sid]))
    return problems


def retrieve_problems(base_url: str, studies: list[Study]) -> list[str]:
    """Every acknowledged study retrievable by id, with its last acknowledged writes."""
    problems: list[str] = []
    lock = threading.Lock()

    def part(share: list[Study]) -> None:
        connection = Connection(base_url)
        found: list[str] = []
        try:
            for study in share:
                answer = connection.call("GET", f"{PATH}/{study.study_id}")
                if answer.status != 200:
                    found.append(f"retrieve of acknowledged {study.study_id}: {answer.status}")
                    continue
                found.extend(differences(study, answer.json()))
        finally:
            connection.close()
        with lock:
            problems.extend(found)

    threads = [
        threading.Thread(target=part, args=(studies[n::CHECK_THREADS],))
        for n in range(CHECK_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def uid_problems(base_url: str, ledger: Ledger) -> list[str]:
    """A contested UID created at most once, and found as that study; a refused UID that no
    create was acknowledged for (nor left unanswered) not stored."""
    problems: list[str] = []
    acked = {study.uid: sid for sid, study in ledger.studies.items()}
    connection = Connection(base_url)
    try:
        for uid, made in sorted(ledger.contested.items()):
            if len(made) > 1:
                problems.append(f"contested UID {uid} was created {len(made)} times: {made}")
        looked = set(ledger.contested) | ledger.refused_uids
        for uid in sorted(looked):
            answer = connection.call("GET", f"{PATH}/by-uid/{uid}")
            if uid in acked:
                found = answer.json().get("studyId") if answer.status == 200 else answer.status
                if found != acked[uid]:
                    problems.append(f"by-uid {uid} gives {found}, acknowledged as {acked[uid]}")
            elif uid not in ledger.unknown_uids and answer.status != 404:
                problems.append(f"by-uid {uid}, never acknowledged, answered {answer.status}")
    finally:
        connection.close()
    return problems


def check(base_url: str, ledger: Ledger) -> Verdict:
    """Every invariant of the run, checked on the server at ``base_url`` (maybe restarted)."""
    studies = listed(base_url)
    problems = [
        *ledger.problems,
        *list_problems(ledger, studies),
        *retrieve_problems(base_url, list(ledger.studies.values())),
        *uid_problems(base_url, ledger),
    ]
    return Verdict(
        problems, len(studies), len(ledger.studies), len(ledger.existing), dict(ledger.counts)
    )
