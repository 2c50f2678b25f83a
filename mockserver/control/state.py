"""The whole world of a stateful mock as one JSON document, and that document loaded back.

``export_state`` writes the studies, the clinic's users and invitations, whose access is
revoked, the clinic's id and the clock (schemas/mock-state.schema.json); ``load_state``
checks a document against that schema and the rules across its fields first, builds the new
world aside (a study store, the clinic's record stores, a clock), and only then swaps it in,
so a bad document changes nothing. Loading what an export wrote exports the same bytes.

What a document does not hold is kept apart from it: the source of study ids restarts (from
the seed, if any) and then moves past every id of the document, and new user and invitation
ids skip the ones taken, so nothing made after a load collides with what was loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from mockserver.contract import Contract, Rule
from mockserver.errors import ApiError, Conflict, InvalidRequest
from mockserver.resources.studies import StudyService
from mockserver.resources.users import UserService
from mockserver.services import Services
from mockserver.validation import DocumentValidator, Violation, violation
from mockserver.world.clinic import Clinic
from mockserver.world.clock import Clock, SteppingClock, SystemClock, WorldClock, rfc3339
from mockserver.world.ids import IdSource
from mockserver.world.records import Record, RecordStore

STATE = "mock-state"
VERSION = 1
STEPPING, SYSTEM = "stepping", "system"
OWNER, ADMIN, API = "owner", "admin", "api"
USER_REFERENCE = "user-reference"
ADMIN_ACCESS = ("user", "user.admin-dashboard-access")
SOURCE_FIELDS = ("invitation", "invitation.source-fields")
"""Rules of the API's documents that a loaded user or invitation must keep as well."""


class Stateless(Conflict):
    """A stateless mock stores nothing: it has no state to export, load or reset."""

    def __init__(self) -> None:
        super().__init__(
            "This mock runs stateless (--stateless): it stores nothing, so it has no state to "
            "export, load or reset (the request journal and faults work as ever). Start it "
            "without --stateless to keep a world."
        )


class ScenarioError(ValueError):
    """A ``--scenario`` file that cannot be read, or is not a state document this mock loads;
    the message says which field, for the CLI to print before it exits."""


@dataclass(frozen=True)
class _World:
    """The parts of a stateful mock that its state document reads and replaces."""

    studies: StudyService
    users: UserService
    clinic: Clinic
    clock: WorldClock
    ids: IdSource
    contract: Contract


def export_state(services: Services) -> dict[str, Any]:
    """The state document of the mock as it is now (``Stateless``, a 409, when it stores
    nothing): studies, users and invitations oldest first, revoked userIds in text order."""
    world = _world(services)
    return {
        "version": VERSION,
        "clinicId": world.clinic.clinic_id,
        "clock": _clock_document(world.clock.current),
        "studies": list(world.studies.stored()),
        "users": list(world.clinic.users.records()),
        "invitations": list(world.clinic.invitations.records()),
        "revokedAccess": sorted(world.clinic.revoked),
    }


def load_state(services: Services, document: Any) -> None:
    """Make ``document`` the mock's world, or refuse it (400 naming every field at fault)
    and leave the mock as it was; ``Stateless`` (409) when the mock stores nothing."""
    world = _refusal(services, document)
    with services.transaction():
        store = world.studies.store.empty()
        shared: dict[bytes, bytes] = {}
        for study in document["studies"]:
            key = orjson.dumps(study["createdByApiKey"])
            core = {field: value for field, value in study.items() if field != "createdByApiKey"}
            store.add(core, shared.setdefault(key, key))
        users, invitations = RecordStore("userId"), RecordStore("invitationId")
        for user in document["users"]:
            users.add(user)
        for invitation in document["invitations"]:
            invitations.add(invitation)
        clock = _clock_of(document["clock"])
        # Everything is built: from here on only assignments, which cannot fail half-way (in
        # memory); a state file writes it all in the one transaction, or nothing.
        world.studies.store = store
        world.clinic.replace(
            document["clinicId"], users, invitations, set(document["revokedAccess"])
        )
        world.clock.current = clock
        world.ids.reset()
        world.ids.skip_past(study["studyId"] for study in document["studies"])
        world.users.reset_ids()


