"""The contract loader: every constraint of schemas/ is annotated, and limits are readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract import Contract, data_folder

CONSTRAINTS = {
    "type", "enum", "const", "pattern", "format", "maxLength", "minLength",
    "maxProperties", "minProperties", "required", "additionalProperties",
}  # fmt: skip


def _constraint_nodes(
    node: object, path: tuple[object, ...] = ()
) -> list[tuple[tuple[object, ...], str]]:
    found: list[tuple[tuple[object, ...], str]] = []
    if isinstance(node, dict):
        in_properties = path[-1:] == ("properties",)
        for key, child in node.items():
            if key in CONSTRAINTS and not in_properties and not isinstance(child, dict | bool):
                found.append((path, key))
            if key == "additionalProperties" and child is False:
                found.append((path, key))
            if not key.startswith("x-") and key != "examples":
                found.extend(_constraint_nodes(child, (*path, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_constraint_nodes(child, (*path, index)))
    return found


@pytest.mark.parametrize("name", ["study-create-request", "study"])
def test_contract_every_constraint_is_annotated(contract: Contract, name: str) -> None:
    missing = []
    for path, keyword in _constraint_nodes(contract.resolved(name)):
        if path and path[-1] == "if":
            continue
        if contract.rule_at(name, [*path, keyword]) is None:  # type: ignore[list-item]
            missing.append((path, keyword))
    assert missing == []


def test_contract_rule_id_means_one_rule(contract: Contract) -> None:
    by_id: dict[str, set[tuple[str, str]]] = {}
    for name in contract.documents:
        for found in contract.rules(name):
            by_id.setdefault(found.rule.id, set()).add((found.rule.tag, found.rule.message))
    assert {
        rule_id: len(variants) for rule_id, variants in by_id.items() if len(variants) > 1
    } == {}
    assert len(by_id) > 30


def test_contract_rule_value_reads_limits_from_the_schema(contract: Contract) -> None:
    assert contract.rule_value("study-create-request", "studyInstanceUid.max-length") == 64
    assert contract.rule_value("study-create-request", "metadata.max-pairs") == 50
    assert contract.rule_value("study-create-request", "severity.enum") == [
        "normal",
        "high",
        "stat",
    ]
    with pytest.raises(KeyError, match="no rule"):
        contract.rule_value("study-create-request", "no.such-rule")


def test_contract_inferred_rules_are_the_contracts_inferred_ones(contract: Contract) -> None:
    inferred = {
        r.rule.id for r in contract.rules("study-create-request") if r.rule.tag == "inferred"
    }
    assert inferred == {
        "body.unknown-field",
        "studyDescription.non-empty",
        "metadata.key-non-empty",
        "id.lowercase-hex",
    }
    nullable = contract.annotated("study-create-request", "x-null-as-absent")
    assert nullable == dict.fromkeys(["assignedTo", "expressCustomerId", "metadata"], "inferred")


def test_contract_load_reads_another_folder(tmp_path: Path, contract: Contract) -> None:
    for name, doc in contract.documents.items():
        (tmp_path / f"{name}.schema.json").write_text(__import__("json").dumps(doc))
    assert Contract.load(tmp_path).documents == contract.documents


def test_contract_data_folder_finds_schemas_and_fixtures() -> None:
    assert (data_folder("schemas") / "study.schema.json").is_file()
    assert (data_folder("fixtures") / "create-requests.json").is_file()
    with pytest.raises(FileNotFoundError, match="reinstall"):
        data_folder("no-such-folder")
