"""pytest fixtures for code that calls the Avara API: the mock in-process or on a port.

Registered through the ``pytest11`` entry point, so installing avara-mock is enough. Heavy
imports wait for the first fixture that needs them, to keep pytest's start-up fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from avara import AsyncAvara, Avara

    from mockserver.plugin.factories import (
        InviteFactory,
        RequestFactory,
        StudyFactory,
        UpdateFactory,
    )
    from mockserver.plugin.intercept import InProcessMock
    from mockserver.plugin.live import LiveServer
    from mockserver.settings import Settings

SDK_BASE_URL = "https://api.avarasoftware.com"
DEFAULT_KEY = "avara-mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("avara-mock")
    group.addoption("--avara-seed", type=int, help="seed every avara-mock (reproducible answers)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "avara(seed=None, lenient=False, api_keys=(), stateless=False, "
        "strict_references=False, latency=None, fault_rate=0.0, scenario=None, "
        "admin_token=None, journal_size=1000): configure this test's avara-mock (latency: "
        "'50ms', '20ms..200ms'; scenario: a state document's path)",
    )


@pytest.fixture
def avara_settings(request: pytest.FixtureRequest) -> Settings:
    """The mock's settings: ``--avara-seed``, then the ``avara`` marker."""
    from mockserver.settings import Settings

    marker = request.node.get_closest_marker("avara")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    options.setdefault("seed", request.config.getoption("avara_seed"))
    options["api_keys"] = tuple(options.get("api_keys", ()))
    if options.get("latency") is not None:
        options["latency"] = _latency(options["latency"])
    return Settings(**options)


def _latency(value: object) -> tuple[float, float]:
    """The marker's ``latency``: text as the CLI's ``--latency`` takes it ("50ms",
    "20ms..200ms"), or a (low, high) pair of milliseconds."""
    if isinstance(value, str):
        from mockserver.control.latency import parse_latency

        try:
            return parse_latency(value)
        except ValueError as error:
            pytest.fail(f"@pytest.mark.avara(latency={value!r}): {error}", pytrace=False)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return float(value[0]), float(value[1])
    pytest.fail(
        f"@pytest.mark.avara(latency={value!r}): give text such as '50ms' or '20ms..200ms'",
        pytrace=False,
    )


@pytest.fixture
def avara_base_url() -> str:
    """Where the SDK sends requests: ``$AVARA_BASE_URL``, else the SDK's default."""
    return os.environ.get("AVARA_BASE_URL") or SDK_BASE_URL


@pytest.fixture
def avara_api_key(avara_settings: Settings) -> str:
    """A key the mock accepts; set as ``AVARA_API_KEY`` for code that builds ``Avara()``."""
    return avara_settings.api_keys[0] if avara_settings.api_keys else DEFAULT_KEY


@pytest.fixture
def avara_mock(
    avara_settings: Settings,
    avara_base_url: str,
    avara_api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InProcessMock]:
    """A fresh mock behind every httpx client for ``avara_base_url``; no port is opened.
    ``fail``, ``state`` and ``journal`` drive its control plane (mockserver/plugin/control.py)."""
    from mockserver.app import create_app
    from mockserver.plugin.intercept import InProcessMock

    current = os.environ.get("AVARA_API_KEY")
    if not current or (avara_settings.api_keys and current not in avara_settings.api_keys):
        monkeypatch.setenv("AVARA_API_KEY", avara_api_key)
    app = create_app(avara_settings)
    with InProcessMock(app, avara_base_url, avara_settings.admin_token) as mock:
        yield mock


@pytest.fixture(scope="session")
def avara_servers() -> Iterator[dict[Settings, LiveServer]]:
    """Live mocks of this session by settings; all stopped at its end."""
    servers: dict[Settings, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def avara_server(
    avara_settings: Settings, avara_servers: dict[Settings, LiveServer]
) -> Iterator[LiveServer]:
    """A mock on 127.0.0.1 and a free port (one a session per settings), emptied for each test;
    the test's faults end with it."""
    from mockserver.plugin.live import LiveServer

    server = avara_servers.get(avara_settings)
    if server is None:
        server = avara_servers[avara_settings] = LiveServer(avara_settings).start()
    server.reset()
    yield server
    server.clear_faults()


def _sdk() -> Any:
    try:
        import avara
    except ImportError:
        pytest.fail("avara_client needs the official SDK: pip install avara", pytrace=False)
    return avara


@pytest.fixture
def avara_client(avara_mock: InProcessMock, avara_api_key: str) -> Iterator[Avara]:
    """The official SDK's client, wired to ``avara_mock``."""
    client: Avara = _sdk().Avara(api_key=avara_api_key, base_url=avara_mock.base_url, max_retries=0)
    with client:
        yield client


@pytest.fixture
def avara_async_client(avara_mock: InProcessMock, avara_api_key: str) -> Iterator[AsyncAvara]:
    """The official SDK's async client, wired to ``avara_mock``."""
    client: AsyncAvara = _sdk().AsyncAvara(
        api_key=avara_api_key, base_url=avara_mock.base_url, max_retries=0
    )
    yield client
    import asyncio

    asyncio.run(client.close())


@pytest.fixture
def avara_request_factory(avara_settings: Settings) -> RequestFactory:
    """Valid create requests: ``avara_request_factory(severity="stat")``; ``.sdk()`` for kwargs."""
    from mockserver.contract import Contract
    from mockserver.plugin.factories import RequestFactory

    return RequestFactory(Contract.load(), avara_settings.seed)


@pytest.fixture
def avara_update_factory(avara_settings: Settings) -> UpdateFactory:
    """Valid update bodies: ``avara_update_factory(severity="stat")``; ``.sdk()`` for kwargs."""
    from mockserver.contract import Contract
    from mockserver.plugin.factories import UpdateFactory

    return UpdateFactory(Contract.load(), avara_settings.seed)


@pytest.fixture
def avara_invite_factory(avara_settings: Settings) -> InviteFactory:
    """Valid invite bodies, each a new person: ``avara_invite_factory(level="admin")``."""
    from mockserver.contract import Contract
    from mockserver.plugin.factories import InviteFactory

    return InviteFactory(Contract.load(), avara_settings.seed)


@pytest.fixture
def avara_study_factory(avara_settings: Settings) -> StudyFactory:
    """Studies as the mock makes them: ``avara_study_factory(assigned_to=…, isCancelled=True)``."""
    from mockserver.contract import Contract
    from mockserver.plugin.factories import StudyFactory

    return StudyFactory(Contract.load(), avara_settings.seed)
