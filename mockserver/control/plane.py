"""The control plane of one mock: its journal, its faults, its latency and random faults.

One object, built with the app (``control_of``) and shared by the middleware that applies it
and the admin routes and plugin that change it; ``reset`` is its part of ``POST
/_mock/reset``: back to how the mock started.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.contract import Contract
from mockserver.control.faults import Faults
from mockserver.control.journal import Journal
from mockserver.settings import Settings

if TYPE_CHECKING:
    from mockserver.world.sqlite.database import Database


@dataclass
class ControlPlane:
    """``latency`` (ms low, high) delays every API answer; ``fault_rate`` answers that share
    of API requests with a random 429, 500 or 503. ``rng`` draws ids, probabilities and
    delays, seeded by ``seed`` (the mock's ``--seed``) when there is one."""

    journal: Journal
    faults: Faults
    latency: tuple[float, float] | None
    fault_rate: float
    rng: random.Random = field(default_factory=random.Random)
    seed: int | None = None
    _start: tuple[tuple[float, float] | None, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._start = (self.latency, self.fault_rate)

    def reset(self) -> None:
        """A clean start: no faults, an empty journal (its ids go on increasing), latency and
        fault rate as the mock started with, the random draws from their seed again."""
        self.faults.clear()
        self.journal.clear()
        self.latency, self.fault_rate = self._start
        self.rng.seed(self.seed)


def control_of(
    settings: Settings, contract: Contract, database: Database | None = None
) -> ControlPlane:
    """The control plane a mock of these settings starts with; on a state file (``database``)
    its faults are the file's, shared by every mock on it (``shared_faults.py``)."""
    rng = random.Random(settings.seed)
    faults = Faults(contract, rng)
    if database is not None:
        from mockserver.control.shared_faults import SharedFaults

        faults = SharedFaults(contract, rng, database)
    return ControlPlane(
        journal=Journal(settings.journal_size, contract),
        faults=faults,
        latency=settings.latency,
        fault_rate=settings.fault_rate,
        rng=rng,
        seed=settings.seed,
    )
