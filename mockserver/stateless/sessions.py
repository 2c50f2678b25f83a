"""Stateless ephemeral sessions: every valid create answered from the request alone.

The field rules are those of stateful mode (``SessionRequests``, byte cap included); no rule
across fields applies (``x-stateful-rules``: a layout may get any number of viewport
assignments). The token is drawn from SHA-256 of (seed, canonical request), so the same
request gets the same URL in every run; nothing is stored, so that URL opens no session.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from mockserver.contract import Contract
from mockserver.resources.sessions import SessionRequests, session_url
from mockserver.settings import Settings
from mockserver.stateless.draws import Draws, canonical

TOKEN_HEX_DIGITS = 40
"""As long as the stateful tokens (mockserver/world/tokens.py), so the URLs look alike."""


class StatelessSessions:
    """The ``Sessions`` of stateless mode: field rules only, the URL derived from the request."""

    def __init__(self, contract: Contract, settings: Settings) -> None:
        self._seed = 0 if settings.seed is None else settings.seed
        self._requests = SessionRequests(contract, lenient=settings.lenient)

    def create(self, body: Any, origin: str) -> bytes:
        """A URL on ``origin`` whose token the request and the seed decide."""
        request = self._requests.create(body)
        token = Draws(self._seed, "ephemeral-session", _text(request)).hex(TOKEN_HEX_DIGITS)
        return session_url(origin, token)

    def viewed(self, token: str) -> dict[str, Any] | None:
        """Always None: nothing is stored, so no token opens a session (the page answers 404)."""
        return None

    def reset(self) -> None:
        """Nothing to forget: every answer is made from its request."""


def _text(request: dict[str, Any]) -> str:
    """The request's canonical text; a value orjson refuses (a lone surrogate, an integer
    past 64 bits: none can come from an HTTP body, which orjson parsed) is written by the
    standard library instead, as deterministically."""
    try:
        return canonical(request)
    except orjson.JSONEncodeError:
        return json.dumps(request, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
