"""The seeded clinic: realistic, valid, reproducible people; studies follow their users."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.contract import Contract
from mockserver.errors import NotFound
from mockserver.resources.studies import StudyService
from mockserver.services import studies_of
from mockserver.world.clinic import STAFF, Clinic
from mockserver.world.references import ReferenceFactory
from tests.conftest import AUTH
from tests.state_world import created, invited

URL = "/v1/viewer/studies"
STRANGER = "usr_" + "5a" * 16


def test_clinic_starts_with_valid_users_and_invitations(contract: Contract) -> None:
    clinic = Clinic(contract, seed=3)
    users, invitations = list(clinic.users.records()), list(clinic.invitations.records())
    assert [u["level"] for u in users].count("owner") == 1
    assert len(users) == sum(count for _, count in STAFF)
    assert all(contract.validator("user").is_valid(user) for user in users)
    assert all(contract.validator("invitation").is_valid(i) for i in invitations)
    assert {i["userId"] for i in invitations} == {u["userId"] for u in users} - {clinic.owner_id}
    assert len({u["email"] for u in users}) == len(users)


def test_clinic_same_seed_same_people(contract: Contract) -> None:
    def people(seed: int) -> bytes:
        return orjson.dumps(list(Clinic(contract, seed).users.records()))

    assert people(3) == people(3)
    assert people(3) != people(4)


def test_clinic_reset_forgets_who_joined(contract: Contract) -> None:
    clinic = Clinic(contract, seed=3)
    start = len(clinic.users)
    clinic.join(ReferenceFactory(3).user(STRANGER), "2026-01-05T09:00:00.000Z")
    assert len(clinic.users) == start + 1
    assert contract.validator("user").is_valid(clinic.users.get(STRANGER))
    clinic.reset()
    assert len(clinic.users) == start
    assert clinic.reference(STRANGER) is None


def test_clinic_study_assigned_to_a_clinic_user_shows_them(contract: Contract) -> None:
    clinic = Clinic(contract, seed=5)
    member = next(u for u in clinic.users.records() if u["level"] == "member")
    with TestClient(create_app(Settings(seed=5)), headers=AUTH) as client:
        study = client.post(
            URL,
            json={
                "severity": "high",
                "studyDescription": "CT",
                "studyInstanceUid": "1.2.3",
                "assignedTo": member["userId"],
            },
        ).json()
    assert study["assignedTo"] == {
        field: member[field] for field in contract.resolved("user-reference")["properties"]
    }


def test_clinic_changed_user_shows_in_their_studies(contract: Contract) -> None:
    clinic = Clinic(contract, seed=5)
    studies = studies_of(Settings(seed=5), contract, clinic=clinic)
    assert isinstance(studies, StudyService)
    member = next(u for u in clinic.users.records() if u["level"] == "member")
    body = {"severity": "high", "studyDescription": "CT", "assignedTo": member["userId"]}
    created = [
        orjson.loads(studies.create({**body, "studyInstanceUid": f"1.2.{n}"}, "k")) for n in (1, 2)
    ]
    member["lastName"] = "Renamed"
    clinic.users.replace(member)
    clinic.changed(member["userId"])
    for study in created:
        now = orjson.loads(studies.retrieve(study["studyId"]))
        assert now["assignedTo"]["lastName"] == "Renamed"
        assert now["updatedAt"] == study["updatedAt"]


def test_clinic_unknown_user_joins_or_is_refused_with_strict_references(
    contract: Contract,
) -> None:
    body = {"severity": "high", "studyDescription": "CT", "assignedTo": STRANGER}
    clinic = Clinic(contract, seed=5)
    studies_of(Settings(seed=5), contract, clinic=clinic).create(
        {**body, "studyInstanceUid": "1.2.1"}, "k"
    )
    assert clinic.reference(STRANGER) is not None
    strict = Clinic(contract, seed=5)
    refusing = studies_of(Settings(seed=5, strict_references=True), contract, clinic=strict)
    with pytest.raises(NotFound, match=STRANGER):
        refusing.create({**body, "studyInstanceUid": "1.2.1"}, "k")
    assert strict.reference(STRANGER) is None


@pytest.mark.parametrize("on_file", [False, True])
def test_clinic_joining_user_whose_fake_email_is_taken_gets_a_tagged_one(
    contract: Contract, tmp_path: Path, on_file: bool
) -> None:
    """A study assigned to an unknown user makes them join with a fake e-mail; when another
    user has that e-mail already, the joiner gets it tagged, unique and still valid (a
    state file's UNIQUE e-mail would otherwise make the create a 500)."""
    app = create_app(Settings(seed=5, state=f"{tmp_path}/state.db" if on_file else None))
    clinic = app.state.services.clinic
    fake = ReferenceFactory(5).user(STRANGER)
    with TestClient(app, headers=AUTH) as client:
        invited(client, fake["email"])
        study = created(client, "1.2.9", assignedTo=STRANGER)
    joined = clinic.users.get(STRANGER)
    emails = [user["email"].casefold() for user in clinic.users.records()]
    assert len(emails) == len(set(emails))
    assert joined["email"] != fake["email"]
    assert joined["email"].endswith("@" + fake["email"].split("@")[1])
    assert study["assignedTo"]["email"] == joined["email"]
    assert contract.validator("user").is_valid(joined)
