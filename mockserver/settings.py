"""What a mock server instance is configured with; the CLI and the pytest plugin build one."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
MAX_BODY_BYTES = 1024 * 1024
JOURNAL_SIZE = 1000


@dataclass(frozen=True)
class Settings:
    """One mock's options: ``seed`` fixes every answer, ``lenient`` ignores unknown fields,
    ``stateless`` stores nothing and answers every valid request from the request alone,
    ``strict_references`` refuses a study naming a user the clinic does not know.

    The control plane (``/_mock/``): ``latency`` delays every API answer by a number of
    milliseconds drawn from ``(low, high)``; ``fault_rate`` answers that share of API requests
    with a random 429, 500 or 503 carrying retry headers; ``scenario`` is a state document
    (a file) to start from and to reset to; ``admin_token`` protects ``/_mock/`` (without it,
    ``/_mock/`` is open only on a loopback address); ``journal_size`` bounds the request
    journal."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: int | None = None
    lenient: bool = False
    stateless: bool = False
    strict_references: bool = False
    api_keys: tuple[str, ...] = ()
    log_level: str = "info"
    max_body_bytes: int = MAX_BODY_BYTES
    latency: tuple[float, float] | None = None
    fault_rate: float = 0.0
    scenario: str | None = None
    admin_token: str | None = None
    journal_size: int = JOURNAL_SIZE
