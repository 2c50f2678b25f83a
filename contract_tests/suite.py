"""Running the contract suite against a target: create's boundary cases, then hypothesis;
then every other operation (``operations.phase``): examples, each case once, hypothesis.

Every exchange is judged by every registered check. A failing generated probe is then shrunk
(``hypothesis.find``) to the smallest request that still fails the same check, so a report
shows a request a person can read. The same seed draws the same requests, except for the
digits of their Study Instance UIDs, drawn afresh each run (a server refuses a UID it stores
already) in every request but those that test a UID rule, and the ids the phase of the other
operations makes first. ``Options.stateless`` is for a target that keeps no state (a
Prism-style mock): no set-up, and no check that needs state.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, NoSuchExample, Unsatisfiable

from contract_tests.checks import CHECKS, Finding, RunState
from contract_tests.create.cases import invalid_cases, minimal, valid_cases
from contract_tests.create.strategies import invalid_probes, valid_probes
from contract_tests.create.uids import UidFreshener
from contract_tests.operations.phase import OperationPhase
from contract_tests.transport.exchange import CREATE, CREATE_PATH, Exchange, Probe, Sent
from contract_tests.transport.target import Target
from mockserver.contract import Contract

Verdict = Literal["passed", "failed", "warned", "skipped"]
BATCH = 8
SHRINKING = (Phase.generate, Phase.shrink)
"""What ``find`` does: no explain phase (it replays the failure hundreds of times)."""
UNAUTHENTICATED = (None, "Basic YXZhcmE6bW9jaw==", "Bearer")


def _settings(max_examples: int, phases: Collection[Phase] = tuple(Phase)) -> settings:
    """Hypothesis settings for talking to a server: no database, no deadline, no health checks."""
    return settings(
        max_examples=max_examples,
        phases=phases,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


class KeyRefused(PermissionError):
    """The target refuses the bearer key itself: nothing else can be tested (exit 2)."""


@dataclass
class Options:
    """How to run: examples hypothesis draws (for create, and as many for the other
    operations), seed, what an inferred breach is, and whether the target keeps state."""

    max_examples: int = 100
    seed: int | None = None
    inferred: Literal["warn", "fail"] = "warn"
    api_key: str = "avara-mock-contract"
    shrink: bool = True
    progress: Callable[[str], None] = lambda line: None
    stateless: bool = False
    operations: tuple[str, ...] | None = None
    """The operations besides create to probe (None: every one; empty: create alone)."""
    sequences: int = 0
    """Sequences of calls the state machine runs (0: none, the default of this API; the
    command and the pytest module run 25; a stateless run runs none)."""
    steps: int = 30
    """Calls a sequence of the state machine makes at most."""


@dataclass
class Breach:
    """One finding of one check on one exchange, as reported; ``script`` is the sequence of
    calls that led to it, ready to run (a breach of an invariant of the state machine)."""

    check: str
    verdict: Verdict
    finding: Finding
    exchange: Exchange
    shrunk: bool = False
    script: str = ""


@dataclass
class Counts:
    """How often a check passed, failed, warned or did not apply."""

    passed: int = 0
    failed: int = 0
    warned: int = 0
    skipped: int = 0


@dataclass
class Report:
    """The outcome of a run."""

    base_url: str
    seed: int
    inferred: str
    counts: dict[str, Counts]
    breaches: list[Breach] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether any check failed (the exit code is 1 then)."""
        return any(c.failed for c in self.counts.values())


