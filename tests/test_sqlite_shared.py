"""Two mocks on one state file in one process, standing in for two workers: what one writes
the other reads at once, and a unique key (UID, e-mail) sent to both is taken once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sqlite_world import two_mocks
from tests.state_world import PERSON, STUDIES, USERS, created, invited

BODY = {"severity": "normal", "studyDescription": "CT Chest"}


def test_sqlite_shared_a_write_in_one_is_read_in_the_other(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    study = created(one, "2.25.701")
    assert other.get(f"{STUDIES}/{study['studyId']}").json() == study
    changed = one.patch(f"{STUDIES}/{study['studyId']}", json={"severity": "stat"}).json()
    assert other.get(f"{STUDIES}/by-uid/2.25.701").json() == changed
    assert other.post(f"{STUDIES}/cancel", json={"studyId": study["studyId"]}).status_code == 200
    assert one.get(f"{STUDIES}/{study['studyId']}").json()["isCancelled"] is True
    user = invited(other, "seen@example.org")
    assert one.get(f"{USERS}/{user['userId']}").json() == user
    listed = one.get(STUDIES, params={"isCancelled": "true"}).json()["studies"]
    assert [s["studyId"] for s in listed] == [study["studyId"]]


def test_sqlite_shared_the_same_uid_from_both_is_created_once(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    body = {**BODY, "studyInstanceUid": "2.25.702"}
    statuses = sorted(c.post(STUDIES, json=body).status_code for c in (one, other))
    assert statuses == [201, 409]
    assert len(one.get(STUDIES).json()["studies"]) == 1


def test_sqlite_shared_the_same_email_from_both_is_invited_once(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db")
    answers = [c.post(USERS, json={**PERSON, "email": "Twice@Example.org"}) for c in (one, other)]
    answers.append(one.post(USERS, json={**PERSON, "email": "twice@example.ORG"}))
    assert [a.status_code for a in answers] == [200, 409, 409]
    emails = [u["email"] for u in other.get(USERS, params={"limit": 100}).json()["users"]]
    assert [e.casefold() for e in emails].count("twice@example.org") == 1


def test_sqlite_shared_seeded_mocks_never_make_the_same_id_or_instant(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db", seed=9)
    made = [created(c, f"2.25.8{i}{k}") for i in range(5) for k, c in enumerate((one, other))]
    assert len({s["studyId"] for s in made}) == len(made)
    assert len({s["createdAt"] for s in made}) == len(made)
    listed = one.get(STUDIES, params={"limit": 100}).json()["studies"]
    assert [s["studyId"] for s in listed] == [s["studyId"] for s in reversed(made)]


def test_sqlite_shared_a_reset_in_one_is_seen_by_the_other(tmp_path: Path) -> None:
    one, other = two_mocks(tmp_path / "state.db", seed=4)
    created(one, "2.25.901")
    invited(one, "gone@example.org")
    before = other.get(USERS, params={"limit": 100}).json()["users"]
    assert other.post("/_mock/reset").status_code == 200
    assert one.get(f"{STUDIES}/by-uid/2.25.901").status_code == 404
    after = one.get(USERS, params={"limit": 100}).json()["users"]
    assert len(after) == len(before) - 1


def test_sqlite_shared_a_taken_email_the_check_missed_is_409_by_the_constraint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the other worker invited the address between this one's check and its write."""
    one, other = two_mocks(tmp_path / "state.db")
    first = invited(one, "raced@example.org")
    clinic = other.app.state.services.clinic  # type: ignore[attr-defined]
    monkeypatch.setattr(clinic.users, "find", lambda match: None)
    answer = other.post(USERS, json={**PERSON, "email": "RACED@example.org"})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["errors"][0]["rule"] == "invite.email-taken"
    monkeypatch.undo()
    users = one.get(USERS, params={"limit": 100}).json()["users"]
    assert [u["userId"] for u in users if u["email"].casefold() == "raced@example.org"] == [
        first["userId"]
    ]
    invitations = one.get(f"{USERS}/invitations", params={"limit": 100}).json()["invitations"]
    assert sum(i["email"].casefold() == "raced@example.org" for i in invitations) == 1
