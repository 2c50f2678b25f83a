"""The parts the machine of ``run_machine`` is combined from (mixins of ``MachineBase``).

Each part adds its rules, its model state and (by importing its module) its invariants, so
``INVARIANTS`` read from here holds every part's.
"""

from __future__ import annotations

from contract_tests.stateful.invariants import INVARIANTS
from contract_tests.stateful.machine import MachineBase
from contract_tests.stateful.people.part import PeoplePart
from contract_tests.stateful.studies.part import StudiesPart

PARTS: tuple[type[MachineBase], ...] = (StudiesPart, PeoplePart)

__all__ = ["INVARIANTS", "PARTS"]
