"""The suite's phase of every operation but create: set up, examples, every case once, then
hypothesis.

Against a stateful target the phase first makes what valid calls can name: one study (the
create request of the schema's examples, its UID made fresh) and one user (the invite of the
examples, its e-mail made fresh), and that user's invitation. A call that names them can
succeed; if setting up fails, probes name drawn ids, and the 404 they get is allowed.

Then each operation is called with its schemas' examples and once without credentials, and
hypothesis draws probes: first one of each case (one valid call of each operation and one
call breaking each rule of it), then ``max_examples`` more, each of an operation drawn at
random, a valid call one time in three, else a call breaking one of its rules. A case no
draw could make (a rule that never breaks alone, such as a pattern whose every break also
breaks a format) is left out of the random part.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from contract_tests.create.uids import UidFreshener
from contract_tests.operations.cases import VALID, Case
from contract_tests.operations.probes import OperationProbes, other_operations
from contract_tests.transport.call import NO_BODY, Call, operation
from contract_tests.transport.exchange import CREATE, Exchange, Probe
from mockserver.contract import Contract

CREATE_REQUEST, INVITE = "study-create-request", "viewer.users.invite"
INVITATIONS = "viewer.users.invitations.list"

Execute = Callable[[Probe], Exchange]
BATCH = 8
"""Probes drawn in one hypothesis example of the random part."""
COVER_EXAMPLES = 2
"""Examples of the pass that draws each case once: hypothesis's first is its simplest (and
skipped), the second a random one."""
SALT = st.integers(0, 2**16)
"""Drawn first: 0 only in hypothesis's simplest example."""


def _settings(examples: int) -> settings:
    """Hypothesis settings for drawing requests: no database, deadline or health checks."""
    return settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Progress:
    """What the phase did: its cases, those no draw could make, and the probes it sent."""

    cases: list[Case] = field(default_factory=list)
    dead: list[Case] = field(default_factory=list)
    sent: int = 0


def setup(contract: Contract, execute: Execute) -> dict[str, str]:
    """Make a study, a user and its invitation; the ids of what was made, by wire name."""
    known: dict[str, str] = {}
    example = dict(contract.documents[CREATE_REQUEST]["examples"][0])
    uid = example.get("studyInstanceUid")
    if isinstance(uid, str):
        example["studyInstanceUid"] = UidFreshener().fresh(uid)
    study = _made(execute, Call(CREATE, body=example))
    for name in ("studyId", "studyInstanceUid"):
        if isinstance(study.get(name), str):
            known[name] = study[name]
    request = operation(INVITE).body or ""
    invite = _fresh_emails(contract, request, dict(contract.documents[request]["examples"][0]))
    user = _made(execute, Call(INVITE, body=invite))
    if isinstance(user.get("userId"), str):
        known["userId"] = user["userId"]
        page = _made(execute, Call(INVITATIONS, query=(("userId", user["userId"]),)))
        listed = page.get("invitations")
        if isinstance(listed, list) and listed and isinstance(listed[0], dict):
            invitation = listed[0].get("invitationId")
            if isinstance(invitation, str):
                known["invitationId"] = invitation
    return known


def _made(execute: Execute, call: Call) -> dict[str, Any]:
    """The 2xx answer of a setup call, or nothing."""
    body = None if call.body is NO_BODY else call.body
    probe = Probe("valid", body, "setup", operation=call.operation, call=call, location="")
    exchange = execute(probe)
    answer = exchange.answer
    if answer is None or not 200 <= answer.status < 300 or not isinstance(answer.document, dict):
        return {}
    return answer.document


