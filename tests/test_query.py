"""Query strings: decoded pairs, and each parameter read as its x-query annotation says."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.contract import Contract
from mockserver.errors import InvalidRequest
from mockserver.query import REPEATED, QueryReader, parse_query
from mockserver.validation import DocumentValidator

QUERY = "study-list-query"


@pytest.fixture(scope="module")
def reader(contract: Contract) -> QueryReader:
    return QueryReader(contract, QUERY)


def read_one(reader: QueryReader, name: str, text: str) -> Any:
    found, repeated = reader.read([(name, text)])
    assert repeated == []
    return found[name]


def test_query_parse_keeps_order_and_blank_values() -> None:
    assert parse_query(b"severity=high&studyDescription=&isCancelled&limit=5") == [
        ("severity", "high"),
        ("studyDescription", ""),
        ("isCancelled", ""),
        ("limit", "5"),
    ]
    assert parse_query(b"") == []


def test_query_parse_percent_decodes_utf8_and_plus() -> None:
    assert parse_query(b"studyDescription=Chest%20CT+%C3%A9%2B") == [
        ("studyDescription", "Chest CT \u00e9+")
    ]


def test_query_parse_keeps_repeated_pairs() -> None:
    assert parse_query(b"severity=high&severity=stat") == [
        ("severity", "high"),
        ("severity", "stat"),
    ]


@pytest.mark.parametrize("raw", [b"studyDescription=%C3%28", b"studyDescription=%FF", b"%E9=x"])
def test_query_parse_invalid_utf8_percent_encoding_is_invalid_request(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_query(raw)
    assert raised.value.status == 400
    assert "UTF-8" in raised.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), ("7.0", 7), ("1e2", 100), ("1E2", 100), ("-3", -3), ("0", 0), ("2.5", 2.5)],
)
def test_query_number_reads_json_numbers(reader: QueryReader, text: str, expected: Any) -> None:
    value = read_one(reader, "limit", text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["abc", "", " 7", "7 ", "07", "+7", "0x10", "1e", ".5", "NaN"])
def test_query_number_text_that_does_not_read_stays_text(reader: QueryReader, text: str) -> None:
    assert read_one(reader, "limit", text) == text


@pytest.mark.parametrize(
    "text", ["1e400", "-1e400", "1" * 400], ids=["1e400", "-1e400", "400-digits"]
)
def test_query_number_out_of_float_range_reads_without_error(
    contract: Contract, reader: QueryReader, text: str
) -> None:
    found, _ = reader.read([("limit", text)])
    violations = DocumentValidator(contract, QUERY, location="query").violations(found)
    assert [v.field for v in violations] == ["limit"]


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("false", False)])
def test_query_boolean_reads_lower_case(reader: QueryReader, text: str, expected: bool) -> None:
    assert read_one(reader, "isCancelled", text) is expected


@pytest.mark.parametrize("text", ["True", "FALSE", "1", "0", "yes", ""])
def test_query_boolean_other_text_stays_text(reader: QueryReader, text: str) -> None:
    assert read_one(reader, "isCancelled", text) == text


def test_query_null_literal_only_where_annotated(contract: Contract, reader: QueryReader) -> None:
    annotations = contract.annotated(QUERY, "x-query")
    nullable = {name for name, spec in annotations.items() if "null" in spec}
    assert "assignedTo" in nullable
    assert nullable != set(annotations)
    for name, spec in annotations.items():
        literal = spec.get("null", "null")
        assert (read_one(reader, name, literal) is None) == (name in nullable), name


def test_query_null_literal_is_case_sensitive(reader: QueryReader) -> None:
    assert read_one(reader, "assignedTo", "NULL") == "NULL"
    assert read_one(reader, "assignedTo", "") == ""


def test_query_strings_stay_as_sent(reader: QueryReader) -> None:
    assert read_one(reader, "severity", "high") == "high"
    assert read_one(reader, "studyDescription", "42") == "42"
    assert read_one(reader, "studyDescription", "true") == "true"


def test_query_unknown_parameter_is_kept_as_text(reader: QueryReader) -> None:
    assert reader.read([("page", "2"), ("flag", "true")]) == ({"page": "2", "flag": "true"}, [])


def test_query_repeated_parameters_one_violation_each(reader: QueryReader) -> None:
    pairs = [
        ("severity", "high"),
        ("limit", "1"),
        ("severity", "stat"),
        ("severity", "normal"),
        ("limit", "2"),
        ("isCancelled", "true"),
    ]
    found, repeated = reader.read(pairs)
    assert found == {"severity": "high", "limit": 1, "isCancelled": True}
    assert sorted((v.field, v.rule, v.location) for v in repeated) == [
        ("limit", REPEATED, "query"),
        ("severity", REPEATED, "query"),
    ]
    assert all(v.path == (v.field,) for v in repeated)
    assert all(v.message.startswith(f"query parameter {v.field} ") for v in repeated)
