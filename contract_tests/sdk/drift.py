"""``avara-mock drift``: does the installed SDK still agree with ``schemas/``?

Every document whose ``x-sdk`` annotation names SDK classes is compared with each of them:
wire names, required or optional, nullability and enum values; a nested model must be the
one its own document names in ``x-sdk``, or is compared field by field where the schema
inlines it. Each disagreement is a ``Difference`` that prints as one line a person can act
on. Where a request schema is lenient on purpose (it accepts a null the SDK never sends,
and ``x-null-as-absent``, ``x-null-means`` or ``x-query`` says why), the finding is a note,
not drift: it cannot break anyone's code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from contract_tests.sdk import schema_nodes as nodes
from contract_tests.sdk.models import (
    Resolver,
    SdkField,
    Unusable,
    sdk_fields,
    sdk_resolver,
    sdk_version,
    viewer_models,
)
from mockserver.contract import JSON, Contract

Direction = Literal["request", "query", "answer"]
DIRECTIONS: dict[str, Direction] = {"params": "request", "model": "answer", "page": "answer"}
OLDER = "(or run an older SDK)"
MESSAGES = {
    "unknown-model": "{sdk}",
    "sdk-only": "field '{field}' is in the SDK but not in the schema",
    "schema-only": "field '{field}' is in the schema but not in the SDK",
    "refused": "field '{field}' is in the SDK but the schema refuses it",
    "required": "field '{field}' is {sdk} in the SDK but {schema} in the schema",
    "nullable": "field '{field}' is {sdk} in the SDK but {schema} in the schema",
    "enum": "field '{field}' takes {sdk} in the SDK but {schema} in the schema",
    "nested": "field '{field}' is {sdk} in the SDK but {schema} in the schema",
    "item": "field '{field}' should list {sdk} (x-sdk item) but lists {schema}",
    "uncovered": "no document of schemas/ names this model in x-sdk",
}


class InvalidAnnotation(Unusable, ValueError):
    """An ``x-sdk`` annotation is malformed: a bug of schemas/, not drift."""


@dataclass(frozen=True)
class Difference:
    """One disagreement between a schema document and an SDK model, and what to do."""

    document: str
    model: str
    field: str
    kind: str
    sdk: str
    schema: str
    advice: str

    @property
    def line(self) -> str:
        where = f"{self.document} ↔ {self.model}" if self.document else self.model
        return f"{where}: {MESSAGES[self.kind].format_map(asdict(self))}; {self.advice}"


@dataclass(frozen=True)
class Report:
    """The differences (drift) and notes (nothing to do) of one comparison."""

    documents: tuple[str, ...]
    models: tuple[str, ...]
    differences: tuple[Difference, ...]
    notes: tuple[Difference, ...]
    sdk: str = "the SDK"

    @property
    def drifted(self) -> bool:
        return bool(self.differences)


def inspect_sdk(module: str, contract: Contract | None = None) -> Report:
    """Compare ``schemas/`` with the installed SDK ``module``; raises ``Unusable``."""
    report = check(contract or Contract.load(), sdk_resolver(module), viewer_models(module))
    return replace(report, sdk=f"{module} {sdk_version(module)}")


def check(
    contract: Contract, resolve: Resolver, exported: Mapping[str, type] | None = None
) -> Report:
    """Compare each document naming SDK models in ``x-sdk`` with the classes ``resolve``
    finds for them; a class of ``exported`` that no document names is a note. The control
    plane's documents (``mock-*``) mirror no SDK model and are not compared."""
    documents: list[str] = []
    models: list[str] = []
    mirrored: list[object] = []
    differences: list[Difference] = []
    notes: list[Difference] = []
    for name in sorted(contract.viewer_documents):
        annotation = contract.documents[name].get("x-sdk")
        if annotation is None:
            continue
        read = _read_annotation(name, annotation)
        if read is None:
            continue
        direction, item = read
        root = contract.resolved(name)
        if direction == "request" and any("x-query" in p for p in nodes.properties(root).values()):
            direction = "query"
        documents.append(name)
        for model in annotation["models"]:
            models.append(model)
            comparison = _Comparison(contract, name, model, direction, item, differences, notes)
            mirrored.append(comparison.run(resolve, root))
    for path, cls in (exported or {}).items():
        if not any(cls is known for known in mirrored):
            advice = "name it in the x-sdk of the document that mirrors it, if one does"
            notes.append(Difference("", path, "", "uncovered", "defined", "absent", advice))
    return Report(tuple(documents), tuple(models), tuple(differences), tuple(notes))


