"""The pytest plugin's test data and the contract suite downstream: the request and study
factories, the strategies driving property tests, and the conformance suite run by a downstream
pytest. How these tests run a downstream project: tests/downstream.py."""

from __future__ import annotations

import pytest

from contract_tests.checks import CHECKS
from contract_tests.stateful.parts import INVARIANTS
from mockserver.contract import Contract
from mockserver.plugin.factories import UpdateFactory
from tests.conftest import live_server
from tests.downstream import CLOSED_URL, SUBPROCESS_TIMEOUT, run

pytestmark = pytest.mark.usefixtures("no_avara_environment")


# --- factories ------------------------------------------------------------------------------------


def test_plugin_factories_make_valid_requests_and_studies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_factories="""
        import httpx

        from mockserver.contract import Contract

        STUDY = Contract.load().validator("study")
        USER = "usr_" + "ab" * 16


        def valid(study):
            errors = [error.message for error in STUDY.iter_errors(study)]
            assert errors == [], errors
            return True


        def test_request_factory_is_accepted(avara_request_factory, avara_mock):
            body = avara_request_factory()
            assert set(body) == {"severity", "studyDescription", "studyInstanceUid"}
            answer = httpx.post(
                avara_mock.base_url + "/v1/viewer/studies",
                json=body,
                headers={"Authorization": "Bearer anything"},
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["studyInstanceUid"] == body["studyInstanceUid"]
            assert valid(answer.json())


        def test_request_factory_overrides_and_fresh_uids(avara_request_factory):
            customer = "cus_" + "0" * 32
            wire = avara_request_factory(studyDescription="Wire", expressCustomerId=customer)
            sdk = avara_request_factory(study_description="SDK", severity="stat")
            assert wire["studyDescription"] == "Wire"
            assert wire["expressCustomerId"] == customer
            assert sdk["studyDescription"] == "SDK"
            assert sdk["severity"] == "stat"
            assert "study_description" not in sdk
            assert wire["studyInstanceUid"] != sdk["studyInstanceUid"]


        def test_request_factory_sdk_kwargs(avara_request_factory, avara_client, avara_mock):
            kwargs = avara_request_factory.sdk(assigned_to=USER, metadata={"k": "v"})
            assert {"severity", "study_description", "study_instance_uid"} <= set(kwargs)
            study = avara_client.viewer.studies.create(**kwargs)
            assert study.study_instance_uid == kwargs["study_instance_uid"]
            assert study.assigned_to.user_id == USER
            assert study.metadata == {"k": "v"}
            assert all(valid(stored) for stored in avara_mock.studies)


        def test_study_factory(avara_study_factory):
            plain = avara_study_factory()
            assert valid(plain)
            assert plain["isCancelled"] is False
            assert plain["studyId"].startswith("stu_")
            study = avara_study_factory(assigned_to=USER, is_cancelled=True)
            assert valid(study)
            assert study["assignedTo"]["userId"] == USER
            assert "@" in study["assignedTo"]["email"]
            assert study["isCancelled"] is True
            assert "is_cancelled" not in study and "assigned_to" not in study
            wire = avara_study_factory(isCancelled=True, severity="stat")
            assert valid(wire)
            assert (wire["isCancelled"], wire["severity"]) == (True, "stat")
            assert len({plain["studyId"], study["studyId"], wire["studyId"]}) == 3
        """
    )
    run(pytester).assert_outcomes(passed=4, failed=0)


def test_update_factory_bodies_are_valid_and_draw_every_enum_value(contract: Contract) -> None:
    update = contract.validator("study-update-request")
    factory = UpdateFactory(contract, seed=3)
    bodies = [factory() for _ in range(60)]
    for body in bodies:
        assert [error.message for error in update.iter_errors(body)] == []
        assert set(body) == {"severity", "studyViewerStatus", "studyDescription"}
    severities = contract.rule_value("study-update-request", "severity.enum")
    statuses = contract.rule_value("study-update-request", "studyViewerStatus.enum")
    assert {body["severity"] for body in bodies} == set(severities)
    assert {body["studyViewerStatus"] for body in bodies} == set(statuses)
    assert len({body["studyDescription"] for body in bodies}) > 1


def test_update_factory_overrides_in_wire_and_sdk_names(contract: Contract) -> None:
    factory = UpdateFactory(contract)
    user = "usr_" + "c" * 32
    wire = factory(assignedTo=user, metadata={"k": "v"}, studyViewerStatus="complete")
    assert (wire["assignedTo"], wire["metadata"], wire["studyViewerStatus"]) == (
        user,
        {"k": "v"},
        "complete",
    )
    sdk = factory(assigned_to=None, study_description="Renamed")
    assert sdk["assignedTo"] is None  # kept: null unassigns
    assert sdk["studyDescription"] == "Renamed"
    assert "assigned_to" not in sdk
    assert "study_description" not in sdk
    invalid = factory(severity="urgent")
    assert invalid["severity"] == "urgent"  # applied as given, valid or not
    assert list(contract.validator("study-update-request").iter_errors(invalid))


def test_update_factory_sdk_kwargs_and_seeds(contract: Contract) -> None:
    kwargs = UpdateFactory(contract, seed=11).sdk(assigned_to=None)
    assert set(kwargs) == {"severity", "study_viewer_status", "study_description", "assigned_to"}
    assert kwargs["assigned_to"] is None

    def draws(seed: int) -> list[dict[str, object]]:
        factory = UpdateFactory(contract, seed=seed)
        return [factory() for _ in range(20)]

    assert draws(11) == draws(11)
    assert draws(11) != draws(12)


