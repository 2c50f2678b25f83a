"""The control plane's ``serve`` options: read into the settings, bad values exit 2 saying
what is accepted, the banner lists /_mock/, and a live mock starts from its scenario and can
hang up on a request (the uvicorn protocols of mockserver/http/protocol.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import orjson
import pytest

from mockserver import Settings, create_app
from mockserver.cli import add_serve_options, banner, control_access, main, settings_from
from tests.conftest import AUTH, live_server
from tests.state_world import created, lived_in, mock, state_bytes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="avara-mock serve")
    add_serve_options(parser)
    return parser


def test_cli_control_options_reach_the_settings() -> None:
    args = _parser().parse_args(
        [
            "--latency", "20ms..200ms", "--fault-rate", "0.05", "--scenario", "world.json",
            "--admin-token", "s3cret", "--journal-size", "50",
        ]
    )  # fmt: skip
    settings = settings_from(args)
    assert settings.latency == (20.0, 200.0)
    assert settings.fault_rate == 0.05
    assert settings.scenario == "world.json"
    assert settings.admin_token == "s3cret"
    assert settings.journal_size == 50


def test_cli_control_options_default_to_a_plain_mock() -> None:
    settings = settings_from(_parser().parse_args([]))
    assert (settings.latency, settings.fault_rate, settings.scenario) == (None, 0.0, None)
    assert (settings.admin_token, settings.journal_size) == (None, Settings().journal_size)


def test_cli_control_single_latency_is_a_range_of_one() -> None:
    assert settings_from(_parser().parse_args(["--latency", "1s"])).latency == (1000.0, 1000.0)


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--latency", "50", "ms or s"),
        ("--latency", "200ms..20ms", "shorter delay first"),
        ("--fault-rate", "1.5", "from 0 to 1"),
        ("--fault-rate", "-0.1", "from 0 to 1"),
        ("--fault-rate", "nan", "from 0 to 1"),
        ("--fault-rate", "often", "from 0 to 1"),
        ("--journal-size", "0", "at least 1"),
        ("--journal-size", "-3", "at least 1"),
        ("--journal-size", "lots", "at least 1"),
        ("--admin-token", "", "not empty"),
        ("--admin-token", " padded ", "not empty"),
    ],
)
def test_cli_control_bad_value_exits_2_saying_what_is_accepted(
    option: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args([f"{option}={value}"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err
    assert said in err


def test_cli_control_bad_scenario_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock(seed=1) as client:
        document = orjson.loads(state_bytes(client))
    document["studies"] = [{"studyId": "stu_" + "1" * 32}]
    path = tmp_path / "scenario.json"
    path.write_bytes(orjson.dumps(document))
    assert main(["serve", "--port", "0", "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"--scenario {path}" in err
    assert "studies.0.severity is required" in err


@pytest.mark.parametrize(
    ("content", "said"), [(None, "cannot read it"), (b"{", "not JSON"), (b"[]", "JSON object")]
)
def test_cli_control_unreadable_scenario_exits_2_saying_why(
    tmp_path: Path, content: bytes | None, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.json"
    if content is not None:
        path.write_bytes(content)
    assert main(["serve", "--port", "0", "--scenario", str(path)]) == 2
    assert said in capsys.readouterr().err


def test_cli_control_stateless_mock_cannot_start_from_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.json"
    path.write_bytes(b"{}")
    assert main(["serve", "--port", "0", "--stateless", "--scenario", str(path)]) == 2
    assert "drop --stateless or --scenario" in capsys.readouterr().err


def test_cli_control_banner_lists_the_control_plane_after_the_api() -> None:
    settings = Settings()
    lines = banner("http://127.0.0.1:4010", create_app(settings).routes, control_access(settings))
    listed = lines.splitlines()
    heading = listed.index("Control plane (open: the mock binds a loopback address):")
    assert listed.index("Routes:") < heading
    assert all("/_mock" not in line for line in listed[:heading])
    assert {"  POST   /_mock/reset", "  PUT    /_mock/state", "  GET    /_mock/"} <= set(
        listed[heading:]
    )
    assert "  DELETE /_mock/faults/{faultId}" in listed[heading:]


def test_cli_control_banner_says_who_may_use_the_control_plane() -> None:
    assert "admin token" in control_access(Settings(admin_token="t"))
    assert control_access(Settings(host="0.0.0.0")).startswith("closed")


def test_cli_control_live_mock_starts_from_its_scenario_behind_its_token(tmp_path: Path) -> None:
    with mock(seed=3) as client:
        lived_in(client)
        scenario = state_bytes(client)
    path = tmp_path / "scenario.json"
    path.write_bytes(scenario)
    token = {"Authorization": "Bearer s3cret"}
    options = ("--seed", "3", "--scenario", str(path), "--admin-token", "s3cret")
    with live_server(*options, "--journal-size", "2") as url, httpx.Client(base_url=url) as http:
        assert http.get("/_mock/state").status_code == 401
        assert http.get("/_mock/state", headers=token).content == scenario
        fault = {"method": "GET", "path": "/v1/viewer/users", "first": 1, "drop": "before"}
        assert http.post("/_mock/faults", json=fault, headers=token).status_code == 201
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v1/viewer/users", headers=AUTH)
        assert http.get("/v1/viewer/users", headers=AUTH).status_code == 200
        assert http.get("/v1/viewer/studies", headers=AUTH).status_code == 200
        journal = http.get("/_mock/requests", headers=token).json()["requests"]
        assert [(e["path"], e["status"]) for e in journal] == [
            ("/v1/viewer/users", 200),
            ("/v1/viewer/studies", 200),
        ]
        assert http.post("/_mock/reset", headers=token).status_code == 200
        assert http.get("/_mock/state", headers=token).content == scenario


def test_cli_control_scenario_setting_is_loaded_in_process_too(tmp_path: Path) -> None:
    with mock(seed=3) as client:
        created(client, "2.25.31")
        scenario = state_bytes(client)
    path = tmp_path / "scenario.json"
    path.write_bytes(scenario)
    with mock(scenario=str(path)) as client:
        assert state_bytes(client) == scenario
