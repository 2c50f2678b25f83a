"""Fresh UIDs keep their shape and validity; anything malformed is left alone."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.create.cases import minimal
from contract_tests.create.strategies import dicom_uids
from contract_tests.create.uids import UidFreshener
from mockserver.contract import Contract
from mockserver.validation import DocumentValidator

VALIDATOR = DocumentValidator(Contract.load(), "study-create-request")


def is_valid(uid: str) -> bool:
    return VALIDATOR.violations(minimal(studyInstanceUid=uid)) == []


@settings(max_examples=60, deadline=None, database=None)
@given(dicom_uids(64), st.integers(0, 2**32))
def test_uid_freshener_keeps_the_shape_and_validity(uid: str, seed: int) -> None:
    fresh = UidFreshener(random.Random(seed)).fresh(uid)
    parts, fresh_parts = uid.split("."), fresh.split(".")
    assert len(fresh) == len(uid)
    assert len(fresh_parts) == len(parts)
    assert [len(p) for p in fresh_parts] == [len(p) for p in parts]
    assert [i for i, p in enumerate(fresh_parts) if p == "0"] == [
        i for i, p in enumerate(parts) if p == "0"
    ]
    assert is_valid(fresh)


@pytest.mark.parametrize(
    "uid",
    ["2", "1.0.0.20", "1.2.840.10008.5.1.4.1.1.2", "0.9", "1." + "9" * 62],
)
def test_uid_freshener_changes_the_digits_of_the_longest_component(uid: str) -> None:
    freshener = UidFreshener(random.Random(1))
    draws = {freshener.fresh(uid) for _ in range(8)}
    assert draws - {uid}
    parts = uid.split(".")
    longest = max((i for i, p in enumerate(parts) if p != "0"), key=lambda i: len(parts[i]))
    for drawn in draws:
        kept = [p for i, p in enumerate(drawn.split(".")) if i != longest]
        assert kept == [p for i, p in enumerate(parts) if i != longest]
        assert is_valid(drawn)


def test_uid_freshener_default_randomness_is_its_own() -> None:
    uid = "1.2." + "1" * 40
    random.seed(0)
    first = UidFreshener().fresh(uid)
    random.seed(0)
    second = UidFreshener().fresh(uid)
    assert first != second


@pytest.mark.parametrize(
    "uid",
    ["", "0", "0.0.0", "1..2", ".1", "1.", "1.2.a", "1.2 .3", "1.2.\u0663", "1.2.3\n", "\uff11.2"],
)
def test_uid_freshener_returns_malformed_or_all_zero_uids_unchanged(uid: str) -> None:
    assert UidFreshener(random.Random(0)).fresh(uid) == uid
