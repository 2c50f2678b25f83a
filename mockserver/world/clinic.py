"""The clinic the mock starts with: its Viewer users and their invitations, made with faker.

So that ``users.list()`` answers real-looking people on the first call: an owner, admins and
members with names, e-mails, roles and phone numbers, each (but the owner) with the accepted
invitation that brought them in. Everything comes from the seed: the same seed, the same
clinic, byte for byte.
"""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from collections.abc import Callable, MutableSet
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Protocol

from mockserver.contract import Contract
from mockserver.world.clock import SEEDED_EPOCH, rfc3339
from mockserver.world.records import DuplicateKey, Record, Records, RecordStore

STAFF = (("owner", 1), ("admin", 2), ("member", 6))
"""How many users of each level the clinic starts with."""
ROLES_BY_LEVEL = {
    "owner": ("Radiologist", "Administrative Director"),
    "admin": ("Radiologist", "IT Administrator", "Nurse Manager"),
    "member": ("Radiologist", "Imaging Technologist", "Physician Assistant", "Scribe"),
}
"""Roles drawn for each level; each must be one of the schema's ClinicRole values."""
SUFFIXES = ("MD", "DO", "PhD", None, None, None)


class UnknownUser(LookupError):
    """A study names a user id the clinic does not know (with strict references)."""


class People(Protocol):
    """Where a clinic keeps what changes: in memory (``MemoryPeople``) or in a state file.

    ``seeded`` says whether the seeded people are in ``users`` and ``invitations`` yet;
    ``atomic()`` makes the changes inside it one (a state file's transaction)."""

    clinic_id: str
    owner_id: str
    seeded: bool

    @property
    def users(self) -> Records: ...

    @property
    def invitations(self) -> Records: ...

    @property
    def revoked(self) -> MutableSet[str]: ...

    def hold(self, users: Records, invitations: Records, revoked: set[str]) -> None:
        """Keep these records and revoked ids instead of the ones held now."""
        ...

    def atomic(self) -> AbstractContextManager[Any]: ...


class MemoryPeople:
    """The clinic's people in this process's memory."""

    def __init__(self, clinic_id: str) -> None:
        self.clinic_id = clinic_id
        self.owner_id = ""
        self.seeded = False
        self.users: Records = RecordStore("userId")
        self.invitations: Records = RecordStore("invitationId")
        self.revoked: MutableSet[str] = set()

    def hold(self, users: Records, invitations: Records, revoked: set[str]) -> None:
        self.users, self.invitations, self.revoked = users, invitations, revoked

    def atomic(self) -> AbstractContextManager[Any]:
        return contextlib.nullcontext()


def tagged(email: str, user_id: str) -> str:
    """The e-mail with a tag naming the user (``jane.doe+1f2e3d4c@host``): a fake e-mail made
    for a user who joins may be another user's already, and e-mails are unique."""
    local, _, host = email.partition("@")
    return f"{local.split('+')[0]}+{user_id.removeprefix('usr_')[:8]}@{host}"