def test_plugin_update_factory_updates_a_study_downstream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_updates="""
        import httpx

        from mockserver.contract import Contract

        CONTRACT = Contract.load()
        STUDY = CONTRACT.validator("study")
        USER = "usr_" + "cd" * 16


        def test_sdk_update_with_factory_kwargs(
            avara_client, avara_request_factory, avara_update_factory, avara_mock
        ):
            created = avara_client.viewer.studies.create(
                **avara_request_factory.sdk(assigned_to=USER, metadata={"k": "v"})
            )
            kwargs = avara_update_factory.sdk(metadata={"new": "map"})
            updated = avara_client.viewer.studies.update(created.study_id, **kwargs)
            assert updated.severity == kwargs["severity"]
            assert updated.study_viewer_status == kwargs["study_viewer_status"]
            assert updated.study_description == kwargs["study_description"]
            assert updated.metadata == {"new": "map"}
            assert updated.assigned_to.user_id == USER
            assert updated.study_instance_uid == created.study_instance_uid
            unassigned = avara_client.viewer.studies.update(
                created.study_id, **avara_update_factory.sdk(assigned_to=None)
            )
            assert unassigned.assigned_to is None
            stored = avara_client.viewer.studies.retrieve(created.study_id)
            assert stored.model_dump() == unassigned.model_dump()
            assert [] == [e.message for s in avara_mock.studies for e in STUDY.iter_errors(s)]


        def test_wire_update_body_is_accepted(
            avara_update_factory, avara_request_factory, avara_mock
        ):
            auth = {"Authorization": "Bearer anything"}
            url = avara_mock.base_url + "/v1/viewer/studies"
            created = httpx.post(url, json=avara_request_factory(), headers=auth).json()
            body = avara_update_factory(studyViewerStatus="complete")
            answer = httpx.patch(f"{url}/{created['studyId']}", json=body, headers=auth)
            assert answer.status_code == 200, answer.text
            study = answer.json()
            assert {k: study[k] for k in body} == body
            refused = httpx.patch(
                f"{url}/{created['studyId']}", json=avara_update_factory(severity="x"), headers=auth
            )
            assert refused.status_code == 400
            assert [e["field"] for e in refused.json()["error"]["errors"]] == ["severity"]
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


# --- the contract suite and its strategies downstream ---------------------------------------------


def test_plugin_contract_suite_runs_downstream_against_a_live_mock(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = len(CHECKS) + len(INVARIANTS)
    monkeypatch.setenv("AVARA_CONTRACT_MAX_EXAMPLES", "10")
    monkeypatch.setenv("AVARA_CONTRACT_SEQUENCES", "2")
    monkeypatch.setenv("AVARA_CONTRACT_STEPS", "10")
    with live_server() as url:
        monkeypatch.setenv("AVARA_BASE_URL", url)
        result = pytester.runpytest_subprocess(
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--pyargs",
            "contract_tests.conformance",
            timeout=SUBPROCESS_TIMEOUT,
        )
    result.assert_outcomes(passed=expected, failed=0)
    # the suite went where AVARA_BASE_URL points: with nothing there, it cannot pass
    monkeypatch.setenv("AVARA_BASE_URL", CLOSED_URL)
    unreachable = pytester.runpytest(
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "--pyargs",
        "contract_tests.conformance",
    )
    unreachable.assert_outcomes(passed=0, errors=expected)
    assert "TargetUnreachable" in unreachable.stdout.str()


def test_plugin_strategies_drive_property_tests_against_avara_client(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_properties="""
        import httpx
        from hypothesis import HealthCheck, given, settings

        from contract_tests.create.strategies import valid_probes
        from mockserver.contract import Contract

        PATH = "/v1/viewer/studies"
        examples = []


        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(probe=valid_probes(Contract.load()))
        def test_valid_probes_are_accepted(avara_client, avara_mock, probe):
            avara_mock.reset()  # the fixture lives across examples
            answer = avara_client.post(PATH, body=probe.body, cast_to=httpx.Response)
            assert answer.status_code == 201  # a refusal would raise avara.BadRequestError
            study = answer.json()
            assert study["studyInstanceUid"] == probe.body["studyInstanceUid"]
            assert [s["studyId"] for s in avara_mock.studies] == [study["studyId"]]
            examples.append(probe)


        def test_examples_were_drawn():
            assert len(examples) >= 5
            assert all(probe.kind == "valid" for probe in examples)
        """
    )
    run(pytester).assert_outcomes(passed=2, failed=0)


def test_plugin_invite_factory_makes_valid_new_people(contract: Contract) -> None:
    from mockserver.plugin.factories import InviteFactory

    factory = InviteFactory(contract, seed=4)
    bodies = [factory() for _ in range(30)]
    assert all(contract.validator("user-invite-request").is_valid(body) for body in bodies)
    assert len({body["email"] for body in bodies}) == len(bodies)
    assert all(body["hasDashboardAccess"] for body in bodies if body["level"] == "admin")
    assert factory.sdk(level="admin")["level"] == "admin"
    again = InviteFactory(contract, seed=4)
    assert [again() for _ in range(3)] == bodies[:3]


def test_plugin_users_and_invitations_reachable_downstream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_downstream="""
        def test_invite_through_the_sdk(avara_client, avara_mock, avara_invite_factory):
            seeded = len(avara_mock.users)
            assert {user["level"] for user in avara_mock.users} >= {"owner", "admin", "member"}
            user = avara_client.viewer.users.invite(**avara_invite_factory.sdk())
            assert len(avara_mock.users) == seeded + 1
            assert avara_mock.invitations[-1]["userId"] == user.user_id
            assert avara_mock.invitations[-1]["status"] == "sent"
            avara_mock.reset()
            assert len(avara_mock.users) == seeded
        """
    )
    run(pytester).assert_outcomes(passed=1)
