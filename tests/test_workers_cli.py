"""The options of durability and load, and what a worker process is given (by pickle)."""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
from typing import Any

import pytest

from mockserver import Settings
from mockserver.cli import MAX_CONCURRENCY, add_serve_options, settings_from, uvicorn_config
from mockserver.http.protocol import protocol_for
from mockserver.settings import HEADER_TIMEOUT_S
from mockserver.workers import WorkerApp
from tests.conftest import ROOT


def _parse(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_options(parser)
    return parser.parse_args(list(words))


def test_workers_options_reach_the_settings() -> None:
    settings = settings_from(
        _parse(
            "--state", "w.db", "--workers", "3", "--max-concurrency", "9", "--header-timeout", "2.5"
        )
    )
    assert (settings.state, settings.workers) == ("w.db", 3)
    assert (settings.max_concurrency, settings.header_timeout_s) == (9, 2.5)
    defaults = settings_from(_parse())
    assert (defaults.state, defaults.workers) == (None, 1)
    assert (defaults.max_concurrency, defaults.header_timeout_s) == (
        MAX_CONCURRENCY,
        HEADER_TIMEOUT_S,
    )


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (("--workers", "0"), "number of worker processes"),
        (("--max-concurrency", "many"), "number of requests in flight"),
        (("--header-timeout", "-1"), "number of seconds"),
        (("--header-timeout", "nan"), "number of seconds"),
    ],
)
def test_workers_options_refuse_what_they_cannot_count(
    words: tuple[str, ...], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parse(*words)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err


def test_workers_without_state_exit_2_saying_why() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", "0", "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers 2 needs --state FILE" in done.stderr
    assert "its own world" in done.stderr
    assert done.stdout == ""  # nothing served, no banner


def test_workers_config_survives_pickle_as_spawn_sends_it() -> None:
    """uvicorn's Multiprocess pickles the config for each worker: the app factory and the
    protocol class (made on first use) must come back as themselves."""
    settings = Settings(workers=2, state="w.db", header_timeout_s=3.0, seed=5)
    config = uvicorn_config(settings, WorkerApp(settings))
    copy = pickle.loads(pickle.dumps(config))
    assert copy.http is protocol_for("auto")
    assert copy.app == WorkerApp(settings)
    assert (copy.factory, copy.workers, copy.header_timeout_s) == (True, 2, 3.0)


def test_workers_served_app_closes_the_world_and_flushes_at_shutdown() -> None:
    """The lifespan's shutdown closes the world once, after the access log's last lines."""
    import asyncio

    from mockserver.workers import ClosedOnShutdown

    done: list[str] = []

    class Logged:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            raise AssertionError("the lifespan is answered by ClosedOnShutdown itself")

        def flush(self) -> None:
            done.append("flush")

    app = ClosedOnShutdown(Logged(), lambda: done.append("close"))
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return incoming.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert done == ["flush", "close"]
