"""Probes of every operation but create: what each says of itself is what the server's own
reading of the request finds (valid: nothing broken; invalid: exactly its rule), and against a
stateful target a valid probe also keeps the rules across fields and names what the suite
made."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from contract_tests.operations.cases import VALID, Parts
from contract_tests.operations.crossfield import CrossField, UnknownRule
from contract_tests.operations.probes import OperationProbes, other_operations
from contract_tests.operations.wire import write
from contract_tests.transport.call import NO_BODY, Call, operation
from contract_tests.transport.exchange import CREATE, Probe
from mockserver.contract import Contract
from mockserver.query import QueryReader
from mockserver.resources.sessions import REQUEST as SESSION_REQUEST
from mockserver.resources.sessions import SessionRequests
from mockserver.validation import DocumentValidator

CONTRACT = Contract.load()
KNOWN = {
    "studyId": "stu_" + "ab" * 16,
    "studyInstanceUid": "1.2.840.99",
    "userId": "usr_" + "cd" * 16,
    "invitationId": "inv_" + "ef" * 16,
}
STATEFUL = OperationProbes(CONTRACT, stateless=False)
STATEFUL.known = dict(KNOWN)
STATELESS = OperationProbes(CONTRACT, stateless=True)
FEW = settings(
    max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
LIMIT = CONTRACT.rule_value("study-update-request", "metadata.value-max-length")


def broken(call: Call) -> list[str]:
    """Every rule the call breaks, as the mock reads it (its own QueryReader and validators)."""
    spec = operation(call.operation)
    found: list[str] = []
    if spec.path:
        found += [
            v.rule for v in DocumentValidator(CONTRACT, spec.path).violations(dict(call.path))
        ]
    if spec.query:
        read, twice = QueryReader(CONTRACT, spec.query).read(call.query)
        found += [v.rule for v in twice]
        found += [v.rule for v in DocumentValidator(CONTRACT, spec.query).violations(read)]
    if spec.body:
        found += [v.rule for v in DocumentValidator(CONTRACT, spec.body).violations(call.body)]
    if spec.body == SESSION_REQUEST and isinstance(call.body, dict):
        found += [
            v.rule for cap in SessionRequests(CONTRACT).caps for v in cap.violations(call.body)
        ]
    return found


def drawn(strategy: Any, examples: int = 8) -> list[Probe]:
    found: list[Probe] = []

    @settings(FEW, max_examples=examples)
    @given(strategy)
    def collect(probe: Probe) -> None:
        found.append(probe)

    collect()
    return found


def test_probes_cover_every_operation_but_create() -> None:
    names = other_operations()
    assert CREATE not in names
    assert len(names) == 18
    assert "viewer.users.invitations.revoke" in names


@pytest.mark.parametrize("probes", [STATEFUL, STATELESS], ids=["stateful", "stateless"])
@pytest.mark.parametrize("name", other_operations())
def test_probes_valid_break_nothing(name: str, probes: OperationProbes) -> None:
    for probe in drawn(probes.valid(name)):
        assert probe.call is not None
        assert (probe.kind, probe.operation, probe.call.operation) == ("valid", name, name)
        assert broken(probe.call) == [], probe.call
        assert probe.tag in ("stated", "inferred")
        assert probe.body == (None if probe.call.body is NO_BODY else probe.call.body)


@pytest.mark.parametrize("name", other_operations())
def test_probes_invalid_break_exactly_their_rule(name: str) -> None:
    for probe in drawn(STATEFUL.invalid(name), examples=12):
        assert probe.call is not None
        assert probe.kind == "invalid"
        assert set(broken(probe.call)) == {probe.rule}, probe.call
        assert probe.location in ("body", "query", "path")
        tags = {t.rule.id: t.rule.tag for t in STATEFUL.targets(name)}
        repeated = STATEFUL.repeatable(name)
        if repeated is not None:
            tags[repeated.id] = repeated.tag
        assert probe.tag == tags[probe.rule]


def test_probes_invalid_of_a_path_name_the_path_parameter() -> None:
    probes = drawn(STATEFUL.invalid("viewer.users.retrieve"))
    assert {p.location for p in probes} == {"path"}
    assert {p.field for p in probes} == {"userId"}


def test_probes_cases_label_the_valid_and_each_rule() -> None:
    cases = STATEFUL.cases("viewer.users.invitations.list")
    labels = [c.label for c in cases]
    assert labels[0] == VALID
    assert "invitationStatus.enum" in labels
    assert "query.repeated-parameter" in labels
    assert STATEFUL.cases("viewer.users.invitations.list") is cases


def test_probes_targets_of_a_path_document_are_the_operation_parameters() -> None:
    retrieve = {t.parameter for t in STATEFUL.targets("viewer.studies.retrieve")}
    by_uid = {t.parameter for t in STATEFUL.targets("viewer.studies.retrieve_by_uid")}
    assert retrieve == {"studyId"}
    assert by_uid == {"studyInstanceUid"}
    kinds = {t.keyword for t in STATEFUL.targets("viewer.studies.retrieve")}
    assert "type" not in kinds  # a path parameter is always text


def test_probes_stateful_valid_name_what_the_suite_made() -> None:
    for probe in drawn(STATEFUL.valid("viewer.studies.update")):
        assert probe.call is not None
        assert probe.call.path == {"studyId": KNOWN["studyId"]}
    for probe in drawn(STATEFUL.valid("viewer.studies.cancel")):
        named = {k: v for k, v in probe.body.items() if v is not None}
        assert len(named) == 1
        assert set(named.values()) <= {KNOWN["studyId"], KNOWN["studyInstanceUid"]}


def test_probes_stateful_valid_keep_rules_across_fields() -> None:
    for probe in drawn(STATEFUL.valid("viewer.users.update"), examples=30):
        body = probe.body
        if body.get("level") == "admin":
            assert body.get("hasDashboardAccess") is True
        if body.get("hasDashboardAccess") is False:
            assert body.get("level") == "member"
    for probe in drawn(STATEFUL.valid("viewer.users.invitations.list"), examples=30):
        assert probe.call is not None
        query = dict(probe.call.query)
        assert "cursor" not in query
        if "startDate" in query and "endDate" in query:
            assert query["startDate"] <= query["endDate"]


def test_crossfield_fixes_viewports_and_selectors() -> None:
    sessions = CrossField(CONTRACT, "ephemeral-session-create-request")
    body = {"retrievalId": "r", "hangingProtocol": {"layout": "2x2", "viewportAssignments": ["a"]}}
    assert sessions.fixed(body)["hangingProtocol"]["viewportAssignments"] == ["a", None, None, None]
    assert sessions.fixed({"retrievalId": "r", "hangingProtocol": None}) == {
        "retrievalId": "r",
        "hangingProtocol": None,
    }
    selector = CrossField(CONTRACT, "study-selector")
    assert selector.fixed({}) is None
    assert selector.fixed({"studyId": None, "studyInstanceUid": None}) is None
    both = {"studyId": KNOWN["studyId"], "studyInstanceUid": "1.2"}
    assert selector.fixed(both) == {"studyId": KNOWN["studyId"]}


def test_crossfield_refuses_a_rule_schemas_do_not_have() -> None:
    documents = copy.deepcopy(CONTRACT.documents)
    del documents["study-selector"]["x-stateful-rules"]["selector.names-study"]
    with pytest.raises(UnknownRule, match=re.escape("selector.names-study")):
        CrossField(Contract(documents), "study-selector")


def test_probes_stateless_valid_may_send_what_needs_state() -> None:
    cursors = [
        p
        for p in drawn(STATELESS.valid("viewer.studies.list"), examples=40)
        if p.call is not None and "cursor" in dict(p.call.query)
    ]
    assert cursors
    assert STATELESS.known == {}


@pytest.mark.parametrize(
    ("reading", "value", "text"),
    [
        ({"read": "boolean"}, True, "true"),
        ({"read": "boolean"}, False, "false"),
        ({"read": "number"}, 20, "20"),
        ({"read": "number"}, 2.5, "2.5"),
        ({"read": "comma"}, ["sent", "revoked"], "sent,revoked"),
        ({"read": "comma"}, [], ""),
        ({"read": "string", "null": "null"}, None, "null"),
        ({"read": "string"}, "é x", "é x"),
        ({"read": "string"}, None, None),
        ({"read": "comma"}, ["a,b"], None),
        ({"read": "string"}, {"k": 1}, '{"k": 1}'),
    ],
)
def test_write_spells_a_value_as_the_sdk_sends_it(
    reading: dict[str, Any], value: Any, text: str | None
) -> None:
    assert write(reading, value) == text


def test_probes_examples_are_the_schema_examples() -> None:
    invite = STATEFUL.examples("viewer.users.invite")
    shown = CONTRACT.documents["user-invite-request"]["examples"]
    assert [p.body for p in invite] == shown
    assert [p.name for p in invite] == [f"example {i + 1}" for i in range(len(shown))]
    for name in other_operations():
        found = STATEFUL.examples(name)
        assert found, name
        assert all(p.kind == "valid" and p.call is not None for p in found)
        assert all(broken(p.call) == [] for p in found if p.call is not None)


def test_probes_unauthenticated_is_the_first_example_without_credentials() -> None:
    probe = STATEFUL.unauthenticated("viewer.users.list")
    assert probe is not None
    assert (probe.kind, probe.authorization, probe.name) == (
        "unauthenticated",
        None,
        "no authorization",
    )
    assert probe.call is not None
    assert probe.call.sent(None).headers.get("Authorization") is None


def test_probes_stateless_examples_need_a_path_example() -> None:
    assert STATELESS.examples("viewer.studies.retrieve") == []
    assert STATELESS.examples("viewer.users.retrieve")


def confirmed(name: str, path: dict[str, Any], query: dict[str, Any], body: Any) -> Probe:
    probe = STATEFUL.confirm_valid(operation(name), Parts(path, query, body))
    assert probe is not None
    return probe


def test_probes_a_two_byte_value_at_the_limit_is_inferred() -> None:
    path = {"studyId": KNOWN["studyId"]}
    wide = confirmed("viewer.studies.update", path, {}, {"metadata": {"k": "é" * LIMIT}})
    narrow = confirmed("viewer.studies.update", path, {}, {"metadata": {"k": "x" * LIMIT}})
    assert (wide.tag, narrow.tag) == ("inferred", "stated")


def test_probes_the_query_text_null_is_inferred() -> None:
    null = confirmed("viewer.studies.list", {}, {"assignedTo": None}, NO_BODY)
    assert null.call is not None
    assert null.call.query == (("assignedTo", "null"),)
    assert null.tag == "inferred"
    assert confirmed("viewer.studies.list", {}, {"limit": 5}, NO_BODY).tag == "stated"


def test_probes_a_null_read_as_absent_is_inferred() -> None:
    body = {"studyId": "stu_" + "0" * 32, "studyInstanceUid": None}
    probe = confirmed("viewer.studies.reroute_url", {}, {}, body)
    assert probe.tag == "inferred"
    assert probe.body == {"studyId": KNOWN["studyId"], "studyInstanceUid": None}


def test_probes_a_repeated_query_parameter_breaks_its_rule() -> None:
    rule = STATEFUL.repeatable("viewer.users.list")
    assert rule is not None
    parts = Parts({}, {"limit": 3, "level": "member"}, NO_BODY)
    probe = STATEFUL.confirm_repeated(operation("viewer.users.list"), parts, 1, rule)
    assert probe is not None
    assert probe.call is not None
    assert probe.call.query == (("limit", "3"), ("level", "member"), ("level", "member"))
    assert (probe.rule, probe.field, probe.location, probe.tag) == (
        rule.id,
        "level",
        "query",
        rule.tag,
    )
    assert STATEFUL.repeatable("viewer.users.retrieve") is None


def test_probes_invalid_confirm_refuses_a_second_broken_rule() -> None:
    (target,) = [
        t for t in STATEFUL.targets("viewer.studies.update") if t.rule.id == "severity.enum"
    ]
    spec = operation("viewer.studies.update")
    path = {"studyId": KNOWN["studyId"]}
    one = STATEFUL.confirm_invalid(spec, Parts(path, {}, {"severity": "HIGH"}), target)
    two = STATEFUL.confirm_invalid(
        spec, Parts(path, {}, {"severity": "HIGH", "studyDescription": ""}), target
    )
    assert one is not None
    assert (one.rule, one.field, one.location) == ("severity.enum", "severity", "body")
    assert two is None


@pytest.mark.parametrize("value", ["", ".", "..", "usr_a/b", "usr_a\\b"])
def test_probes_a_path_parameter_is_one_segment(value: str) -> None:
    spec = operation("viewer.users.retrieve")
    assert STATELESS.confirm_valid(spec, Parts({"userId": value}, {}, NO_BODY)) is None
    (target,) = [t for t in STATELESS.targets(spec.name) if t.rule.id == "userId.format"]
    assert STATELESS.confirm_invalid(spec, Parts({"userId": value}, {}, NO_BODY), target) is None
