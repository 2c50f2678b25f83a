"""Who may use ``/_mock/``: the holder of ``--admin-token``, or anyone on a loopback mock.

The control plane rewrites the mock's world, so it is open without a token only where no one
else can reach it (the mock binds 127.0.0.1, ::1 or localhost); on any other address without
a token it answers 403 saying how to open it. With a token, a request shows it as
``Authorization: Bearer <token>``, ``X-Avara-Mock-Token: <token>``, or (a browser opening the
dashboard) ``?token=<token>`` once, which sets a cookie for the pages and forms after it.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import ApiError, Unauthorized
from mockserver.http.body import header
from mockserver.http.endpoints import send_json
from mockserver.settings import Settings

COOKIE = "avara_mock_token"
TOKEN_HEADER = b"x-avara-mock-token"
TOKEN_PARAMETER = "token"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class Forbidden(ApiError):
    """The control plane is closed: the mock is reachable by others and has no admin token."""

    status = 403
    type = "forbidden"


def is_loopback(host: str) -> bool:
    """Whether an address to bind reaches this machine only (a name other than localhost is
    not resolved: it counts as reachable by others)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Guard:
    """The check every ``/_mock/`` route passes first; ``protect`` puts it in front of one."""

    def __init__(self, settings: Settings) -> None:
        self._token = None if settings.admin_token is None else settings.admin_token.encode()
        self._host = settings.host
        self._open = is_loopback(settings.host)

    def protect(self, route: BaseRoute) -> BaseRoute:
        """The route, its application now behind the guard (the route keeps its path and
        methods, so it lists and matches as before)."""
        inner = getattr(route, "app", None)
        if inner is None:
            raise TypeError(f"cannot guard {route!r}: it has no ASGI app to wrap")
        route.app = _Guarded(inner, self)  # type: ignore[attr-defined]
        return route

    def refusal(self, scope: Scope) -> tuple[ApiError | None, bool]:
        """Why the request may not pass (None: it may), and whether it showed the token in
        its query (the answer then sets the cookie)."""
        if self._token is None:
            if self._open:
                return None, False
            return Forbidden(
                f"/_mock/ is closed: this mock listens on {self._host}, which is not a loopback "
                "address, and was started without --admin-token, so anyone who reaches it could "
                "rewrite its world. Start it with --admin-token TOKEN (then send 'Authorization: "
                "Bearer TOKEN'), or bind 127.0.0.1 (--host 127.0.0.1)."
            ), False
        headers = scope["headers"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        shown = [
            _bearer(header(headers, b"authorization")),
            header(headers, TOKEN_HEADER),
            _cookie(header(headers, b"cookie")),
        ]
        from_query = query.get(TOKEN_PARAMETER)
        if from_query is not None:
            shown.append(from_query.encode())
        if any(value is not None and hmac.compare_digest(value, self._token) for value in shown):
            return None, from_query is not None
        return Unauthorized(
            "/_mock/ needs the admin token this mock was started with (--admin-token): send "
            "'Authorization: Bearer <token>' or 'X-Avara-Mock-Token: <token>', or open "
            "/_mock/?token=<token> in a browser once."
        ), False

    def cookie(self) -> bytes:
        """The Set-Cookie value that lets a browser in after ``?token=``: sent back on
        ``/_mock/`` only, never to scripts, never from another site's forms."""
        value = quote(self._token or b"", safe="")
        return f"{COOKIE}={value}; Path=/_mock; HttpOnly; SameSite=Strict".encode()

    def without_token(self, scope: Scope) -> Scope:
        """The scope with ``token`` gone from its query, so no handler reads it as a filter."""
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        kept = [(name, value) for name, value in pairs if name != TOKEN_PARAMETER]
        return {**scope, "query_string": urlencode(kept).encode("latin-1")}


class _Guarded:
    """An ASGI app behind the guard: refused requests get the guard's JSON error."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self._app = app
        self._guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refused, with_query = self._guard.refusal(scope)
        if refused is not None:
            await send_json(send, refused.status, refused.body())
            return
        if not with_query:
            await self._app(scope, receive, send)
            return
        cookie = self._guard.cookie()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [*message.get("headers", []), (b"set-cookie", cookie)]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(self._guard.without_token(scope), receive, send_with_cookie)


def _bearer(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    scheme, _, credentials = value.strip().partition(b" ")
    return credentials.strip() if scheme.lower() == b"bearer" else None


def _cookie(value: bytes | None) -> bytes | None:
    """The admin token's cookie, decoded, from a Cookie header."""
    if value is None:
        return None
    for part in value.decode("latin-1").split(";"):
        name, _, text = part.strip().partition("=")
        if name == COOKIE:
            return unquote(text).encode()
    return None
