"""The plugin's control plane across a downstream project's tests: the ``avara`` marker's
``latency``, faults that end with the test that added them, and the README's examples (the
text of ``README_EXAMPLE`` is the README's, word for word). How these tests run a downstream
project: tests/downstream.py."""

from __future__ import annotations

import pytest

from tests.downstream import run

pytestmark = pytest.mark.usefixtures("no_avara_environment")

README_EXAMPLE = '''\
import avara
import pytest
from avara import Avara

from mockserver.plugin.control import AdminError

CREATE = "/v1/viewer/studies"


def create_study(client: Avara, uid: str) -> str:
    """Your production code: create a study once, even when an answer was lost."""
    try:
        study = client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid=uid
        )
    except avara.ConflictError:
        # An earlier attempt was applied and its answer lost: the UID is the study's.
        return client.viewer.studies.retrieve_by_uid(uid).study_id
    return study.study_id


def test_rate_limits_are_retried(avara_mock):
    slow_down = {"retry-after-ms": "10"}
    with avara_mock.fail(CREATE, method="POST", status=429, headers=slow_down, first=2):
        study_id = create_study(Avara(), "1.2.840.1")
    creates = avara_mock.journal(method="POST", path=CREATE)
    assert [entry["status"] for entry in creates] == [429, 429, 201]
    assert creates[-1]["answer"]["studyId"] == study_id


def test_a_lost_answer_does_not_make_a_second_study(avara_mock):
    with avara_mock.fail(CREATE, method="POST", drop="after", first=1):
        study_id = create_study(Avara(), "1.2.840.2")
    creates = avara_mock.journal(method="POST", path=CREATE)
    assert [entry["status"] for entry in creates] == [None, 409, 409]
    assert [study["studyId"] for study in avara_mock.studies] == [study_id]


def test_an_outage_reaches_the_caller(avara_mock):
    with avara_mock.fail("/v1/viewer/*", status=503, headers={"x-should-retry": "false"}):
        with pytest.raises(avara.InternalServerError):
            create_study(Avara(), "1.2.840.3")
    assert len(avara_mock.journal()) == 1  # x-should-retry: false, so no retry


def test_state_is_one_document(avara_mock, avara_client):
    start = avara_mock.state
    create_study(avara_client, "1.2.840.4")
    assert len(avara_mock.state["studies"]) == 1
    avara_mock.state = start  # back to before the create
    assert avara_mock.studies == []


def test_a_bad_fault_names_the_field(avara_mock):
    with pytest.raises(AdminError, match="respond.status"):
        avara_mock.fail(CREATE, status=99)


@pytest.mark.avara(latency="20ms..40ms")
def test_every_answer_is_late(avara_client, avara_mock):
    avara_client.viewer.users.list()
    (entry,) = avara_mock.journal()
    assert entry["durationMs"] >= 20


def test_the_live_server_takes_the_same_calls(avara_server):
    with avara_server.fail(CREATE, method="POST", drop="before"):
        with Avara(api_key="k", base_url=avara_server.url, max_retries=0) as client:
            with pytest.raises(avara.APIConnectionError):
                create_study(client, "1.2.840.5")
    assert avara_server.studies == []
    assert [entry["status"] for entry in avara_server.journal()] == [None]
'''


def test_plugin_control_marker_latency_delays_every_answer(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        import time

        import pytest
        from avara import Avara


        def timed(call):
            started = time.monotonic()
            call()
            return time.monotonic() - started


        @pytest.mark.avara(latency="150ms")
        def test_fixed(avara_mock, avara_settings):
            assert avara_settings.latency == (150.0, 150.0)
            with Avara(max_retries=0) as client:
                assert timed(client.viewer.users.list) >= 0.15
            (entry,) = avara_mock.journal()
            assert entry["durationMs"] >= 150
            assert timed(lambda: avara_mock.journal()) < 0.15  # not the control plane


        @pytest.mark.avara(latency="20ms..40ms")
        def test_range(avara_settings):
            assert avara_settings.latency == (20.0, 40.0)


        def test_none_by_default(avara_mock, avara_settings):
            assert avara_settings.latency is None
            with Avara(max_retries=0) as client:
                client.viewer.users.list()
            (entry,) = avara_mock.journal()
            assert entry["durationMs"] < 150
        """
    )
    run(pytester).assert_outcomes(passed=3, failed=0)


def test_plugin_control_marker_bad_latency_says_the_accepted_forms(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_downstream="""
        import pytest


        @pytest.mark.avara(latency="quick")
        def test_bad(avara_mock):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.avara(latency='quick'): *ms*"])


def test_plugin_control_faults_end_with_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        import httpx
        import pytest

        AUTH = {"Authorization": "Bearer k"}
        pytestmark = pytest.mark.avara(admin_token="sk-admin")  # the fixtures send it


        @pytest.fixture(params=["inprocess", "live"])
        def mock_url(request):
            if request.param == "inprocess":
                mock = request.getfixturevalue("avara_mock")
                return mock, mock.base_url
            server = request.getfixturevalue("avara_server")
            return server, server.url


        def test_1_adds_a_fault_and_keeps_it(mock_url):
            mock, url = mock_url
            mock.fail("/v1/viewer/users", status=503)
            assert httpx.get(url + "/v1/viewer/users", headers=AUTH).status_code == 503


        def test_2_starts_without_it(mock_url):
            mock, url = mock_url
            assert mock.faults() == []
            assert mock.journal() == []
            assert httpx.get(url + "/v1/viewer/users", headers=AUTH).status_code == 200
            assert httpx.get(url + "/_mock/faults").status_code == 401
        """
    )
    run(pytester).assert_outcomes(passed=4, failed=0)


def test_plugin_control_marker_line_lists_latency(pytester: pytest.Pytester) -> None:
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.avara(*latency=None*): *'20ms..200ms'*"])


def test_plugin_control_readme_example_passes_downstream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=README_EXAMPLE)
    run(pytester).assert_outcomes(passed=7, failed=0)