class Suite:
    """The contract suite bound to one target."""

    def __init__(self, target: Target, contract: Contract, options: Options) -> None:
        self.target = target
        self.contract = contract
        self.options = options
        self.seed = options.seed if options.seed is not None else random.randrange(2**32)
        self._state = RunState.of(contract, stateless=options.stateless)
        self._uids = UidFreshener()
        self._key = options.api_key
        self.report = Report(
            target.base_url, self.seed, options.inferred, {name: Counts() for name in CHECKS}
        )
        self._first: dict[tuple[str, str, str], Breach] = {}
        self.phase: OperationPhase | None = None

    def run(self) -> Report:
        """Create's boundary cases, unauthenticated requests and generated requests; the
        phase of the other operations; then shrinking."""
        started = time.perf_counter()
        explicit = list(self.boundary_probes())
        self.options.progress(f"boundary cases: {len(explicit)} requests")
        statuses = set()
        for probe in explicit:
            exchange = self.execute(probe)
            self._tally(exchange)
            if probe.kind == "valid" and exchange.answer is not None:
                statuses.add(exchange.answer.status)
        if statuses == {401}:
            raise KeyRefused(
                f"{self.target.base_url} refused the key with 401 on every valid request; "
                "pass the right one with --api-key or AVARA_API_KEY"
            )
        self._explore()
        self.operations()
        if self.options.shrink:
            self._shrink()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def boundary_probes(self) -> Iterable[Probe]:
        """The deterministic probes: every case of ``create.cases``, and no credentials."""
        for case in valid_cases(self.contract):
            yield Probe("valid", case.body, case.name, case.tag)
        for case in invalid_cases(self.contract):
            (expected,) = case.expect
            top = expected.field.split(".")[0]
            yield Probe("invalid", case.body, case.name, case.tag, expected.rule, top)
        for header in UNAUTHENTICATED:
            name = f"authorization {header!r}" if header else "no authorization"
            yield Probe("unauthenticated", minimal(), name, authorization=header)

    def operations(self) -> None:
        """Every other operation: set up (a stateful target), examples, cases, hypothesis."""
        if self.options.operations == ():
            return
        started = time.perf_counter()
        self.phase = OperationPhase.for_target(
            self.contract,
            self.execute,
            self._tally,
            stateless=self.options.stateless,
        )
        self.phase.run(
            self.options.max_examples, self.seed, self.options.progress, self.options.operations
        )
        seconds = time.perf_counter() - started
        self.options.progress(f"other operations: {seconds:.1f} s")

    def execute(self, probe: Probe) -> Exchange:
        """Send one probe; its answer or why there was none."""
        if probe.call is not None:
            key = probe.authorization if probe.kind == "unauthenticated" else f"Bearer {self._key}"
            sent = probe.call.sent(key)
            answer, error = self.target.send(sent)
            self.report.requests += 1
            return Exchange(probe, sent, answer, error)
        body = probe.body
        if isinstance(body, dict) and probe.rule.split(".")[0] != "studyInstanceUid":
            uid = body.get("studyInstanceUid")
            if isinstance(uid, str):
                body = {**body, "studyInstanceUid": self._uids.fresh(uid)}
        headers = {"Content-Type": "application/json"}
        key = probe.authorization if probe.kind == "unauthenticated" else f"Bearer {self._key}"
        if key is not None:
            headers["Authorization"] = key
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent = Sent("POST", CREATE_PATH, headers, content)
        answer, error = self.target.send(sent)
        self.report.requests += 1
        return Exchange(replace(probe, body=body), sent, answer, error)

    def judge(self, exchange: Exchange) -> dict[str, list[Finding] | None]:
        """Every check's findings on one exchange."""
        return {name: spec.run(exchange, self._state) for name, spec in CHECKS.items()}

    def verdict(self, finding: Finding) -> Verdict:
        """Stated breaches fail; inferred ones warn unless ``--inferred fail``."""
        if finding.tag == "stated" or self.options.inferred == "fail":
            return "failed"
        return "warned"

    def _tally(self, exchange: Exchange) -> bool:
        failed = False
        for name, findings in self.judge(exchange).items():
            counts = self.report.counts[name]
            if findings is None:
                counts.skipped += 1
                continue
            if not findings:
                counts.passed += 1
                continue
            verdicts = [self.verdict(f) for f in findings]
            if "failed" in verdicts:
                counts.failed += 1
                failed = True
            else:
                counts.warned += 1
            for finding, verdict in zip(findings, verdicts, strict=True):
                key = (name, finding.rule, exchange.probe.operation)
                if key not in self._first:
                    breach = Breach(name, verdict, finding, exchange)
                    self._first[key] = breach
                    self.report.breaches.append(breach)
        return failed

    def _strategy(self) -> st.SearchStrategy[Probe]:
        kinds = [valid_probes(self.contract), invalid_probes(self.contract)]
        return st.sampled_from(kinds).flatmap(lambda kind: kind)

    def _explore(self) -> None:
        total = self.options.max_examples
        done = 0
        if total <= 0:
            return

        @_settings(max_examples=-(-total // BATCH), phases=[Phase.generate])
        @hypothesis_seed(self.seed)
        @given(st.lists(self._strategy(), min_size=BATCH, max_size=BATCH))
        def explore(batch: list[Probe]) -> None:
            nonlocal done
            for probe in batch[: total - done]:
                self._tally(self.execute(probe))
                done += 1
                if done % 100 == 0:
                    self.options.progress(f"generated: {done} requests")

        explore()
        if done % 100:
            self.options.progress(f"generated: {done} requests")

    def _shrink(self) -> None:
        for breach in list(self.report.breaches):
            probe = breach.exchange.probe
            if probe.name != "generated" or breach.verdict != "failed":
                continue
            if probe.operation != CREATE:
                if self.phase is None:
                    continue
                strategy = self.phase.shrinking(probe)
            elif probe.kind == "invalid":
                strategy = invalid_probes(self.contract, [probe.rule])
            else:
                strategy = valid_probes(self.contract)

            def still_fails(candidate: Probe, breach: Breach = breach) -> bool:
                exchange = self.execute(candidate)
                findings = CHECKS[breach.check].run(exchange, self._state) or []
                return any(f.rule == breach.finding.rule for f in findings)

            try:
                smallest = find(
                    strategy,
                    still_fails,
                    settings=_settings(
                        max_examples=max(self.options.max_examples, 50), phases=SHRINKING
                    ),
                    random=random.Random(self.seed),
                )
            except (NoSuchExample, Unsatisfiable, Flaky):
                # Not reproducible (a stateful server answers differently): keep it unshrunk.
                continue
            exchange = self.execute(smallest)
            findings = CHECKS[breach.check].run(exchange, self._state) or []
            for finding in findings:
                if finding.rule == breach.finding.rule:
                    breach.exchange, breach.finding, breach.shrunk = exchange, finding, True


def run_suite(target: Target, contract: Contract, options: Options) -> Report:
    """Run the whole suite once: every operation call by call, then (unless the target is
    stateless) the state machine's sequences, in one report."""
    report = Suite(target, contract, options).run()
    if options.stateless or options.sequences <= 0:
        return report
    # Imported here: the machine reports through this module's Report.
    from contract_tests.stateful.machine import MachineOptions, run_machine

    machine = run_machine(
        target,
        contract,
        MachineOptions(
            seed=report.seed,
            sequences=options.sequences,
            steps=options.steps,
            inferred=options.inferred,
            api_key=options.api_key,
            shrink=options.shrink,
            progress=options.progress,
        ),
    )
    return merged(report, machine)


def merged(first: Report, second: Report) -> Report:
    """One report of two runs against the same target: counts added, breaches of both."""
    counts = {name: Counts() for name in [*first.counts, *second.counts]}
    for part in (first, second):
        for name, count in part.counts.items():
            total = counts[name]
            total.passed += count.passed
            total.failed += count.failed
            total.warned += count.warned
            total.skipped += count.skipped
    return Report(
        first.base_url,
        first.seed,
        first.inferred,
        counts,
        [*first.breaches, *second.breaches],
        first.requests + second.requests,
        first.seconds + second.seconds,
    )