class Clinic:
    """The Viewer users and invitations of the mock's one clinic, and whose access is off.

    Studies show their assigned user as the clinic knows them now: ``reference(user_id)``;
    whoever changes a user calls ``changed(user_id)``, and every listener (the studies) hears.
    What changes is kept by ``people`` (in memory unless given, e.g. a state file's).
    """

    def __init__(
        self,
        contract: Contract,
        seed: int | None = None,
        people: Callable[[str], People] = MemoryPeople,
    ) -> None:
        self._seed = 0 if seed is None else seed
        self._reference_fields = tuple(contract.resolved("user-reference")["properties"])
        self.listeners: list[Callable[[str], None]] = []
        roles = set(contract.resolved("common")["$defs"]["ClinicRole"]["enum"])
        unknown = {role for drawn in ROLES_BY_LEVEL.values() for role in drawn} - roles
        if unknown:
            raise ValueError(f"clinic roles not in the schema's ClinicRole: {sorted(unknown)}")
        random_ = random.Random(f"clinic {self._seed}")
        self._start_clinic_id = str(uuid.UUID(int=random_.getrandbits(128), version=4))
        self._start_owner_id = ""
        self._start: tuple[list[Record], list[Record]] | None = None
        self._people = people(self._start_clinic_id)

    @property
    def clinic_id(self) -> str:
        """The clinic's id: the seeded one, or a loaded state document's."""
        return self._people.clinic_id

    @property
    def revoked(self) -> MutableSet[str]:
        """The userIds whose access is revoked."""
        return self._people.revoked

    @property
    def users(self) -> Records:
        """The clinic's Viewer users, the seeded people first."""
        self._seed_once()
        return self._people.users

    @property
    def invitations(self) -> Records:
        """The clinic's invitations, the seeded people's accepted ones first."""
        self._seed_once()
        return self._people.invitations

    @property
    def owner_id(self) -> str:
        """The userId of the clinic's owner."""
        self._seed_once()
        return self._people.owner_id

    def atomic(self) -> AbstractContextManager[Any]:
        """The changes inside are one: all or none kept (nothing to do in memory)."""
        return self._people.atomic()

    def reset(self) -> None:
        """Back to the seeded start: the same people, no one else, everyone with access."""
        people = self._people
        with people.atomic():
            people.clinic_id = self._start_clinic_id
            people.users.clear()
            people.invitations.clear()
            people.revoked.clear()
            people.seeded = False

    def replace(
        self, clinic_id: str, users: Records, invitations: Records, revoked: set[str]
    ) -> None:
        """Hold these instead (a loaded state document, checked and built beforehand): only
        assignments in memory (a state file's one transaction), so the clinic is never half
        replaced; a reset goes back to the seed."""
        owners = [user["userId"] for user in users.records() if user["level"] == "owner"]
        people = self._people
        with people.atomic():
            people.hold(users, invitations, revoked)
            people.clinic_id = clinic_id
            people.owner_id = owners[0] if owners else ""
            people.seeded = True

    def _seed_once(self) -> None:
        """The seeded people, made on first use (faker costs a tenth of a second: a mock whose
        clinic nobody asks about never pays it) and copied back on every reset after. Checked
        again inside ``atomic``: another process sharing a state file may have seeded it."""
        people = self._people
        if people.seeded:
            return
        with people.atomic():
            if people.seeded:
                return
            if self._start is None:
                self._start = self._people_of_seed()
            users, invitations = self._start
            people.seeded = True
            people.owner_id = self._start_owner_id
            for user in users:
                people.users.add(user)
            for invitation in invitations:
                people.invitations.add(invitation)

    def _people_of_seed(self) -> tuple[list[Record], list[Record]]:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(self._seed)
        draws = random.Random(f"clinic staff {self._seed}")
        start = SEEDED_EPOCH - timedelta(days=400)
        users: list[Record] = []
        invitations: list[Record] = []
        for level, count in STAFF:
            for _ in range(count):
                start += timedelta(days=draws.randint(1, 30), seconds=draws.randint(0, 86399))
                user = self._person(fake, draws, level, rfc3339(start))
                users.append(user)
                if level == "owner":
                    self._start_owner_id = user["userId"]
                else:
                    invitations.append(self._accepted(user, draws))
        return users, invitations

    def reference(self, user_id: str) -> Record | None:
        """The UserReference of a user of the clinic, from their current record."""
        user = self.users.get(user_id)
        if user is None:
            return None
        return {field: user.get(field) for field in self._reference_fields}

    def join(self, reference: Record, now: str) -> Record:
        """A user the clinic did not know, named by a study: a member from now on."""
        user: Record = {
            **{field: reference.get(field) for field in self._reference_fields},
            "phoneNumber": None,
            "canManageStudies": True,
            "hasDashboardAccess": False,
            "clinicRole": ROLES_BY_LEVEL["member"][0],
            "level": "member",
            "invitedSource": "api",
            "createdAt": now,
            "lastLoginAt": None,
        }
        if self._email_taken(user):
            user["email"] = tagged(user["email"], user["userId"])
        try:
            self.users.add(user)
        except DuplicateKey:
            # Another process sharing the state file added a user with this e-mail since.
            user["email"] = tagged(user["email"], user["userId"])
            self.users.add(user)
        return self.reference(user["userId"]) or reference

    def _email_taken(self, user: Record) -> bool:
        """Whether another user has this user's e-mail (e-mails are unique in a clinic)."""
        email = str(user.get("email") or "").casefold()
        return bool(email) and self.users.find(lambda u: u["email"].casefold() == email) is not None

    def changed(self, user_id: str) -> None:
        """Tell every listener that a user's record changed (the studies show it)."""
        for listener in self.listeners:
            listener(user_id)

    def new_id(self, prefix: str, random_: random.Random) -> str:
        """``usr_`` / ``inv_`` and 32 lower-case hex digits."""
        return f"{prefix}_{random_.getrandbits(128):032x}"

    def _person(self, fake: Any, draws: random.Random, level: str, created: str) -> Record:
        first, last = fake.first_name(), fake.last_name()
        local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower()) or "user"
        return {
            "userId": self.new_id("usr", draws),
            "email": f"{local}@northside-imaging.example",
            "firstName": first,
            "lastName": last,
            "middleName": fake.first_name() if draws.random() < 0.3 else None,
            "suffix1": draws.choice(SUFFIXES),
            "suffix2": None,
            "phoneNumber": f"555{draws.randrange(10**7):07d}",
            "canManageStudies": level != "member" or draws.random() < 0.5,
            "hasDashboardAccess": level != "member" or draws.random() < 0.3,
            "clinicRole": draws.choice(ROLES_BY_LEVEL[level]),
            "level": level,
            "invitedSource": "dashboard",
            "createdAt": created,
            "lastLoginAt": created,
        }

    def _accepted(self, user: Record, draws: random.Random) -> Record:
        """The invitation the owner sent this user from the dashboard, long accepted."""
        fields = (
            *("email", "firstName", "lastName", "middleName", "suffix1", "suffix2"),
            *("phoneNumber", "canManageStudies", "hasDashboardAccess", "clinicRole"),
        )
        invitation: Record = {
            "invitationId": self.new_id("inv", draws),
            "userId": user["userId"],
            "clinicId": self._start_clinic_id,
            "status": "accepted",
            **{field: user[field] for field in fields},
            "level": user["level"],
            "invitedSource": "dashboard",
            "inviterId": self._start_owner_id,
            "invitedByApiKeyId": None,
            "expiry": None,
            "createdAt": user["createdAt"],
            "updatedAt": user["createdAt"],
        }
        return invitation
