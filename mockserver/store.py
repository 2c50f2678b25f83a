"""The mock's memory: created studies, by id and by Study Instance UID.

Studies are kept as their serialized JSON, the most compact form and the one answers need.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mockserver.errors import Conflict


class StudyStore:
    """Every study created since start (or the last ``clear``); nothing is ever evicted."""

    def __init__(self) -> None:
        self._by_id: dict[str, bytes] = {}
        self._id_by_uid: dict[str, str] = {}

    def reserve_uid(self, uid: str) -> None:
        """Refuse (409) a UID that a stored study has already."""
        existing = self._id_by_uid.get(uid)
        if existing is not None:
            raise Conflict(
                f"A study with studyInstanceUid {uid!r} exists already ({existing}); "
                "a Study Instance UID identifies one study. Use a new UID, or retrieve "
                f"the existing study at /v1/viewer/studies/by-uid/{uid}."
            )

    def add(self, study_id: str, uid: str, body: bytes) -> None:
        """Keep a study; call ``reserve_uid`` first."""
        self.reserve_uid(uid)
        self._by_id[study_id] = body
        self._id_by_uid[uid] = study_id

    def get(self, study_id: str) -> bytes | None:
        """A study's JSON by its id."""
        return self._by_id.get(study_id)

    def get_by_uid(self, uid: str) -> bytes | None:
        """A study's JSON by its Study Instance UID."""
        study_id = self._id_by_uid.get(uid)
        return None if study_id is None else self._by_id[study_id]

    def studies(self) -> Iterator[dict[str, Any]]:
        """Every stored study, decoded, oldest first."""
        return (orjson.loads(body) for body in self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        """Forget every study (the pytest plugin resets between tests)."""
        self._by_id.clear()
        self._id_by_uid.clear()
