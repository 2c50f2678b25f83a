"""Where new study ids come from: a generator seeded by the OS, or by ``--seed``.

Ids rise: each is the last one plus a random step. Studies created in the same millisecond
then list in the order they were made (the list order is createdAt, then studyId), and every
new study's list position is the newest, so the store appends instead of inserting.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable

START_BITS = 120
"""The first id is below 2**120 of the 2**128 the format allows ..."""
STEP_BITS = 100
"""... and each step below 2**100, which leaves room for 2**27 ids before the digits run out."""
SEQUENCE_BITS = 127
"""No sequence reaches 2**127 before its 2**26th id: an id above it was not made by one."""


class IdSource:
    """Makes ``stu_`` ids; seeded, the same seed gives the same sequence.

    Unseeded, the generator starts from 128 bits of OS randomness: ids are unique, not secret,
    and reading the OS per id would cost a system call on the hot path.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random = random.Random()
        self._last = 0
        self.reset()

    def reset(self) -> None:
        """Seeded, back to the first id; unseeded, a new random start."""
        self._random.seed(
            int.from_bytes(os.urandom(16), "big") if self._seed is None else self._seed
        )
        self._last = self._random.getrandbits(START_BITS)

    def skip_past(self, study_ids: Iterable[str]) -> None:
        """Make every later id greater than these (a loaded state's), so none is made again.

        Ids a sequence could not reach (from 2**127 up, written by hand) are left below: they
        cannot collide, and skipping past them would leave no room for new ids.
        """
        for study_id in study_ids:
            value = int(study_id.removeprefix("stu_"), 16)
            if self._last < value < 1 << SEQUENCE_BITS:
                self._last = value

    def study_id(self) -> str:
        """``stu_`` and 32 lower-case hex digits, greater than the id before it."""
        self._last += 1 + self._random.getrandbits(STEP_BITS)
        return f"stu_{self._last:032x}"
