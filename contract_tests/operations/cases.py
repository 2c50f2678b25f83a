"""A case of the probes of an operation: what to draw, how to tell the probe a draw makes,
and the drawing itself (up to ``TRIES`` draws, so that a rule that rarely breaks alone still
gets its probe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from contract_tests.operations.drawing import Hidden
from contract_tests.transport.exchange import Probe

TRIES = 40
"""Draws a probe may take to find one that is what it says (an exact one-rule break)."""
SAME_AGAIN = 3
"""Draws in a row equal to the one before after which a probe gives up: hypothesis's
simplest example draws the same every time (a small space may draw a value twice)."""
VALID = "valid"
"""The label of an operation's valid case (the others are labelled by their rule's id)."""


Drawn = tuple[st.SearchStrategy[Any], Callable[[Any], "Probe | None"]]
"""What to draw, and how to tell the probe it makes (None: not the probe it should be)."""


@dataclass(frozen=True)
class Case:
    """One kind of probe of one operation: its valid calls, or the calls breaking a rule."""

    operation: str
    label: str
    drawn: Drawn

    @cached_property
    def probes(self) -> st.SearchStrategy[Probe | None]:
        """Its probe, or None when ``TRIES`` draws made none."""
        return attempts(*self.drawn)


@dataclass(frozen=True)
class Parts:
    """A call's inputs as JSON: path parameters, query object, body (``NO_BODY``: none)."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: Any


def confirmed(
    strategy: st.SearchStrategy[Any], confirm: Callable[[Any], Probe | None]
) -> st.SearchStrategy[Probe]:
    """Probes confirmed from draws of ``strategy``; an example gives up after ``TRIES``."""
    return attempts(strategy, confirm).map(_given_up)


def attempts(
    strategy: st.SearchStrategy[Any], confirm: Callable[[Any], Probe | None]
) -> st.SearchStrategy[Probe | None]:
    """The first probe confirmed from up to ``TRIES`` draws of ``strategy``, else None."""
    return _first_confirmed(Hidden(strategy, "inputs"), confirm)


@st.composite
def _first_confirmed(
    data: st.DrawFn, strategy: Hidden, confirm: Callable[[Any], Probe | None]
) -> Probe | None:
    # Module level: st.composite reads a function's signature once, when it decorates.
    last: Any = None
    again = 0
    for _ in range(TRIES):
        drawn = data(strategy.strategy)
        again = again + 1 if drawn == last else 0
        if again == SAME_AGAIN:
            return None  # hypothesis's simplest example draws the same every time
        probe = confirm(drawn)
        if probe is not None:
            return probe
        last = drawn
    return None


def _given_up(probe: Probe | None) -> Probe:
    if probe is None:
        reject()
    return probe
