"""The pytest plugin's ``avara_mock``: the ``avara`` marker, a fresh mock for every test, seeds,
the base URLs it routes, and the option and marker it registers. How these tests run a
downstream project: tests/downstream.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.downstream import CLOSED_URL, RECORDER, records, run, run_isolated

pytestmark = pytest.mark.usefixtures("no_avara_environment")


# --- the avara marker -----------------------------------------------------------------------------


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


# --- a fresh mock for every test ------------------------------------------------------------------


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


# --- seeds ----------------------------------------------------------------------------------------


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


# --- routing another base URL ---------------------------------------------------------------------


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


# --- discoverability ------------------------------------------------------------------------------


def test_plugin_registers_option_and_marker(pytester: pytest.Pytester) -> None:
    helped = run(pytester, "--help")
    helped.stdout.fnmatch_lines(["*avara-mock*", "*--avara-seed=AVARA_SEED*"])
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.avara(seed=None, lenient=False, api_keys=(), *"])


def test_plugin_reroute_url_opens_through_the_in_process_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        import httpx
        from avara import Avara


        def test_reroute_url_is_routed_to_the_mock(avara_mock):
            client = Avara()
            study = client.viewer.studies.create(
                severity="stat", study_description="CT Head", study_instance_uid="1.2.3"
            )
            url = client.viewer.studies.reroute_url(study_id=study.study_id).url
            assert url.startswith("https://api.avarasoftware.com/viewer/studies/")
            page = httpx.get(url)
            assert page.status_code == 200
            assert "CT Head" in page.text
        """
    )
    run(pytester).assert_outcomes(passed=1)
