"""The app's routes of the whole studies resource: wiring, auth, bodies, pages, determinism."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.testclient import TestClient

from contract_tests.create.cases import minimal
from mockserver import Settings, create_app
from mockserver.contract import Contract
from tests.conftest import AUTH, fresh_uid

URL = "/v1/viewer/studies"
JSON = {"Content-Type": "application/json"}


def created(client: TestClient, uid: str | None = None, **fields: object) -> dict[str, object]:
    answer = client.post(URL, json=minimal(studyInstanceUid=uid or fresh_uid(), **fields))
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def calls(study_id: str) -> list[tuple[str, str, dict[str, object]]]:
    """One valid request for each route but create, naming ``study_id``."""
    return [
        ("GET", f"{URL}/{study_id}", {}),
        ("PATCH", f"{URL}/{study_id}", {"json": {"severity": "stat"}}),
        ("GET", URL, {"params": {"limit": 5}}),
        ("POST", f"{URL}/cancel", {"json": {"studyId": study_id}}),
        ("POST", f"{URL}/uncancel", {"json": {"studyId": study_id}}),
        ("POST", f"{URL}/reroute-url", {"json": {"studyId": study_id}}),
    ]


def test_app_studies_every_route_answers_json_of_its_schema(
    client: TestClient, contract: Contract
) -> None:
    study = created(client)
    schemas = ["study", "study", "study-list-page", "study-cancel-response"]
    schemas += ["study-cancel-response", "study-reroute-url-response"]
    for (method, path, options), schema in zip(calls(str(study["studyId"])), schemas, strict=True):
        answer = client.request(method, path, **options)  # type: ignore[arg-type]
        assert answer.status_code == 200, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        assert contract.validator(schema).is_valid(answer.json()), (path, answer.text)


def test_app_studies_every_route_requires_a_bearer_key(client: TestClient) -> None:
    study = created(client)
    for method, path, options in calls(str(study["studyId"])):
        answer = client.request(method, path, headers={"Authorization": ""}, **options)  # type: ignore[arg-type]
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"]["type"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", f"{URL}/stu_{'a' * 32}"), ("POST", f"{URL}/cancel"), ("POST", f"{URL}/uncancel")],
)
def test_app_studies_bodies_are_read_as_safely_as_create(
    client: TestClient, method: str, path: str
) -> None:
    assert client.request(method, path, content=b"{", headers=JSON).status_code == 400
    assert client.request(method, path, content=b"[]", headers=JSON).status_code == 400
    assert client.request(method, path, content=b"{}", headers={}).status_code == 415
    big = b'{"x":"' + b"a" * (1024 * 1024) + b'"}'
    assert client.request(method, path, content=big, headers=JSON).status_code == 413


def test_app_studies_wrong_method_names_the_allowed_ones(client: TestClient) -> None:
    answer = client.post(f"{URL}/stu_{'a' * 32}", json={})
    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}
    assert client.get(f"{URL}/reroute-url").status_code in (400, 404)


def test_app_studies_reroute_url_opens_an_html_page_of_the_study(client: TestClient) -> None:
    study = created(client, studyDescription="CT <Head> & Neck", severity="stat")
    url = client.post(f"{URL}/reroute-url", json={"studyId": study["studyId"]}).json()["url"]
    assert url.startswith("http://testserver/viewer/studies/")
    page = client.get(httpx.URL(url).path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for shown in ("CT &lt;Head&gt; &amp; Neck", str(study["studyInstanceUid"]), "stat"):
        assert shown in page.text
    client.post(f"{URL}/cancel", json={"studyId": study["studyId"]})
    assert "cancelled" in client.get(httpx.URL(url).path).text


def test_app_studies_unknown_token_is_an_html_404(client: TestClient) -> None:
    page = client.get("/viewer/studies/" + "0" * 40)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "reroute-url" in page.text


def test_app_studies_reroute_url_follows_the_host_the_client_used() -> None:
    app = create_app(Settings(seed=1))
    with TestClient(app, base_url="https://viewer.example.test", headers=AUTH) as client:
        study = created(client)
        url = client.post(f"{URL}/reroute-url", json={"studyId": study["studyId"]}).json()["url"]
    assert url.startswith("https://viewer.example.test/viewer/studies/")


def _session(client: TestClient) -> list[bytes]:
    """Every route once, in a fixed order; the answers' bytes."""
    first = created(client, "1.2.3.1", assignedTo="usr_" + "ab" * 16)
    created(client, "1.2.3.2", severity="high")
    answers = [client.get(URL, params={"limit": 1}).content]
    cursor = client.get(URL, params={"limit": 1}).json()["cursor"]
    answers.append(client.get(URL, params={"limit": 1, "cursor": cursor}).content)
    for method, path, options in calls(str(first["studyId"])):
        answers.append(client.request(method, path, **options).content)  # type: ignore[arg-type]
    answers.append(client.get(f"{URL}/by-uid/{first['studyInstanceUid']}").content)
    return answers


def test_app_studies_same_seed_gives_byte_identical_answers_on_every_route() -> None:
    runs: list[list[bytes]] = []
    for seed in (11, 11, 12):
        with TestClient(create_app(Settings(seed=seed)), headers=AUTH) as client:
            runs.append(_session(client))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_app_studies_a_refused_write_changes_nothing(client: TestClient) -> None:
    study = created(client)
    sid = study["studyId"]
    refused: list[Callable[[], httpx.Response]] = [
        lambda: client.patch(f"{URL}/{sid}", json={"severity": "urgent", "metadata": {}}),
        lambda: client.patch(f"{URL}/{sid}", json={"studyInstanceUid": "1.2"}),
        lambda: client.post(f"{URL}/cancel", json={"studyId": sid, "extra": 1}),
        lambda: client.post(f"{URL}/cancel", json={"studyId": sid, "studyInstanceUid": "9.9"}),
    ]
    for send in refused:
        assert send().status_code in (400, 404)
        assert client.get(f"{URL}/{sid}").json() == study


def test_app_studies_reroute_url_expires_after_the_token_lifetime(contract: Contract) -> None:
    now = [100.0]
    lifetime = contract.documents["study-reroute-url-response"]["x-stateful-rules"][
        "reroute.token-lifetime"
    ]["seconds"]
    app = create_app(Settings(seed=3), monotonic=lambda: now[0])
    with TestClient(app, headers=AUTH) as client:
        study = created(client)
        url = client.post(f"{URL}/reroute-url", json={"studyId": study["studyId"]}).json()["url"]
        path = httpx.URL(url).path
        now[0] += lifetime - 0.5
        assert client.get(path).status_code == 200
        now[0] += 0.5
        assert client.get(path).status_code == 404
