"""The pytest plugin beside respx: other services mocked with respx in the same tests, in either
order (fixtures, ``with respx.mock(...)``, the decorators), sync and async, under xdist, and
hosts nobody mocked. How these tests run a downstream project: tests/downstream.py."""

from __future__ import annotations

import pytest

from tests.downstream import LOCAL_SERVER, run, run_isolated

pytestmark = pytest.mark.usefixtures("no_avara_environment")

# Each inner file creates one study through the SDK and fetches a patient from another service,
# mocked with respx, and checks each answer came from the right mock.
COMMON = """
import httpx
import pytest
import respx
from avara import AsyncAvara, Avara

OTHER = "https://other.example.test"
PATIENT = {"patientId": "7"}


def create(uid):
    with Avara(max_retries=0) as client:
        return client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid=uid
        )


async def acreate(uid):
    async with AsyncAvara(max_retries=0) as client:
        return await client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid=uid
        )


def only_the_study(avara_mock, study):
    assert [r.url.host for r in avara_mock.requests] == ["api.avarasoftware.com"]
    assert [s["studyId"] for s in avara_mock.studies] == [study.study_id]
"""

FIXTURE_ORDERS = (
    COMMON
    + """

def both_answer(avara_mock, router, uid):
    patient = router.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    with httpx.Client() as http:
        assert http.get(OTHER + "/v2/patients/7").json() == PATIENT
    study = create(uid)
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


def test_avara_mock_then_respx_mock(avara_mock, respx_mock):
    both_answer(avara_mock, respx_mock, "1.2.40")


def test_respx_mock_then_avara_mock(respx_mock, avara_mock):
    both_answer(avara_mock, respx_mock, "1.2.41")


def test_avara_client_then_respx_mock(avara_client, avara_mock, respx_mock):
    patient = respx_mock.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
    study = avara_client.viewer.studies.create(
        severity="high", study_description="Chest CT", study_instance_uid="1.2.42"
    )
    assert patient.called
    only_the_study(avara_mock, study)
"""
)

SCOPED = (
    COMMON
    + """

def test_with_respx_mock_block(avara_mock):
    with respx.mock(base_url=OTHER) as other:
        patient = other.get("/v2/patients/7").respond(200, json=PATIENT)
        assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
        study = create("1.2.43")
    assert patient.call_count == 1
    only_the_study(avara_mock, study)
    create("1.2.44")  # still answered once the block is left
    assert len(avara_mock.studies) == 2


def test_with_respx_mock_block_at_the_httpx_layer(avara_mock):
    with respx.mock(base_url=OTHER, using="httpx") as other:
        patient = other.get("/v2/patients/7").respond(200, json=PATIENT)
        assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
        study = create("1.2.45")
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


@respx.mock
def test_global_decorator(avara_mock):
    patient = respx.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
    study = create("1.2.46")
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


@respx.mock(base_url=OTHER)
def test_local_decorator(avara_mock, respx_mock):
    patient = respx_mock.get("/v2/patients/7").respond(200, json=PATIENT)
    assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
    study = create("1.2.47")
    assert patient.call_count == 1
    only_the_study(avara_mock, study)
"""
)

ASYNC = (
    COMMON
    + """

async def both_answer(avara_mock, router, uid):
    patient = router.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    async with httpx.AsyncClient() as http:
        assert (await http.get(OTHER + "/v2/patients/7")).json() == PATIENT
    study = await acreate(uid)
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


@pytest.mark.asyncio
async def test_asyncio_avara_mock_then_respx_mock(avara_mock, respx_mock):
    await both_answer(avara_mock, respx_mock, "1.2.50")


@pytest.mark.asyncio
async def test_asyncio_respx_mock_then_avara_mock(respx_mock, avara_mock):
    await both_answer(avara_mock, respx_mock, "1.2.51")


@pytest.mark.asyncio
async def test_asyncio_sync_clients_inside(avara_mock, respx_mock):
    patient = respx_mock.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    assert httpx.get(OTHER + "/v2/patients/7").json() == PATIENT
    study = create("1.2.52")
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


@pytest.mark.asyncio
@respx.mock(base_url=OTHER)
async def test_asyncio_local_decorator(avara_mock, respx_mock):
    await both_answer(avara_mock, respx_mock, "1.2.53")


@pytest.mark.asyncio
async def test_asyncio_sdk_aiohttp_client(avara_mock, respx_mock):
    from avara import DefaultAioHttpClient

    patient = respx_mock.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    async with httpx.AsyncClient() as http:
        assert (await http.get(OTHER + "/v2/patients/7")).json() == PATIENT
    async with AsyncAvara(max_retries=0, http_client=DefaultAioHttpClient()) as client:
        study = await client.viewer.studies.create(
            severity="high", study_description="Chest CT", study_instance_uid="1.2.56"
        )
    assert patient.call_count == 1
    only_the_study(avara_mock, study)


@pytest.mark.anyio
async def test_anyio_async_client_then_respx_mock(avara_async_client, avara_mock, respx_mock):
    patient = respx_mock.get(OTHER + "/v2/patients/7").respond(200, json=PATIENT)
    async with httpx.AsyncClient() as http:
        assert (await http.get(OTHER + "/v2/patients/7")).json() == PATIENT
    study = await avara_async_client.viewer.studies.create(
        severity="high", study_description="Chest CT", study_instance_uid="1.2.54"
    )
    assert patient.called
    only_the_study(avara_mock, study)


@pytest.mark.anyio
async def test_anyio_with_respx_mock_block(avara_mock):
    async with respx.mock(base_url=OTHER) as other:
        await both_answer(avara_mock, other, "1.2.55")
"""
)