def _read_annotation(name: str, annotation: JSON) -> tuple[Direction, str | None] | None:
    """How to compare a document with its models; None for another kind that names no
    models (a ``path`` document names SDK methods instead). A typo in kind is an error,
    not a document silently left unchecked."""
    shape = annotation if isinstance(annotation, dict) else {}
    models, kind, item = shape.get("models"), shape.get("kind"), shape.get("item")
    known = kind in DIRECTIONS
    if (
        not isinstance(models, list)
        or not isinstance(kind, str)
        or item == ""
        or (models and not known)
    ):
        raise InvalidAnnotation(
            f"schemas/{name}.schema.json: x-sdk must be {{'models': [dotted paths], 'kind': "
            f"{' or '.join(DIRECTIONS)}}}, not {json.dumps(annotation)}"
        )
    return (DIRECTIONS[kind], item) if known else None


@dataclass
class _Comparison:
    """One document against one model: collects what differs, and what is only a note."""

    contract: Contract
    document: str
    model: str
    direction: Direction
    item: str | None
    differences: list[Difference]
    notes: list[Difference]
    file: str = field(init=False)

    def __post_init__(self) -> None:
        self.file = f"schemas/{self.document}.schema.json"

    def drift(self, path: str, kind: str, sdk: str, schema: str, advice: str) -> None:
        found = Difference(self.document, self.model, path, kind, sdk, schema, advice)
        self.differences.append(found)

    def note(self, path: str, kind: str, sdk: str, schema: str, advice: str) -> None:
        self.notes.append(Difference(self.document, self.model, path, kind, sdk, schema, advice))

    def run(self, resolve: Resolver, root: JSON) -> object:
        """Compare the model with the document; answers the class found, if any."""
        try:
            cls = resolve(self.model)
        except LookupError as exc:
            advice = f"remove it from x-sdk in {self.file} if the API dropped it {OLDER}"
            self.drift("", "unknown-model", str(exc), "named in x-sdk", advice)
            return None
        fields = sdk_fields(cls)
        if fields is None:
            shown = f"{self.model} is {cls!r}, not a pydantic (v2) model or a TypedDict"
            self.drift("", "unknown-model", shown, "named in x-sdk", f"fix x-sdk in {self.file}")
            return None
        self.compare(fields, root, "")
        return cls

    def compare(self, fields: dict[str, SdkField], node: JSON, prefix: str) -> None:
        """Names on one side only, then the facts of each field both sides have."""
        properties = nodes.properties(node)
        required = set(node.get("required", []))
        for wire in [*properties, *(w for w in fields if w not in properties)]:
            path, sdk = prefix + wire, fields.get(wire)
            if wire in properties and nodes.refuses_all(properties[wire]):
                if sdk is not None:
                    advice = f"accept it in {self.file} {OLDER}"
                    self.drift(path, "refused", sdk.shown, "refused", advice)
            elif sdk is None:
                advice = f"remove it from {self.file} {OLDER}"
                self.drift(path, "schema-only", "absent", "present", advice)
            elif wire not in properties:
                self.drift(path, "sdk-only", sdk.shown, "absent", f"add it to {self.file} {OLDER}")
            else:
                self.common(path, sdk, properties[wire], wire in required)

    def common(self, path: str, sdk: SdkField, node: JSON, required: bool) -> None:
        if sdk.required != required:
            edit = f'add "{sdk.wire}" to' if sdk.required else f'remove "{sdk.wire}" from'
            advice = f'{edit} "required" in {self.file} {OLDER}'
            self.drift(path, "required", _required(sdk.required), _required(required), advice)
        accepts = nodes.accepts_null(node)
        if sdk.nullable != accepts:
            self.nullability(path, sdk, node, accepts)
        target = nodes.items(node) if sdk.array else node
        if sdk.generic:
            self.page_items(path, target)
            return
        self.enum(path, sdk, target)
        if sdk.nested is not None:
            self.nested(path, sdk.nested, target)

    def nullability(self, path: str, sdk: SdkField, node: JSON, accepts: bool) -> None:
        """Drift where a null could break the SDK's user; a note where it cannot."""
        facts = (f"{_nullable(sdk.nullable)} ({sdk.shown})", _nullable(accepts))
        answer = self.direction == "answer"
        reason = nodes.leniency(node)
        if self.direction == "query" and sdk.nullable:
            why = "the SDK leaves a None out of the query string, so no null reaches the mock"
            self.note(path, "nullable", *facts, f"nothing to do: {why}")
        elif not answer and accepts and reason:
            why = f"the mock accepts null on purpose ({reason}) and the SDK does not send it"
            self.note(path, "nullable", *facts, f"nothing to do: {why}")
        elif accepts:
            why = ": the SDK cannot read one" if answer else ", or say why with x-null-as-absent"
            self.drift(path, "nullable", *facts, f"refuse null in {self.file}{why} {OLDER}")
        else:
            why = "the API may answer null" if answer else "the SDK may send one"
            self.drift(path, "nullable", *facts, f"allow null in {self.file}: {why} {OLDER}")

    def enum(self, path: str, sdk: SdkField, node: JSON | None) -> None:
        listed = nodes.values(node)
        theirs = sdk.values
        ours = None if listed is None else tuple(v for v in listed if v is not None)
        if (theirs is None) == (ours is None) and set(theirs or ()) == set(ours or ()):
            return
        rule = nodes.enum_rule(node)
        home = self.file
        if rule is not None:
            home = f"schemas/{nodes.rule_home(self.contract, rule, self.document)}.schema.json"
        where = f"the enum of rule {rule} in {home}" if rule else f"the enum in {home}"
        if theirs is None:
            advice = f"drop {where}: the SDK takes any {sdk.shown}"
        elif ours is None:
            advice = f"restrict it to the SDK's values with an enum in {self.file}"
        else:
            add = [v for v in theirs if v not in ours]
            remove = [v for v in ours if v not in theirs]
            edits = [f"add {_listed(add)} to"] if add else []
            edits += [f"remove {_listed(remove)} from"] if remove else []
            advice = f"{' and '.join(edits)} {where}"
        facts = (_one_of(theirs), _one_of(ours))
        self.drift(path, "enum", *facts, f"{advice} {OLDER}")

    def nested(self, path: str, cls: type, node: JSON | None) -> None:
        """A nested model is the one its document names, or the schema's inline object."""
        mirrors = nodes.mirrors(node)
        name = cls.__name__
        if mirrors:
            short = {doc: [m.rpartition(".")[2] for m in models] for doc, models in mirrors.items()}
            if not any(name in names for names in short.values()):
                named = ", ".join(f"{doc} ({', '.join(names)})" for doc, names in short.items())
                advice = f"refer to the document whose x-sdk names {name} {OLDER}"
                self.drift(path, "nested", name, named, advice)
            return
        inline = nodes.inline_object(node)
        fields = sdk_fields(cls)
        if inline is None or fields is None:
            advice = f"describe its fields in {self.file}, or refer to a document naming {name}"
            self.drift(path, "nested", name, "an object without properties", advice)
            return
        self.compare(fields, inline, path + ".")

    def page_items(self, path: str, node: JSON | None) -> None:
        """The page's list of items refers to the document x-sdk ``item`` names."""
        listed = nodes.ids(node)
        if self.item is not None and listed != [self.item]:
            advice = f"make its items refer to {self.item}, or fix x-sdk item in {self.file}"
            self.drift(path, "item", self.item, ", ".join(listed) or "no document", advice)


