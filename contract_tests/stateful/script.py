"""A breach's reproduction: the calls that led to it as curl lines and as a Python snippet
with the official SDK, with the seed and the command that runs the machine again.

The curl lines are the requests exactly as sent. The snippet says the same with ``avara``:
each call is its SDK method (``client.viewer.studies.update``), path parameters positional,
the wire names of the body and the query as keywords in snake_case (derived mechanically
from the camelCase wire names); a field the request's schema has no property for goes in
``extra_body`` / ``extra_query``, as the SDK's own escape hatch. So that the snippet runs
again against the same server, what the server chose or refuses twice is not written as
text: an id a create answered is that answer's ``study_id``, a cursor is the previous page's
``cursor``, and the sequence's token and its Study Instance UIDs are drawn afresh.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract_tests.transport.call import NO_BODY, Call
from contract_tests.transport.exchange import Exchange
from mockserver.contract import Contract

if TYPE_CHECKING:
    from contract_tests.stateful.machine import MachineOptions
    from contract_tests.suite import Breach

TOKEN = re.compile(r"ct-[0-9a-f]{12}")
UID = re.compile(r"^2\.25\.[0-9]+$")
CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class Step:
    """One call of a sequence and its exchange; ``script``: whether the reproduction shows it
    (a call that only looked around, such as listing the clinic's users, does not)."""

    call: Call
    exchange: Exchange
    script: bool = True


def snake(name: str) -> str:
    """The SDK's keyword for a wire name: ``studyInstanceUid`` -> ``study_instance_uid``."""
    return CAMEL.sub("_", name).lower()


def render(
    steps: Sequence[Step],
    breach: Breach,
    *,
    contract: Contract,
    base_url: str,
    api_key: str,
    seed: int,
    options: MachineOptions | None = None,
) -> str:
    """The whole reproduction: a header, the curl lines, the SDK snippet."""
    shown = [step for step in steps if step.script]
    finding = breach.finding
    rerun = f"avara-mock contract --base-url {base_url} --seed {seed}"
    if options is not None:
        rerun += f" --sequences {options.sequences} --steps {options.steps}"
    lines = [
        f"# {breach.check} broke {finding.rule} ({finding.tag}, {breach.verdict}):",
        f"#   {finding.message}",
        f"# seed {seed}; run the machine again: {rerun}",
        f"# {len(shown)} calls; the last one shows the breach.",
        "",
        "# --- curl ---",
        *(step.exchange.sent.curl(base_url) for step in shown),
        "",
        "# --- Python, the official SDK (pip install avara) ---",
        python(shown, breach, contract=contract, base_url=base_url, api_key=api_key),
    ]
    return "\n".join(lines)


def python(
    steps: Sequence[Step], breach: Breach, *, contract: Contract, base_url: str, api_key: str
) -> str:
    """The calls as a runnable Python snippet with the official SDK."""
    return _Snippet(contract, base_url, api_key).render(steps, breach)


class _Snippet:
    """Writes the snippet, keeping the names it gave to what the server answered."""

    def __init__(self, contract: Contract, base_url: str, api_key: str) -> None:
        self.contract = contract
        self.base_url = base_url
        self.api_key = api_key
        self.names: dict[str, str] = {}
        self.fresh: list[str] = []
        self.counter: dict[str, int] = {}
        self.token: str | None = None

    def render(self, steps: Sequence[Step], breach: Breach) -> str:
        body: list[str] = []
        for step in steps:
            failing = step.exchange is breach.exchange
            if failing:
                body.append(f"# the contract expects otherwise: {breach.finding.message}")
            body += self._step(step, failing)
        head = ["import secrets", "import uuid", ""] if self.fresh or self.token else []
        head += [
            "from avara import APIStatusError, Avara",
            "",
            f"client = Avara(base_url={self.base_url!r}, api_key={self.api_key!r}, max_retries=0)",
        ]
        if self.token:
            head.append('token = "ct-" + secrets.token_hex(6)')
        head += self.fresh
        return "\n".join([*head, *body]) + "\n"

    def _step(self, step: Step, failing: bool) -> list[str]:
        call, answer = step.call, step.exchange.answer
        if call.body is NO_BODY or isinstance(call.body, Mapping):
            expression = f"client.{call.spec.name}({', '.join(self._arguments(call))})"
        else:
            expression = self._raw(call)
        refused = answer is None or not 200 <= answer.status < 300
        document = answer.document if answer is not None and answer.is_json else None
        target = self._target(call, document) if not refused else None
        if target:
            line = [f"{target} = {expression}"]
            if failing:
                line.append(f"print({target})")
        else:
            line = [f"print({expression})"]
        if not refused:
            return line
        return [
            "try:",
            *("    " + text for text in line),
            "except APIStatusError as error:",
            "    print(error.status_code, error.body)",
        ]

    def _target(self, call: Call, document: Any) -> str | None:
        """A variable for an answer later calls refer to: a created study, a page."""
        if not isinstance(document, dict):
            return None
        if call.spec.name.endswith(".create") and isinstance(document.get("studyId"), str):
            name = self._name("study")
            self.names[document["studyId"]] = f"{name}.study_id"
            return name
        if call.spec.name.endswith(".list") and isinstance(document.get("cursor"), str):
            name = self._name("page")
            self.names[document["cursor"]] = f"{name}.cursor"
            return name
        return None

    def _name(self, kind: str) -> str:
        self.counter[kind] = self.counter.get(kind, 0) + 1
        return f"{kind}_{self.counter[kind]}"

    def _raw(self, call: Call) -> str:
        """A call whose body is no JSON object, which the SDK's methods cannot send (their
        ``extra_body`` is merged into an object): the client's own ``patch`` / ``post``."""
        route = call.spec.route
        for name in call.spec.parameters:
            if name in call.path:
                route = route.replace("{" + name + "}", "{" + self._value(call.path[name]) + "}")
        return (
            f"client.{call.spec.method.lower()}(f{route!r}, "
            f"body={self._value(call.body)}, cast_to=object)"
        )

    def _arguments(self, call: Call) -> list[str]:
        spec = call.spec
        found = [self._value(call.path[name]) for name in spec.parameters if name in call.path]
        extra_body: dict[str, Any] = {}
        if isinstance(call.body, Mapping):
            known = _properties(self.contract, spec.body)
            for name, value in call.body.items():
                if name in known:
                    found.append(f"{snake(name)}={self._value(value)}")
                else:
                    extra_body[name] = value
        extra_query: dict[str, str] = {}
        reads = _reads(self.contract, spec.query)
        for name, text in call.query:
            if name in reads and name not in extra_query:
                found.append(f"{snake(name)}={self._value(_read(text, reads[name]))}")
            else:
                extra_query[name] = text
        if extra_body:
            found.append(f"extra_body={self._value(extra_body)}")
        if extra_query:
            found.append(f"extra_query={self._value(extra_query)}")
        return found

    def _value(self, value: Any) -> str:
        """A Python expression for a JSON value, naming what the server chose or must be fresh."""
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict):
            items = ", ".join(f"{self._value(k)}: {self._value(v)}" for k, v in value.items())
            return "{" + items + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self._value(v) for v in value) + "]"
        return repr(value)

    def _text(self, value: str) -> str:
        if value in self.names:
            return self.names[value]
        if UID.match(value):
            name = self._name("uid")
            self.fresh.append(f'{name} = f"2.25.{{uuid.uuid4().int}}"')
            self.names[value] = name
            return name
        match = TOKEN.search(value.lower())
        if match is None:
            return repr(value)
        self.token = match.group()
        found = value[match.start() : match.end()]
        name = "{token}" if found == self.token else "{token.upper()}"
        parts = value.split(found)
        pieces = name.join(part.replace("{", "{{").replace("}", "}}") for part in parts)
        return "f" + repr(pieces)


def _properties(contract: Contract, document: str | None) -> set[str]:
    """The property names of a request document (the SDK has a keyword for each)."""
    if document is None:
        return set()
    return set(contract.resolved(document).get("properties", {}))


def _reads(contract: Contract, document: str | None) -> dict[str, str]:
    """How each query parameter's text is read (x-query), by name."""
    if document is None:
        return {}
    props = contract.resolved(document).get("properties", {})
    return {name: spec.get("x-query", {}).get("read", "string") for name, spec in props.items()}


def _read(text: str, read: str) -> Any:
    """A query text as the SDK keyword's value: booleans and numbers as Python values."""
    if read == "boolean" and text in ("true", "false"):
        return text == "true"
    if read == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text
