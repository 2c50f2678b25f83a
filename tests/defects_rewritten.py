"""Stateful defects of the catalog made by mechanism (a): the mock behind an ASGI wrapper that
remembers what it answered and rewrites the JSON body of later answers from that memory.

A rewrite changes values, never shapes: each answer still validates, so only an invariant of
the state machine sees that it contradicts an earlier one (tests/catalog_stateful.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import create_app

Json = Any
STUDIES = "/v1/viewer/studies"
BY_UID = STUDIES + "/by-uid/"


@dataclass(frozen=True)
class Seen:
    """A request as the wrapper saw it: its method, path, decoded query and JSON body."""

    method: str
    path: str
    query: dict[str, str]
    body: Json

    def study_id(self) -> str | None:
        """The studyId of ``/v1/viewer/studies/{studyId}`` (GET or PATCH), else None."""
        rest = self.path.removeprefix(STUDIES + "/")
        return rest if rest != self.path and rest.startswith("stu_") else None

    def is_create(self) -> bool:
        return self.method == "POST" and self.path == STUDIES

    def is_list(self) -> bool:
        return self.method == "GET" and self.path == STUDIES

    def is_by_uid(self) -> bool:
        return self.method == "GET" and self.path.startswith(BY_UID)


Rewrite = Callable[[Seen, int, Json], Json]
"""The JSON body the client gets instead of the mock's (``status`` is the mock's)."""


@dataclass
class Rewriting:
    """The mock; every JSON answer goes through ``rewrite`` with the request that asked for
    it (the rewrite may keep memory between requests)."""

    rewrite: Rewrite
    app: ASGIApp = field(default_factory=create_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = await _whole_request(receive)
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        seen = Seen(scope["method"], scope["path"], query, _json(request["body"]))
        start: Message = {}
        chunks: list[bytes] = []

        async def replay() -> Message:
            return request

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        body = b"".join(chunks)
        answer = _json(body)
        if isinstance(answer, dict):
            body = json.dumps(self.rewrite(seen, start["status"], answer)).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _whole_request(receive: Receive) -> Message:
    """The request's body in one message (the mock then reads it from the replay)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


def _json(raw: bytes) -> Json:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def rewriting(make: Callable[[], Rewrite]) -> Callable[[], ASGIApp]:
    """A builder of the mock behind a new ``make()`` rewrite (each build has fresh memory)."""
    return lambda: Rewriting(make())


# --- reads and writes -------------------------------------------------------------------------


def stale_after_update() -> Rewrite:
    """GET by id answers the fields the study's last update changed as they were before it
    (``updatedAt`` as it is now)."""
    latest: dict[str, Json] = {}
    before: dict[str, Json] = {}

    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        study_id = seen.study_id()
        if status >= 300 or "studyId" not in answer:
            return answer
        if seen.is_create():
            latest[answer["studyId"]] = answer
        elif seen.method == "PATCH" and study_id in latest:
            old = latest[study_id]
            changed = {k: old[k] for k in answer if k != "updatedAt" and old.get(k) != answer[k]}
            if changed:
                before[study_id] = changed
            latest[study_id] = answer
        elif seen.method == "GET" and study_id in before:
            return {**answer, **before[study_id]}
        return answer

    return rewrite


def by_uid_forgets_assignee() -> Rewrite:
    """retrieve_by_uid answers every study unassigned."""

    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        if seen.is_by_uid() and status == 200:
            return {**answer, "assignedTo": None}
        return answer

    return rewrite


def update_answers_old_study() -> Rewrite:
    """An update is stored, but answered with the study as the client last saw it."""
    shown: dict[str, Json] = {}

    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        if status >= 300 or "studyId" not in answer:
            return answer
        old = shown.get(answer["studyId"])
        shown[answer["studyId"]] = answer
        return old if seen.method == "PATCH" and old is not None else answer

    return rewrite


# --- lists and pages --------------------------------------------------------------------------


def has_more_false_while_more_follow() -> Rewrite:
    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        if seen.is_list() and status == 200 and answer.get("cursor") is not None:
            return {**answer, "hasMore": False}
        return answer

    return rewrite


def has_more_true_on_last_page() -> Rewrite:
    """The last page of a walk (a page asked with a cursor, that has none) says hasMore."""

    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        last = status == 200 and answer.get("cursor") is None and "cursor" in seen.query
        return {**answer, "hasMore": True} if seen.is_list() and last else answer

    return rewrite


def oldest_first() -> Rewrite:
    """Each page lists its studies oldest first."""

    def rewrite(seen: Seen, status: int, answer: Json) -> Json:
        if seen.is_list() and status == 200:
            return {**answer, "studies": answer["studies"][::-1]}
        return answer

    return rewrite
