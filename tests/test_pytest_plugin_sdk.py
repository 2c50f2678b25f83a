"""The pytest plugin and the official SDK: clients built as production code builds them, the
client fixtures, threads, and a downstream project without the SDK. How these tests run a
downstream project: tests/downstream.py."""

from __future__ import annotations

import pytest

from tests.downstream import run, run_isolated

pytestmark = pytest.mark.usefixtures("no_avara_environment")


# --- the SDK built as production code builds it ---------------------------------------------------


def test_plugin_sync_sdk_without_base_url_or_key_reaches_avara_mock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_downstream="""
        import json
        import os
        import sys

        from avara import Avara

        LAZY = ("mockserver.app", "mockserver.plugin.intercept", "mockserver.plugin.live",
                "mockserver.plugin.factories", "starlette", "uvicorn")


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


# --- the SDK client fixture and the mock's refusals -----------------------------------------------


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


# --- without the SDK ------------------------------------------------------------------------------


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
