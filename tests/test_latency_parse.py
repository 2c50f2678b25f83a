"""Latency: ``--latency`` texts, the uniform draw, and the delay the middleware adds."""

from __future__ import annotations

import random

import pytest

from mockserver import Settings
from mockserver.control.latency import Latency, parse_latency
from tests.control_apps import client, tiny


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50ms", (50.0, 50.0)),
        ("1s", (1000.0, 1000.0)),
        ("1.5s", (1500.0, 1500.0)),
        ("0ms", (0.0, 0.0)),
        ("20ms..200ms", (20.0, 200.0)),
        ("20MS .. 1s", (20.0, 1000.0)),
    ],
)
def test_latency_parse_reads_a_duration_or_a_range(
    text: str, expected: tuple[float, float]
) -> None:
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["50", "fast", "-5ms", "5 m", "", "1s..", "..1s", "nanms"])
def test_latency_parse_refuses_other_texts_saying_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"50ms or 1\.5s, or a range such as 20ms\.\.200ms"):
        parse_latency(text)


def test_latency_parse_refuses_a_range_from_high_to_low() -> None:
    with pytest.raises(ValueError, match=r"give the shorter delay first \(20ms\.\.200ms\)"):
        parse_latency("200ms..20ms")


def test_latency_draws_uniformly_within_the_range_from_the_seed() -> None:
    latency = Latency(20.0, 200.0)
    draws = [latency.draw_ms(random.Random(4)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    spread = [latency.draw_ms(random.Random(seed)) for seed in range(200)]
    assert all(20.0 <= ms <= 200.0 for ms in spread)
    assert min(spread) < 40.0
    assert max(spread) > 180.0
    assert Latency(50.0, 50.0).draw_ms(random.Random()) == 50.0


@pytest.mark.anyio
async def test_latency_of_the_plane_delays_api_answers_but_not_the_control_planes() -> None:
    app, plane, _ = tiny(Settings(seed=2, latency=(60.0, 60.0)))
    async with client(app) as http:
        assert (await http.post("/echo", content=b"x")).status_code == 200
        assert (await http.get("/_mock/ping")).status_code == 200
        plane.latency = None
        assert (await http.post("/echo", content=b"y")).status_code == 200
    delayed, undelayed = plane.journal.entries()
    assert delayed.duration_ms >= 60.0
    assert undelayed.duration_ms < 60.0
