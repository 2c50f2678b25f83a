"""A mock with a lived-in world, for the tests of the state document and the admin routes:
studies created, updated, cancelled and uncancelled, users invited, changed and revoked,
invitations changed and revoked, all through the API."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from tests.conftest import AUTH

STUDIES, USERS = "/v1/viewer/studies", "/v1/viewer/users"
STATE = "/_mock/state"
UNKNOWN_USER = "usr_" + "ab" * 16
JSON = {"Content-Type": "application/json"}
PERSON = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "level": "member",
    "canManageStudies": True,
    "hasDashboardAccess": False,
    "clinicRole": "Radiologist",
}
"""An invite body but its e-mail."""


def mock(**options: Any) -> TestClient:
    """A fresh mock in-process with a client that sends a bearer key."""
    return TestClient(create_app(Settings(**options)), headers=AUTH)


def created(client: httpx.Client, uid: str, **fields: Any) -> dict[str, Any]:
    """A new study, asserted created."""
    body = {"studyInstanceUid": uid, "severity": "normal", "studyDescription": "MRI Brain"}
    answer = client.post(STUDIES, json={**body, **fields})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def invited(client: httpx.Client, email: str, **fields: Any) -> dict[str, Any]:
    """A new user of the clinic (and their pending invitation), asserted made."""
    answer = client.post(USERS, json={**PERSON, "email": email, **fields})
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


def ok(answer: Any) -> Any:
    """The JSON of a successful answer."""
    assert answer.status_code < 300, answer.text
    return answer.json()


def lived_in(client: TestClient) -> None:
    """Every kind of change the state document must keep, made through the API."""
    members = [u for u in ok(client.get(USERS, params={"limit": 100}))["users"]]
    member = next(u for u in members if u["level"] == "member")
    first = created(client, "2.25.1001", assignedTo=member["userId"], metadata={"a": "1"})
    second = created(client, "2.25.1002", assignedTo=UNKNOWN_USER, severity="stat")
    created(client, "2.25.1003", expressCustomerId="cus_" + "cd" * 16)
    ok(client.patch(f"{STUDIES}/{first['studyId']}", json={"studyViewerStatus": "complete"}))
    ok(client.post(f"{STUDIES}/cancel", json={"studyId": second["studyId"]}))
    ok(client.post(f"{STUDIES}/cancel", json={"studyInstanceUid": "2.25.1003"}))
    ok(client.post(f"{STUDIES}/uncancel", json={"studyInstanceUid": "2.25.1003"}))
    ada = invited(client, "ada@example.org")
    grace = invited(client, "grace@example.org", firstName="Grace", level="admin",
                    hasDashboardAccess=True)  # fmt: skip
    ok(client.patch(f"{USERS}/{member['userId']}", json={"lastName": "Renamed"}))
    pending = ok(client.get(f"{USERS}/invitations", params={"status": "sent"}))["invitations"]
    by_user = {invitation["userId"]: invitation for invitation in pending}
    ada_invitation = by_user[ada["userId"]]["invitationId"]
    ok(client.patch(f"{USERS}/invitations/{ada_invitation}", json={"firstName": "Augusta"}))
    grace_invitation = by_user[grace["userId"]]["invitationId"]
    ok(client.post(f"{USERS}/invitations/revoke", json={"invitationId": grace_invitation}))
    ok(client.post(f"{USERS}/revoke-access", json={"userId": ada["userId"]}))


def state_bytes(client: TestClient) -> bytes:
    """GET /_mock/state, asserted answered."""
    answer = client.get(STATE)
    assert answer.status_code == 200, answer.text
    body: bytes = answer.content
    return body


def put_state(client: TestClient, body: bytes) -> Any:
    """PUT /_mock/state with a JSON body, as it was answered."""
    return client.put(STATE, content=body, headers=JSON)
