"""The pytest plugin, used as a downstream project uses it: test files run by an inner pytest.

Every test writes a downstream-style test file with ``pytester``, runs it (in this process when
nothing leaks, in a subprocess when the environment or the interpreter must be fresh) and
checks its outcomes. The inner tests assert on what the plugin gives them, so a broken plugin
fails them. The outer environment is cleared of ``AVARA_*`` variables first: the inner runs see
only what a test sets.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.checks import CHECKS
from tests.conftest import live_server

# pytester restores sys.modules after every in-process run: imported once here, these heavy
# modules are kept, so each inner run does not import (and assertion-rewrite) them again.
SHARED_MODULES = [
    importlib.import_module(name)
    for name in (
        "avara",
        "faker",
        "hypothesis.internal.observability",
        "mockserver.app",
        "mockserver.factories",
        "mockserver.intercept",
        "mockserver.live",
        "contract_tests.strategies",
    )
]
INNER_OPTIONS = ("-p", "anyio", "--strict-markers", "-W", "error", "-p", "no:cacheprovider")
SUBPROCESS_TIMEOUT = 120.0
CLOSED_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.fixture(autouse=True)
def _no_avara_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs (in-process and subprocesses) start without the developer's AVARA_* vars."""
    for name in [name for name in os.environ if name.startswith("AVARA_")]:
        monkeypatch.delenv(name)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest in this process (fast; pytester restores sys.modules afterwards)."""
    return pytester.runpytest(*INNER_OPTIONS, *args)


def run_isolated(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest as ``python -m pytest`` in a fresh interpreter, with this environment."""
    return pytester.runpytest_subprocess(*INNER_OPTIONS, *args, timeout=SUBPROCESS_TIMEOUT)


def records(path: Path) -> dict[str, Any]:
    """What inner tests wrote with ``record(name, value)``: one JSON pair a line."""
    pairs = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return dict(pairs)


RECORDER = """
import json
import os
from pathlib import Path


def record(name, value):
    with Path(os.environ["AVARA_TEST_RECORD"]).open("a", encoding="utf-8") as out:
        out.write(json.dumps([name, value]) + "\\n")
"""


# --- the SDK built as production code builds it ----------------------------------------------


def test_plugin_sync_sdk_without_base_url_or_key_reaches_avara_mock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_downstream="""
        import json
        import os
        import sys

        from avara import Avara

        LAZY = ("mockserver.app", "mockserver.intercept", "mockserver.live", "mockserver.factories",
                "starlette", "uvicorn")


        def test_0_startup_imports_nothing_heavy():
            assert [name for name in LAZY if name in sys.modules] == []


        def test_1_production_client_is_answered_by_the_mock(avara_mock):
            assert "AVARA_BASE_URL" not in os.environ
            assert os.environ["AVARA_API_KEY"] == "avara-mock"
            assert avara_mock.base_url == "https://api.avarasoftware.com"
            assert avara_mock.requests == []
            with Avara(max_retries=0) as client:
                study = client.viewer.studies.create(
                    severity="high", study_description="Chest CT", study_instance_uid="1.2.840.1"
                )
                fetched = client.viewer.studies.retrieve(study.study_id)
            assert fetched.study_id == study.study_id
            assert fetched.study_instance_uid == "1.2.840.1"
            created, retrieved = avara_mock.requests
            assert created.method == "POST"
            assert str(created.url) == "https://api.avarasoftware.com/v1/viewer/studies"
            assert created.url.path == "/v1/viewer/studies"
            assert created.headers["authorization"] == "Bearer avara-mock"
            assert json.loads(created.content) == {
                "severity": "high",
                "studyDescription": "Chest CT",
                "studyInstanceUid": "1.2.840.1",
            }
            assert retrieved.method == "GET"
            assert retrieved.url.path == "/v1/viewer/studies/" + study.study_id
            (stored,) = avara_mock.studies
            assert stored["studyId"] == study.study_id
            assert stored["studyInstanceUid"] == "1.2.840.1"
            assert stored["severity"] == "high"


        def test_2_key_is_unset_again_after_the_test():
            assert "AVARA_API_KEY" not in os.environ
        """
    )
    result = run_isolated(pytester)
    result.assert_outcomes(passed=3, failed=0)


