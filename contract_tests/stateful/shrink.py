"""Running the machine's sequences, and shrinking a failed one by deleting whole steps.

Hypothesis's own shrinker minimises the sequence of choices. Against a server it is slow (each
attempt replays a whole sequence of requests, on a server that grows with every replay) and
can stop in a local minimum with steps that are cheap in choices but not needed. So the
machine generates with hypothesis, and shrinks as delta debugging does, by steps: it replays
the failing sequence's choices without a run of steps (halves first, then smaller runs, the
last steps first), keeps each deletion under which the same breach still happens, and stops
when nothing more can go or the budget is spent. The final replay's calls become the script.
"""

from __future__ import annotations

import time
from typing import Any, cast

import hypothesis
from hypothesis import reproduce_failure
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import DidNotReproduce, Flaky
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from contract_tests.stateful.machine import (
    Breached,
    MachineBase,
    Replay,
    World,
    breached,
    settings_of,
)

SHRINK_SECONDS = 30.0
"""How long shrinking one failure may take (it replays whole sequences against the target)."""
SHRINK_REPLAYS = 200
"""How many replays shrinking one failure may make."""
SMALL = 8
"""Integer choices up to this are tried one less (counts and indexes, not drawn text)."""


def run_sequences(
    world: World,
    cls: type[MachineBase],
    *,
    seed: int | None = None,
    choices: tuple[Any, ...] | None = None,
) -> type[Breached] | None:
    """Generate sequences from a seed, or replay one sequence's choices; the type of the
    breach that ended it (None: none did, or the replay went another way)."""

    def factory() -> MachineBase:
        return cls(world)

    if choices is None:
        decorated: Any = hypothesis_seed(seed)(factory)
    else:
        encoded = hypothesis.core.encode_failure(list(choices))
        decorated = reproduce_failure(hypothesis.__version__, encoded)(factory)
    try:
        run_state_machine_as_test(
            cast(type[RuleBasedStateMachine], decorated), settings=settings_of(world.options)
        )
    except Breached as error:
        return type(error)
    except (DidNotReproduce, Flaky):
        return None  # the target answered differently, or the choices no longer fit
    return None


def shrink(world: World, cls: type[MachineBase], key: tuple[str, str]) -> None:
    """Delete steps from the failure of ``key`` while it still fails the same way, then make
    the choices of the steps left simpler (a True to False, a small number one less: an
    optional field left out, one study fewer)."""
    budget = _Budget(time.monotonic() + SHRINK_SECONDS, SHRINK_REPLAYS)
    skip = len(cls.setup_state().initializers)
    while budget.left() and _delete_one(world, cls, key, skip, budget):
        pass
    while budget.left() and _simplify_one(world, cls, key, skip, budget):
        pass


class _Budget:
    """What shrinking one failure may still spend."""

    def __init__(self, deadline: float, replays: int) -> None:
        self.deadline = deadline
        self.replays = replays

    def left(self) -> bool:
        return self.replays > 0 and time.monotonic() < self.deadline

    def spend(self) -> None:
        self.replays -= 1


def _delete_one(
    world: World, cls: type[MachineBase], key: tuple[str, str], skip: int, budget: _Budget
) -> bool:
    """Delete one run of steps (halves first, the last steps first); whether one went."""
    replay = world.failures[key].replay
    spans = _deletable(replay, skip)
    for size in _sizes(len(spans)):
        for first in range(len(spans) - size, -1, -size):
            if not budget.left():
                return False
            start, end = spans[first][0], spans[first + size - 1][1]
            if _try(world, cls, key, replay.choices[:start] + replay.choices[end:], budget):
                return True
    return False


def _simplify_one(
    world: World, cls: type[MachineBase], key: tuple[str, str], skip: int, budget: _Budget
) -> bool:
    """Make one choice of the steps simpler (the last steps first); whether one did."""
    replay = world.failures[key].replay
    start = replay.ends[skip] if len(replay.ends) > skip else 0
    for index in range(len(replay.choices) - 1, start - 1, -1):
        simpler = _simpler(replay.choices[index])
        if simpler is None:
            continue
        if not budget.left():
            return False
        choices = (*replay.choices[:index], simpler, *replay.choices[index + 1 :])
        if _try(world, cls, key, choices, budget):
            return True
    return False


def _simpler(choice: Any) -> Any:
    """A simpler value of one choice, or None: True -> False, a small count one less."""
    if choice is True:
        return False
    if isinstance(choice, int) and not isinstance(choice, bool) and 0 < choice <= SMALL:
        return choice - 1
    return None


def _try(
    world: World,
    cls: type[MachineBase],
    key: tuple[str, str],
    choices: tuple[Any, ...],
    budget: _Budget,
) -> bool:
    budget.spend()
    if _replays_as(world, cls, choices, key, breached(*key)):
        world.failures[key].shrunk = True
        return True
    return False


def _deletable(replay: Replay, skip: int) -> list[tuple[int, int]]:
    """The (start, end) of each whole step's choices, after the initialize steps; the step
    that failed (unfinished) is not one of them."""
    ends = replay.ends
    return [(ends[i - 1], ends[i]) for i in range(1 + skip, len(ends))]


def _sizes(count: int) -> list[int]:
    """Run lengths to try deleting: halves, quarters, ..., single steps."""
    sizes = []
    size = count // 2
    while size > 1:
        sizes.append(size)
        size //= 2
    return [*sizes, 1] if count else []


def _replays_as(
    world: World,
    cls: type[MachineBase],
    choices: tuple[Any, ...],
    key: tuple[str, str],
    wanted: type[Breached],
) -> bool:
    """Replay choices; keep what it recorded only if it failed the same way."""
    before = dict(world.failures)
    got = run_sequences(world, cls, choices=choices)
    found = world.failures.get(key)
    world.failures = before
    if got is not wanted or found is None or found is before[key]:
        return False
    shrunk = before[key].shrunk
    world.failures[key] = found
    found.shrunk = shrunk
    return True
