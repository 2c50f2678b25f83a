"""The state document: export -> import -> export is byte-identical, seeded or not, and what a
load brings (clock, ids, clinic) carries on as the exported mock would have."""

from __future__ import annotations

import orjson
import pytest

from mockserver import Settings, create_app
from mockserver.control.state import export_state, load_state
from mockserver.world.clock import SteppingClock, SystemClock
from tests.state_world import (
    STUDIES,
    USERS,
    created,
    invited,
    lived_in,
    mock,
    ok,
    put_state,
    state_bytes,
)


@pytest.mark.parametrize("seed", [11, None])
def test_state_export_import_export_is_byte_identical_after_every_kind_of_change(
    seed: int | None,
) -> None:
    with mock(seed=seed) as client:
        lived_in(client)
        exported = state_bytes(client)
        assert ok(put_state(client, exported))["success"] is True
        assert state_bytes(client) == exported


@pytest.mark.parametrize("seed", [11, None])
def test_state_loaded_into_a_fresh_mock_exports_the_same_bytes(seed: int | None) -> None:
    with mock(seed=seed) as busy, mock(seed=seed) as fresh:
        lived_in(busy)
        exported = state_bytes(busy)
        ok(put_state(fresh, exported))
        assert state_bytes(fresh) == exported


def test_state_loaded_into_a_mock_of_another_mode_exports_the_same_bytes() -> None:
    with mock(seed=11) as seeded, mock() as unseeded:
        lived_in(seeded)
        exported = state_bytes(seeded)
        ok(put_state(unseeded, exported))
        assert state_bytes(unseeded) == exported


def test_state_answers_the_api_as_the_exporting_mock_did() -> None:
    with mock(seed=11) as busy, mock() as fresh:
        lived_in(busy)
        ok(put_state(fresh, state_bytes(busy)))
        for path in (STUDIES, USERS, f"{USERS}/invitations"):
            assert (
                fresh.get(path, params={"limit": 100}).json()
                == busy.get(path, params={"limit": 100}).json()
            )
        revoked = orjson.loads(state_bytes(busy))["revokedAccess"]
        assert len(revoked) == 1
        again = fresh.post(f"{USERS}/revoke-access", json={"userId": revoked[0]}).json()
        assert "already" in again["message"]


def test_state_seeded_clock_goes_on_from_its_next_instant() -> None:
    with mock(seed=11) as busy, mock(seed=11) as fresh:
        created(busy, "2.25.1")
        exported = orjson.loads(state_bytes(busy))
        assert exported["clock"] == {
            "kind": "stepping",
            "next": "2026-01-05T09:00:01.000Z",
            "stepMs": 1000,
        }
        ok(put_state(fresh, state_bytes(busy)))
        assert created(fresh, "2.25.2")["createdAt"] == created(busy, "2.25.2")["createdAt"]


def test_state_system_clock_keeps_nothing_and_a_stepping_one_replaces_it() -> None:
    with mock() as client:
        exported = orjson.loads(state_bytes(client))
        assert exported["clock"] == {"kind": "system"}
        exported["clock"] = {"kind": "stepping", "next": "2030-02-03T04:05:06.007Z", "stepMs": 0}
        ok(put_state(client, orjson.dumps(exported)))
        assert created(client, "2.25.1")["createdAt"] == "2030-02-03T04:05:06.007Z"
        assert created(client, "2.25.2")["createdAt"] == "2030-02-03T04:05:06.007Z"
        assert ok(client.post("/_mock/reset"))["success"] is True
        assert orjson.loads(state_bytes(client))["clock"] == {"kind": "system"}


def test_state_a_load_replaces_the_clock_every_service_reads() -> None:
    app = create_app(Settings(seed=2))
    services = app.state.services
    document = export_state(services)
    document["clock"] = {"kind": "system"}
    load_state(services, document)
    assert services.clock is not None
    assert isinstance(services.clock.current, SystemClock)
    services.reset()
    assert isinstance(services.clock.current, SteppingClock)


@pytest.mark.parametrize("seed", [11, None])
def test_state_new_ids_after_a_load_never_collide_with_loaded_ones(seed: int | None) -> None:
    with mock(seed=seed) as client:
        lived_in(client)
        exported = state_bytes(client)
        loaded = orjson.loads(exported)
        ok(client.post("/_mock/reset"))
        ok(put_state(client, exported))
        study = created(client, "2.25.9001")
        user = invited(client, "new.person@example.org")
        invitations = ok(client.get(f"{USERS}/invitations", params={"limit": 100}))
    assert study["studyId"] not in {s["studyId"] for s in loaded["studies"]}
    assert study["studyId"] > max(s["studyId"] for s in loaded["studies"])
    assert user["userId"] not in {u["userId"] for u in loaded["users"]}
    ids = [invitation["invitationId"] for invitation in invitations["invitations"]]
    assert len(ids) == len(set(ids)) == len(loaded["invitations"]) + 1


def test_state_seeded_mocks_that_load_the_same_state_make_the_same_ids() -> None:
    with mock(seed=11) as busy, mock(seed=11) as first, mock(seed=11) as second:
        lived_in(busy)
        exported = state_bytes(busy)
        created(first, "2.25.77")  # a history of its own before the load
        for client in (first, second):
            ok(put_state(client, exported))
        assert created(first, "2.25.5") == created(second, "2.25.5")
        assert invited(first, "x@example.org") == invited(second, "x@example.org")


def test_state_hand_written_ids_past_the_sequence_leave_room_for_new_ones() -> None:
    with mock(seed=11) as client:
        document = orjson.loads(state_bytes(client))
        created(client, "2.25.1")
        study = orjson.loads(state_bytes(client))["studies"][0]
        document["studies"] = [dict(study, studyId="stu_" + "f" * 32)]
        ok(put_state(client, orjson.dumps(document)))
        made = created(client, "2.25.2")["studyId"]
    assert len(made) == len("stu_") + 32
    assert made != "stu_" + "f" * 32


def test_state_reset_after_a_load_goes_back_to_the_seeded_clinic() -> None:
    with mock(seed=11) as client:
        start = state_bytes(client)
        document = orjson.loads(start)
        document["clinicId"] = "0f8fad5b-d9cb-469f-a165-70867728950e"
        document["users"] = document["users"][:1]
        document["invitations"] = []
        ok(put_state(client, orjson.dumps(document)))
        assert len(ok(client.get(USERS))["users"]) == 1
        ok(client.post("/_mock/reset"))
        assert state_bytes(client) == start


def test_state_loaded_studies_follow_their_users_changes() -> None:
    with mock(seed=11) as busy, mock() as client:
        lived_in(busy)
        ok(put_state(client, state_bytes(busy)))
        study = next(s for s in ok(client.get(STUDIES))["studies"] if s["assignedTo"])
        user_id = study["assignedTo"]["userId"]
        ok(client.patch(f"{USERS}/{user_id}", json={"firstName": "Changed"}))
        again = ok(client.get(f"{STUDIES}/{study['studyId']}"))
    assert again["assignedTo"]["firstName"] == "Changed"
    assert again["updatedAt"] == study["updatedAt"]