def _refusal(services: Services, document: Any) -> _World:
    """The world, if ``document`` is a state document it may load; else the 400 (a state
    file that holds a world already only checks a ``--scenario``, to reset to it later)."""
    world = _world(services)
    checks = _checks(world.contract)
    found = checks.schema.violations(document) or checks.across(document)
    if found:
        raise InvalidRequest.from_violations(found)
    return world


def reset_state(services: Services) -> None:
    """Back to the start: the seeded clinic, clock and ids, then the ``--scenario`` document
    if the mock started from one (``Stateless`` when the mock stores nothing)."""
    _world(services)
    with services.transaction():
        services.reset()
        if services.scenario is not None:
            load_state(services, services.scenario)


def summary(services: Services) -> str:
    """How much the world holds, in words: ``3 studies, 9 users, 8 invitations``."""
    world = _world(services)
    counts = (
        (len(world.studies.store), "study", "studies"),
        (len(world.clinic.users), "user", "users"),
        (len(world.clinic.invitations), "invitation", "invitations"),
    )
    return ", ".join(counted(count, one, many) for count, one, many in counts)


def counted(count: int, one: str, many: str) -> str:
    """``no studies``, ``1 study``, ``2 studies``."""
    return f"{'no' if count == 0 else count} {one if count == 1 else many}"


def start_from(services: Services, path: str) -> None:
    """Load a ``--scenario`` file and keep it as what a reset goes back to; ``ScenarioError``
    says what is wrong with it (the mock is then not started)."""
    if services.clinic is None:
        raise ScenarioError(
            f"--scenario {path}: a stateless mock stores nothing, so it cannot start from a "
            "scenario; drop --stateless or --scenario."
        )
    try:
        document = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ScenarioError(f"--scenario {path}: cannot read it ({exc.strerror}).") from None
    except orjson.JSONDecodeError as exc:
        raise ScenarioError(f"--scenario {path}: not JSON ({exc}).") from None
    try:
        if services.new:
            load_state(services, document)
        else:
            _refusal(services, document)
    except ApiError as error:
        lines = [f"  {v.message}" for v in error.violations] or [f"  {error.message}"]
        raise ScenarioError(
            "\n".join([f"--scenario {path} is not a state document this mock loads:", *lines])
        ) from None
    services.scenario = document


def _world(services: Services) -> _World:
    clinic, clock, ids, contract = (
        services.clinic,
        services.clock,
        services.ids,
        services.contract,
    )
    studies, users = services.studies, services.users
    if clinic is None or clock is None or ids is None or contract is None:
        raise Stateless()
    if not isinstance(studies, StudyService) or not isinstance(users, UserService):
        raise TypeError("a mock with a clinic has the stateful studies and users services")
    return _World(studies, users, clinic, clock, ids, contract)


def _clock_document(clock: Clock) -> dict[str, Any]:
    """What reproduces the clock: a stepping clock's next reading and step; the wall clock
    (or any clock that is not a stepping one) keeps nothing."""
    if isinstance(clock, SteppingClock):
        step = clock.step // timedelta(milliseconds=1)
        return {"kind": STEPPING, "next": rfc3339(clock.upcoming), "stepMs": step}
    return {"kind": SYSTEM}


def _clock_of(document: dict[str, Any]) -> Clock:
    if document["kind"] == SYSTEM:
        return SystemClock()
    start = datetime.fromisoformat(document["next"].replace("Z", "+00:00"))
    return SteppingClock(start, timedelta(milliseconds=int(document["stepMs"])))


