"""Short-lived URL tokens: what a reroute URL carries, valid for a few seconds.

Tokens expire on a monotonic clock of their own, not on the mock's clock: a seeded mock's
clock steps a second per reading, and a browser's 30 seconds are real ones. The tokens
themselves come from a seeded generator, so ``--seed`` keeps the URLs answered identical.
"""

from __future__ import annotations

import os
import random
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBook:
    """Issues tokens for a subject (a study id) and tells which subject a live token names."""

    def __init__(
        self,
        lifetime: float,
        seed: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime = lifetime
        self._seed = seed
        self._monotonic = monotonic
        self._random = random.Random()
        self._live: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self.reset()

    def issue(self, subject: str) -> str:
        """A new token naming ``subject`` for ``lifetime`` seconds from now."""
        self._forget_expired()
        token = f"{self._random.getrandbits(160):040x}"
        self._live[token] = (subject, self._monotonic() + self.lifetime)
        return token

    def subject(self, token: str) -> str | None:
        """What a token names while it lives; None when unknown or expired."""
        entry = self._live.get(token)
        if entry is None or entry[1] <= self._monotonic():
            return None
        return entry[0]

    def reset(self) -> None:
        """No live tokens; seeded, the same tokens again."""
        self._live.clear()
        # A seed of its own, so tokens do not repeat the bits of the ids drawn from the seed.
        self._random.seed(os.urandom(16) if self._seed is None else f"tokens {self._seed}")

    def _forget_expired(self) -> None:
        """Tokens are issued in expiry order, so the expired ones are at the front."""
        now = self._monotonic()
        while self._live:
            token, (_, expires) = next(iter(self._live.items()))
            if expires > now:
                return
            del self._live[token]
