"""The plugin's control plane across a downstream project's tests: the ``avara`` marker's
``latency``, faults that end with the test that added them, and the README's examples (the
example is read from README.md). How these tests run a downstream
project: tests/downstream.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.downstream import run

pytestmark = pytest.mark.usefixtures("no_avara_environment")

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
SECTION = README.split("## Faults, state and the request journal in your tests", 1)[1]
README_EXAMPLE = re.findall(r"```python\n(.*?)```", SECTION.split("\n## ", 1)[0], re.DOTALL)[0]
"""The section's Python example, as the README shows it."""


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
                client.viewer.users.list()  # the first call also builds what loads lazily
                client.viewer.users.list()
            first, second = avara_mock.journal()
            assert second["durationMs"] < 150
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
