"""No answer before its writes are committed, and one commit for a turn's writes.

With ``--state``, every request runs inside its state file's ``deferring()``: its writes
join a transaction the other requests of the same turn of the event loop share, and its
answer waits, at the first message it sends, for that transaction to commit
(``settle()``). When the commit fails, the request is answered 503 instead, with what
``StateWriteFailed`` says; the app's own answer is dropped.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import ApiError
from mockserver.http.endpoints import send_json


class GroupCommits(Protocol):
    """What the state file's ``Database`` offers the edge."""

    def deferring(self) -> AbstractContextManager[None]: ...

    async def settle(self) -> None: ...

    def finish(self) -> None: ...

    def checkpoint_in_background(self) -> None: ...


class CommitBeforeAnswer:
    """ASGI middleware: each HTTP request's writes are committed before it is answered."""

    def __init__(self, app: ASGIApp, commits: GroupCommits) -> None:
        self.app = app
        self.commits = commits
        commits.checkpoint_in_background()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        commits = self.commits
        refused = False

        async def answer(message: Message) -> None:
            nonlocal refused
            if refused:
                return
            if message["type"] == "http.response.start":
                try:
                    await commits.settle()
                except ApiError as error:
                    refused = True
                    await send_json(send, error.status, error.body())
                    return
            await send(message)

        with commits.deferring():
            try:
                await self.app(scope, receive, answer)
            finally:
                commits.finish()
