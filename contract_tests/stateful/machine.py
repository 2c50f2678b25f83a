"""The state machine that drives any implementation: a hypothesis ``RuleBasedStateMachine``
combined from parts (``parts.PARTS``: studies, then users and invitations), run by
``run_machine``.

Each part adds rules (one per operation, with valid inputs, plus rules that send invalid ones)
and its model state. A rule sends its calls through ``MachineBase.call``, which records them
for the reproduction script and judges every exchange by the per-request checks (``CHECKS``,
probe kind "stateful"), and hands what it saw to ``MachineBase.judge``, which runs every
invariant (``INVARIANTS``). A failed finding ends the sequence; hypothesis shrinks it, and the
calls of the final, shrunk run become the breach's script. A warned finding is recorded and
the sequence goes on. Nothing here is global: ``World`` holds what one run shares.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal, TypeVar, cast

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, invariant

from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.stateful.invariants import INVARIANTS
from contract_tests.stateful.observations import Observation
from contract_tests.stateful.script import Step, render
from contract_tests.suite import Breach, Counts, Report, Verdict
from contract_tests.transport.call import Call
from contract_tests.transport.exchange import Answer, Exchange, Probe
from contract_tests.transport.target import Target
from mockserver.contract import Contract

T = TypeVar("T")


@dataclass
class MachineOptions:
    """How to run the machine: sequences (hypothesis examples) of at most ``steps`` rules."""

    seed: int | None = None
    sequences: int = 25
    steps: int = 30
    inferred: Literal["warn", "fail"] = "warn"
    api_key: str = "avara-mock-contract"
    shrink: bool = True
    progress: Callable[[str], None] = lambda line: None


class Breached(AssertionError):
    """A failed finding: ends the sequence so that hypothesis shrinks it."""


@cache
def breached(name: str, rule: str) -> type[Breached]:
    """One exception class per (invariant or check, rule): hypothesis tells failures apart by
    their type, so it shrinks each breach as itself rather than into another one."""
    return type(f"Breached[{name}:{rule}]", (Breached,), {"__module__": __name__})


@dataclass(frozen=True)
class Replay:
    """A sequence's hypothesis choices and where each of its steps' choices end (the first
    end is before any step; the first steps are the initialize rules)."""

    choices: tuple[Any, ...]
    ends: tuple[int, ...]


@dataclass
class Failure:
    """The last run of a sequence that failed this way: the breach, its calls, and its
    hypothesis choices with the step boundaries (``Replay``)."""

    breach: Breach
    steps: list[Step]
    replay: Replay
    shrunk: bool = False


class World:
    """What one run of the machine shares across its sequences: the target, the contract,
    the options, the report, the per-request checks' state, and a cache of strategies."""

    def __init__(self, target: Target, contract: Contract, options: MachineOptions) -> None:
        self.target = target
        self.contract = contract
        self.options = options
        self.seed = options.seed if options.seed is not None else random.randrange(2**32)
        self.checks_state = RunState.of(contract)
        names = [*INVARIANTS, *CHECKS]
        self.report = Report(
            target.base_url, self.seed, options.inferred, {n: Counts() for n in names}
        )
        self.study_ids: set[str] = set()
        self.counting = True
        self.failures: dict[tuple[str, str], Failure] = {}
        self.sequences = 0
        self._first: dict[tuple[str, str], Breach] = {}
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, make: Callable[[], T]) -> T:
        """A value built once per run (a strategy read from the contract)."""
        if key not in self._cache:
            self._cache[key] = make()
        return cast(T, self._cache[key])

    def verdict(self, finding: Finding) -> Verdict:
        """Stated breaches fail; inferred ones warn unless ``inferred="fail"``."""
        if finding.tag == "stated" or self.options.inferred == "fail":
            return "failed"
        return "warned"

    def tally(
        self, name: str, findings: list[Finding] | None, exchange: Exchange, steps: list[Step]
    ) -> list[Breach]:
        """Count one judgement; record each new (name, rule) breach; return the failed ones."""
        counts = self.report.counts.setdefault(name, Counts())
        failed: list[Breach] = []
        if findings is None:
            if self.counting:
                counts.skipped += 1
            return failed
        if not findings:
            if self.counting:
                counts.passed += 1
            return failed
        verdicts = [self.verdict(f) for f in findings]
        if self.counting:
            if "failed" in verdicts:
                counts.failed += 1
            else:
                counts.warned += 1
        for finding, verdict in zip(findings, verdicts, strict=True):
            breach = Breach(name, verdict, finding, exchange, script="")
            key = (name, finding.rule)
            if key not in self._first and self.counting:
                self._first[key] = breach
                self.report.breaches.append(breach)
                if verdict == "warned":
                    breach.script = self.script(steps, breach)
            if verdict == "failed":
                failed.append(breach)
        return failed

    def script(self, steps: Sequence[Step], breach: Breach) -> str:
        """The reproduction of a breach: its calls as curl lines and an SDK snippet."""
        return render(
            steps,
            breach,
            contract=self.contract,
            base_url=self.target.base_url,
            api_key=self.options.api_key,
            seed=self.seed,
            options=self.options,
        )

    def fail(self, machine: MachineBase, breach: Breach) -> None:
        """Remember the failing sequence: its calls, and its hypothesis choices cut into
        steps, so that ``shrink.shrink`` can replay it without some of them."""
        key = (breach.check, breach.finding.rule)
        self.failures[key] = Failure(breach, list(machine.steps), machine.replay())

    def settle(self) -> None:
        """Give each failed breach the script of its last (shrunk) failing run."""
        for key, failure in self.failures.items():
            first = self._first.get(key)
            if first is None:
                continue
            first.exchange = failure.breach.exchange
            first.finding = failure.breach.finding
            first.shrunk = failure.shrunk
            first.script = self.script(failure.steps, first)