# respx keeps its own rules for what is not the mock's, whichever started first; the mock
# answers its base URL whatever respx routers are active.
RESPX_RULES = (
    COMMON
    + """

ORDERS = pytest.mark.parametrize(
    "first, second", [("avara_mock", "respx_mock"), ("respx_mock", "avara_mock")]
)


def started(request, first, second):
    fixtures = {name: request.getfixturevalue(name) for name in (first, second)}
    return fixtures["avara_mock"], fixtures["respx_mock"]


@ORDERS
def test_respx_mock_refuses_a_host_it_was_not_told_about(request, first, second, local_server):
    avara_mock, respx_mock = started(request, first, second)
    with pytest.raises(AssertionError, match="not mocked"):
        httpx.get(local_server.url + "/health")
    assert local_server.paths == []
    only_the_study(avara_mock, create("1.2.60"))


@ORDERS
def test_respx_pass_through_reaches_the_host(request, first, second, local_server):
    avara_mock, respx_mock = started(request, first, second)
    respx_mock.route(host="127.0.0.1").pass_through()
    assert httpx.get(local_server.url + "/health").text == "local"
    assert local_server.paths == ["/health"]
    only_the_study(avara_mock, create("1.2.61"))


@ORDERS
@pytest.mark.respx(assert_all_mocked=False)
def test_respx_mock_that_mocks_everything_leaves_the_mock_its_base_url(
    request, first, second, local_server
):
    avara_mock, respx_mock = started(request, first, second)
    unrouted = httpx.get(local_server.url + "/health")
    assert (unrouted.status_code, unrouted.content) == (200, b"")  # respx's automatic answer
    assert local_server.paths == []
    only_the_study(avara_mock, create("1.2.62"))
"""
)

UNMOCKED = (
    COMMON
    + """

def test_sync_clients_reach_a_host_nobody_mocked(avara_mock, local_server):
    assert httpx.get(local_server.url + "/health").text == "local"
    with httpx.Client(base_url=local_server.url) as http:
        assert http.get("/again").text == "local"
    assert local_server.paths == ["/health", "/again"]
    only_the_study(avara_mock, create("1.2.70"))


@pytest.mark.asyncio
async def test_async_client_reaches_a_host_nobody_mocked(avara_mock, local_server):
    async with httpx.AsyncClient() as http:
        assert (await http.get(local_server.url + "/health")).text == "local"
    assert local_server.paths == ["/health"]
    only_the_study(avara_mock, await acreate("1.2.71"))


@pytest.mark.anyio
async def test_reached_beside_a_respx_block_for_another_host(avara_mock, local_server):
    async with respx.mock(base_url=OTHER, assert_all_mocked=False) as other:
        other.get("/v2/patients/7").respond(200, json=PATIENT)
        other.route(host="127.0.0.1").pass_through()
        async with httpx.AsyncClient() as http:
            assert (await http.get(local_server.url + "/health")).text == "local"
            assert (await http.get(OTHER + "/v2/patients/7")).json() == PATIENT
    assert local_server.paths == ["/health"]
    only_the_study(avara_mock, await acreate("1.2.72"))
"""
)

FILES = {
    "test_fixture_orders": (FIXTURE_ORDERS, 3),
    "test_scoped": (SCOPED, 4),
    "test_async": (ASYNC, 7),
    "test_respx_rules": (RESPX_RULES, 6),
    "test_unmocked": (UNMOCKED, 3),
}


def write(pytester: pytest.Pytester, *names: str) -> int:
    """The named inner files and the local server's conftest; how many tests they hold."""
    pytester.makeconftest(LOCAL_SERVER)
    pytester.makepyfile(**{name: FILES[name][0] for name in names})
    return sum(FILES[name][1] for name in names)


def test_plugin_respx_mock_fixture_answers_in_either_order(pytester: pytest.Pytester) -> None:
    total = write(pytester, "test_fixture_orders")
    run(pytester).assert_outcomes(passed=total, failed=0)


def test_plugin_respx_mock_block_and_decorators_answer(pytester: pytest.Pytester) -> None:
    total = write(pytester, "test_scoped")
    run(pytester).assert_outcomes(passed=total, failed=0)


def test_plugin_respx_answers_beside_async_clients(pytester: pytest.Pytester) -> None:
    total = write(pytester, "test_async")
    run(pytester).assert_outcomes(passed=total, failed=0)


def test_plugin_respx_keeps_its_rules_for_other_hosts(pytester: pytest.Pytester) -> None:
    total = write(pytester, "test_respx_rules")
    run(pytester).assert_outcomes(passed=total, failed=0)


def test_plugin_host_nobody_mocked_is_reached(pytester: pytest.Pytester) -> None:
    total = write(pytester, "test_unmocked")
    run(pytester).assert_outcomes(passed=total, failed=0)


def test_plugin_respx_beside_avara_mock_under_xdist(pytester: pytest.Pytester) -> None:
    total = write(pytester, *FILES)
    result = run_isolated(pytester, "-n", "2")
    result.stdout.fnmatch_lines(["*created: 2/2 workers*"])
    result.assert_outcomes(passed=total, failed=0)