@dataclass(frozen=True)
class _Checks:
    """The schema of the state document and its rules across fields, for one contract."""

    schema: DocumentValidator
    rules: dict[str, Rule]
    reference_fields: tuple[str, ...]

    def across(self, document: dict[str, Any]) -> list[Violation]:
        """Every broken rule across fields of a document that fits the schema."""
        found = [*self._studies(document), *self._users(document), *self._others(document)]
        return sorted(found, key=lambda v: (v.path, v.rule))

    def _refuse(self, field: str, rule_id: str, detail: str | None = None) -> Violation:
        return violation(field, self.rules[rule_id], detail)

    def _studies(self, document: dict[str, Any]) -> Iterator[Violation]:
        studies, people = document["studies"], _by_id(document["users"], "userId")
        yield from self._unique(studies, "studies", "studyId", "state.unique-study-id")
        yield from self._unique(studies, "studies", "studyInstanceUid", "state.unique-study-uid")
        for i, study in enumerate(studies):
            assigned = study["assignedTo"]
            if assigned is None:
                continue
            k = people.get(assigned["userId"])
            if k is None:
                field = f"studies.{i}.assignedTo.userId"
                yield self._refuse(
                    field, "state.assigned-user", f"no user has {assigned['userId']}"
                )
                continue
            user = document["users"][k]
            shown = {field: user.get(field) for field in self.reference_fields}
            if assigned != shown:
                differ = sorted(set(shown) | set(assigned))
                named = [f for f in differ if shown.get(f, ...) != assigned.get(f, ...)]
                detail = f"users.{k} differs in {', '.join(named)}"
                yield self._refuse(f"studies.{i}.assignedTo", "state.assigned-user-current", detail)

    def _users(self, document: dict[str, Any]) -> Iterator[Violation]:
        users = document["users"]
        yield from self._unique(users, "users", "userId", "state.unique-user-id")
        fold: Callable[[Any], Any] = str.casefold
        yield from self._unique(users, "users", "email", "state.unique-user-email", fold)
        for i, user in enumerate(users):
            if user["level"] == ADMIN and not user["hasDashboardAccess"]:
                yield self._refuse(f"users.{i}.hasDashboardAccess", ADMIN_ACCESS[1])

    def _others(self, document: dict[str, Any]) -> Iterator[Violation]:
        users, invitations = document["users"], document["invitations"]
        people = _by_id(users, "userId")
        yield from self._unique(
            invitations, "invitations", "invitationId", "state.unique-invitation-id"
        )
        for i, invitation in enumerate(invitations):
            if invitation["userId"] not in people:
                detail = f"no user has {invitation['userId']}"
                yield self._refuse(f"invitations.{i}.userId", "state.invitation-user", detail)
            if invitation["clinicId"] != document["clinicId"]:
                detail = f"clinicId is {document['clinicId']}"
                yield self._refuse(f"invitations.{i}.clinicId", "state.invitation-clinic", detail)
            by_api = invitation["invitedSource"] == API
            if by_api != (invitation["invitedByApiKeyId"] is not None):
                detail = f"invitedSource is {invitation['invitedSource']!r}"
                field = f"invitations.{i}.invitedByApiKeyId"
                yield self._refuse(field, SOURCE_FIELDS[1], detail)
        for i, user_id in enumerate(document["revokedAccess"]):
            k = people.get(user_id)
            if k is None:
                yield self._refuse(f"revokedAccess.{i}", "state.revoked-user", "no user has it")
            elif users[k]["level"] == OWNER:
                yield self._refuse(f"revokedAccess.{i}", "state.revoked-owner", f"users.{k}")

    def _unique(
        self,
        items: Sequence[Record],
        section: str,
        field: str,
        rule_id: str,
        fold: Callable[[Any], Any] = lambda value: value,
    ) -> Iterator[Violation]:
        """A violation for each item whose ``field`` an earlier item has already."""
        first: dict[Any, int] = {}
        for i, item in enumerate(items):
            k = first.setdefault(fold(item[field]), i)
            if k != i:
                yield self._refuse(f"{section}.{i}.{field}", rule_id, f"{section}.{k} has it")


def _by_id(items: Sequence[Record], field: str) -> dict[str, int]:
    """Id -> the position of the first item with it."""
    found: dict[str, int] = {}
    for i, item in enumerate(items):
        found.setdefault(item[field], i)
    return found


@functools.lru_cache(maxsize=4)
def _checks(contract: Contract) -> _Checks:
    """Compiled once per contract: loads are rare, but a schema compiles in milliseconds."""
    rules = contract.stateful_rules(STATE)
    for document, rule_id in (ADMIN_ACCESS, SOURCE_FIELDS):
        rules[rule_id] = contract.stateful_rule(document, rule_id)
    fields = tuple(contract.resolved(USER_REFERENCE)["properties"])
    return _Checks(DocumentValidator(contract, STATE), rules, fields)
