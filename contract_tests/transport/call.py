"""One call of the Viewer API as the suite thinks of it: an SDK operation and its inputs.

A ``Call`` is what strategies draw and what a reproduction script prints; ``Call.sent`` turns
it into the HTTP request (``Sent``) a target receives. Operations, their routes and their
schema documents come from ``mockserver.openapi.RESOURCES``, the one table of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from contract_tests.transport.exchange import Sent
from mockserver.openapi import RESOURCES


class NoBody:
    """The marker of a call that sends no body (``None`` is the JSON ``null``)."""

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Any = NoBody()


class UnknownOperation(KeyError):
    """An operation name that no resource of the API has (e.g. a typo in a catalog entry)."""


@dataclass(frozen=True)
class Operation:
    """One SDK method: its route, and the schema documents of its inputs and its answer."""

    name: str
    resource: str
    method: str
    route: str
    status: int
    answer: str
    path: str | None = None
    body: str | None = None
    query: str | None = None

    @property
    def sdk_method(self) -> str:
        """``client.viewer.studies.update``: how the official SDK names this call."""
        return f"client.{self.name}"

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the route's path parameters, in order."""
        return tuple(part[1:-1] for part in self.route.split("/") if part.startswith("{"))


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the Viewer API by name (``viewer.users.invitations.revoke``)."""
    found: dict[str, Operation] = {}
    for resource in RESOURCES:
        for op in resource.operations:
            name = f"{resource.name}.{op.name}"
            path = resource.path_parameters if "{" in op.path else None
            found[name] = Operation(
                name,
                resource.name,
                op.method.upper(),
                op.path,
                op.answer[0],
                op.answer[1],
                path,
                op.body,
                op.query,
            )
    return found


def operation(name: str) -> Operation:
    """The operation of that name; ``UnknownOperation`` names the ones there are."""
    try:
        return operations()[name]
    except KeyError:
        raise UnknownOperation(f"no operation {name!r}; there are {sorted(operations())}") from None


@dataclass(frozen=True)
class Call:
    """An operation with its path parameters, query parameters (as text, in order, repeats
    allowed) and JSON body (``NO_BODY``: none; a raw ``bytes`` body is sent as it is)."""

    operation: str
    path: Mapping[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    body: Any = NO_BODY

    @property
    def spec(self) -> Operation:
        """The operation this call is of."""
        return operation(self.operation)

    def url_path(self) -> str:
        """The route with its parameters filled in (each percent-encoded) and the query."""
        route = self.spec.route
        for name, value in self.path.items():
            route = route.replace("{" + name + "}", quote(value, safe=""))
        return route + ("?" + urlencode(self.query) if self.query else "")

    def content(self) -> bytes:
        """The body as sent: UTF-8 JSON, raw bytes, or nothing."""
        if self.body is NO_BODY:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def sent(self, authorization: str | None) -> Sent:
        """The HTTP request of this call, with this ``Authorization`` header (``None``: none)."""
        headers: dict[str, str] = {}
        if self.body is not NO_BODY:
            headers["Content-Type"] = "application/json"
        if authorization is not None:
            headers["Authorization"] = authorization
        return Sent(self.spec.method, self.url_path(), headers, self.content())
