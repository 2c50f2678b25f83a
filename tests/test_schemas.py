"""The schemas of the rest of the Viewer API (users, invitations, ephemeral sessions): every
document compiles, its examples validate, and it mirrors the SDK types it names in ``x-sdk``
(tests/test_schemas_sdk_calls.py checks what the SDK sends against them)."""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import typing_extensions as te
from avara.types import shared
from pydantic import BaseModel

from mockserver.contract import Contract
from mockserver.openapi import build_openapi
from mockserver.validation import DocumentValidator, Location

CONTRACT = Contract.load()
NEW = (
    "user", "user-invite-request", "user-invite-response", "user-update-request", "user-path",
    "user-list-query", "user-list-page", "user-access-request", "user-access-response",
    "invitation", "invitation-path", "invitation-update-request", "invitation-list-query",
    "invitation-list-page", "invitation-revoke-request", "invitation-revoke-response",
    "ephemeral-session-create-request", "ephemeral-hanging-protocol",
    "ephemeral-session-create-response",
)  # fmt: skip
ENUMS = (
    "ClinicRole", "UserLevel", "AssignableUserLevel", "InvitedSource", "InvitationStatus",
    "InvitationExpiredFilter", "ViewerLayout",
)  # fmt: skip
CONSTRAINTS = {
    "type", "enum", "const", "pattern", "format", "maxLength", "minLength", "minimum", "maximum",
    "maxProperties", "minProperties", "minItems", "maxItems", "required", "x-json-bytes",
}  # fmt: skip
MIRRORED = [n for n in NEW if CONTRACT.documents[n]["x-sdk"]["kind"] in ("params", "model", "page")]
QUERY_READINGS = {"string", "number", "boolean", "comma"}
USR = "usr_1234567890abcdef1234567890abcdef"
INV = "inv_1234567890abcdef1234567890abcdef"


def _sdk_object(dotted: str) -> Any:
    """``avara.x.Name`` or ``avara.x.Class.method``, imported."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


def _unwrap(hint: Any) -> tuple[Any, bool, str | None]:
    """A TypedDict key's type without Required/Annotated, whether it is Required, its alias."""
    required, alias = False, None
    while True:
        origin = te.get_origin(hint)
        if origin in (te.Required, te.NotRequired):
            required, hint = origin is te.Required, te.get_args(hint)[0]
        elif origin is te.Annotated:
            for meta in hint.__metadata__:
                alias = getattr(meta, "alias", None) or alias
            hint = te.get_args(hint)[0]
        else:
            return hint, required, alias


