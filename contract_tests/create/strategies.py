"""Hypothesis strategies of create requests, derived from schemas/.

Valid requests come with every optional field present or absent, any Unicode (astral planes
included) and lengths at and near every limit; invalid ones break exactly one rule and carry
its id. Limits, enums and formats are read from the schema; this module only knows how to build
a value of a given shape, and every request it yields is checked against the schema by
``DocumentValidator`` (an ECMA-262-correct validator), so a drawn request can never be
mislabelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from contract_tests.create.cases import UID_HEAD, uid_of_length
from contract_tests.create.uids import FRESH_DIGITS
from contract_tests.lengths import longest, units
from contract_tests.operations.nearmiss import near_miss_ids, other_enum_values
from contract_tests.transport.exchange import Probe
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

REQUEST = "study-create-request"
NOT_DIGITS = ["a", " ", "-", "\n", "\u0663", "\u00b2", "\uff11", "/"]
HEX_ID = re.compile(r"\^(\w+)\[0-9a-fA-F\]\{(\d+)\}\$")
NOT_HEX = ["g", "z", " ", "\n", "\u0663", "\uff41", "-"]


class Limits:
    """The numbers the strategies need, read from the schema."""

    def __init__(self, contract: Contract) -> None:
        def value(rule: str) -> Any:
            return contract.rule_value(REQUEST, rule)

        self.uid = int(value("studyInstanceUid.max-length"))
        self.pairs = int(value("metadata.max-pairs"))
        self.key = int(value("metadata.key-max-length"))
        self.value = int(value("metadata.value-max-length"))
        self.severities = list(value("severity.enum"))
        self.user_pattern = str(value("userId.format"))
        self.customer_pattern = str(value("expressCustomerId.format"))
        self.nullable = tuple(contract.annotated(REQUEST, "x-null-as-absent"))
        self.fields = contract.request_fields
        self.required = tuple(contract.resolved(REQUEST)["required"])
        self.units = units(contract)
        self.near_users = near_miss_ids(contract, self.user_pattern)
        self.near_customers = near_miss_ids(contract, self.customer_pattern)
        self.other_enums = other_enum_values(contract, self.severities)


def text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Any Unicode text without surrogates (JSON cannot carry lone ones), astral planes included."""
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=max_size)


def sized_text(limit: int, near: int = 3) -> st.SearchStrategy[str]:
    """Text of a length at or just under ``limit``, where off-by-one errors live.

    A short random head, then one character repeated: drawing a thousand characters one by
    one would cost milliseconds an example.
    """
    return exact_text(st.integers(max(limit - near, 0), limit))


