"""The plugin's hold on the control plane: ``fail`` and its handle, ``state``, ``journal``, and a
dropped connection as httpx sees it. Each test runs on ``avara_mock`` (in-process, through the
app) and on ``avara_server`` (live, over HTTP): the same calls, the same answers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from mockserver.plugin.control import AdminError
from mockserver.plugin.intercept import InProcessMock
from mockserver.plugin.live import LiveServer
from tests.conftest import fresh_uid
from tests.control_apps import module_servers

AUTH = {"Authorization": "Bearer sk-control"}
STUDIES = "/v1/viewer/studies"
STUDY = "/v1/viewer/studies/{studyId}"
USERS = "/v1/viewer/users"


avara_servers = pytest.fixture(scope="module")(module_servers)


@dataclass(frozen=True)
class Controlled:
    """A mock and the URL its API answers at."""

    mock: InProcessMock | LiveServer
    base_url: str


@pytest.fixture(params=["inprocess", "live"])
def controlled(request: pytest.FixtureRequest) -> Controlled:
    if request.param == "inprocess":
        mock: InProcessMock = request.getfixturevalue("avara_mock")
        return Controlled(mock, mock.base_url)
    server: LiveServer = request.getfixturevalue("avara_server")
    return Controlled(server, server.url)


@pytest.fixture
def http(controlled: Controlled) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=controlled.base_url, headers=AUTH) as client:
        yield client


@pytest.fixture
async def async_http(controlled: Controlled) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=controlled.base_url, headers=AUTH) as client:
        yield client


def study_body(uid: str | None = None) -> dict[str, str]:
    return {
        "severity": "high",
        "studyDescription": "Chest CT",
        "studyInstanceUid": uid or fresh_uid(),
    }


def create(http: httpx.Client, uid: str | None = None) -> httpx.Response:
    return http.post(STUDIES, json=study_body(uid))


# --- fail and its handle --------------------------------------------------------------------------


def test_plugin_control_fault_answers_until_its_with_block_ends(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    body = {"error": {"type": "rate_limited", "message": "slow down"}}
    with mock.fail(
        USERS, method="GET", status=429, headers={"retry-after": "1"}, body=body
    ) as fault:
        answer = http.get(USERS)
        assert (answer.status_code, answer.json()) == (429, body)
        assert answer.headers["retry-after"] == "1"
        assert http.get(f"{USERS}/usr_{'0' * 32}").status_code == 404  # not the path
        (active,) = mock.faults()
        assert active["id"] == fault.id
        assert (fault.hits, fault.fired) == (1, 1)
    assert mock.faults() == []
    assert fault.current() is None
    assert http.get(USERS).status_code == 200
    assert (fault.hits, fault.fired) == (1, 1)  # its last counts, kept on removal


def test_plugin_control_fault_first_and_after_count_matches(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    with mock.fail(USERS, method="GET", status=503, first=1):
        assert [http.get(USERS).status_code for _ in range(3)] == [503, 200, 200]
    with mock.fail(USERS, method="GET", status=502, after=2) as later:
        assert [http.get(USERS).status_code for _ in range(3)] == [200, 200, 502]
        assert (later.hits, later.fired) == (3, 1)


def test_plugin_control_fault_without_with_lasts_until_removed(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    fault = mock.fail(STUDY, method="GET", status=500)
    study = create(http).json()
    assert http.get(f"{STUDIES}/{study['studyId']}").status_code == 500
    assert http.get(f"{STUDIES}/{study['studyId']}").status_code == 500
    assert create(http).status_code == 201  # POST /v1/viewer/studies is not the template
    fault.remove()
    fault.remove()  # gone already: nothing to do
    assert http.get(f"{STUDIES}/{study['studyId']}").status_code == 200


def test_plugin_control_fault_with_no_action_answers_500_on_a_glob(
    controlled: Controlled, http: httpx.Client
) -> None:
    with controlled.mock.fail("/v1/viewer/*", method="GET", first=2):
        assert http.get(USERS).status_code == 500
        assert http.get(STUDIES).status_code == 500
        assert http.get(USERS).status_code == 200


def test_plugin_control_delay_fault_answers_late(
    controlled: Controlled, http: httpx.Client
) -> None:
    with controlled.mock.fail(USERS, method="GET", delay_ms=80, first=1):
        started = time.monotonic()
        assert http.get(USERS).status_code == 200
        assert time.monotonic() - started >= 0.08


def test_plugin_control_clear_faults_and_reset_remove_every_fault(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    mock.fail(USERS, status=500)
    mock.fail(STUDIES, status=500)
    assert len(mock.faults()) == 2
    mock.clear_faults()
    assert mock.faults() == []
    mock.fail(USERS, status=500)
    mock.reset()
    assert mock.faults() == []
    assert http.get(USERS).status_code == 200


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"status": 99}, "respond.status"),
        ({"status": 500, "probability": 1.5}, "probability"),
        ({"status": 500, "first": 0}, "first"),
        ({"drop": "sideways"}, "drop"),
    ],
)
def test_plugin_control_bad_fault_raises_admin_error_naming_the_field(
    controlled: Controlled, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(AdminError) as caught:
        controlled.mock.fail(USERS, **options)
    assert caught.value.status == 400
    assert field in [entry["field"] for entry in caught.value.errors]
    assert field in str(caught.value)
    assert caught.value.message in str(caught.value)
    assert controlled.mock.faults() == []


def test_plugin_control_two_triggers_are_refused(controlled: Controlled) -> None:
    with pytest.raises(AdminError) as caught:
        controlled.mock.fail(USERS, status=500, first=1, after=1)
    assert caught.value.status == 400
    assert {"first", "after"} & {entry["field"] for entry in caught.value.errors}
    assert controlled.mock.faults() == []


# --- dropped connections --------------------------------------------------------------------------


def test_plugin_control_drop_before_is_remote_protocol_error_and_no_write(
    controlled: Controlled, http: httpx.Client
) -> None:
    uid = fresh_uid()
    with (
        controlled.mock.fail(STUDIES, method="POST", drop="before"),
        pytest.raises(httpx.RemoteProtocolError),
    ):
        create(http, uid)
    assert [s for s in controlled.mock.studies if s["studyInstanceUid"] == uid] == []
    assert create(http, uid).status_code == 201


def test_plugin_control_drop_after_is_remote_protocol_error_after_the_write(
    controlled: Controlled, http: httpx.Client
) -> None:
    uid = fresh_uid()
    with (
        controlled.mock.fail(STUDIES, method="POST", drop="after"),
        pytest.raises(httpx.RemoteProtocolError),
    ):
        create(http, uid)
    assert [s["studyInstanceUid"] for s in controlled.mock.studies] == [uid]
    assert create(http, uid).status_code == 409
    (dropped, conflict) = controlled.mock.journal(method="POST")
    assert (dropped["status"], conflict["status"]) == (None, 409)


@pytest.mark.anyio
async def test_plugin_control_drop_reaches_async_clients_as_remote_protocol_error(
    controlled: Controlled, async_http: httpx.AsyncClient
) -> None:
    uid = fresh_uid()
    with (
        controlled.mock.fail(STUDIES, method="POST", drop="after", first=1),
        pytest.raises(httpx.RemoteProtocolError),
    ):
        await async_http.post(STUDIES, json=study_body(uid))
    assert (await async_http.post(STUDIES, json=study_body(uid))).status_code == 409
    assert [s["studyInstanceUid"] for s in controlled.mock.studies] == [uid]


# --- state ----------------------------------------------------------------------------------------


def test_plugin_control_state_exports_and_loads_the_world(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    empty = mock.state
    assert empty["studies"] == []
    study = create(http).json()
    full = mock.state
    assert [s["studyId"] for s in full["studies"]] == [study["studyId"]]
    mock.state = empty
    assert mock.studies == []
    assert http.get(f"{STUDIES}/{study['studyId']}").status_code == 404
    mock.state = full
    assert mock.state == full
    assert http.get(f"{STUDIES}/{study['studyId']}").json() == study


def test_plugin_control_bad_state_raises_and_keeps_the_world(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    create(http)
    before = mock.state
    with pytest.raises(AdminError) as caught:
        mock.state = {**before, "studies": "none"}
    assert caught.value.status == 400
    assert "studies" in [entry["field"] for entry in caught.value.errors]
    assert mock.state == before


# --- the journal ----------------------------------------------------------------------------------


def test_plugin_control_journal_lists_filters_and_clears(
    controlled: Controlled, http: httpx.Client
) -> None:
    mock = controlled.mock
    uid = fresh_uid()
    study = create(http, uid).json()
    http.get(f"{STUDIES}/{study['studyId']}")
    http.get(f"{STUDIES}/stu_{'0' * 32}", params={"x": "1"})
    posted, fetched, missing = mock.journal()
    assert (posted["method"], posted["path"], posted["status"]) == ("POST", STUDIES, 201)
    assert posted["body"]["studyInstanceUid"] == uid
    assert posted["answer"]["studyId"] == study["studyId"]
    assert posted["headers"]["authorization"] != AUTH["Authorization"]
    assert "sk-control" not in str(posted["headers"])
    assert posted["headers"]["host"] == httpx.URL(controlled.base_url).netloc.decode()
    assert posted["durationMs"] >= 0
    assert missing["status"] == 404
    assert missing["query"] == "x=1"
    assert mock.journal(method="get") == [fetched, missing]
    assert mock.journal(status=404) == [missing]
    assert mock.journal(path=STUDIES + "/*") == [fetched, missing]
    assert mock.journal(since=posted["id"]) == [fetched, missing]
    mock.clear_journal()
    assert mock.journal() == []
    http.get(USERS)
    (again,) = mock.journal()
    assert again["id"] > missing["id"]  # ids keep counting after a clear


def test_plugin_control_journal_bad_filter_names_it(controlled: Controlled) -> None:
    with pytest.raises(AdminError) as caught:
        controlled.mock.journal(since="last tuesday")
    assert caught.value.status == 400
    assert "since" in str(caught.value)


def test_plugin_control_journal_leaves_out_the_control_plane(controlled: Controlled) -> None:
    mock = controlled.mock
    mock.fail(USERS, status=500).remove()
    assert mock.state["version"] == 1
    assert mock.journal() == []


def test_plugin_control_requests_stay_the_httpx_requests_sent(avara_mock: InProcessMock) -> None:
    with httpx.Client(base_url=avara_mock.base_url, headers=AUTH) as http:
        with avara_mock.fail(USERS, method="GET", status=503, first=1):
            http.get(USERS)
        http.get(USERS)
    first, _ = avara_mock.requests
    assert isinstance(first, httpx.Request)
    assert first.headers["authorization"] == AUTH["Authorization"]  # as sent, not redacted
    assert [e["status"] for e in avara_mock.journal()] == [503, 200]
    avara_mock.reset()
    assert avara_mock.requests == []
    assert avara_mock.journal() == []


@pytest.mark.avara(admin_token="sk-admin")
def test_plugin_control_admin_token_of_the_settings_is_sent(avara_mock: InProcessMock) -> None:
    with avara_mock.fail(USERS, status=503):
        assert len(avara_mock.faults()) == 1
        refused = httpx.get(avara_mock.base_url + "/_mock/faults")  # without the token
        assert refused.status_code == 401
    avara_mock.reset()


@pytest.mark.avara(stateless=True)
def test_plugin_control_stateless_mock_resets_faults_and_journal(avara_mock: InProcessMock) -> None:
    with httpx.Client(base_url=avara_mock.base_url, headers=AUTH) as http:
        avara_mock.fail(USERS, method="GET", status=503)
        assert http.get(USERS).status_code == 503
        with pytest.raises(AdminError) as caught:
            avara_mock.state  # noqa: B018 - the property is the call
        assert caught.value.status == 409
        avara_mock.reset()
        assert avara_mock.faults() == []
        assert avara_mock.journal() == []
        assert http.get(USERS).status_code == 200


def test_plugin_control_live_calls_pass_by_a_respx_router(
    avara_server: LiveServer, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get("https://other.example.test/").respond(204)
    with avara_server.fail(USERS, status=503) as fault:
        assert avara_server.faults() == [fault.current()]
        assert httpx.get("https://other.example.test/").status_code == 204
    avara_server.reset()  # what the fixture does, while respx refuses every unrouted request
    assert avara_server.journal() == []