def test_plugin_follows_avara_base_url_of_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVARA_BASE_URL", "http://mock.example.test/gateway/")
    monkeypatch.setenv("AVARA_API_KEY", "sk-mine")
    pytester.makepyfile(
        test_downstream="""
        from avara import Avara


        def test_env_base_url_is_routed(avara_mock, avara_base_url):
            assert avara_base_url == "http://mock.example.test/gateway/"
            assert avara_mock.base_url == "http://mock.example.test/gateway"
            with Avara(max_retries=0) as client:
                study = client.viewer.studies.create(
                    severity="stat", study_description="Head CT", study_instance_uid="1.2.3"
                )
            (request,) = avara_mock.requests
            assert str(request.url) == "http://mock.example.test/gateway/v1/viewer/studies"
            assert request.headers["authorization"] == "Bearer sk-mine"  # the user's key is kept
            assert avara_mock.studies[0]["studyId"] == study.study_id
        """
    )
    run(pytester).assert_outcomes(passed=1, failed=0)


def test_plugin_async_sdk_reaches_avara_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        import json

        import pytest
        from avara import AsyncAvara, Avara


        clients = []


        @pytest.mark.anyio
        async def test_async_client_fixture(avara_async_client, avara_mock):
            clients.append(avara_async_client)
            assert not avara_async_client.is_closed()
            assert str(avara_async_client.base_url).rstrip("/") == avara_mock.base_url
            study = await avara_async_client.viewer.studies.create(
                severity="normal", study_description="MRI Brain", study_instance_uid="1.2.4"
            )
            fetched = await avara_async_client.viewer.studies.retrieve(study.study_id)
            assert fetched.study_description == "MRI Brain"
            assert [r.method for r in avara_mock.requests] == ["POST", "GET"]
            assert json.loads(avara_mock.requests[0].content)["studyInstanceUid"] == "1.2.4"
            assert [s["studyId"] for s in avara_mock.studies] == [study.study_id]


        @pytest.mark.anyio
        async def test_async_client_built_by_production_code(avara_mock):
            async with AsyncAvara(max_retries=0) as client:
                study = await client.viewer.studies.create(
                    severity="stat", study_description="CT Head", study_instance_uid="1.2.5"
                )
            (request,) = avara_mock.requests
            assert str(request.url) == "https://api.avarasoftware.com/v1/viewer/studies"
            assert request.headers["authorization"] == "Bearer avara-mock"
            assert avara_mock.studies[0]["studyId"] == study.study_id


        @pytest.mark.anyio
        async def test_sync_client_inside_an_async_test(avara_mock):
            with Avara(max_retries=0) as client:
                study = client.viewer.studies.create(
                    severity="high", study_description="XR Chest", study_instance_uid="1.2.6"
                )
            assert avara_mock.studies[0]["studyId"] == study.study_id
            assert len(avara_mock.requests) == 1


        def test_the_fixture_client_was_closed_after_its_test():
            (client,) = clients
            assert client.is_closed()
        """
    )
    run(pytester).assert_outcomes(passed=4, failed=0)


# --- the SDK client fixture and the mock's refusals ------------------------------------------


def test_plugin_avara_client_bad_create_raises_bad_request_naming_the_field(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_downstream="""
        import avara
        import pytest


        clients = []


        def test_client_is_wired_to_the_mock(avara_client, avara_mock, avara_api_key):
            clients.append(avara_client)
            assert not avara_client.is_closed()
            assert str(avara_client.base_url).rstrip("/") == avara_mock.base_url
            assert avara_client.api_key == avara_api_key == "avara-mock"
            study = avara_client.viewer.studies.create(
                severity="high", study_description="Chest CT", study_instance_uid="1.2.7"
            )
            assert study.study_id.startswith("stu_")
            assert avara_mock.studies[0]["studyId"] == study.study_id


        def test_bad_create(avara_client, avara_mock):
            with pytest.raises(avara.BadRequestError) as caught:
                avara_client.viewer.studies.create(
                    severity="high", study_description="", study_instance_uid="1.2.8"
                )
            assert caught.value.status_code == 400
            error = caught.value.body["error"]
            assert [entry["field"] for entry in error["errors"]] == ["studyDescription"]
            assert "studyDescription" in error["message"]
            assert len(avara_mock.requests) == 1
            assert avara_mock.studies == []
            (earlier,) = clients
            assert earlier is not avara_client
            assert earlier.is_closed()  # the fixture closed the first test's client
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


