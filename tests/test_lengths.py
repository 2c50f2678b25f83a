"""Lengths under each reading of a stated limit: code points, UTF-16 units, UTF-8 bytes."""

from __future__ import annotations

import copy

import pytest

from contract_tests.lengths import UnknownUnit, longest, units
from mockserver.contract import Contract


def test_lengths_units_are_read_from_the_schema() -> None:
    assert units(Contract.load()) == ("code-points", "utf-16", "utf-8")


def test_lengths_longest_takes_the_reading_that_counts_most() -> None:
    every = ("code-points", "utf-16", "utf-8")
    assert longest("abc", every) == 3
    assert longest("é" * 10, every) == 20
    assert longest("\U0001fa7b", ("code-points", "utf-16")) == 2
    assert longest("\U0001fa7b", ("code-points",)) == 1


def test_lengths_an_unknown_unit_is_refused_by_name() -> None:
    documents = copy.deepcopy(Contract.load().documents)
    documents["common"]["x-length-units"]["units"] = ["graphemes"]
    with pytest.raises(UnknownUnit, match="graphemes"):
        units(Contract(documents))


def test_lengths_without_the_annotation_count_code_points() -> None:
    documents = copy.deepcopy(Contract.load().documents)
    del documents["common"]["x-length-units"]
    assert units(Contract(documents)) == ("code-points",)
