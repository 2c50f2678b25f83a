"""Drawing until a draw is what it should be, cheaply: retries past what ``filter`` tries,
branches drawn evenly, and strategies behind short reprs.

Composites are defined once, at module level: ``st.composite`` reads a function's signature
and source when it decorates, which costs a millisecond each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

TRIES = 25
"""Draws a value may take before it gives up (a pattern and a length that rarely agree)."""


class Hidden:
    """A strategy behind a short repr. Hypothesis writes the repr of the strategy a draw
    gave up in; that of a whole request's strategy runs to tens of kB (slow, and a warning
    that pytest turns into an error). Not a dataclass: hypothesis prints those field by
    field."""

    __slots__ = ("name", "strategy")

    def __init__(self, strategy: st.SearchStrategy[Any], name: str = "…") -> None:
        self.strategy = strategy
        self.name = name

    def __repr__(self) -> str:
        return self.name


def retrying(
    strategy: st.SearchStrategy[Any], ok: Callable[[Any], bool], tries: int = TRIES
) -> st.SearchStrategy[Any]:
    """``strategy.filter(ok)`` that tries harder before it gives up on an example."""
    return _first_ok(Hidden(strategy, "values"), ok, tries)


@st.composite
def _first_ok(data: st.DrawFn, strategy: Hidden, ok: Callable[[Any], bool], tries: int) -> Any:
    for _ in range(tries):
        value = data(strategy.strategy)
        if ok(value):
            return value
    reject()


def evenly(*branches: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of the branches, each as likely (``one_of`` flattens and favours some), but for
    those that can draw nothing."""
    live = tuple(b for b in branches if not b.is_empty)
    return _one_evenly(tuple(Hidden(b, "branch") for b in live)) if live else st.nothing()


@st.composite
def _one_evenly(data: st.DrawFn, live: tuple[Hidden, ...]) -> Any:
    return data(live[data(st.integers(0, len(live) - 1))].strategy)
