"""``avara-mock drift``: schemas/ agree with the pinned SDK, and doctored models drift."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypedDict, TypeVar

import pytest
from avara._utils import PropertyInfo
from avara.types.shared import APIKeyReference
from avara.types.viewer import (
    StudyCancelParams,
    StudyCancelResponse,
    StudyCreateResponse,
    StudyListResponse,
    StudyRetrieveResponse,
    StudyUpdateParams,
)
from pydantic import BaseModel, Field, create_model
from typing_extensions import Required

from contract_tests.cli import main
from contract_tests.sdk.drift import InvalidAnnotation, check, inspect_sdk
from contract_tests.sdk.models import ModelNotFound, Resolver, sdk_resolver
from mockserver.contract import Contract
from tests.conftest import ROOT

STUDY_MODELS = {
    "study": ["StudyCreateResponse", "StudyRetrieveResponse", "StudyUpdateResponse",
              "StudyListResponse", "StudyRetrieveByUidResponse"],
    "study-create-request": ["StudyCreateParams"],
    "study-update-request": ["StudyUpdateParams"],
    "study-list-query": ["StudyListParams"],
    "study-selector": ["StudyCancelParams", "StudyUncancelParams", "StudyRerouteURLParams"],
    "study-cancel-response": ["StudyCancelResponse", "StudyUncancelResponse"],
    "study-reroute-url-response": ["StudyRerouteURLResponse"],
}  # fmt: skip
INSTALLED = sdk_resolver()
T = TypeVar("T")


def doctored(**models: Any) -> Resolver:
    """The installed SDK, with the models named by their class name swapped for these."""

    def resolve(path: str) -> Any:
        name = path.rpartition(".")[2]
        return models[name] if name in models else INSTALLED(path)

    return resolve


def drift_lines(contract: Contract, **models: Any) -> list[str]:
    return [difference.line for difference in check(contract, doctored(**models)).differences]


def test_drift_pinned_sdk_agrees_with_the_schemas(contract: Contract) -> None:
    report = inspect_sdk("avara", contract)
    assert report.sdk == "avara 0.3.0"
    assert [difference.line for difference in report.differences] == []
    assert not report.drifted
    expected = {f"avara.types.viewer.{m}" for models in STUDY_MODELS.values() for m in models}
    assert expected | {"avara.pagination.SyncCursorStudies"} <= set(report.models)
    shared = {"user-reference", "api-key-reference", "express-customer-reference"}
    assert {*STUDY_MODELS, "study-list-page", *shared} <= set(report.documents)


def test_drift_every_study_document_names_its_models(contract: Contract) -> None:
    for name, models in STUDY_MODELS.items():
        named = contract.documents[name]["x-sdk"]["models"]
        assert [path.rpartition(".")[2] for path in named] == models


def test_drift_deliberate_leniency_is_a_note_not_drift(contract: Contract) -> None:
    notes = {note.line for note in inspect_sdk("avara", contract).notes}
    assert (
        "study-update-request ↔ avara.types.viewer.StudyUpdateParams: field 'assignedTo' is "
        "not nullable (str) in the SDK but nullable in the schema; nothing to do: the mock "
        "accepts null on purpose (x-null-means: unassign) and the SDK does not send it"
    ) in notes
    assert (
        "study-create-request ↔ avara.types.viewer.StudyCreateParams: field 'metadata' is not "
        "nullable (Dict[str, str]) in the SDK but nullable in the schema; nothing to do: the "
        "mock accepts null on purpose (x-null-as-absent: inferred) and the SDK does not send it"
    ) in notes
    assert (
        "study-list-query ↔ avara.types.viewer.StudyListParams: field 'isCancelled' is nullable "
        "(Optional[bool]) in the SDK but not nullable in the schema; nothing to do: the SDK "
        "leaves a None out of the query string, so no null reaches the mock"
    ) in notes


def test_drift_finds_a_field_added_to_an_answer(contract: Contract) -> None:
    added = create_model(
        "StudyCreateResponse",
        __base__=StudyCreateResponse,
        priority=(str | None, Field(default=None, alias="priority")),
    )
    assert drift_lines(contract, StudyCreateResponse=added) == [
        "study ↔ avara.types.viewer.StudyCreateResponse: field 'priority' is in the SDK but not "
        "in the schema; add it to schemas/study.schema.json (or run an older SDK)"
    ]


def test_drift_finds_an_enum_value_removed(contract: Contract) -> None:
    two_severities: Any = Literal["normal", "high"]
    fewer = create_model(
        "StudyRetrieveResponse",
        __base__=StudyRetrieveResponse,
        severity=(two_severities, ...),
    )
    assert drift_lines(contract, StudyRetrieveResponse=fewer) == [
        "study ↔ avara.types.viewer.StudyRetrieveResponse: field 'severity' takes one of "
        '"normal", "high" in the SDK but one of "normal", "high", "stat" in the schema; remove '
        '"stat" from the enum of rule severity.enum in schemas/common.schema.json (or run an '
        "older SDK)"
    ]


def test_drift_finds_a_field_made_required(contract: Contract) -> None:
    required = create_model(
        "StudyCancelResponse", __base__=StudyCancelResponse, message=(str | None, ...)
    )
    assert drift_lines(contract, StudyCancelResponse=required) == [
        "study-cancel-response ↔ avara.types.viewer.StudyCancelResponse: field 'message' is "
        'required in the SDK but optional in the schema; add "message" to "required" in '
        "schemas/study-cancel-response.schema.json (or run an older SDK)"
    ]


class CancelWithReason(StudyCancelParams, total=False):
    reason: Required[str]


def test_drift_finds_a_key_added_to_request_parameters(contract: Contract) -> None:
    assert drift_lines(contract, StudyCancelParams=CancelWithReason) == [
        "study-selector ↔ avara.types.viewer.StudyCancelParams: field 'reason' is in the SDK "
        "but not in the schema; add it to schemas/study-selector.schema.json (or run an older "
        "SDK)"
    ]


class RenamedUpdate(StudyUpdateParams, total=False):
    study_description: Annotated[str, PropertyInfo(alias="description")]


def test_drift_finds_a_renamed_alias(contract: Contract) -> None:
    head = "study-update-request ↔ avara.types.viewer.StudyUpdateParams: field"
    file = "schemas/study-update-request.schema.json (or run an older SDK)"
    assert drift_lines(contract, StudyUpdateParams=RenamedUpdate) == [
        f"{head} 'studyDescription' is in the schema but not in the SDK; remove it from {file}",
        f"{head} 'description' is in the SDK but not in the schema; add it to {file}",
    ]


class NullableSeverity(StudyUpdateParams, total=False):
    severity: Literal["normal", "high", "stat"] | None  # type: ignore[misc]  # the doctoring


def test_drift_finds_a_request_field_the_sdk_may_send_as_null(contract: Contract) -> None:
    assert drift_lines(contract, StudyUpdateParams=NullableSeverity) == [
        "study-update-request ↔ avara.types.viewer.StudyUpdateParams: field 'severity' is "
        "nullable (Optional[Literal['normal', 'high', 'stat']]) in the SDK but not nullable in "
        "the schema; allow null in schemas/study-update-request.schema.json: the SDK may send "
        "one (or run an older SDK)"
    ]


def test_drift_finds_an_answer_field_the_sdk_cannot_read_as_null(contract: Contract) -> None:
    never_null = create_model(
        "StudyListResponse",
        __base__=StudyListResponse,
        cancelled_at=(datetime, Field(default=None, alias="cancelledAt")),
    )
    assert drift_lines(contract, StudyListResponse=never_null) == [
        "study ↔ avara.types.viewer.StudyListResponse: field 'cancelledAt' is not nullable "
        "(datetime) in the SDK but nullable in the schema; refuse null in "
        "schemas/study.schema.json: the SDK cannot read one (or run an older SDK)"
    ]


def test_drift_finds_a_nested_model_of_another_document(contract: Contract) -> None:
    other = create_model(
        "StudyCreateResponse",
        __base__=StudyCreateResponse,
        assigned_to=(APIKeyReference | None, Field(default=None, alias="assignedTo")),
    )
    assert drift_lines(contract, StudyCreateResponse=other) == [
        "study ↔ avara.types.viewer.StudyCreateResponse: field 'assignedTo' is APIKeyReference "
        "in the SDK but user-reference (UserReference) in the schema; refer to the document "
        "whose x-sdk names APIKeyReference (or run an older SDK)"
    ]


class RecordsPage(BaseModel, Generic[T]):
    records: list[T]
    cursor: str | None = None
    has_more: bool | None = Field(default=None, alias="hasMore")


def test_drift_finds_a_renamed_page_list(contract: Contract) -> None:
    head = "study-list-page ↔ avara.pagination.SyncCursorStudies: field"
    file = "schemas/study-list-page.schema.json (or run an older SDK)"
    assert drift_lines(contract, SyncCursorStudies=RecordsPage) == [
        f"{head} 'studies' is in the schema but not in the SDK; remove it from {file}",
        f"{head} 'records' is in the SDK but not in the schema; add it to {file}",
    ]


def test_drift_finds_a_model_the_sdk_lacks(contract: Contract) -> None:
    def without_uncancel(path: str) -> Any:
        if path.endswith(".StudyUncancelResponse"):
            raise ModelNotFound(f"the SDK has no {path}")
        return INSTALLED(path)

    report = check(contract, without_uncancel)
    assert [difference.line for difference in report.differences] == [
        "study-cancel-response ↔ avara.types.viewer.StudyUncancelResponse: the SDK has no "
        "avara.types.viewer.StudyUncancelResponse; remove it from x-sdk in "
        "schemas/study-cancel-response.schema.json if the API dropped it (or run an older SDK)"
    ]


def test_drift_a_model_no_document_names_is_a_note(contract: Contract) -> None:
    class StudyArchiveParams(TypedDict, total=False):
        study_id: str

    exported = {"avara.types.viewer.StudyArchiveParams": StudyArchiveParams}
    report = check(contract, INSTALLED, exported)
    assert not report.drifted
    assert [note.line for note in report.notes if note.kind == "uncovered"] == [
        "avara.types.viewer.StudyArchiveParams: no document of schemas/ names this model in "
        "x-sdk; name it in the x-sdk of the document that mirrors it, if one does"
    ]


class Layout(TypedDict):
    grid: Literal["1x1", "2x2", "3x3"]


class Viewport(TypedDict, total=False):
    layout: Required[Layout]
    tags: list[Literal["a"]]
    email: str


def _viewport_contract(**properties: Any) -> Contract:
    return Contract(
        {
            "viewport-request": {
                "$id": "urn:avara-mock:viewport-request",
                "x-sdk": {"models": ["tests.Viewport"], "kind": "params"},
                "type": "object",
                "required": ["layout"],
                "properties": properties,
            }
        }
    )


def test_drift_compares_inline_nested_parameters_and_lists() -> None:
    contract = _viewport_contract(
        layout={"type": "object", "properties": {"grid": {"enum": ["1x1", "2x2"]}}},
        tags={"type": "array", "items": {"enum": ["a", "b"]}},
        email={"not": {}},
    )
    head = "viewport-request ↔ tests.Viewport: field"
    file = "schemas/viewport-request.schema.json (or run an older SDK)"
    assert [d.line for d in check(contract, lambda path: Viewport).differences] == [
        f"{head} 'email' is in the SDK but the schema refuses it; accept it in {file}",
        f"{head} 'layout.grid' is required in the SDK but optional in the schema; add "
        f'"grid" to "required" in {file}',
        f'{head} \'layout.grid\' takes one of "1x1", "2x2", "3x3" in the SDK but one of "1x1", '
        f'"2x2" in the schema; add "3x3" to the enum in {file}',
        f'{head} \'tags\' takes one of "a" in the SDK but one of "a", "b" in the schema; remove '
        f'"b" from the enum in {file}',
    ]


@pytest.mark.parametrize(
    "annotation",
    [
        ["tests.Viewport"],
        {"models": "tests.Viewport", "kind": "params"},
        {"models": ["tests.Viewport"], "kind": "parameters"},
    ],
)
def test_drift_malformed_annotation_is_unusable(annotation: Any) -> None:
    contract = _viewport_contract()
    contract.documents["viewport-request"]["x-sdk"] = annotation
    with pytest.raises(InvalidAnnotation, match=r"viewport-request\.schema\.json: x-sdk must be"):
        check(contract, lambda path: Viewport)


def test_drift_a_document_naming_no_models_is_not_compared() -> None:
    contract = _viewport_contract()
    contract.documents["viewport-request"]["x-sdk"] = {"models": [], "kind": "path"}
    report = check(contract, lambda path: Viewport)
    assert (report.documents, report.differences) == ((), ())


def test_drift_cli_agreement_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift"]) == 0
    out = capsys.readouterr().out
    (verdict,) = out.splitlines()
    assert verdict.startswith("no drift: schemas/ agrees with avara 0.3.0 (")
    assert verdict.endswith("notes, --notes shows them")


def test_drift_cli_notes_lists_the_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--notes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("no drift:")
    assert all(line.startswith("note: ") for line in lines[:-1])
    assert any("study-selector ↔ avara.types.viewer.StudyCancelParams" in line for line in lines)


DOCTORED = """
from typing import Optional

