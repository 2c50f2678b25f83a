"""Stateless mode: the field rules of stateful mode, no other rule, answers made from requests."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from contract_tests.create.strategies import Limits, dicom_uids, ids, metadata, text, valid_probes
from contract_tests.transport.exchange import Probe
from mockserver import Settings, create_app
from mockserver.contract import Contract, UnsupportedFilter
from mockserver.errors import InvalidRequest
from mockserver.resources.studies import VIEW_PATH, Studies
from mockserver.stateless.studies import StatelessStudies
from tests.conftest import AUTH, ROOT

FIXED_ID = "stu_1234567890abcdef1234567890abcdef"
USER = "usr_1234567890abcdef1234567890abcdef"
CUSTOMER = "cus_1234567890abcdef1234567890abcdef"
UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
CREATE = {
    "severity": "high",
    "studyDescription": "CT Chest/Abdomen/Pelvis",
    "studyInstanceUid": UID,
}
ORIGIN = "http://127.0.0.1:4010"
SDK_LIST_QUERY = [
    ("assignedTo", USER),
    ("cursor", "eyJvZmZzZXQiOjIwfQ=="),
    ("expressCustomerId", CUSTOMER),
    ("isCancelled", "false"),
    ("limit", "20"),
    ("severity", "normal"),
    ("studyDescription", "CT Head"),
    ("studyViewerStatus", "incomplete"),
]
URL = "/v1/viewer/studies"


@pytest.fixture(scope="module")
def studies(contract: Contract) -> Studies:
    return StatelessStudies(contract, Settings(stateless=True))


def study_of(body: bytes) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(body)
    return found


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def refused(call: Callable[[], bytes]) -> list[tuple[str, str]]:
    """The (field, rule) pairs of the 400 a call raises."""
    with pytest.raises(InvalidRequest) as raised:
        call()
    return [(v.field, v.rule) for v in raised.value.violations]


# --- what the generated SDK suite does, answered ---------------------------------------------


def test_stateless_same_uid_created_twice_gets_the_same_study(
    studies: Studies, contract: Contract
) -> None:
    first = studies.create(CREATE, "My API Key")
    assert studies.create(dict(reversed(CREATE.items())), "My API Key") == first
    study = study_of(first)
    assert contract.validator("study").is_valid(study)
    assert {k: study[k] for k in CREATE} == CREATE
    assert (study["isCancelled"], study["cancelledAt"], study["studyViewerStatus"]) == (
        False,
        None,
        "incomplete",
    )
    assert study["createdAt"] == study["updatedAt"]
    assert studies.stored() == []


def test_stateless_create_with_all_params_links_references(studies: Studies) -> None:
    body = {**CREATE, "assignedTo": USER, "expressCustomerId": CUSTOMER, "metadata": {"a": "b"}}
    study = study_of(studies.create(body, "key"))
    assert study["assignedTo"]["userId"] == USER
    assert study["expressCustomer"]["expressCustomerId"] == CUSTOMER
    assert study["metadata"] == {"a": "b"}
    assert study["createdByApiKey"] == study_of(studies.create(body, "key"))["createdByApiKey"]
    assert study["createdByApiKey"] != study_of(studies.create(body, "other"))["createdByApiKey"]


def test_stateless_create_null_optional_fields_answer_as_absent(studies: Studies) -> None:
    nulls = {**CREATE, "assignedTo": None, "expressCustomerId": None, "metadata": None}
    assert studies.create(nulls, "key") == studies.create(CREATE, "key")


def test_stateless_retrieve_of_an_id_nobody_created(studies: Studies, contract: Contract) -> None:
    study = study_of(studies.retrieve(FIXED_ID))
    assert contract.validator("study").is_valid(study)
    assert study["studyId"] == FIXED_ID
    assert contract.validator("study-path").is_valid(
        {"studyInstanceUid": study["studyInstanceUid"]}
    )
    assert moment(study["createdAt"]) <= moment(study["updatedAt"])
    assert studies.retrieve(FIXED_ID) == studies.retrieve(FIXED_ID)
    assert study_of(studies.retrieve("stu_" + "0" * 32)) != study


def test_stateless_retrieve_by_uid_answers_that_uid_with_the_id_create_gives(
    studies: Studies, contract: Contract
) -> None:
    study = study_of(studies.retrieve_by_uid(UID))
    assert contract.validator("study").is_valid(study)
    assert study["studyInstanceUid"] == UID
    assert study["studyId"] == study_of(studies.create(CREATE, "key"))["studyId"]
    assert study_of(studies.retrieve_by_uid("1.2.3"))["studyId"] != study["studyId"]


def test_stateless_update_of_nothing_is_the_study_as_retrieved(studies: Studies) -> None:
    assert studies.update(FIXED_ID, {}) == studies.retrieve(FIXED_ID)


def test_stateless_update_applies_fields_over_the_retrieved_study(
    studies: Studies, contract: Contract
) -> None:
    before = study_of(studies.retrieve(FIXED_ID))
    change = {
        "assignedTo": USER,
        "metadata": {"foo": "string"},
        "severity": "stat",
        "studyDescription": "CT Chest/Abdomen/Pelvis with Contrast",
        "studyViewerStatus": "complete",
    }
    after = study_of(studies.update(FIXED_ID, change))
    assert contract.validator("study").is_valid(after)
    assert after["assignedTo"]["userId"] == USER
    for field in ("metadata", "severity", "studyDescription", "studyViewerStatus"):
        assert after[field] == change[field]
    for field in ("studyId", "studyInstanceUid", "createdAt", "isCancelled", "createdByApiKey"):
        assert after[field] == before[field]
    assert moment(after["updatedAt"]) > moment(before["updatedAt"])
    assert studies.update(FIXED_ID, dict(reversed(change.items()))) == orjson.dumps(after)


def test_stateless_update_nulls_unassign_and_clear(studies: Studies) -> None:
    after = study_of(studies.update(FIXED_ID, {"assignedTo": None, "metadata": None}))
    assert (after["assignedTo"], after["metadata"]) == (None, None)


@pytest.mark.parametrize("operation", ["cancel", "uncancel"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"studyId": FIXED_ID},
        {"studyInstanceUid": UID},
        {"studyId": FIXED_ID, "studyInstanceUid": UID},
    ],
)
def test_stateless_cancel_and_uncancel_succeed_whatever_study_is_named(
    studies: Studies, contract: Contract, operation: str, body: dict[str, str]
) -> None:
    answer = orjson.loads(getattr(studies, operation)(body))
    assert contract.validator("study-cancel-response").is_valid(answer)
    assert answer["success"] is True
    assert "stateless" in answer["message"]
    assert body.get("studyId", "") in answer["message"]


@pytest.mark.parametrize("body", [{}, {"studyId": FIXED_ID, "studyInstanceUid": UID}])
def test_stateless_reroute_url_is_deterministic_and_opens_nothing(
    studies: Studies, contract: Contract, body: dict[str, str]
) -> None:
    answer = orjson.loads(studies.reroute_url(body, ORIGIN))
    assert contract.validator("study-reroute-url-response").is_valid(answer)
    assert answer["url"].startswith(ORIGIN + VIEW_PATH)
    assert studies.reroute_url(body, ORIGIN) == orjson.dumps(answer)
    assert studies.viewed(answer["url"].removeprefix(ORIGIN + VIEW_PATH)) is None


def test_stateless_list_with_every_sdk_param_meets_every_filter(
    studies: Studies, contract: Contract
) -> None:
    page = orjson.loads(studies.list(SDK_LIST_QUERY))
    assert contract.validator("study-list-page").is_valid(page)
    assert (page["cursor"], page["hasMore"]) == (None, False)
    assert 1 <= len(page["studies"]) <= 20
    for study in page["studies"]:
        assert study["assignedTo"]["userId"] == USER
        assert study["expressCustomer"]["expressCustomerId"] == CUSTOMER
        assert (study["isCancelled"], study["cancelledAt"]) == (False, None)
        assert study["severity"] == "normal"
        assert study["studyViewerStatus"] == "incomplete"
        assert "ct head" in study["studyDescription"].lower()


def test_stateless_list_studies_are_the_studies_their_ids_name(studies: Studies) -> None:
    for study in orjson.loads(studies.list([]))["studies"]:
        assert study_of(studies.retrieve(study["studyId"])) == study


def test_stateless_list_literal_null_lists_studies_with_none(studies: Studies) -> None:
    page = orjson.loads(studies.list([("assignedTo", "null"), ("expressCustomerId", "null")]))
    assert page["studies"]
    assert all(s["assignedTo"] is None and s["expressCustomer"] is None for s in page["studies"])


def test_stateless_list_holds_at_most_limit(studies: Studies) -> None:
    assert len(orjson.loads(studies.list([("limit", "1")]))["studies"]) == 1


def severities(contract: Contract) -> list[str]:
    return list(contract.rule_value("study-list-query", "severity.enum"))


@st.composite
def list_queries(draw: st.DrawFn, contract: Contract) -> list[tuple[str, str]]:
    """Valid list queries as the SDK sends them, every parameter present or absent."""
    name = "study-list-query"
    options: dict[str, st.SearchStrategy[str]] = {
        "assignedTo": ids(contract.rule_value(name, "userId.format")) | st.just("null"),
        "expressCustomerId": ids(contract.rule_value(name, "expressCustomerId.format"))
        | st.just("null"),
        "isCancelled": st.sampled_from(["true", "false"]),
        "limit": st.integers(1, 100).map(str),
        "severity": st.sampled_from(severities(contract)),
        "studyViewerStatus": st.sampled_from(
            list(contract.rule_value(name, "studyViewerStatus.enum"))
        ),
        "studyDescription": text(0, 12),
        "cursor": st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode()),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(options))))
    return [(key, draw(options[key])) for key in sorted(chosen)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stateless_list_any_valid_query_is_answered_by_matching_studies(
    studies: Studies, contract: Contract, data: st.DataObject
) -> None:
    query = data.draw(list_queries(contract))
    given_ = dict(query)
    page = orjson.loads(studies.list(query))
    assert contract.validator("study-list-page").is_valid(page)
    assert (page["cursor"], page["hasMore"]) == (None, False)
    assert 1 <= len(page["studies"]) <= int(given_.get("limit", "20"))
    keys = [(s["createdAt"], s["studyId"]) for s in page["studies"]]
    assert keys == sorted(keys, reverse=True)
    for study in page["studies"]:
        for field in ("severity", "studyViewerStatus"):
            assert study[field] == given_.get(field, study[field])
        if "isCancelled" in given_:
            assert study["isCancelled"] is (given_["isCancelled"] == "true")
        assert (study["cancelledAt"] is not None) is study["isCancelled"]
        for param, field, key in (
            ("assignedTo", "assignedTo", "userId"),
            ("expressCustomerId", "expressCustomer", "expressCustomerId"),
        ):
            if given_.get(param) == "null":
                assert study[field] is None
            elif param in given_:
                assert study[field][key] == given_[param]
        part = given_.get("studyDescription", "")
        assert part.casefold() in study["studyDescription"].casefold()
    assert studies.list(list(reversed(query))) == studies.list(query)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stateless_create_answers_any_valid_request_with_a_valid_study(
    studies: Studies, contract: Contract, data: st.DataObject
) -> None:
    probe: Probe = data.draw(valid_probes(contract))
    answer = studies.create(probe.body, "key")
    study = study_of(answer)
    assert contract.validator("study").is_valid(study)
    for field in ("severity", "studyDescription", "studyInstanceUid"):
        assert study[field] == probe.body[field]
    assert study["metadata"] == probe.body.get("metadata")
    assert studies.create(probe.body, "key") == answer


@st.composite
def updates(draw: st.DrawFn, contract: Contract) -> dict[str, Any]:
    """Valid update bodies, every field present or absent, nulls included."""
    limits = Limits(contract)
    name = "study-update-request"
    options: dict[str, st.SearchStrategy[Any]] = {
        "assignedTo": ids(limits.user_pattern) | st.none(),
        "metadata": metadata(limits) | st.none(),
        "severity": st.sampled_from(limits.severities),
        "studyDescription": text(1, 24),
        "studyViewerStatus": st.sampled_from(
            list(contract.rule_value(name, "studyViewerStatus.enum"))
        ),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(options))))
    return {key: draw(options[key]) for key in sorted(chosen)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stateless_update_answers_any_valid_update_with_it_applied(
    studies: Studies, contract: Contract, data: st.DataObject
) -> None:
    study_id = data.draw(ids(contract.rule_value("study-path", "studyId.format")))
    change = data.draw(updates(contract))
    before = study_of(studies.retrieve(study_id))
    after = study_of(studies.update(study_id, change))
    assert contract.validator("study").is_valid(after)
    for field, value in change.items():
        shown = after[field]["userId"] if field == "assignedTo" and value else after[field]
        assert shown == value
    for field in ("studyId", "studyInstanceUid", "createdAt", "isCancelled", "cancelledAt"):
        assert after[field] == before[field]
    moved = {**after, "updatedAt": None} != {**before, "updatedAt": None}
    assert (moment(after["updatedAt"]) > moment(before["updatedAt"])) is moved
    assert moved or after == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stateless_selector_calls_answer_any_valid_body(
    studies: Studies, contract: Contract, data: st.DataObject
) -> None:
    body = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "studyId": ids(contract.rule_value("study-selector", "studyId.format")),
                "studyInstanceUid": dicom_uids(Limits(contract).uid),
            },
        )
    )
    for answer, schema in (
        (studies.cancel(body), "study-cancel-response"),
        (studies.uncancel(body), "study-cancel-response"),
        (studies.reroute_url(body, ORIGIN), "study-reroute-url-response"),
    ):
        assert contract.validator(schema).is_valid(orjson.loads(answer))


# --- field rules: refused as in stateful mode --------------------------------------------------

REFUSALS: list[tuple[str, tuple[Any, ...], list[tuple[str, str]]]] = [
    ("create", ({**CREATE, "severity": "urgent"}, "k"), [("severity", "severity.enum")]),
    ("create", ({**CREATE, "isCancelled": True}, "k"), [("isCancelled", "body.unknown-field")]),
    ("create", ({**CREATE, "assignedTo": "usr_12"}, "k"), [("assignedTo", "userId.format")]),
    (
        "create",
        ({**CREATE, "studyInstanceUid": "1..2"}, "k"),
        [("studyInstanceUid", "studyInstanceUid.empty-component")],
    ),
    ("retrieve", ("stu_123",), [("studyId", "studyId.format")]),
    ("retrieve", ("stu_" + "AB" * 16,), [("studyId", "id.lowercase-hex")]),
    ("retrieve_by_uid", ("1.02",), [("studyInstanceUid", "studyInstanceUid.leading-zero")]),
    ("update", ("stu_123", {}), [("studyId", "studyId.format")]),
    ("update", (FIXED_ID, {"severity": "STAT"}), [("severity", "severity.enum")]),
    (
        "update",
        (FIXED_ID, {"studyViewerStatus": "done"}),
        [("studyViewerStatus", "studyViewerStatus.enum")],
    ),
    (
        "update",
        (FIXED_ID, {"studyDescription": ""}),
        [("studyDescription", "studyDescription.non-empty")],
    ),
    ("update", (FIXED_ID, {"isCancelled": True}), [("isCancelled", "update.unknown-field")]),
    ("list", ([("limit", "0")],), [("limit", "limit.minimum")]),
    ("list", ([("limit", "101")],), [("limit", "limit.maximum")]),
    ("list", ([("limit", "2.5")],), [("limit", "limit.integer")]),
    ("list", ([("severity", "urgent")],), [("severity", "severity.enum")]),
    ("list", ([("isCancelled", "True")],), [("isCancelled", "isCancelled.type")]),
    ("list", ([("assignedTo", "usr_1")],), [("assignedTo", "userId.format")]),
    ("list", ([("cursor", "not a cursor!")],), [("cursor", "cursor.format")]),
    ("list", ([("page", "2")],), [("page", "query.unknown-parameter")]),
    ("list", ([("limit", "5"), ("limit", "6")],), [("limit", "query.repeated-parameter")]),
    ("cancel", ({"studyId": "stu_1"},), [("studyId", "studyId.format")]),
    ("cancel", ([],), [("", "body.type")]),
    ("uncancel", ({"id": FIXED_ID},), [("id", "selector.unknown-field")]),
    (
        "reroute_url",
        ({"studyInstanceUid": "x"}, ORIGIN),
        [("studyInstanceUid", "studyInstanceUid.charset")],
    ),
]


@pytest.mark.parametrize(("operation", "args", "expected"), REFUSALS)
def test_stateless_refuses_what_the_field_rules_refuse(
    studies: Studies, operation: str, args: tuple[Any, ...], expected: list[tuple[str, str]]
) -> None:
    assert refused(lambda: getattr(studies, operation)(*args)) == expected


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[TestClient, TestClient]]:
    """A stateful and a stateless mock, in-process."""
    with (
        TestClient(create_app(Settings()), headers=AUTH) as stateful,
        TestClient(create_app(Settings(stateless=True)), headers=AUTH) as stateless,
    ):
        yield stateful, stateless


HTTP_REFUSALS = [
    ("POST", URL, {"json": {**CREATE, "severity": "urgent", "extra": 1}}),
    ("GET", f"{URL}/stu_123", {}),
    ("GET", f"{URL}/by-uid/1.02", {}),
    ("PATCH", f"{URL}/stu_{'0' * 32}", {"json": {"severity": 1, "studyInstanceUid": UID}}),
    ("GET", URL, {"params": {"limit": "2.5", "severity": "x", "unknown": "1"}}),
    ("POST", f"{URL}/cancel", {"json": {"studyId": FIXED_ID.upper()}}),
    ("POST", f"{URL}/reroute-url", {"json": {"url": "x"}}),
]


@pytest.mark.parametrize(("method", "path", "options"), HTTP_REFUSALS)
def test_stateless_refusal_is_byte_for_byte_the_stateful_one(
    both: tuple[TestClient, TestClient], method: str, path: str, options: dict[str, Any]
) -> None:
    stateful, stateless = (client.request(method, path, **options) for client in both)
    assert stateless.status_code == stateful.status_code == 400
    assert stateless.content == stateful.content


def test_stateless_lenient_ignores_unknown_fields(contract: Contract) -> None:
    lenient = StatelessStudies(contract, Settings(stateless=True, lenient=True))
    study = study_of(lenient.create({**CREATE, "extra": 1}, "k"))
    assert "extra" not in study
    assert lenient.cancel({"extra": 1})


def test_stateless_refuses_to_start_on_a_filter_it_cannot_satisfy(contract: Contract) -> None:
    documents = copy.deepcopy(contract.documents)
    documents["study-list-query"]["properties"]["severity"]["x-filter"]["match"] = "regex"
    with pytest.raises(UnsupportedFilter, match="severity"):
        StatelessStudies(Contract(documents), Settings(stateless=True))


# --- over HTTP ----------------------------------------------------------------------------------


def test_stateless_app_answers_the_calls_nobody_set_up(
    both: tuple[TestClient, TestClient], contract: Contract
) -> None:
    stateless = both[1]
    calls: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", URL, {"json": CREATE}, 201, "study"),
        ("POST", URL, {"json": CREATE}, 201, "study"),
        ("GET", f"{URL}/{FIXED_ID}", {}, 200, "study"),
        ("GET", f"{URL}/by-uid/1.2.840.10008.5.1.4.1.1.2", {}, 200, "study"),
        ("PATCH", f"{URL}/{FIXED_ID}", {"json": {}}, 200, "study"),
        ("GET", URL, {"params": SDK_LIST_QUERY}, 200, "study-list-page"),
        ("POST", f"{URL}/cancel", {"json": {}}, 200, "study-cancel-response"),
        ("POST", f"{URL}/uncancel", {"json": {}}, 200, "study-cancel-response"),
        ("POST", f"{URL}/reroute-url", {"json": {}}, 200, "study-reroute-url-response"),
    ]
    for method, path, options, status, schema in calls:
        response = stateless.request(method, path, **options)
        assert response.status_code == status, (method, path, response.text)
        assert contract.validator(schema).is_valid(response.json()), (method, path)
    url = stateless.post(f"{URL}/reroute-url", json={"studyId": FIXED_ID}).json()["url"]
    assert url.startswith("http://testserver" + VIEW_PATH)
    assert stateless.get(url).status_code == 404


# --- determinism --------------------------------------------------------------------------------


def answers(studies: Studies) -> list[bytes]:
    """One answer of each call, for comparing runs."""
    return [
        studies.create({**CREATE, "assignedTo": USER, "metadata": {"k": "v"}}, "key"),
        studies.retrieve(FIXED_ID),
        studies.retrieve_by_uid(UID),
        studies.update(FIXED_ID, {"severity": "stat", "assignedTo": USER}),
        studies.list(SDK_LIST_QUERY),
        studies.list([]),
        studies.cancel({"studyId": FIXED_ID}),
        studies.reroute_url({}, ORIGIN),
    ]


def fingerprint(found: list[bytes]) -> str:
    return hashlib.sha256(b"\x00".join(found)).hexdigest()


def test_stateless_same_requests_same_bytes_in_another_process(contract: Contract) -> None:
    here = fingerprint(answers(StatelessStudies(contract, Settings(stateless=True, seed=5))))
    program = (
        "from mockserver.contract import Contract\n"
        "from mockserver.settings import Settings\n"
        "from mockserver.stateless.studies import StatelessStudies\n"
        "from tests.test_stateless import answers, fingerprint\n"
        "studies = StatelessStudies(Contract.load(), Settings(stateless=True, seed=5))\n"
        "print(fingerprint(answers(studies)))\n"
    )
    there = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert there.stdout.strip() == here


def test_stateless_another_seed_gives_other_answers(contract: Contract) -> None:
    seeded = answers(StatelessStudies(contract, Settings(stateless=True, seed=1)))
    other = answers(StatelessStudies(contract, Settings(stateless=True, seed=2)))
    assert seeded == answers(StatelessStudies(contract, Settings(stateless=True, seed=1)))
    differ = [a != b for a, b in zip(seeded, other, strict=True)]
    # The cancel message names only the request, so it is the same under any seed.
    assert differ == [True, True, True, True, True, True, False, True]