def _required(flag: bool) -> str:
    return "required" if flag else "optional"


def _nullable(flag: bool) -> str:
    return "nullable" if flag else "not nullable"


def _listed(values: list[object]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def _one_of(values: tuple[object, ...] | None) -> str:
    return "any value" if values is None else f"one of {_listed(list(values))}"


def render(report: Report, *, notes: bool = False) -> str:
    """What ``avara-mock drift`` prints: each difference, the notes if asked, a verdict."""
    lines = [difference.line for difference in report.differences]
    if notes:
        lines += [f"note: {note.line}" for note in report.notes]
    counted = f"{len(report.documents)} documents, {len(report.models)} models"
    if report.drifted:
        touched = len({difference.document for difference in report.differences})
        found = f"{len(report.differences)} differences"
        verdict = f"drift: {found} between schemas/ and {report.sdk} ({touched} of {counted})"
    else:
        verdict = f"no drift: schemas/ agrees with {report.sdk} ({counted})"
    hint = ", --notes shows them" if report.notes and not notes else ""
    lines.append(f"{verdict}; {len(report.notes)} notes{hint}")
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    """The report as ``--json`` prints it: each Difference's fields and its line."""

    def entries(found: tuple[Difference, ...]) -> list[dict[str, str]]:
        return [{**asdict(difference), "line": difference.line} for difference in found]

    return {
        "sdk": report.sdk,
        "drift": report.drifted,
        "documents": list(report.documents),
        "models": list(report.models),
        "differences": entries(report.differences),
        "notes": entries(report.notes),
    }
