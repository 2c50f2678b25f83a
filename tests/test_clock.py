"""Clocks: RFC 3339 UTC strings; the stepping clock is reproducible."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from mockserver.world.clock import SteppingClock, SystemClock, later_than, rfc3339


def test_clock_rfc3339_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(moment) == "2026-03-04T03:06:07.891Z"


def test_clock_stepping_advances_by_its_step() -> None:
    clock = SteppingClock(datetime(2026, 1, 1, tzinfo=timezone.utc), timedelta(milliseconds=5))
    assert [clock.now() for _ in range(2)] == [
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:00.005Z",
    ]


def test_clock_system_is_now() -> None:
    before = rfc3339(datetime.now(timezone.utc) - timedelta(seconds=1))
    assert before < SystemClock().now() <= rfc3339(datetime.now(timezone.utc))


def test_clock_system_reformats_when_the_second_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([1_700_000_000_123_000_000, 1_700_000_000_999_000_000, 1_700_000_001_000_000_000])
    monkeypatch.setattr(time, "time_ns", lambda: next(ticks))
    clock = SystemClock()
    assert [clock.now() for _ in range(3)] == [
        "2023-11-14T22:13:20.123Z",
        "2023-11-14T22:13:20.999Z",
        "2023-11-14T22:13:21.000Z",
    ]


def test_clock_later_than_nothing_is_now() -> None:
    assert later_than(None, "2026-01-05T09:00:00.000Z") == "2026-01-05T09:00:00.000Z"


def test_clock_later_than_a_past_value_is_now() -> None:
    assert (
        later_than("2026-01-05T09:00:00.000Z", "2026-01-05T09:00:00.001Z")
        == "2026-01-05T09:00:00.001Z"
    )


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        ("2026-01-05T09:00:00.000Z", "2026-01-05T09:00:00.000Z", "2026-01-05T09:00:00.001Z"),
        ("2026-01-05T09:00:07.000Z", "2026-01-05T09:00:00.000Z", "2026-01-05T09:00:07.001Z"),
        ("2026-01-05T09:00:59.999Z", "2026-01-05T09:00:00.000Z", "2026-01-05T09:01:00.000Z"),
        ("2026-12-31T23:59:59.999Z", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z"),
    ],
)
def test_clock_later_than_steps_a_millisecond_past_a_clock_not_yet_past(
    previous: str, now: str, expected: str
) -> None:
    assert later_than(previous, now) == expected


def test_clock_later_than_is_strictly_later_each_time_on_a_stopped_clock() -> None:
    stopped = "2026-01-05T09:00:00.000Z"
    seen = [stopped]
    for _ in range(3):
        seen.append(later_than(seen[-1], stopped))
    assert seen == sorted(set(seen))
    assert seen[-1] == "2026-01-05T09:00:00.003Z"