def test_plugin_marker_api_keys_refuse_other_keys(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVARA_API_KEY", "sk-mine")
    pytester.makepyfile(
        test_downstream="""
        import os

        import avara
        import pytest
        from avara import Avara

        UID = dict(severity="high", study_description="Chest CT")


        @pytest.mark.avara(api_keys=("good",))
        def test_only_good_is_accepted(avara_client, avara_mock, avara_api_key, avara_settings):
            assert avara_settings.api_keys == ("good",)
            assert avara_api_key == "good"
            assert os.environ["AVARA_API_KEY"] == "good"  # sk-mine would be refused
            with Avara(api_key="other", max_retries=0) as stranger:
                with pytest.raises(avara.AuthenticationError) as caught:
                    stranger.viewer.studies.create(**UID, study_instance_uid="1.2.9")
            assert caught.value.status_code == 401
            assert avara_mock.studies == []
            study = avara_client.viewer.studies.create(**UID, study_instance_uid="1.2.10")
            with Avara(max_retries=0) as from_environment:
                assert from_environment.viewer.studies.retrieve(study.study_id).study_id == (
                    study.study_id
                )
            assert [s["studyId"] for s in avara_mock.studies] == [study.study_id]


        @pytest.mark.avara(api_keys=["good", "sk-mine"])
        def test_an_accepted_key_of_the_environment_is_kept(avara_mock, avara_settings):
            assert avara_settings.api_keys == ("good", "sk-mine")
            assert os.environ["AVARA_API_KEY"] == "sk-mine"
            with Avara(max_retries=0) as client:
                client.viewer.studies.create(**UID, study_instance_uid="1.2.11")
            assert avara_mock.requests[0].headers["authorization"] == "Bearer sk-mine"


        def test_without_marker_any_key_works(avara_mock):
            assert os.environ["AVARA_API_KEY"] == "sk-mine"
            with Avara(max_retries=0) as client:
                client.viewer.studies.create(**UID, study_instance_uid="1.2.12")
            assert len(avara_mock.studies) == 1
        """
    )
    run(pytester).assert_outcomes(passed=3, failed=0)


def test_plugin_marker_lenient_accepts_unknown_fields(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        import json

        import avara
        import pytest

        FIELDS = dict(severity="normal", study_description="MRI Knee")


        @pytest.mark.avara(lenient=True)
        def test_lenient(avara_client, avara_mock, avara_settings):
            assert avara_settings.lenient is True
            study = avara_client.viewer.studies.create(
                **FIELDS, study_instance_uid="1.2.13", extra_body={"unknownField": 1}
            )
            assert json.loads(avara_mock.requests[0].content)["unknownField"] == 1
            assert avara_mock.studies[0]["studyId"] == study.study_id


        def test_strict_by_default(avara_client, avara_mock, avara_settings):
            assert avara_settings.lenient is False
            with pytest.raises(avara.BadRequestError) as caught:
                avara_client.viewer.studies.create(
                    **FIELDS, study_instance_uid="1.2.13", extra_body={"unknownField": 1}
                )
            assert caught.value.status_code == 400
            (entry,) = caught.value.body["error"]["errors"]
            assert entry["field"] == "unknownField"
            assert entry["rule"] == "body.unknown-field"
            assert avara_mock.studies == []
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


def test_plugin_resets_the_mock_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        UID = "1.2.840.10008.99"
        seen = []


        def create(client):
            return client.viewer.studies.create(
                severity="high", study_description="Chest CT", study_instance_uid=UID
            )


        def test_first(avara_client, avara_mock):
            assert avara_mock.requests == []
            assert avara_mock.studies == []
            create(avara_client)
            assert len(avara_mock.requests) == 1
            assert len(avara_mock.studies) == 1
            seen.append(avara_mock)


        def test_second_starts_empty_and_takes_the_same_uid(avara_client, avara_mock):
            assert avara_mock is not seen[0]
            assert avara_mock.requests == []
            assert avara_mock.studies == []
            study = create(avara_client)  # no 409: the first test's study is gone
            assert avara_mock.studies[0]["studyId"] == study.study_id
            assert avara_mock.studies[0]["studyInstanceUid"] == UID


        def test_reset_forgets_studies_and_journal(avara_client, avara_mock):
            create(avara_client)
            avara_mock.reset()
            assert avara_mock.requests == []
            assert avara_mock.studies == []
            create(avara_client)
            assert len(avara_mock.requests) == 1
            assert len(avara_mock.studies) == 1
        """
    )
    run(pytester).assert_outcomes(passed=3, failed=0)


# --- seeds ---------------------------------------------------------------------------------


SEEDED = (
    RECORDER
    + """
import pytest


def outcome(client, mock, requests, studies):
    study = client.viewer.studies.create(**requests.sdk())
    stored = mock.studies[0]
    return [
        study.study_id,
        stored["createdAt"],
        stored["createdByApiKey"],
        requests()["studyInstanceUid"],
        studies()["studyId"],
    ]


def test_option(avara_client, avara_mock, avara_request_factory, avara_study_factory):
    record("option", outcome(avara_client, avara_mock, avara_request_factory, avara_study_factory))


@pytest.mark.avara(seed=3)
def test_marker(avara_client, avara_mock, avara_request_factory, avara_study_factory):
    record("marker", outcome(avara_client, avara_mock, avara_request_factory, avara_study_factory))
"""
)


def test_plugin_avara_seed_makes_runs_reproducible(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_seeded=SEEDED)
    runs: list[dict[str, Any]] = []
    for seed, runner in (("7", run), ("7", run_isolated), ("3", run)):
        path = pytester.path / f"record-{len(runs)}.jsonl"
        monkeypatch.setenv("AVARA_TEST_RECORD", str(path))
        runner(pytester, "--avara-seed", seed).assert_outcomes(passed=2, failed=0)
        runs.append(records(path))
    first, again, other = runs
    assert first["option"][0].startswith("stu_")
    # the same seed in another interpreter: the same ids, people and factory output
    assert first == again
    assert first["option"][1] == other["option"][1] == "2026-01-05T09:00:00.000Z"  # seeded clock
    for position in (0, 2, 3, 4):  # study id, the key's fake details, factory UID, factory id
        assert first["option"][position] != other["option"][position]
    # the marker's seed wins over the option, and means what the option means
    assert first["marker"] == other["marker"] == other["option"]


# --- the live server -----------------------------------------------------------------------


def test_plugin_avara_server_is_shared_emptied_and_stopped(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pytester.path / "servers.jsonl"
    monkeypatch.setenv("AVARA_TEST_RECORD", str(path))
    pytester.makepyfile(
        test_live=RECORDER
        + """
import re

import httpx
import pytest

BODY = {"severity": "high", "studyDescription": "Chest CT", "studyInstanceUid": "1.2.14"}
servers = []


def create(server, key="anything"):
    return httpx.post(
        server.url + "/v1/viewer/studies", json=BODY, headers={"Authorization": "Bearer " + key}
    )


def test_first(avara_server):
    assert re.fullmatch(r"http://127\\.0\\.0\\.1:[0-9]+", avara_server.url)
    answer = create(avara_server)
    assert answer.status_code == 201
    assert [s["studyId"] for s in avara_server.studies] == [answer.json()["studyId"]]
    servers.append(avara_server)
    record("first", avara_server.url)


def test_second_reuses_the_server_emptied(avara_server):
    assert avara_server is servers[0]
    assert avara_server.studies == []
    assert create(avara_server).status_code == 201  # the same UID again: no 409
    assert len(avara_server.studies) == 1
    record("second", avara_server.url)


@pytest.mark.avara(api_keys=("good",))
def test_other_settings_get_another_server(avara_server, avara_servers):
    assert avara_server is not servers[0]
    assert avara_server.url != servers[0].url
    assert len(avara_servers) == 2
    assert create(avara_server, "bad").status_code == 401
    assert create(avara_server, "good").status_code == 201
    record("other", avara_server.url)
"""
    )
    run(pytester).assert_outcomes(passed=3, failed=0)
    urls = records(path)
    assert urls["first"] == urls["second"] != urls["other"]
    assert [t.name for t in threading.enumerate() if t.name == "avara-mock"] == []
    for url in set(urls.values()):
        address = httpx.URL(url)
        assert address.port is not None
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address.host, address.port), timeout=2).close()


# --- factories -----------------------------------------------------------------------------


def test_plugin_factories_make_valid_requests_and_studies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_factories="""
        import httpx

        from mockserver.contract import Contract

        STUDY = Contract.load().validator("study")
        USER = "usr_" + "ab" * 16


        def valid(study):
            errors = [error.message for error in STUDY.iter_errors(study)]
            assert errors == [], errors
            return True


        def test_request_factory_is_accepted(avara_request_factory, avara_mock):
            body = avara_request_factory()
            assert set(body) == {"severity", "studyDescription", "studyInstanceUid"}
            answer = httpx.post(
                avara_mock.base_url + "/v1/viewer/studies",
                json=body,
                headers={"Authorization": "Bearer anything"},
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["studyInstanceUid"] == body["studyInstanceUid"]
            assert valid(answer.json())


        def test_request_factory_overrides_and_fresh_uids(avara_request_factory):
            customer = "cus_" + "0" * 32
            wire = avara_request_factory(studyDescription="Wire", expressCustomerId=customer)
            sdk = avara_request_factory(study_description="SDK", severity="stat")
            assert wire["studyDescription"] == "Wire"
            assert wire["expressCustomerId"] == customer
            assert sdk["studyDescription"] == "SDK"
            assert sdk["severity"] == "stat"
            assert "study_description" not in sdk
            assert wire["studyInstanceUid"] != sdk["studyInstanceUid"]


        def test_request_factory_sdk_kwargs(avara_request_factory, avara_client, avara_mock):
            kwargs = avara_request_factory.sdk(assigned_to=USER, metadata={"k": "v"})
            assert {"severity", "study_description", "study_instance_uid"} <= set(kwargs)
            study = avara_client.viewer.studies.create(**kwargs)
            assert study.study_instance_uid == kwargs["study_instance_uid"]
            assert study.assigned_to.user_id == USER
            assert study.metadata == {"k": "v"}
            assert all(valid(stored) for stored in avara_mock.studies)


        def test_study_factory(avara_study_factory):
            plain = avara_study_factory()
            assert valid(plain)
            assert plain["isCancelled"] is False
            assert plain["studyId"].startswith("stu_")
            study = avara_study_factory(assigned_to=USER, is_cancelled=True)
            assert valid(study)
            assert study["assignedTo"]["userId"] == USER
            assert "@" in study["assignedTo"]["email"]
            assert study["isCancelled"] is True
            assert "is_cancelled" not in study and "assigned_to" not in study
            wire = avara_study_factory(isCancelled=True, severity="stat")
            assert valid(wire)
            assert (wire["isCancelled"], wire["severity"]) == (True, "stat")
            assert len({plain["studyId"], study["studyId"], wire["studyId"]}) == 3
        """
    )
    run(pytester).assert_outcomes(passed=4, failed=0)


# --- routing another base URL --------------------------------------------------------------


def test_plugin_avara_base_url_override_routes_only_that_url(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest


        @pytest.fixture
        def avara_base_url():
            return "https://staging.example.test"
        """
    )
    pytester.makepyfile(
        test_staging=f"""
        import time

        import avara
        import httpx
        import pytest
        from avara import Avara

        STAGING = "https://staging.example.test"
        CLOSED = "{CLOSED_URL}"


        def test_staging_is_routed_and_other_hosts_pass_through(avara_mock, avara_client):
            assert avara_mock.base_url == STAGING
            assert str(avara_client.base_url).rstrip("/") == STAGING
            with Avara(base_url=STAGING, max_retries=0) as client:
                study = client.viewer.studies.create(
                    severity="high", study_description="Chest CT", study_instance_uid="1.2.15"
                )
            (request,) = avara_mock.requests
            assert request.url.host == "staging.example.test"
            assert avara_mock.studies[0]["studyId"] == study.study_id
            started = time.monotonic()
            with pytest.raises(httpx.ConnectError):
                httpx.post(CLOSED + "/v1/viewer/studies", json={{}})
            with Avara(base_url=CLOSED, max_retries=0, timeout=5) as elsewhere:
                with pytest.raises(avara.APIConnectionError):
                    elsewhere.viewer.studies.retrieve(study.study_id)
            assert time.monotonic() - started < 5
            assert len(avara_mock.requests) == 1  # the other host reached no mock
        """
    )
    pytester.makepyfile(
        test_prefix="""
        import pytest
        from avara import Avara

        GATEWAY = "http://gateway.example.test/avara/"


        @pytest.fixture
        def avara_base_url():
            return GATEWAY


        def test_a_base_url_with_a_path_is_routed(avara_mock):
            with Avara(base_url=GATEWAY, max_retries=0) as client:
                study = client.viewer.studies.create(
                    severity="high", study_description="Chest CT", study_instance_uid="1.2.16"
                )
                assert client.viewer.studies.retrieve(study.study_id).study_id == study.study_id
            assert [r.url.path for r in avara_mock.requests] == [
                "/avara/v1/viewer/studies",
                "/avara/v1/viewer/studies/" + study.study_id,
            ]
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


# --- without the SDK -----------------------------------------------------------------------


def test_plugin_missing_sdk_gives_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        sys.modules["avara"] = None  # as if the SDK were not installed
        """
    )
    pytester.makepyfile(
        test_no_sdk="""
        import httpx
        import pytest


        def test_sync_client(avara_client):
            pass


        @pytest.mark.anyio
        async def test_async_client(avara_async_client):
            pass


        def test_the_mock_needs_no_sdk(avara_mock):
            answer = httpx.get(avara_mock.base_url + "/openapi.json")
            assert answer.status_code == 200
            assert len(avara_mock.requests) == 1
        """
    )
    result = run_isolated(pytester, "-rE")
    result.assert_outcomes(passed=1, errors=2)
    message = "*avara_client needs the official SDK: pip install avara*"
    result.stdout.fnmatch_lines([message, message])
    assert "Traceback" not in result.stdout.str()


# --- the contract suite and its strategies downstream ----------------------------------------


def test_plugin_contract_suite_runs_downstream_against_a_live_mock(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(CHECKS) == 12
    monkeypatch.setenv("AVARA_CONTRACT_MAX_EXAMPLES", "30")
    with live_server() as url:
        monkeypatch.setenv("AVARA_BASE_URL", url)
        result = pytester.runpytest_subprocess(
            "--pyargs", "contract_tests.conformance", timeout=SUBPROCESS_TIMEOUT
        )
    result.assert_outcomes(passed=12, failed=0)
    # the suite went where AVARA_BASE_URL points: with nothing there, it cannot pass
    monkeypatch.setenv("AVARA_BASE_URL", CLOSED_URL)
    unreachable = pytester.runpytest("--pyargs", "contract_tests.conformance")
    unreachable.assert_outcomes(passed=0, errors=len(CHECKS))
    assert "TargetUnreachable" in unreachable.stdout.str()


def test_plugin_strategies_drive_property_tests_against_avara_client(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_properties="""
        import httpx
        from hypothesis import HealthCheck, given, settings

        from contract_tests.strategies import valid_probes
        from mockserver.contract import Contract

        PATH = "/v1/viewer/studies"
        examples = []


        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(probe=valid_probes(Contract.load()))
        def test_valid_probes_are_accepted(avara_client, avara_mock, probe):
            avara_mock.reset()  # the fixture lives across examples
            answer = avara_client.post(PATH, body=probe.body, cast_to=httpx.Response)
            assert answer.status_code == 201  # a refusal would raise avara.BadRequestError
            study = answer.json()
            assert study["studyInstanceUid"] == probe.body["studyInstanceUid"]
            assert [s["studyId"] for s in avara_mock.studies] == [study["studyId"]]
            examples.append(probe)


        def test_examples_were_drawn():
            assert len(examples) >= 5
            assert all(probe.kind == "valid" for probe in examples)
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


# --- discoverability -----------------------------------------------------------------------


def test_plugin_registers_option_and_marker(pytester: pytest.Pytester) -> None:
    helped = run(pytester, "--help")
    helped.stdout.fnmatch_lines(["*avara-mock*", "*--avara-seed=AVARA_SEED*"])
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.avara(seed=None, lenient=False, api_keys=()):*"])


# --- behaviours that were bugs once -----------------------------------------------------------


def test_plugin_routes_a_base_url_whatever_its_spelling(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_spelling="""
        import pytest
        from avara import Avara

        SPELLED = "http://LOCALHOST:9"  # not intercepted, this reaches the closed port 9


        @pytest.fixture
        def avara_base_url():
            return SPELLED


        def test_spelled_base_url_is_routed(avara_mock):
            with Avara(base_url=SPELLED, max_retries=0, timeout=5) as client:
                client.viewer.studies.create(
                    severity="high", study_description="Chest CT", study_instance_uid="1.2.17"
                )
            assert len(avara_mock.requests) == 1
        """
    )
    run(pytester).assert_outcomes(passed=1, failed=0)


def test_plugin_answers_sync_clients_in_several_threads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_threads="""
        import concurrent.futures

        from avara import Avara

        WORKERS, STUDIES = 8, 50


        def create_many(worker):
            with Avara(max_retries=0) as client:
                return [
                    client.viewer.studies.create(
                        severity="high",
                        study_description="Chest CT",
                        study_instance_uid=f"1.2.{worker}.{n}",
                    ).study_id
                    for n in range(1, STUDIES + 1)
                ]


        def test_production_code_fanning_out_to_threads(avara_mock):
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
                batches = list(pool.map(create_many, range(1, WORKERS + 1)))
            ids = [study_id for batch in batches for study_id in batch]
            assert len(set(ids)) == WORKERS * STUDIES
            assert len(avara_mock.studies) == WORKERS * STUDIES
        """
    )
    run_isolated(pytester).assert_outcomes(passed=1, failed=0)


def test_plugin_replaces_an_empty_api_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVARA_API_KEY", "")
    pytester.makepyfile(
        test_empty_key="""
        from avara import Avara


        def test_production_client_works(avara_mock):
            with Avara(max_retries=0) as client:
                client.viewer.studies.create(
                    severity="high", study_description="Chest CT", study_instance_uid="1.2.18"
                )
            assert len(avara_mock.studies) == 1
        """
    )
    run(pytester).assert_outcomes(passed=1, failed=0)


def test_plugin_seeded_avara_server_answers_each_test_alike(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pytester.path / "ids.jsonl"
    monkeypatch.setenv("AVARA_TEST_RECORD", str(path))
    pytester.makepyfile(
        test_seeded_server=RECORDER
        + """
import httpx

BODY = {"severity": "high", "studyDescription": "Chest CT", "studyInstanceUid": "1.2.19"}


def created(server):
    answer = httpx.post(
        server.url + "/v1/viewer/studies", json=BODY, headers={"Authorization": "Bearer k"}
    )
    return [answer.json()["studyId"], answer.json()["createdAt"]]


def test_first(avara_server):
    record("first", created(avara_server))


def test_second(avara_server):
    record("second", created(avara_server))
"""
    )
    run(pytester, "--avara-seed", "7").assert_outcomes(passed=2, failed=0)
    ids = records(path)
    assert ids["first"] == ids["second"]  # as two avara_mock tests would
