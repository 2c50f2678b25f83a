"""What the studies model holds of each study a sequence made, and what it answers about one.

``KnownStudy`` is one study's identity (id, UID, createdAt) and the representation last
answered; ``Transition`` is what a cancel or uncancel of it did or did not do; ``Selected`` is
the study a selector names, or the rule a refusal of the selector rests on. They are plain
values, so the model's lists and its calls can share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from contract_tests.stateful.studies.values import instant


@dataclass
class KnownStudy:
    """One study the sequence made: its identity and the representation last answered."""

    study_id: str
    uid: str
    created_at: datetime | None
    shown: dict[str, Any]
    uid_shared: bool = False
    names_may_differ: bool = False

    @property
    def cancelled(self) -> bool:
        """Whether the study is cancelled, as last shown."""
        return bool(self.shown.get("isCancelled"))

    @property
    def updated_at(self) -> datetime | None:
        """updatedAt as last shown."""
        return instant(self.shown.get("updatedAt"))


@dataclass(frozen=True)
class Transition:
    """What a cancel or uncancel did (``effective``) or did not do (an idempotent repeat)."""

    kind: Literal["cancel", "uncancel"]
    effective: bool
    before: KnownStudy


@dataclass(frozen=True)
class Selected:
    """The study a selector names, or the rule a refusal of it rests on."""

    study: KnownStudy | None
    refusal: str = ""
