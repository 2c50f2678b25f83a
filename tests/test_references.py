"""Fake references: realistic, and the same id always gives the same one."""

from __future__ import annotations

import uuid

from mockserver.contract import Contract
from mockserver.world.references import CACHE_SIZE, ReferenceFactory

USER = "usr_" + "ab" * 16


def test_references_same_user_id_same_person(contract: Contract) -> None:
    factory = ReferenceFactory(seed=3)
    first = factory.user(USER)
    assert factory.user(USER) == first
    assert ReferenceFactory(seed=3).user(USER) == first
    assert contract.validator("user-reference").is_valid(first)
    assert first["firstName"]
    assert first["lastName"]
    assert first["email"].startswith(first["firstName"].lower()[:1])


def test_references_same_user_after_cache_eviction() -> None:
    factory = ReferenceFactory(seed=1)
    first = factory.user(USER)
    for index in range(CACHE_SIZE + 1):
        factory.customer(f"cus_{index:032x}")
    assert factory.user(USER) == first


def test_references_different_ids_and_seeds_differ() -> None:
    factory = ReferenceFactory(seed=3)
    people = {factory.user(f"usr_{i:032x}")["email"] for i in range(20)}
    assert len(people) > 15
    assert ReferenceFactory(seed=4).user(USER) != factory.user(USER)


def test_references_customer_is_consistent_and_valid(contract: Contract) -> None:
    factory = ReferenceFactory()
    customer = factory.customer("cus_" + "1" * 32)
    assert customer == ReferenceFactory().customer("cus_" + "1" * 32)
    assert contract.validator("express-customer-reference").is_valid(customer)
    assert customer["expressCustomerName"]


def test_references_api_key_is_uuid4_and_consistent(contract: Contract) -> None:
    factory = ReferenceFactory(seed=9)
    ref = factory.api_key("secret")
    assert uuid.UUID(ref["apiKeyId"]).version == 4
    assert ref == ReferenceFactory(seed=9).api_key("secret")
    assert ref["apiKeyId"] != factory.api_key("other")["apiKeyId"]
    assert contract.validator("api-key-reference").is_valid(ref)
