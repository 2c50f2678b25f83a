"""The mock's memory: created studies, by id and by Study Instance UID.

A study is kept as its serialized JSON, the most compact form and the one answers need, less
its ``createdByApiKey`` reference: that one is the same for every study an API key creates,
so it is kept once per key and joined back on the way out (about a third of each study).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mockserver.errors import Conflict

REFERENCE_FIELD = b',"createdByApiKey":'


def join(core: bytes, reference: bytes) -> bytes:
    """A study's JSON: its core object with the shared reference appended as the last field."""
    return core[:-1] + REFERENCE_FIELD + reference + b"}"


class StudyStore:
    """Every study created since start (or the last ``clear``); nothing is ever evicted."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[bytes, bytes]] = {}
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

    def add(self, study_id: str, uid: str, core: bytes, reference: bytes) -> bytes:
        """Keep a study (``core`` without its API-key reference); returns its full JSON."""
        self.reserve_uid(uid)
        # orjson's bytes keep a ~4 KiB buffer; an exact-size copy is what is kept.
        self._by_id[study_id] = (memoryview(core).tobytes(), reference)
        self._id_by_uid[uid] = study_id
        return join(core, reference)

    def get(self, study_id: str) -> bytes | None:
        """A study's JSON by its id."""
        parts = self._by_id.get(study_id)
        return None if parts is None else join(*parts)

    def get_by_uid(self, uid: str) -> bytes | None:
        """A study's JSON by its Study Instance UID."""
        study_id = self._id_by_uid.get(uid)
        return None if study_id is None else self.get(study_id)

    def studies(self) -> Iterator[dict[str, Any]]:
        """Every stored study, decoded, oldest first."""
        return (orjson.loads(join(*parts)) for parts in self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        """Forget every study (the pytest plugin resets between tests)."""
        self._by_id.clear()
        self._id_by_uid.clear()
