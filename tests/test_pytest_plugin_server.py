"""The pytest plugin's ``avara_server``: a live mock shared by the tests of the same settings,
emptied between them, seeded like ``avara_mock`` and stopped at the end. How these tests run a
downstream project: tests/downstream.py."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from tests.downstream import RECORDER, records, run

pytestmark = pytest.mark.usefixtures("no_avara_environment")


# --- the live server ------------------------------------------------------------------------------


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
