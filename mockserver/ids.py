"""Where new study ids come from: the OS's randomness, or a seeded generator for ``--seed``."""

from __future__ import annotations

import random


class IdSource:
    """Makes ``stu_`` ids; seeded, the same seed gives the same sequence."""

    def __init__(self, seed: int | None = None) -> None:
        self._random: random.Random = random.SystemRandom() if seed is None else random.Random(seed)

    def study_id(self) -> str:
        """``stu_`` and 32 lower-case hex digits."""
        return f"stu_{self._random.getrandbits(128):032x}"
