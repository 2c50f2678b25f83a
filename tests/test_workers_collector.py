"""Serving sets the cyclic collector up: start-up frozen, young collections rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mockserver.workers import GC_YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as it was, after the test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_workers_tune_collector_freezes_start_up_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    _, middle, old = gc.get_threshold()
    tune_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, middle, old)
