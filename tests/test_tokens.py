"""Reroute tokens: alive for their lifetime on their own clock, seeded ones reproducible."""

from __future__ import annotations

import re

from mockserver.world.ids import IdSource
from mockserver.world.tokens import TokenBook

STUDY = "stu_" + "a" * 32
OTHER = "stu_" + "b" * 32


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_tokens_live_before_expiry_gone_at_and_after_it() -> None:
    clock = FakeMonotonic()
    book = TokenBook(30.0, seed=1, monotonic=clock)
    token = book.issue(STUDY)
    assert book.subject(token) == STUDY
    clock.now += 29.999
    assert book.subject(token) == STUDY
    clock.now = 130.0
    assert book.subject(token) is None
    clock.now += 1
    assert book.subject(token) is None


def test_tokens_each_names_its_own_subject() -> None:
    book = TokenBook(30.0, seed=1, monotonic=FakeMonotonic())
    first, second = book.issue(STUDY), book.issue(OTHER)
    assert first != second
    assert (book.subject(first), book.subject(second)) == (STUDY, OTHER)


def test_tokens_unknown_token_is_none() -> None:
    book = TokenBook(30.0, seed=1, monotonic=FakeMonotonic())
    book.issue(STUDY)
    assert book.subject("0" * 40) is None
    assert book.subject("") is None


def test_tokens_are_url_safe_hex() -> None:
    token = TokenBook(30.0, seed=1, monotonic=FakeMonotonic()).issue(STUDY)
    assert re.fullmatch(r"[0-9a-f]{40}", token)


def test_tokens_seeded_are_reproducible_and_reset_repeats_them() -> None:
    first = TokenBook(30.0, seed=5, monotonic=FakeMonotonic())
    second = TokenBook(30.0, seed=5, monotonic=FakeMonotonic())
    issued = [first.issue(STUDY) for _ in range(3)]
    assert [second.issue(STUDY) for _ in range(3)] == issued
    first.reset()
    assert first.subject(issued[0]) is None
    assert [first.issue(STUDY) for _ in range(3)] == issued
    assert TokenBook(30.0, seed=6, monotonic=FakeMonotonic()).issue(STUDY) != issued[0]


def test_tokens_unseeded_differ_between_books_and_after_reset() -> None:
    book = TokenBook(30.0, monotonic=FakeMonotonic())
    token = book.issue(STUDY)
    assert TokenBook(30.0, monotonic=FakeMonotonic()).issue(STUDY) != token
    book.reset()
    assert book.subject(token) is None
    assert book.issue(STUDY) != token


def test_tokens_do_not_repeat_the_seeded_ids() -> None:
    token = TokenBook(30.0, seed=5, monotonic=FakeMonotonic()).issue(STUDY)
    study_id = IdSource(5).study_id().removeprefix("stu_")
    assert not token.startswith(study_id[:8])


def test_tokens_expired_ones_are_forgotten_on_issue() -> None:
    clock = FakeMonotonic()
    book = TokenBook(10.0, seed=1, monotonic=clock)
    old = [book.issue(STUDY) for _ in range(3)]
    clock.now += 5
    young = book.issue(OTHER)
    clock.now += 5
    fresh = book.issue(OTHER)
    assert list(book._live) == [young, fresh]
    assert all(book.subject(token) is None for token in old)
    assert book.subject(young) == OTHER
    assert book.subject(fresh) == OTHER