def exact_text(lengths: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Text of exactly the drawn length (code points), astral fillers included."""
    filler = st.sampled_from(["x", "é", "語", "\U0001fa7b"])
    return st.tuples(lengths, text(0, 8), filler).map(
        lambda t: (t[1] + t[2] * t[0])[: t[0]] if t[0] else ""
    )


def dicom_uids(max_length: int) -> st.SearchStrategy[str]:
    """Valid DICOM UIDs: components '0' or without a leading zero, at most ``max_length``.

    The first branch, the one hypothesis starts from, has room for fresh digits in every
    example, so a run never sends a UID that an earlier run against the same server stored.
    """
    shortest = len(UID_HEAD) + FRESH_DIGITS
    roomy = st.integers(min(shortest, max_length), max_length).map(uid_of_length)
    shapes = st.tuples(st.integers(1, 10), st.integers(0, 2**256))
    return roomy | shapes.map(lambda t: _uid_from(*t)[:max_length].rstrip("."))


def _uid_from(count: int, entropy: int) -> str:
    """``count`` components drawn from one integer: two draws instead of one per component."""
    parts = []
    for _ in range(count):
        entropy, kind = divmod(entropy, 5)
        entropy, number = divmod(entropy, 10**8)
        parts.append("0" if kind == 0 else str(number + 1))
    return ".".join(parts)


def ids(pattern: str) -> st.SearchStrategy[str]:
    """Ids of a stated format, in lower case (the inferred rule): e.g. usr_ and 32 hex digits."""
    shape = HEX_ID.fullmatch(pattern)
    if shape is None:
        return st.from_regex(pattern, fullmatch=True).map(str.lower)
    prefix, digits = shape.group(1), int(shape.group(2))
    return st.integers(0, 16**digits - 1).map(lambda n: f"{prefix}{n:0{digits}x}")


def metadata(limits: Limits) -> st.SearchStrategy[dict[str, str]]:
    """Metadata with up to the maximum of pairs, keys and values up to their limits."""
    keys = text(1, 10) | sized_text(limits.key)
    values = text(0, 16) | sized_text(limits.value)
    few = st.dictionaries(keys, values, max_size=4)
    many = st.integers(limits.pairs - 2, limits.pairs).map(
        lambda n: {f"key {i}": f"value {i}" for i in range(n)}
    )
    return few | many


def valid_bodies(limits: Limits) -> st.SearchStrategy[dict[str, Any]]:
    """Create requests every rule accepts, stated and inferred alike."""
    return st.fixed_dictionaries(
        {
            "severity": st.sampled_from(limits.severities),
            "studyDescription": text(1, 24),
            "studyInstanceUid": dicom_uids(limits.uid),
        },
        optional={
            "assignedTo": ids(limits.user_pattern),
            "expressCustomerId": ids(limits.customer_pattern),
            "metadata": metadata(limits),
        },
    )


def minimal_bodies(limits: Limits) -> st.SearchStrategy[dict[str, Any]]:
    """Small valid requests: the base an invalid probe breaks one rule of."""
    return st.fixed_dictionaries(
        {
            "severity": st.sampled_from(limits.severities),
            "studyDescription": text(1, 12),
            "studyInstanceUid": st.integers(1, 10**12).map(lambda n: f"1.2.840.{n}"),
        }
    )


def relies_on_inferred(body: dict[str, Any], limits: Limits) -> bool:
    """Whether accepting this body rests on our reading: null as absent, or a length that is
    within its limit only when counted in code points (not in UTF-16 units or UTF-8 bytes)."""
    if any(body.get(name, "") is None for name in limits.nullable):
        return True
    pairs = body.get("metadata") or {}
    return any(
        longest(key, limits.units) > limits.key or longest(value, limits.units) > limits.value
        for key, value in pairs.items()
    )


def valid_probes(contract: Contract) -> st.SearchStrategy[Probe]:
    """Valid requests, some with optional fields sent as null (an inferred reading)."""
    limits = Limits(contract)
    validator = DocumentValidator(contract, REQUEST)
    nulls = st.sets(st.sampled_from(limits.nullable), max_size=len(limits.nullable))
    bodies = st.tuples(valid_bodies(limits), st.sampled_from([set(), set()]) | nulls).map(
        lambda pair: {**pair[0], **dict.fromkeys(pair[1])}
    )
    return bodies.filter(lambda body: not validator.violations(body)).map(
        lambda body: Probe(
            "valid", body, tag="inferred" if relies_on_inferred(body, limits) else "stated"
        )
    )


Mutation = Callable[[Limits], st.SearchStrategy[tuple[str, Any]]]
"""For one rule: a strategy of (field, bad value); field '' means the value is the whole body."""
MUTATIONS: dict[str, Mutation] = {}


def mutation(rule: str) -> Callable[[Mutation], Mutation]:
    """Register how to break ``rule``: one place lists them all."""

    def register(make: Mutation) -> Mutation:
        MUTATIONS[rule] = make
        return make

    return register


def _field(name: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return values.map(lambda value: (name, value))


def _wrong_type(*allowed: type) -> st.SearchStrategy[Any]:
    samples: list[Any] = [7, 2.5, True, ["x"], {"k": "v"}, "text"]
    return st.sampled_from([s for s in samples if not isinstance(s, allowed)])


@mutation("body.type")
def _body_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("", st.sampled_from([[], "study", 3, True, None, [{"severity": "high"}]]))


@mutation("body.required")
def _missing(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return st.sampled_from(limits.required).map(lambda name: (name, _DROP))


@mutation("body.unknown-field")
def _unknown(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    names = st.sampled_from(["studyId", "study_description", "Severity", "notes"]) | text(1, 12)
    return st.tuples(names.filter(lambda n: n not in limits.fields), text(0, 5))


@mutation("severity.enum")
def _severity(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    variants = [f(s) for s in limits.severities for f in (str.upper, str.title, " {} ".format)]
    bad = (
        st.sampled_from(variants)
        | limits.other_enums
        | text(0, 10)
        | st.sampled_from([None, 1, ["high"]])
    )
    return _field("severity", bad.filter(lambda v: v not in limits.severities))


@mutation("studyDescription.type")
def _description_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("studyDescription", _wrong_type(str) | st.none())


@mutation("studyDescription.non-empty")
def _description_empty(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("studyDescription", st.just(""))


@mutation("studyInstanceUid.type")
def _uid_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("studyInstanceUid", _wrong_type(str) | st.none())


@mutation("studyInstanceUid.max-length")
def _uid_long(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field(
        "studyInstanceUid", st.integers(limits.uid + 1, limits.uid + 8).map(uid_of_length)
    )


def _splice(uid: st.SearchStrategy[str], insert: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(uid, insert, st.integers(0, 64)).map(
        lambda t: t[0][: t[2] % (len(t[0]) + 1)] + t[1] + t[0][t[2] % (len(t[0]) + 1) :]
    )


@mutation("studyInstanceUid.charset")
def _uid_charset(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    uid = dicom_uids(limits.uid - 1)
    bad = _splice(uid, st.sampled_from(NOT_DIGITS)) | uid.map(lambda u: u + "\n")
    return _field("studyInstanceUid", bad)


@mutation("studyInstanceUid.empty-component")
def _uid_empty(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    uid = dicom_uids(limits.uid - 2)
    forms = [
        lambda u: "." + u,
        lambda u: u + ".",
        lambda u: u.replace(".", "..", 1) if "." in u else u + "..1",
    ]
    bad = st.tuples(uid, st.sampled_from(forms)).map(lambda t: t[1](t[0])) | st.just("")
    return _field("studyInstanceUid", bad)


@mutation("studyInstanceUid.leading-zero")
def _uid_leading_zero(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    parts = st.lists(st.from_regex(r"[1-9][0-9]{0,6}", fullmatch=True), min_size=1, max_size=6)
    bad = st.tuples(parts, st.integers(0, 5), st.sampled_from(["0", "00"])).map(
        lambda t: ".".join(t[2] + p if i == t[1] % len(t[0]) else p for i, p in enumerate(t[0]))
    )
    return _field("studyInstanceUid", bad | st.just("00"))


def _id_mutations(
    field: str, pattern: str, near_misses: st.SearchStrategy[str]
) -> st.SearchStrategy[tuple[str, Any]]:
    good = ids(pattern)
    bad = st.one_of(
        near_misses,
        good.map(lambda v: v[:-1]),
        good.map(lambda v: v + "0"),
        good.map(lambda v: "xyz_" + v[4:]),
        good.map(lambda v: v + "\n"),
        _splice(good, st.sampled_from(NOT_HEX)),
        st.tuples(good, st.sampled_from(NOT_HEX)).map(lambda t: t[0][:-1] + t[1]),
    )
    return _field(field, bad)


@mutation("userId.format")
def _user_format(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _id_mutations("assignedTo", limits.user_pattern, limits.near_users)


@mutation("expressCustomerId.format")
def _customer_format(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _id_mutations("expressCustomerId", limits.customer_pattern, limits.near_customers)


@mutation("userId.type")
def _user_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("assignedTo", _wrong_type(str))


@mutation("expressCustomerId.type")
def _customer_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("expressCustomerId", _wrong_type(str))


@mutation("id.lowercase-hex")
def _upper_hex(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:

    def upper(value: str) -> str:
        return value[:4] + value[4:].upper()

    user = _field("assignedTo", ids(limits.user_pattern).map(upper))
    customer = _field("expressCustomerId", ids(limits.customer_pattern).map(upper))
    return user | customer


@mutation("metadata.type")
def _metadata_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("metadata", _wrong_type(dict))


@mutation("metadata.max-pairs")
def _metadata_pairs(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    sizes = st.integers(limits.pairs + 1, limits.pairs + 3)
    return _field("metadata", sizes.map(lambda n: {f"k{i}": "v" for i in range(n)}))


@mutation("metadata.key-max-length")
def _metadata_key(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    long_keys = exact_text(st.integers(limits.key + 1, limits.key + 4))
    return _field("metadata", long_keys.map(lambda key: {key: "v"}))


@mutation("metadata.key-non-empty")
def _metadata_key_empty(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("metadata", st.just({"": "v"}))


@mutation("metadata.value-type")
def _metadata_value_type(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    return _field("metadata", (_wrong_type(str) | st.none()).map(lambda value: {"k": value}))


@mutation("metadata.value-max-length")
def _metadata_value(limits: Limits) -> st.SearchStrategy[tuple[str, Any]]:
    long_values = exact_text(st.integers(limits.value + 1, limits.value + 4))
    return _field("metadata", long_values.map(lambda value: {"k": value}))


_DROP = object()


def _apply(body: dict[str, Any], change: tuple[str, Any]) -> Any:
    name, value = change
    if name == "":
        return value
    if value is _DROP:
        return {k: v for k, v in body.items() if k != name}
    return {**body, name: value}


def invalid_probes(contract: Contract, rules: list[str] | None = None) -> st.SearchStrategy[Probe]:
    """Requests that break exactly one rule each (``rules``: only these), labelled with it."""
    limits = Limits(contract)
    validator = DocumentValidator(contract, REQUEST)
    tags = {found.rule.id: found.rule.tag for found in contract.rules(REQUEST)}
    chosen = sorted(rules or MUTATIONS)

    def probe(rule: str, body: Any) -> Probe | None:
        found = validator.violations(body)
        if len({v.rule for v in found}) != 1 or found[0].rule != rule:
            return None
        field = found[0].path[0] if found[0].path else ""
        return Probe("invalid", body, tag=tags[rule], rule=rule, field=field)

    def for_rule(rule: str) -> st.SearchStrategy[Probe | None]:
        base = minimal_bodies(limits)
        return st.tuples(base, MUTATIONS[rule](limits)).map(
            lambda pair: probe(rule, _apply(pair[0], pair[1]))
        )

    def kept(candidate: Probe | None) -> Probe:
        if candidate is None:
            reject()
        return candidate

    return st.one_of([for_rule(rule) for rule in chosen]).map(kept)


def missing_mutations(contract: Contract) -> set[str]:
    """Rules of the request schema that no mutation knows how to break (should be empty)."""
    return {found.rule.id for found in contract.rules(REQUEST)} - set(MUTATIONS)
