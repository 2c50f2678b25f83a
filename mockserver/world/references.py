"""Fake but consistent nested references: the same id always gets the same person or customer.

Each reference is derived from a hash of (seed, id), so it is stable across requests, restarts
and processes; a small cache only saves the cost of asking faker again.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

CACHE_SIZE = 4096
KEY_PURPOSES = (
    "PACS integration",
    "RIS bridge",
    "Reporting worklist",
    "Teleradiology router",
    "Modality gateway",
)
DESCRIPTIONS = (
    "CT Chest/Abdomen/Pelvis with contrast",
    "MRI Brain with and without contrast",
    "XR Chest 2 views",
    "US Abdomen complete",
    "CT Head without contrast",
    "MRI Lumbar Spine without contrast",
    "PET/CT Skull base to mid-thigh",
    "MG Screening bilateral",
)
"""Study descriptions for made-up studies (factories, stateless answers)."""
NAME_SUFFIXES = ("MD", "DO", "PhD", "Jr.", None, None, None, None)


class ReferenceFactory:
    """Makes UserReference, ExpressCustomerReference and APIKeyReference objects."""

    def __init__(self, seed: int | None = None, locale: str = "en_US") -> None:
        self._seed = 0 if seed is None else seed
        self._locale = locale
        self._faker: Faker | None = None
        self._cache: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def user(self, user_id: str) -> dict[str, Any]:
        """A UserReference for ``user_id``: a realistic name and a matching e-mail address."""
        return self._cached("user", user_id, self._make_user)

    def customer(self, customer_id: str) -> dict[str, Any]:
        """An ExpressCustomerReference for ``customer_id``."""
        return self._cached("customer", customer_id, self._make_customer)

    def api_key(self, key: str) -> dict[str, Any]:
        """An APIKeyReference for an API key: a UUID v4 id and a description."""
        return self._cached("api_key", key, self._make_api_key)

    def _cached(
        self, kind: str, ident: str, make: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any]:
        entry = self._cache.get((kind, ident))
        if entry is None:
            entry = make(ident)
            self._cache[(kind, ident)] = entry
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return entry

    def _digest(self, kind: str, ident: str) -> bytes:
        return hashlib.sha256(f"{self._seed}\x00{kind}\x00{ident}".encode()).digest()

    def _seeded(self, kind: str, ident: str) -> Faker:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker(self._locale)
        self._faker.seed_instance(int.from_bytes(self._digest(kind, ident)[:8], "big"))
        return self._faker

    def _make_user(self, user_id: str) -> dict[str, Any]:
        fake = self._seeded("user", user_id)
        first, last = fake.first_name(), fake.last_name()
        middle = fake.first_name() if fake.boolean(30) else None
        local = f"{_ascii(first)}.{_ascii(last)}"
        return {
            "userId": user_id,
            "email": f"{local}@{fake.domain_name()}",
            "firstName": first,
            "lastName": last,
            "middleName": middle,
            "suffix1": fake.random_element(NAME_SUFFIXES),
            "suffix2": None,
        }

    def _make_customer(self, customer_id: str) -> dict[str, Any]:
        fake = self._seeded("customer", customer_id)
        return {
            "expressCustomerId": customer_id,
            "expressCustomerName": f"{fake.last_name()} {fake.random_element(_PRACTICES)}",
        }

    def _make_api_key(self, key: str) -> dict[str, Any]:
        # Every create needs this one, so it is made without faker: loading faker costs
        # ~0.3 s and ~6 MiB, paid only once a request names a user or a customer.
        digest = self._digest("api_key", key)
        site, kind, purpose = (
            words[b % len(words)] for words, b in zip(_KEY_WORDS, digest[16:], strict=False)
        )
        return {
            "apiKeyId": str(uuid.UUID(bytes=digest[:16], version=4)),
            "description": f"{site} {kind} {purpose} key",
            "isViewerEnabled": True,
            "isClinicalContextEnrichmentEnabled": False,
        }


_KEY_WORDS = (
    ("Northside", "Lakeview", "Riverside", "St. Anne's", "Mercy", "Summit", "Harbor", "Valley"),
    ("Imaging", "Radiology", "Medical Center", "Health", "Diagnostics"),
    KEY_PURPOSES,
)
_PRACTICES = ("Imaging Center", "Radiology Associates", "Diagnostic Imaging", "Medical Group")


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower()) or "user"