from pydantic import Field

from avara.types.viewer import StudyRerouteURLResponse as _Answer


class StudyRerouteURLResponse(_Answer):
    expires_at: Optional[str] = Field(default=None, alias="expiresAt")
"""


@pytest.fixture
def doctored_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contract: Contract
) -> Iterator[str]:
    """A module laid out like avara that re-exports it, with one answer doctored."""
    name = "doctored_avara"
    packages = {"", "types.viewer"}
    for doc in contract.documents.values():
        for path in doc.get("x-sdk", {}).get("models", []):
            packages.add(path.removeprefix("avara.").rpartition(".")[0])
    for package in packages:
        folder = tmp_path.joinpath(name, *package.split(".")) if package else tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        source = f"from avara.{package} import *\n" if package else '__version__ = "9.9.9"\n'
        (folder / "__init__.py").write_text(
            source + (DOCTORED if package == "types.viewer" else "")
        )
    for parent in {p.rpartition(".")[0] for p in packages if "." in p} - packages:
        tmp_path.joinpath(name, *parent.split("."), "__init__.py").touch()
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


EXPIRES = (
    "study-reroute-url-response ↔ avara.types.viewer.StudyRerouteURLResponse: field "
    "'expiresAt' is in the SDK but not in the schema; add it to "
    "schemas/study-reroute-url-response.schema.json (or run an older SDK)"
)


def test_drift_cli_doctored_sdk_exits_1(
    doctored_sdk: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", "--sdk-module", doctored_sdk]) == 1
    first, verdict = capsys.readouterr().out.splitlines()
    assert first == EXPIRES
    assert verdict.startswith(
        "drift: 1 differences between schemas/ and doctored_avara 9.9.9 (1 of "
    )


def test_drift_cli_json_shape(doctored_sdk: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--sdk-module", doctored_sdk, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"sdk", "drift", "documents", "models", "differences", "notes"}
    assert (report["sdk"], report["drift"]) == ("doctored_avara 9.9.9", True)
    assert report["differences"] == [
        {
            "document": "study-reroute-url-response",
            "model": "avara.types.viewer.StudyRerouteURLResponse",
            "field": "expiresAt",
            "kind": "sdk-only",
            "sdk": "Optional[str]",
            "schema": "absent",
            "advice": "add it to schemas/study-reroute-url-response.schema.json (or run an "
            "older SDK)",
            "line": EXPIRES,
        }
    ]
    assert "study-reroute-url-response" in report["documents"]
    assert all(set(note) == set(report["differences"][0]) for note in report["notes"])


def test_drift_cli_json_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["sdk"], report["drift"], report["differences"]) == ("avara 0.3.0", False, [])
    assert report["notes"]


def test_drift_cli_missing_sdk_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "avara", None)
    assert main(["drift"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("avara-mock drift: cannot import the SDK module 'avara'")
    assert err.rstrip().endswith("pip install avara")


def test_drift_cli_unknown_sdk_module_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--sdk-module", "no_such_avara_sdk"]) == 2
    assert "pip install avara" in capsys.readouterr().err


def test_drift_cli_loads_the_sdk_only_for_drift() -> None:
    probe = "import sys, contract_tests.cli; print(sorted({'avara', 'contract_tests.sdk.drift'} & set(sys.modules)))"  # noqa: E501
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
