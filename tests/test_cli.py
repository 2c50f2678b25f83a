"""The ``avara-mock`` command: prints where it serves, serves real sockets, fails clearly."""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import tempfile

import httpx
import pytest
from starlette.routing import Mount, Route

from contract_tests.cli import build_parser
from contract_tests.create.cases import minimal
from mockserver import Settings, create_app
from mockserver.cli import add_serve_options, main, route_lines, settings_from
from tests.conftest import AUTH, ROOT, fresh_uid, live_server

URL = "/v1/viewer/studies"


def test_cli_serve_prints_url_base_url_line_and_the_routes_of_the_app() -> None:
    routes = route_lines(create_app(Settings()).routes)
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().rstrip("\n") for _ in range(5 + len(routes))]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    assert lines[0].startswith("avara-mock serving the Avara Viewer API at http://127.0.0.1:")
    url = lines[0].split()[-1]
    assert lines[2].strip() == f"export AVARA_BASE_URL={url}"
    control = lines.index("Control plane (open: the mock binds a loopback address):")
    api = [line for line in routes if "/_mock" not in line]
    assert lines[3:control] == ["Routes:", *api]
    assert lines[control + 1 :] == [line for line in routes if "/_mock" in line]
    assert "  POST   /v1/viewer/studies" in routes
    assert "  POST   /_mock/reset" in routes


def test_cli_route_lines_name_each_method_once_without_head_nor_mounts() -> None:
    async def endpoint() -> None:
        return None

    routes = [
        Route("/b", endpoint, methods=["PATCH", "GET", "DELETE"]),
        Route("/a", endpoint, methods=["HEAD"]),
        Mount("/static", routes=[]),
        Route("/c", endpoint, methods=["PURGE", "POST"]),
    ]
    assert route_lines(routes) == [
        "  GET    /b",
        "  PATCH  /b",
        "  DELETE /b",
        "  HEAD   /a",
        "  POST   /c",
        "  PURGE  /c",
    ]


def test_cli_avara_mock_serve_does_not_import_the_contract_suite() -> None:
    """``avara-mock serve`` (its module, run as the entry point runs it) serves without
    loading hypothesis or the suite: everything imported up to the banner is in stderr."""
    command = [sys.executable, "-X", "importtime", "-m", "contract_tests", "serve"]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as imports:
        process = subprocess.Popen(
            [*command, "--port", "0", "--log-level", "warning"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=imports,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
        finally:
            process.terminate()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()
        imports.seek(0)
        imported = {line.rsplit("|", 1)[-1].strip() for line in imports if "|" in line}
    assert first.startswith("avara-mock serving the Avara Viewer API at ")
    assert {"uvicorn", "mockserver.app", "contract_tests.cli"} <= imported
    suite = {"hypothesis", "contract_tests.suite", "contract_tests.transport.target", "httpx"}
    assert imported.isdisjoint(suite), sorted(imported & suite)


def test_cli_stateless_option_reaches_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    parser = argparse.ArgumentParser()
    add_serve_options(parser)
    assert settings_from(parser.parse_args(["--stateless"])).stateless is True
    assert settings_from(parser.parse_args([])).stateless is False
    assert (
        "--stateless store nothing: answer every valid request from the request alone, "
        "for the SDKs' generated tests written for a Prism-style mock"
    ) in " ".join(parser.format_help().split())


def test_cli_live_server_creates_studies_with_options() -> None:
    with live_server("--seed", "5", "--api-key", "k1", "--api-key", "k2") as url:
        ok = httpx.post(
            url + URL,
            json=minimal(studyInstanceUid=fresh_uid()),
            headers={"Authorization": "Bearer k2"},
        )
        refused = httpx.post(url + URL, json=minimal(), headers={"Authorization": "Bearer k3"})
    assert ok.status_code == 201
    assert refused.status_code == 401


def test_cli_lenient_flag_reaches_the_app() -> None:
    with live_server("--lenient") as url:
        response = httpx.post(
            url + URL, json=minimal(studyInstanceUid=fresh_uid(), x=1), headers=AUTH
        )
    assert response.status_code == 201


def _raw_exchange(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            if (
                b"\r\n\r\n" in received
                and b'"error"' in received
                and received.rstrip().endswith(b"}}")
            ):
                break
        return received


def test_cli_live_server_survives_hostile_input() -> None:
    with live_server() as url:
        host = url.removeprefix("http://")
        chunked_over_limit = (
            (
                f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer k\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode()
            + (b"10000\r\n" + b" " * 65536 + b"\r\n") * 17
            + b"0\r\n\r\n"
        )
        answer = _raw_exchange(url, chunked_over_limit)
        assert answer.startswith(b"HTTP/1.1 413")
        declared_huge = (
            f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer k\r\n"
            "Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{"
        ).encode()
        assert _raw_exchange(url, declared_huge).startswith(b"HTTP/1.1 413")
        for content in (b"\xff\xfe{", b"{" * 3000, b'{"a":"\\udfff"}'):
            response = httpx.post(
                url + URL, content=content, headers={**AUTH, "Content-Type": "application/json"}
            )
            assert response.status_code == 400
            assert response.json()["error"]["type"] == "invalid_request"
        final = httpx.post(url + URL, json=minimal(studyInstanceUid=fresh_uid()), headers=AUTH)
        assert final.status_code == 201


def test_cli_openapi_is_served_live() -> None:
    with live_server() as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/openapi.json")
        document = json.loads(connection.getresponse().read())
        connection.close()
    assert document["openapi"] == "3.1.0"


def test_cli_port_in_use_exits_2_with_advice(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    assert code == 2
    assert "--port 0" in capsys.readouterr().err


def test_cli_parser_reads_every_serve_option() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--host",
            "::1",
            "--port",
            "0",
            "--seed",
            "3",
            "--lenient",
            "--api-key",
            "a",
            "--log-level",
            "debug",
        ]
    )
    assert (args.host, args.port, args.seed, args.lenient, args.api_keys, args.log_level) == (
        "::1", 0, 3, True, ["a"], "debug"
    )  # fmt: skip
