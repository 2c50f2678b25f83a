"""The ``avara-mock`` command: prints where it serves, serves real sockets, fails clearly."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys

import httpx
import pytest

from contract_tests.cases import minimal
from contract_tests.cli import build_parser
from mockserver.cli import main
from tests.conftest import AUTH, fresh_uid, live_server

URL = "/v1/viewer/studies"


def test_cli_serve_prints_url_and_base_url_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    assert lines[0].startswith("avara-mock serving the Avara Viewer API at http://127.0.0.1:")
    url = lines[0].split()[-1]
    assert lines[2].strip() == f"export AVARA_BASE_URL={url}"


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
