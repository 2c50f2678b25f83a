"""The studies part of the machine: one rule per viewer.studies operation with valid inputs,
rules that send a well-formed id or UID nobody created, a UID in use, and one-rule-invalid
requests, and the walk over pages with writes between them.

Every study a sequence makes has the sequence's token in its description, and every list
filters by it (``studyDescription`` is a contains-match, stated), so a server holding other
studies never breaks an expectation. The clinic's users, listed once per sequence, are the
users studies are assigned to, so a server that knows only real users accepts them.

The rules come in groups of one module each, combined here: ``StudyCalls`` (calls.py: the
part's state and its calls with valid inputs), ``StudyWalks`` (walks.py: lists and walks)
and ``StudyRefusals`` (refusals.py: what nobody made, what is taken, what is invalid).
Hypothesis collects the rules of every class in the MRO, so ``StudiesPart`` holds them all.
"""

from __future__ import annotations

from contract_tests.stateful.studies.refusals import StudyRefusals
from contract_tests.stateful.studies.walks import StudyWalks


class StudiesPart(StudyWalks, StudyRefusals):
    """Rules and model of viewer.studies."""