def _optional(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    is_union = origin is typing.Union or origin is types.UnionType
    return is_union and type(None) in typing.get_args(hint)


def _sdk_fields(model: Any) -> dict[str, tuple[bool, bool]]:
    """Wire name -> (required, nullable) of a TypedDict of params or a pydantic model."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {
            field.alias or name: (field.is_required(), _optional(field.annotation))
            for name, field in model.model_fields.items()
        }
    fields = {}
    for name, hint in te.get_type_hints(model, include_extras=True).items():
        bare, required, alias = _unwrap(hint)
        fields[alias or name] = (required, _optional(bare))
    return fields


def _refused_fields(doc: dict[str, Any]) -> set[str]:
    """Properties a document names only to refuse them (``not: {}``), like an update's email."""
    return {name for name, schema in doc.get("properties", {}).items() if "not" in schema}


def _constraints(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The schema path of every constraint keyword under a node (``if`` branches left out)."""
    if isinstance(node, dict):
        for key, child in node.items():
            in_properties = path[-1:] == ("properties",)
            if key in CONSTRAINTS and not in_properties and not isinstance(child, dict | bool):
                yield (*path, key)
            refuses = (key == "not" and not in_properties) or (
                key == "additionalProperties" and child is False
            )
            if refuses:
                yield (*path, key)
            if not key.startswith("x-") and key not in ("examples", "if"):
                yield from _constraints(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _constraints(child, (*path, index))


def broken_rules(name: str, instance: Any, location: Location = "body") -> set[tuple[str, str]]:
    found = DocumentValidator(CONTRACT, name, location=location).violations(instance)
    return {(v.field, v.rule) for v in found}


# --- every document ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONTRACT.documents))
def test_schemas_document_compiles_and_its_examples_validate(name: str) -> None:
    strict, lenient = CONTRACT.validator(name), CONTRACT.validator(name, lenient=True)
    for example in CONTRACT.documents[name].get("examples", []):
        assert [e.message for e in strict.iter_errors(example)] == [], example
        assert lenient.is_valid(example)


@pytest.mark.parametrize("name", NEW)
def test_schemas_new_document_has_examples_title_and_sdk_models(name: str) -> None:
    doc = CONTRACT.documents[name]
    assert doc["$id"] == f"urn:avara-mock:{name}"
    assert doc["examples"], "every new document shows what it accepts"
    sdk = doc["x-sdk"]
    assert sdk["kind"] in ("params", "model", "page", "path")
    for model in sdk["models"]:
        assert _sdk_object(model) is not None
    if len(sdk["models"]) == 1 and sdk["kind"] != "page":
        assert doc["title"] == sdk["models"][0].rsplit(".", 1)[1]
    if sdk["kind"] == "page":
        assert doc["title"] == sdk["models"][0].rsplit(".", 1)[1]
        assert sdk["item"].removeprefix("urn:avara-mock:") in CONTRACT.documents
    if sdk["kind"] == "path":
        assert sdk["models"] == []
        assert all(callable(_sdk_object(method)) for method in sdk["methods"])


@pytest.mark.parametrize("name", NEW)
def test_schemas_new_document_annotates_every_constraint(name: str) -> None:
    resolved = CONTRACT.resolved(name)
    paths = list(_constraints(resolved))
    assert paths or name.endswith("-path")
    assert [p for p in paths if CONTRACT.rule_at(name, list(p)) is None] == []


def test_schemas_rule_ids_mean_one_rule_across_documents() -> None:
    seen: dict[str, set[tuple[str, str]]] = {}
    for name in CONTRACT.documents:
        for found in CONTRACT.rules(name):
            seen.setdefault(found.rule.id, set()).add((found.rule.tag, found.rule.message))
        for rule_id, rule in CONTRACT.stateful_rules(name).items():
            seen.setdefault(rule_id, set()).add((rule.tag, rule.message))
    assert {rule_id: variants for rule_id, variants in seen.items() if len(variants) > 1} == {}


@pytest.mark.parametrize("name", [n for n in NEW if CONTRACT.documents[n].get("x-stateful-rules")])
def test_schemas_stateful_rules_are_tagged_and_say_their_status(name: str) -> None:
    specs = CONTRACT.documents[name]["x-stateful-rules"]
    for rule_id, spec in specs.items():
        rule = CONTRACT.stateful_rule(name, rule_id)
        assert rule.message, rule_id
        assert rule.source, rule_id
        assert spec.get("status", 400) in (400, 404, 409), rule_id


def test_schemas_openapi_components_keep_unique_names() -> None:
    components = build_openapi(CONTRACT)["components"]["schemas"]
    assert {CONTRACT.documents[name]["title"] for name in NEW} <= set(components)
    assert set(ENUMS) <= set(components)


# --- the SDK is the authority -----------------------------------------------------------------


@pytest.mark.parametrize("name", ENUMS)
def test_schemas_enum_is_the_sdks_literal(name: str) -> None:
    schema = CONTRACT.documents["common"]["$defs"][name]
    assert schema["enum"] == list(typing.get_args(getattr(shared, name)))


def test_schemas_owner_cannot_be_assigned() -> None:
    assignable = CONTRACT.rule_value("user-invite-request", "assignableUserLevel.enum")
    assert "owner" in CONTRACT.rule_value("user", "userLevel.enum")
    assert "owner" not in assignable
    assert set(assignable) < set(CONTRACT.rule_value("user", "userLevel.enum"))


@pytest.mark.parametrize("name", MIRRORED)
def test_schemas_fields_mirror_the_sdk_models(name: str) -> None:
    doc = CONTRACT.documents[name]
    properties = set(doc["properties"]) - _refused_fields(doc)
    for model in doc["x-sdk"]["models"]:
        fields = _sdk_fields(_sdk_object(model))
        assert properties == set(fields), model
        assert set(doc.get("required", [])) == {f for f, (req, _) in fields.items() if req}, model


@pytest.mark.parametrize("name", MIRRORED)
def test_schemas_null_is_accepted_where_the_sdk_allows_it(name: str) -> None:
    """Optional[...] takes null; any other type refuses it, unless the schema reads null as
    absent (x-null-as-absent, an optional request field as for study create)."""
    doc = CONTRACT.documents[name]
    validator = CONTRACT.validator(name)
    base = doc["examples"][0]
    fields = _sdk_fields(_sdk_object(doc["x-sdk"]["models"][0]))
    for field, (_, nullable) in fields.items():
        accepted = validator.is_valid({**base, field: None})
        assert accepted == (nullable or "x-null-as-absent" in doc["properties"][field]), field


@pytest.mark.parametrize(
    ("name", "instance", "expected"),
    [
        ("user-path", {"userId": "usr_123"}, {("userId", "userId.format")}),
        ("invitation-path", {"invitationId": USR}, {("invitationId", "invitationId.format")}),
        ("invitation-path", {"invitationId": "inv_" + INV.removeprefix("inv_").upper()},
         {("invitationId", "id.lowercase-hex")}),
    ],
)  # fmt: skip
def test_schemas_refuse_a_bad_path_parameter(
    name: str, instance: dict[str, str], expected: set[tuple[str, str]]
) -> None:
    assert broken_rules(name, instance, "path") == expected


def test_schemas_invitation_inviter_null_breaks_only_an_inferred_rule() -> None:
    invitation = dict(CONTRACT.documents["invitation"]["examples"][0], inviterId=None)
    found = DocumentValidator(CONTRACT, "invitation").violations(invitation)
    assert [(v.field, v.rule, v.tag) for v in found] == [
        ("inviterId", "invitation.inviterId-not-null", "inferred")
    ]


def test_schemas_invite_answer_refuses_an_owner() -> None:
    answer = dict(CONTRACT.documents["user-invite-response"]["examples"][0], level="owner")
    assert broken_rules("user-invite-response", answer) == {("level", "assignableUserLevel.enum")}
    assert broken_rules("user", answer) == set()


# --- numbers code reads from the schemas -----------------------------------------------------


def _sdk_doc_numbers(model: str, pattern: str) -> tuple[int, ...]:
    """The numbers an SDK doc string states, read from the source of the model's module."""
    module = inspect.getmodule(_sdk_object(model))
    assert module is not None, model
    found = re.search(pattern, inspect.getsource(module))
    assert found, (model, pattern)
    return tuple(int(number) for number in found.groups())


def test_schemas_limits_and_lifetimes_are_the_sdks_and_readable() -> None:
    viewer = "avara.types.viewer."
    request = "ephemeral-session-create-request"
    (cap,) = _sdk_doc_numbers(viewer + "EphemeralSessionCreateParams", r"Hard cap (\d+) bytes")
    assert CONTRACT.rule_value(request, "ephemeralSession.options-max-bytes") == cap
    (seconds,) = _sdk_doc_numbers(viewer + "EphemeralSessionCreateResponse", r"\((\d+)-second")
    answer = CONTRACT.documents["ephemeral-session-create-response"]["x-stateful-rules"]
    assert answer["ephemeralSession.token-lifetime"]["seconds"] == seconds
    low, high = _sdk_doc_numbers(viewer + "UserInviteParams", r"\((\d+)-(\d+) digits")
    assert CONTRACT.rule_value("user-invite-request", "phoneNumber.min-digits") == low
    assert CONTRACT.rule_value("user-invite-request", "phoneNumber.max-digits") == high
    for query, model in [
        ("user-list-query", viewer + "UserListParams"),
        ("invitation-list-query", viewer + "users.InvitationListParams"),
    ]:
        low, high = _sdk_doc_numbers(model, r"Number of results to return \((\d+)-(\d+)\)")
        assert CONTRACT.rule_value(query, "limit.minimum") == low
        assert CONTRACT.rule_value(query, "limit.maximum") == high
        assert "default" in CONTRACT.resolved(query)["properties"]["limit"]


@pytest.mark.parametrize(
    ("query", "item"), [("user-list-query", "user"), ("invitation-list-query", "invitation")]
)
def test_schemas_list_parameters_are_read_and_filter_an_item_field(query: str, item: str) -> None:
    properties = CONTRACT.resolved(query)["properties"]
    fields = CONTRACT.documents[item]["properties"]
    for name, schema in properties.items():
        reading = schema["x-query"]["read"]
        assert reading in QUERY_READINGS, name
        assert (reading == "comma") == (schema.get("type") == "array"), name
        if "x-filter" in schema:
            assert schema["x-filter"]["field"][0] in fields, name
    assert set(properties) - {"cursor", "limit"} == set(CONTRACT.annotated(query, "x-filter"))
