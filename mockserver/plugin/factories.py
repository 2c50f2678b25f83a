"""Valid data for tests: create and update requests, and Studies made by the mock's own
generators."""

from __future__ import annotations

import random
import re
from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.services import studies_of
from mockserver.settings import Settings
from mockserver.world.clock import SteppingClock
from mockserver.world.references import DESCRIPTIONS, ReferenceFactory

REQUEST = "study-create-request"
UPDATE = "study-update-request"
FACTORY_KEY = "avara-mock-factory"


def wire_name(name: str) -> str:
    """``study_instance_uid`` → ``studyInstanceUid``; wire names pass unchanged."""
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def sdk_name(name: str) -> str:
    """``studyInstanceUid`` → ``study_instance_uid``, the SDK's keyword."""
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


class RequestFactory:
    """Valid create requests (wire names), each with a new Study Instance UID.

    Overrides may use wire or SDK names; they are applied as given, valid or not.
    """

    def __init__(self, contract: Contract, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._severities = list(contract.rule_value(REQUEST, "severity.enum"))

    def uid(self) -> str:
        """A new UID of the UUID-derived form ``2.25.<128-bit integer>`` (DICOM PS3.5 B.2)."""
        return f"2.25.{self._random.getrandbits(128)}"

    def __call__(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "severity": self._random.choice(self._severities),
            "studyDescription": self._random.choice(DESCRIPTIONS),
            "studyInstanceUid": self.uid(),
        }
        body.update({wire_name(name): value for name, value in overrides.items()})
        return body

    def sdk(self, **overrides: Any) -> dict[str, Any]:
        """The same, as keyword arguments of ``client.viewer.studies.create``."""
        return {sdk_name(name): value for name, value in self(**overrides).items()}


class UpdateFactory:
    """Valid update (PATCH) bodies, wire names: a new severity, viewer status and description.

    The enums are the update schema's own. Overrides may use wire or SDK names and are applied
    as given, valid or not (``assigned_to=None`` stays, as the ``null`` that unassigns).
    """

    def __init__(self, contract: Contract, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._severities = list(contract.rule_value(UPDATE, "severity.enum"))
        self._statuses = list(contract.rule_value(UPDATE, "studyViewerStatus.enum"))

    def __call__(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "severity": self._random.choice(self._severities),
            "studyViewerStatus": self._random.choice(self._statuses),
            "studyDescription": self._random.choice(DESCRIPTIONS),
        }
        body.update({wire_name(name): value for name, value in overrides.items()})
        return body

    def sdk(self, **overrides: Any) -> dict[str, Any]:
        """The same, as keyword arguments of ``client.viewer.studies.update`` (after the id)."""
        return {sdk_name(name): value for name, value in self(**overrides).items()}


class InviteFactory:
    """Valid invite bodies, wire names: a new person (a user and their invitation, once sent).

    Names and e-mail come from the same fake people the mock shows; each body has an e-mail
    no other body of this factory has. Roles and levels are the invite schema's own; an admin
    gets dashboard access, as the contract requires.
    """

    def __init__(self, contract: Contract, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._people = ReferenceFactory(seed)
        common = contract.resolved("common")["$defs"]
        self._roles = list(common["ClinicRole"]["enum"])
        self._levels = list(common["AssignableUserLevel"]["enum"])

    def __call__(self, **overrides: Any) -> dict[str, Any]:
        person = self._people.user(f"usr_{self._random.getrandbits(128):032x}")
        local, _, domain = person["email"].partition("@")
        level = self._random.choice(self._levels)
        body: dict[str, Any] = {
            "email": f"{local}.{self._random.getrandbits(32):08x}@{domain}",
            "firstName": person["firstName"],
            "lastName": person["lastName"],
            "clinicRole": self._random.choice(self._roles),
            "level": level,
            "canManageStudies": True,
            "hasDashboardAccess": level == "admin" or self._random.random() < 0.5,
        }
        body.update({wire_name(name): value for name, value in overrides.items()})
        return body

    def sdk(self, **overrides: Any) -> dict[str, Any]:
        """The same, as keyword arguments of ``client.viewer.users.invite``."""
        return {sdk_name(name): value for name, value in self(**overrides).items()}


class StudyFactory:
    """Studies as the mock answers them, from a request the overrides shape.

    An override that names a request field changes the request; any other changes the Study.
    """

    def __init__(self, contract: Contract, seed: int | None = None) -> None:
        self._requests = RequestFactory(contract, seed)
        self._fields = set(contract.request_fields)
        self._service = studies_of(Settings(seed=seed), contract, SteppingClock())

    def __call__(self, **overrides: Any) -> dict[str, Any]:
        wire = {wire_name(name): value for name, value in overrides.items()}
        request = self._requests(**{k: v for k, v in wire.items() if k in self._fields})
        study: dict[str, Any] = orjson.loads(self._service.create(request, FACTORY_KEY))
        study.update({k: v for k, v in wire.items() if k not in self._fields})
        return study
