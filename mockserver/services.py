"""Everything one mock holds, built for its mode: the four Viewer resources and their world.

The app's routes call these; the pytest plugin resets and reads them. Stateful, the studies,
users and invitations share one clinic, so a study shows its assigned user as the clinic
knows them now; stateless, each resource answers from the request alone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockserver.contract import Contract
from mockserver.errors import NotFound
from mockserver.resources.invitations import Invitations, InvitationService
from mockserver.resources.sessions import Sessions, SessionService
from mockserver.resources.shape import StudyShape
from mockserver.resources.studies import Studies, StudyService, filters_of
from mockserver.resources.users import Users, UserService
from mockserver.settings import Settings
from mockserver.world.clinic import Clinic
from mockserver.world.clock import (
    SEEDED_EPOCH,
    Clock,
    SteppingClock,
    SystemClock,
    WorldClock,
    rfc3339,
)
from mockserver.world.cursors import CursorCodec
from mockserver.world.ids import IdSource
from mockserver.world.memory import MemoryStudyStore
from mockserver.world.references import ReferenceFactory
from mockserver.world.store import StudyStore
from mockserver.world.tokens import TokenBook

if TYPE_CHECKING:
    from mockserver.world.sqlite.database import Database

REROUTE = "study-reroute-url-response"
SEEDED_EPOCH_TEXT = rfc3339(SEEDED_EPOCH)
"""When a user a seeded study names joins the clinic (the seeded clock is not read for it, so
the studies' own timestamps stay as they were)."""


def studies_of(
    settings: Settings,
    contract: Contract,
    clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    clinic: Clinic | None = None,
    ids: IdSource | None = None,
    store: StudyStore | None = None,
) -> Studies:
    """The stateful studies service, or the stateless one: what the routes call.

    ``monotonic`` is what URL tokens expire on (tests pass a fake one); ``ids`` is where study
    ids come from (the mock's services keep it, so a loaded state can move it on); ``store``
    is where studies are kept (a new one in memory if not given).
    """
    if settings.stateless:
        from mockserver.stateless.studies import StatelessStudies

        return StatelessStudies(contract, settings)
    seeded = settings.seed is not None
    lifetime = contract.documents[REROUTE]["x-stateful-rules"]["reroute.token-lifetime"]["seconds"]
    clinic = clinic or Clinic(contract, settings.seed)
    clock = clock or (SteppingClock() if seeded else SystemClock())
    references = ReferenceFactory(settings.seed)

    def person(user_id: str) -> dict[str, Any]:
        """The clinic's user; one it does not know joins it, unless references are strict."""
        found = clinic.reference(user_id)
        if found is not None:
            return found
        if settings.strict_references:
            raise NotFound(
                f"No Viewer user has userId {user_id!r}: invite them first (POST "
                "/v1/viewer/users), or run the mock without --strict-references."
            )
        return clinic.join(references.user(user_id), SEEDED_EPOCH_TEXT if seeded else clock.now())

    service = StudyService(
        contract,
        store if store is not None else MemoryStudyStore(tuple(filters_of(contract).values())),
        clock,
        ids or IdSource(settings.seed),
        StudyShape(contract, references, person),
        TokenBook(lifetime, settings.seed, monotonic),
        CursorCodec(settings.seed),
        lenient=settings.lenient,
    )
    clinic.listeners.append(service.refresh_user)
    return service


@dataclass
class Services:
    """The resources of one mock, and the clinic behind them (None when stateless).

    A stateful mock also keeps what its state document (mockserver/control/state.py) reads
    and replaces beside the resources: the clock they all read, the source of study ids, the
    contract, and the document it started from (``--scenario``), which the control plane's
    reset goes back to (``Services.reset`` alone goes back to the seeded start).

    On a state file (``--state``), ``transaction`` makes the writes inside it one (a load, a
    reset: all or nothing, for every process on the file; in memory it does nothing), and
    ``new`` is False when the file held a world already (a ``--scenario`` is then not
    loaded into it, only kept as what a reset goes back to); ``close`` closes the file (the
    mock answers nothing after it).
    """

    studies: Studies
    users: Users
    invitations: Invitations
    sessions: Sessions
    clinic: Clinic | None
    clock: WorldClock | None = None
    ids: IdSource | None = None
    contract: Contract | None = None
    scenario: dict[str, Any] | None = None
    transaction: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
    new: bool = True
    close: Callable[[], None] = lambda: None
    database: Database | None = None

    def reset(self) -> None:
        """Back to the start: the seeded clinic, no studies or sessions, seeded ids and clock."""
        with self.transaction():
            if self.clinic is not None:
                self.clinic.reset()
            for resource in (self.studies, self.users, self.invitations, self.sessions):
                resource.reset()

    def people(self) -> Sequence[dict[str, Any]]:
        """The clinic's users, oldest first (none when stateless)."""
        return [] if self.clinic is None else list(self.clinic.users.records())

    def invited(self) -> Sequence[dict[str, Any]]:
        """The clinic's invitations, oldest first (none when stateless)."""
        return [] if self.clinic is None else list(self.clinic.invitations.records())


def services_of(
    settings: Settings,
    contract: Contract,
    clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Services:
    """The resources for ``settings``: stateful by default, stateless on request."""
    if settings.stateless:
        from mockserver.stateless.invitations import StatelessInvitations
        from mockserver.stateless.sessions import StatelessSessions
        from mockserver.stateless.users import StatelessUsers

        return Services(
            studies_of(settings, contract),
            StatelessUsers(contract, settings),
            StatelessInvitations(contract, settings),
            StatelessSessions(contract, settings),
            None,
        )
    start = clock or (SteppingClock() if settings.seed is not None else SystemClock())
    if settings.state is not None:
        return _on_file(settings, settings.state, contract, start, monotonic)
    shared = WorldClock(start)
    clinic = Clinic(contract, settings.seed)
    ids = IdSource(settings.seed)
    studies = studies_of(settings, contract, shared, monotonic, clinic, ids)
    if not isinstance(studies, StudyService):
        raise TypeError("a stateful mock needs the stateful studies service")
    return Services(
        studies,
        UserService(contract, settings, clinic, shared),
        InvitationService(contract, settings, clinic, shared),
        SessionService(contract, settings, monotonic),
        clinic,
        shared,
        ids,
        contract,
    )


def _on_file(
    settings: Settings,
    path: str,
    contract: Contract,
    start: Clock,
    monotonic: Callable[[], float],
) -> Services:
    """The stateful resources on a state file (``StateFileError`` if it is refused)."""
    from mockserver.world.sqlite import open_state

    state = open_state(path, tuple(filters_of(contract).values()), start, settings.seed)
    clinic = Clinic(contract, settings.seed, state.people)
    studies = studies_of(
        settings, contract, state.clock, monotonic, clinic, state.ids, state.studies
    )
    if not isinstance(studies, StudyService):
        raise TypeError("a stateful mock needs the stateful studies service")
    return Services(
        studies,
        UserService(contract, settings, clinic, state.clock),
        InvitationService(contract, settings, clinic, state.clock),
        SessionService(contract, settings, monotonic),
        clinic,
        state.clock,
        state.ids,
        contract,
        transaction=state.database.write,
        new=state.new,
        close=state.database.close,
        database=state.database,
    )
