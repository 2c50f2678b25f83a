"""Everything one mock holds, built for its mode: the four Viewer resources and their world.

The app's routes call these; the pytest plugin resets and reads them. Stateful, the studies,
users and invitations share one clinic, so a study shows its assigned user as the clinic
knows them now; stateless, each resource answers from the request alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.contract import Contract
from mockserver.resources.invitations import Invitations, InvitationService
from mockserver.resources.sessions import Sessions, SessionService
from mockserver.resources.studies import Studies, StudyService
from mockserver.resources.users import Users, UserService
from mockserver.settings import Settings
from mockserver.world.clinic import Clinic
from mockserver.world.clock import Clock, SteppingClock, SystemClock


@dataclass
class Services:
    """The resources of one mock, and the clinic behind them (None when stateless)."""

    studies: Studies
    users: Users
    invitations: Invitations
    sessions: Sessions
    clinic: Clinic | None

    def reset(self) -> None:
        """Back to the start: the seeded clinic, no studies or sessions, seeded ids and clock."""
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
    from mockserver.app import studies_of

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
    clock = clock or (SteppingClock() if settings.seed is not None else SystemClock())
    clinic = Clinic(contract, settings.seed)
    studies = studies_of(settings, contract, clock, monotonic, clinic)
    if not isinstance(studies, StudyService):
        raise TypeError("a stateful mock needs the stateful studies service")
    return Services(
        studies,
        UserService(contract, settings, clinic, clock),
        InvitationService(contract, settings, clinic, clock),
        SessionService(contract, settings, monotonic),
        clinic,
    )
