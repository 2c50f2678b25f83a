"""What every store of studies offers, whatever it keeps them in (memory today).

A study is stored as its JSON less its ``createdByApiKey`` reference, which is the same for
every study one API key creates: the store keeps that reference's JSON beside it and joins
the two on the way out. Lists walk studies newest first by their position, (createdAt,
studyId): a keyset, so a page costs the same however many studies come before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockserver.errors import Conflict

REFERENCE_FIELD = b',"createdByApiKey":'

FieldPath = tuple[str, ...]


def join(core: bytes, reference: bytes) -> bytes:
    """A study's JSON: its core object with the shared reference appended as the last field."""
    return core[:-1] + REFERENCE_FIELD + reference + b"}"


def position(study: Mapping[str, Any]) -> str:
    """A study's place in the order of lists: createdAt then studyId, as one sortable text.

    The mock's timestamps all have the same width (RFC 3339, milliseconds, ``Z``), so text
    order is time order.
    """
    return f"{study['createdAt']}|{study['studyId']}"


def uid_taken(uid: str, existing: str) -> Conflict:
    """The 409 of a create whose Study Instance UID another study has."""
    return Conflict(
        f"A study with studyInstanceUid {uid!r} exists already ({existing}); "
        "a Study Instance UID identifies one study. Use a new UID, or retrieve "
        f"the existing study at /v1/viewer/studies/by-uid/{uid}."
    )


def value_at(study: Mapping[str, Any], path: FieldPath) -> Any:
    """The value at a field path (``("assignedTo", "userId")``); None through a null."""
    node: Any = study
    for step in path:
        if type(node) is not dict:
            return None
        node = node.get(step)
    return node


@dataclass(frozen=True)
class Filters:
    """What a list asks for: fields equal to values, and a description containing a text
    (matched case-insensitively); every condition must hold."""

    equal: Mapping[FieldPath, Any] = field(default_factory=dict)
    contains: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a list: the studies' JSON, and where the next page starts (if it exists)."""

    studies: list[bytes]
    next_after: str | None


class StudyStore(Protocol):
    """Stored studies by id, by Study Instance UID, and in list order."""

    def add(self, study: dict[str, Any], reference: bytes) -> bytes:
        """Keep a new study (``Conflict`` if its UID is taken); returns its full JSON."""
        ...

    def get(self, study_id: str) -> dict[str, Any] | None:
        """A study, decoded, without its API-key reference."""
        ...

    def get_json(self, study_id: str) -> bytes | None:
        """A study's full JSON."""
        ...

    def id_of_uid(self, uid: str) -> str | None:
        """The id of the study with this Study Instance UID."""
        ...

    def replace(self, study: dict[str, Any]) -> bytes:
        """Store a changed study (same id, UID and createdAt); returns its full JSON."""
        ...

    def page(self, filters: Filters, after: str | None, limit: int) -> Page:
        """Up to ``limit`` matching studies after position ``after`` (from the newest)."""
        ...

    def ids_with(self, path: FieldPath, value: Any) -> list[str]:
        """The ids of the studies whose field at ``path`` (an indexed one) equals ``value``."""
        ...

    def studies(self) -> Iterator[dict[str, Any]]:
        """Every stored study, decoded, oldest first."""
        ...

    def __len__(self) -> int: ...

    def empty(self) -> StudyStore:
        """A new, empty store of the same kind and indexes: a loaded state is built in one,
        then swapped in, so a failure leaves the old one as it was."""
        ...

    def clear(self) -> None:
        """Forget every study."""
        ...
