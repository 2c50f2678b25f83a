"""Where new study ids come from: a generator seeded by the OS, or by ``--seed``."""

from __future__ import annotations

import os
import random


class IdSource:
    """Makes ``stu_`` ids; seeded, the same seed gives the same sequence.

    Unseeded, the generator starts from 128 bits of OS randomness: ids are unique, not secret,
    and reading the OS per id would cost a system call on the hot path.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random = random.Random()
        self.reset()

    def reset(self) -> None:
        """Seeded, back to the first id; unseeded, a new random start."""
        self._random.seed(
            int.from_bytes(os.urandom(16), "big") if self._seed is None else self._seed
        )

    def study_id(self) -> str:
        """``stu_`` and 32 lower-case hex digits."""
        return f"stu_{self._random.getrandbits(128):032x}"
