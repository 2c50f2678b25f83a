"""Named create requests at and around every limit of the contract, valid and invalid.

Limits are read from schemas/ (``Contract.rule_value``); this module only knows how to build
a value of a given size. Each invalid case breaks exactly one rule and says which.
``python -m contract_tests.create.cases FILE`` writes them to fixtures/ for users and tests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contract_tests.operations.nearmiss import id_prefixes
from mockserver.contract import Contract

REQUEST = "study-create-request"
UID = "1.2.840.10008.5.1.4.1.1.2"
USER = "usr_" + "0123456789abcdef" * 2
CUSTOMER = "cus_" + "fedcba9876543210" * 2
ASTRAL = "\U0001fa7b"  # X-ray emoji: one code point, two UTF-16 units, four UTF-8 bytes


@dataclass(frozen=True)
class Expected:
    """A violation an invalid case must be refused for."""

    field: str
    rule: str


@dataclass(frozen=True)
class Case:
    """A create request and what it tests; ``tag`` is inferred when it rests on our reading."""

    name: str
    body: Any
    tag: str = "stated"
    expect: tuple[Expected, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        """Valid cases expect no violation."""
        return not self.expect


def minimal(**overrides: Any) -> dict[str, Any]:
    """The smallest valid request, with overrides (``None`` values are kept as null)."""
    return {
        "severity": "normal",
        "studyDescription": "Chest CT",
        "studyInstanceUid": UID,
        **overrides,
    }


UID_HEAD = "1.2.840."


def uid_of_length(length: int) -> str:
    """A valid DICOM UID of exactly ``length`` characters."""
    if length <= len(UID_HEAD):
        return "1" * length
    return UID_HEAD + "1" * (length - len(UID_HEAD))


def pairs(count: int) -> dict[str, str]:
    """``count`` distinct metadata pairs."""
    return {f"key{i:03d}": f"value {i}" for i in range(count)}


def valid_cases(contract: Contract) -> list[Case]:
    """Valid requests, at every limit and with every optional field present or absent."""
    limit = _limits(contract)
    return [
        Case("minimal", minimal()),
        *(Case(f"severity-{s}", minimal(severity=s)) for s in _enum(contract)),
        Case(
            "full",
            minimal(
                severity="stat",
                studyDescription="CT Chest/Abdomen/Pelvis with contrast",
                studyInstanceUid="1.2.840.113619.2.55.3.604688119.868.1234567890.123",
                assignedTo=USER,
                expressCustomerId=CUSTOMER,
                metadata={"accession": "A12345", "site": "north"},
            ),
        ),
        Case(
            "unicode",
            minimal(
                studyDescription=f"IRM cérébrale 脳MRI {ASTRAL} e\u0301",
                metadata={"Prüfung": "Schädel", "部位": "頭部", ASTRAL: ASTRAL * 3},
            ),
        ),
        Case("uid-at-max-length", minimal(studyInstanceUid=uid_of_length(limit["uid"]))),
        Case("uid-zero-components", minimal(studyInstanceUid="1.0.0.20")),
        Case("uid-single-component", minimal(studyInstanceUid="2")),
        Case("metadata-empty", minimal(metadata={})),
        Case("metadata-at-max-pairs", minimal(metadata=pairs(limit["pairs"]))),
        Case("metadata-key-at-max-length", minimal(metadata={"k" * limit["key"]: "v"})),
        Case("metadata-value-at-max-length", minimal(metadata={"k": "v" * limit["value"]})),
        Case("metadata-key-one-character", minimal(metadata={"k": ""})),
        Case(
            "metadata-two-byte-value-at-max-length",
            minimal(metadata={"k": "é" * limit["value"]}),
            tag="inferred",
        ),
        Case(
            "metadata-astral-at-max-length",
            minimal(metadata={ASTRAL * limit["key"]: ASTRAL * limit["value"]}),
            tag="inferred",
        ),
        Case(
            "optional-fields-null",
            minimal(assignedTo=None, expressCustomerId=None, metadata=None),
            tag="inferred",
        ),
    ]


def invalid_cases(contract: Contract) -> list[Case]:
    """Requests that each break exactly one rule, one past every limit and beside every format."""
    limit = _limits(contract)
    over_uid = uid_of_length(limit["uid"] + 1)

    def bad(name: str, body: Any, field_: str, rule: str, tag: str = "stated") -> Case:
        return Case(name, body, tag, (Expected(field_, rule),))

    return [
        *(
            bad(f"missing-{f}", {k: v for k, v in minimal().items() if k != f}, f, "body.required")
            for f in ("severity", "studyDescription", "studyInstanceUid")
        ),
        bad("body-array", [minimal()], "", "body.type"),
        bad("body-string", "study", "", "body.type"),
        bad(
            "unknown-field",
            minimal(studyId="stu_" + "0" * 32),
            "studyId",
            "body.unknown-field",
            "inferred",
        ),
        bad(
            "snake-case-field",
            minimal(study_notes="x"),
            "study_notes",
            "body.unknown-field",
            "inferred",
        ),
        bad("severity-upper-case", minimal(severity="HIGH"), "severity", "severity.enum"),
        bad("severity-unknown", minimal(severity="urgent"), "severity", "severity.enum"),
        bad("severity-null", minimal(severity=None), "severity", "severity.enum"),
        bad(
            "description-not-string",
            minimal(studyDescription=42),
            "studyDescription",
            "studyDescription.type",
        ),
        bad(
            "description-empty",
            minimal(studyDescription=""),
            "studyDescription",
            "studyDescription.non-empty",
            "inferred",
        ),
        bad(
            "uid-over-max-length",
            minimal(studyInstanceUid=over_uid),
            "studyInstanceUid",
            "studyInstanceUid.max-length",
        ),
        bad(
            "uid-not-string",
            minimal(studyInstanceUid=1.2),
            "studyInstanceUid",
            "studyInstanceUid.type",
        ),
        bad(
            "uid-letter",
            minimal(studyInstanceUid="1.2.a"),
            "studyInstanceUid",
            "studyInstanceUid.charset",
        ),
        bad(
            "uid-space",
            minimal(studyInstanceUid="1.2 .3"),
            "studyInstanceUid",
            "studyInstanceUid.charset",
        ),
        bad(
            "uid-trailing-newline",
            minimal(studyInstanceUid="1.2.3\n"),
            "studyInstanceUid",
            "studyInstanceUid.charset",
        ),
        bad(
            "uid-arabic-digit",
            minimal(studyInstanceUid="1.2.\u0663"),
            "studyInstanceUid",
            "studyInstanceUid.charset",
        ),
        bad(
            "uid-empty",
            minimal(studyInstanceUid=""),
            "studyInstanceUid",
            "studyInstanceUid.empty-component",
        ),
        bad(
            "uid-double-dot",
            minimal(studyInstanceUid="1..2"),
            "studyInstanceUid",
            "studyInstanceUid.empty-component",
        ),
        bad(
            "uid-leading-dot",
            minimal(studyInstanceUid=".1.2"),
            "studyInstanceUid",
            "studyInstanceUid.empty-component",
        ),
        bad(
            "uid-trailing-dot",
            minimal(studyInstanceUid="1.2."),
            "studyInstanceUid",
            "studyInstanceUid.empty-component",
        ),
        bad(
            "uid-leading-zero",
            minimal(studyInstanceUid="1.02.3"),
            "studyInstanceUid",
            "studyInstanceUid.leading-zero",
        ),
        bad(
            "uid-leading-zero-first",
            minimal(studyInstanceUid="01.2"),
            "studyInstanceUid",
            "studyInstanceUid.leading-zero",
        ),
        bad(
            "uid-double-zero",
            minimal(studyInstanceUid="1.00"),
            "studyInstanceUid",
            "studyInstanceUid.leading-zero",
        ),
        *_id_cases("assignedTo", USER, "userId", id_prefixes(contract)),
        *_id_cases("expressCustomerId", CUSTOMER, "expressCustomerId", id_prefixes(contract)),
        bad(
            "metadata-over-max-pairs",
            minimal(metadata=pairs(limit["pairs"] + 1)),
            "metadata",
            "metadata.max-pairs",
        ),
        bad(
            "metadata-key-over-max-length",
            minimal(metadata={"k" * (limit["key"] + 1): "v"}),
            "metadata." + "k" * (limit["key"] + 1),
            "metadata.key-max-length",
        ),
        bad(
            "metadata-astral-key-over-max-length",
            minimal(metadata={ASTRAL * (limit["key"] + 1): "v"}),
            "metadata." + ASTRAL * (limit["key"] + 1),
            "metadata.key-max-length",
        ),
        bad(
            "metadata-key-empty",
            minimal(metadata={"": "v"}),
            "metadata.",
            "metadata.key-non-empty",
            "inferred",
        ),
        bad(
            "metadata-value-over-max-length",
            minimal(metadata={"k": "v" * (limit["value"] + 1)}),
            "metadata.k",
            "metadata.value-max-length",
        ),
        bad(
            "metadata-value-number", minimal(metadata={"k": 1}), "metadata.k", "metadata.value-type"
        ),
        bad(
            "metadata-value-null",
            minimal(metadata={"k": None}),
            "metadata.k",
            "metadata.value-type",
        ),
        bad(
            "metadata-value-nested",
            minimal(metadata={"k": {"a": "b"}}),
            "metadata.k",
            "metadata.value-type",
        ),
        bad("metadata-array", minimal(metadata=[["k", "v"]]), "metadata", "metadata.type"),
        bad("metadata-string", minimal(metadata="k=v"), "metadata", "metadata.type"),
    ]


def _id_cases(field_: str, good: str, kind: str, prefixes: tuple[str, ...]) -> list[Case]:
    prefix, hex_digits = good[:4], good[4:]
    fmt = f"{kind}.format"
    near_misses = [
        Case(
            f"{field_}-{other.rstrip('_')}-id",
            minimal(**{field_: other + hex_digits}),
            "stated",
            (Expected(field_, fmt),),
        )
        for other in prefixes
        if other != prefix
    ]
    return [
        *near_misses,
        Case(
            f"{field_}-too-short",
            minimal(**{field_: good[:-1]}),
            "stated",
            (Expected(field_, fmt),),
        ),
        Case(
            f"{field_}-too-long",
            minimal(**{field_: good + "0"}),
            "stated",
            (Expected(field_, fmt),),
        ),
        Case(
            f"{field_}-wrong-prefix",
            minimal(**{field_: "xyz_" + hex_digits}),
            "stated",
            (Expected(field_, fmt),),
        ),
        Case(
            f"{field_}-not-hex",
            minimal(**{field_: prefix + "g" * 32}),
            "stated",
            (Expected(field_, fmt),),
        ),
        Case(
            f"{field_}-trailing-newline",
            minimal(**{field_: good + "\n"}),
            "stated",
            (Expected(field_, fmt),),
        ),
        Case(
            f"{field_}-not-string",
            minimal(**{field_: 7}),
            "stated",
            (Expected(field_, f"{kind}.type"),),
        ),
        Case(
            f"{field_}-upper-case-hex",
            minimal(**{field_: prefix + hex_digits.upper()}),
            "inferred",
            (Expected(field_, "id.lowercase-hex"),),
        ),
    ]


def _limits(contract: Contract) -> dict[str, int]:
    return {
        "uid": contract.rule_value(REQUEST, "studyInstanceUid.max-length"),
        "pairs": contract.rule_value(REQUEST, "metadata.max-pairs"),
        "key": contract.rule_value(REQUEST, "metadata.key-max-length"),
        "value": contract.rule_value(REQUEST, "metadata.value-max-length"),
    }


def _enum(contract: Contract) -> list[str]:
    return list(contract.rule_value(REQUEST, "severity.enum"))


def as_fixture(contract: Contract) -> dict[str, Any]:
    """The JSON written to fixtures/create-requests.json."""
    return {
        "description": "Create requests for POST /v1/viewer/studies, generated from schemas/ by "
        "`make fixtures` (python -m contract_tests.create.cases). Valid ones must be accepted; "
        "each "
        "invalid one breaks exactly one rule, named in `expect`.",
        "valid": [asdict(c) for c in valid_cases(contract)],
        "invalid": [asdict(c) for c in invalid_cases(contract)],
    }


def render(contract: Contract) -> str:
    """The fixture file's exact text."""
    return json.dumps(as_fixture(contract), ensure_ascii=False, indent=1) + "\n"


def main(argv: Sequence[str]) -> int:
    """Write the fixture file named on the command line."""
    if len(argv) != 1:
        print("usage: python -m contract_tests.create.cases FILE", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(Contract.load()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
