"""The official ``avara`` SDK across the whole Viewer world: a user invited, found, assigned a
study, renamed (the study shows it), the invitation revoked; an ephemeral session opened.

Runs live and in-process (the ``target`` fixture of conftest.py), sync and async, strict.
"""

from __future__ import annotations

import html
import uuid

import httpx
import pytest
from avara import AsyncAvara, Avara
from starlette.testclient import TestClient

from tests.sdk_targets import Target, media_type, new_uid


def invitee() -> dict[str, object]:
    """A new person to invite: a fresh e-mail each time (an e-mail is invited once)."""
    tag = uuid.uuid4().hex[:12]
    return {
        "email": f"m.chen.{tag}@example.com",
        "first_name": "Michael",
        "last_name": f"Chen{tag}",
        "clinic_role": "Radiologist",
        "level": "member",
        "can_manage_studies": True,
        "has_dashboard_access": False,
        "phone_number": "5551234567",
    }


def opened(target: Target, url: str) -> httpx.Response:
    """GET a URL the mock answered, as a browser would (over the socket or in-process)."""
    if target.app is None:
        return httpx.get(url, timeout=10)
    page: httpx.Response = TestClient(target.app, base_url=target.base_url).get(url)
    return page


def test_sdk_world_invite_assign_rename_revoke(target: Target, sdk_client: Avara) -> None:
    person = invitee()
    user = sdk_client.viewer.users.invite(**person)  # type: ignore[arg-type]
    assert (user.email, user.invited_source, user.level) == (person["email"], "api", "member")
    listed = [u.user_id for u in sdk_client.viewer.users.list(email=str(person["email"]))]
    assert listed == [user.user_id]
    assert sdk_client.viewer.users.retrieve(user.user_id).last_name == person["last_name"]
    (invitation,) = sdk_client.viewer.users.invitations.list(user_id=user.user_id)
    assert (invitation.status, invitation.user_id) == ("sent", user.user_id)

    study = sdk_client.viewer.studies.create(
        severity="high",
        study_description="CT Head",
        study_instance_uid=new_uid(),
        assigned_to=user.user_id,
    )
    assert study.assigned_to is not None
    assert study.assigned_to.last_name == person["last_name"]
    assert [s.study_id for s in sdk_client.viewer.studies.list(assigned_to=user.user_id)] == [
        study.study_id
    ]

    renamed = sdk_client.viewer.users.update(user.user_id, last_name="Chen-Ortiz")
    assert renamed.last_name == "Chen-Ortiz"
    shown = sdk_client.viewer.studies.retrieve(study.study_id).assigned_to
    assert shown is not None
    assert shown.last_name == "Chen-Ortiz"

    revoked = sdk_client.viewer.users.invitations.revoke(invitation_id=invitation.invitation_id)
    assert revoked.success
    status = sdk_client.viewer.users.invitations.retrieve(invitation.invitation_id).status
    assert status == "revoked"


@pytest.mark.anyio
async def test_sdk_world_async_invite_and_assign(
    target: Target, async_sdk_client: AsyncAvara
) -> None:
    person = invitee()
    user = await async_sdk_client.viewer.users.invite(**person)  # type: ignore[arg-type]
    found = [u.user_id async for u in async_sdk_client.viewer.users.list(last_name="chen")]
    assert user.user_id in found
    study = await async_sdk_client.viewer.studies.create(
        severity="stat", study_description="MR Knee", study_instance_uid=new_uid()
    )
    assigned = await async_sdk_client.viewer.studies.update(
        study.study_id, assigned_to=user.user_id
    )
    assert assigned.assigned_to is not None
    assert assigned.assigned_to.email == person["email"]
    await async_sdk_client.viewer.users.update(user.user_id, first_name="Mike")
    again = await async_sdk_client.viewer.studies.retrieve(study.study_id)
    assert again.assigned_to is not None
    assert again.assigned_to.first_name == "Mike"
    revoked = await async_sdk_client.viewer.users.invitations.revoke(user_id=user.user_id)
    assert revoked.success


def test_sdk_world_ephemeral_session_opens_in_the_mock(target: Target, sdk_client: Avara) -> None:
    session = sdk_client.viewer.ephemeral_sessions.create(
        retrieval_id="order-<12345>",
        hanging_protocol={"layout": "1x2", "viewport_assignments": ["Axial T1", "Axial T2"]},
    )
    assert session.url.startswith(target.base_url + "/viewer/sessions/")
    page = opened(target, session.url)
    assert page.status_code == 200, page.text
    assert media_type(page.headers) == "text/html"
    assert html.escape("order-<12345>") in page.text
    assert "1x2" in page.text
    assert opened(target, target.base_url + "/viewer/sessions/" + "0" * 40).status_code == 404


def test_sdk_world_seeded_clinic_answers_on_the_first_call(sdk_client: Avara) -> None:
    levels = {user.level for user in sdk_client.viewer.users.list()}
    assert {"owner", "admin", "member"} <= levels