def _fresh_emails(contract: Contract, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body with every e-mail field's local part tagged afresh (one person per e-mail)."""
    properties = contract.resolved(name).get("properties", {})
    for field_name, value in body.items():
        formats = {node.get("format") for node in _nodes(properties.get(field_name, {}))}
        if "email" in formats and isinstance(value, str) and "@" in value:
            local, _, domain = value.partition("@")
            body[field_name] = f"{local}+{secrets.token_hex(6)}@{domain}"
    return body


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key in ("allOf", "anyOf", "oneOf"):
            for member in node.get(key, []):
                yield from _nodes(member)
        for key in ("then", "else"):
            yield from _nodes(node.get(key))


class OperationPhase:
    """The phase, bound to the suite's way of sending and judging a probe."""

    def __init__(
        self,
        contract: Contract,
        probes: OperationProbes,
        execute: Execute,
        tally: Callable[[Exchange], Any],
    ) -> None:
        self.contract = contract
        self.probes = probes
        self._execute = execute
        self._tally = tally
        self.state = Progress()

    @classmethod
    def for_target(
        cls,
        contract: Contract,
        execute: Execute,
        tally: Callable[[Exchange], Any],
        *,
        stateless: bool,
    ) -> OperationPhase:
        """The phase, set up against the target when it keeps state."""

        def sent(probe: Probe) -> Exchange:
            exchange = execute(probe)
            tally(exchange)
            return exchange

        probes = OperationProbes.shared(contract, stateless=stateless)
        probes.known = {} if stateless else setup(contract, sent)
        return cls(contract, probes, execute, tally)

    def send(self, probe: Probe) -> None:
        """Send one probe and judge it."""
        self._tally(self._execute(probe))
        self.state.sent += 1

    def run(
        self,
        examples: int,
        seed: int,
        progress: Callable[[str], None],
        names: Sequence[str] | None = None,
    ) -> None:
        """Examples and no credentials, each case once, then ``examples`` drawn ones; of
        the operations ``names`` (None: every one but create)."""
        chosen = other_operations() if names is None else list(names)
        fixed = [p for name in chosen for p in self._fixed(name)]
        for probe in fixed:
            self.send(probe)
        for name in chosen:
            cases = self.probes.cases(name)
            self.state.cases += cases
            for probe in self._each(cases, seed):
                self.send(probe)
        covered = self.state.sent - len(fixed)
        progress(f"other operations: {len(fixed)} examples, {covered} cases")
        self._explore(examples, seed)
        progress(f"other operations: {self.state.sent} requests")

    def _fixed(self, name: str) -> list[Probe]:
        found = self.probes.examples(name)
        unauthenticated = self.probes.unauthenticated(name)
        return found + ([unauthenticated] if unauthenticated is not None else [])

    def _each(self, cases: list[Case], seed: int) -> list[Probe]:
        """One probe of each case (drawn before any is sent: drawing must not wait on the
        target); a case that no draw made is dead."""
        kept: dict[int, Probe] = {}

        @_settings(COVER_EXAMPLES)
        @hypothesis_seed(seed)
        @given(st.data())
        def cover(data: st.DataObject) -> None:
            if data.draw(SALT) == 0:
                return  # hypothesis's simplest example: every draw in it would be the same
            for index, case in enumerate(cases):
                probe = data.draw(case.probes)
                if probe is not None:
                    kept[index] = probe

        cover()
        self.state.dead += [case for index, case in enumerate(cases) if index not in kept]
        return [kept[index] for index in sorted(kept)]

    def _explore(self, examples: int, seed: int) -> None:
        live = [c for c in self.state.cases if not any(c is d for d in self.state.dead)]
        by_operation: dict[str, tuple[list[Case], list[Case]]] = {}
        for case in live:
            valid, invalid = by_operation.setdefault(case.operation, ([], []))
            (valid if case.label == VALID else invalid).append(case)
        if not by_operation or examples <= 0:
            return
        names = sorted(by_operation)
        sent = 0

        @_settings(-(-examples // BATCH) + 1)  # the first, simplest example sends nothing
        @hypothesis_seed(seed)
        @given(st.data())
        def explore(data: st.DataObject) -> None:
            # A batch an example: hypothesis's cost of an example is paid once for several.
            nonlocal sent
            if data.draw(SALT) == 0:
                return
            for _ in range(BATCH):
                valid, invalid = by_operation[data.draw(st.sampled_from(names))]
                third = data.draw(st.integers(0, 2)) == 0
                pool = valid if not invalid or (valid and third) else invalid
                probe = data.draw(data.draw(st.sampled_from(pool)).probes)
                if probe is not None and sent < examples:
                    self.send(probe)
                    sent += 1

        explore()

    def shrinking(self, probe: Probe) -> Any:
        """The strategy a failing probe of this phase is shrunk in: its operation's valid
        calls, or the calls breaking its rule."""
        if probe.kind == "invalid":
            return self.probes.invalid(probe.operation, [probe.rule])
        return self.probes.valid(probe.operation)