class MachineBase(RuleBasedStateMachine):
    """The machine's helpers; a part subclasses it and adds rules and model state.

    One instance runs one sequence. ``token`` and ``fresh`` are drawn from unseeded
    randomness, so two runs against the same server never share a token or a UID.
    """

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.token = "ct-" + secrets.token_hex(6)
        self.fresh = random.Random(secrets.randbits(64))
        self.steps: list[Step] = []
        self._last: Exchange | None = None
        self._ends: list[int] = []
        world.sequences += 1

    @invariant()
    def step_ends(self) -> None:
        """Not a check: notes where each step's hypothesis choices end (for shrinking)."""
        self._ends.append(_choices_made())

    def replay(self) -> Replay:
        """The choices of this sequence so far and where its steps end."""
        return Replay(_choices(), tuple(self._ends))

    @property
    def last(self) -> Exchange:
        """The exchange of the last call."""
        if self._last is None:
            raise LookupError("no call was made yet")
        return self._last

    def call(self, call: Call, probe: Probe | None = None, *, script: bool = True) -> Answer | None:
        """Send a call with the run's key, record it, judge it by every per-request check;
        ``probe`` overrides the default (kind "stateful") for a call meant to be refused;
        ``script=False`` leaves a call that only looks around out of the reproduction."""
        world = self.world
        sent = call.sent(f"Bearer {world.options.api_key}")
        answer, error = world.target.send(sent)
        world.report.requests += 1
        body = None if isinstance(call.body, bytes) else call.body
        probe = replace(probe or Probe("stateful", body), operation=call.operation, call=call)
        exchange = Exchange(probe, sent, answer, error)
        self._last = exchange
        self.steps.append(Step(call, exchange, script))
        failed: list[Breach] = []
        for name, spec in CHECKS.items():
            failed += world.tally(
                name, spec.run(exchange, world.checks_state), exchange, self.steps
            )
        self._stop(failed)
        return answer

    def judge(self, seen: Observation) -> None:
        """Run every invariant on what a step saw; a failed finding ends the sequence."""
        world = self.world
        failed: list[Breach] = []
        for name, spec in INVARIANTS.items():
            findings = spec.run(seen, world.contract)
            failed += world.tally(name, findings, seen.exchange, self.steps)
        self._stop(failed)

    def _stop(self, failed: list[Breach]) -> None:
        if not failed:
            return
        breach = failed[0]
        self.world.fail(self, breach)
        self.world.counting = False
        raise breached(breach.check, breach.finding.rule)(
            f"{breach.check}: {breach.finding.rule}: {breach.finding.message}"
        )


def _choices() -> tuple[Any, ...]:
    """The hypothesis choices the running test case has made."""
    try:
        return tuple(current_build_context().data.choices)
    except InvalidArgument:  # outside a hypothesis test
        return ()


def _choices_made() -> int:
    return len(_choices())


@cache
def machine_class(parts: tuple[type[MachineBase], ...]) -> type[MachineBase]:
    """The machine of these parts (mixins of ``MachineBase``), made once per combination."""
    return cast(type[MachineBase], type("ViewerMachine", parts, {}))


def settings_of(options: MachineOptions) -> settings:
    """Hypothesis settings of a run: no database, no deadline, quiet; hypothesis's own
    shrinking is off (``shrink.shrink`` deletes whole steps instead, within a budget)."""
    return settings(
        max_examples=max(1, options.sequences),
        stateful_step_count=max(1, options.steps),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )


def run_machine(
    target: Target,
    contract: Contract,
    options: MachineOptions,
    parts: tuple[type[MachineBase], ...] | None = None,
) -> Report:
    """Run the state machine against a target: ``sequences`` sequences of ``steps`` rules;
    the first failed sequence ends the run, then is shrunk (``options.shrink``)."""
    from contract_tests.stateful.parts import PARTS
    from contract_tests.stateful.shrink import run_sequences, shrink

    world = World(target, contract, options)
    started = time.perf_counter()
    if options.sequences <= 0:
        return world.report
    # Each part drives sequences of its own: combined, the studies rules starve (only create
    # is enabled at the start, against the people part's many), and shrinking stays in one part.
    classes = [machine_class((part,)) for part in parts or PARTS]
    options.progress(
        f"state machine: {options.sequences} sequences of up to {options.steps} steps, "
        f"for each of {len(classes)} parts"
    )
    failing: dict[tuple[str, str], type[MachineBase]] = {}
    for cls in classes:
        run_sequences(world, cls, seed=world.seed)
        failing.update((key, cls) for key in world.failures if key not in failing)
    if options.shrink:
        for key, cls in failing.items():
            shrink(world, cls, key)
    world.settle()
    world.report.seconds = time.perf_counter() - started
    options.progress(
        f"state machine: {world.sequences} sequences run, {world.report.requests} requests, "
        f"{world.report.seconds:.1f} s"
    )
    return world.report
