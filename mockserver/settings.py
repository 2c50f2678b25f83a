"""What a mock server instance is configured with; the CLI and the pytest plugin build one."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
MAX_BODY_BYTES = 1024 * 1024
JOURNAL_SIZE = 1000
HEADER_TIMEOUT_S = 10.0


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
    journal.

    Durability and load: ``state`` is a SQLite file holding the whole world (every 2xx write
    committed before it is answered; None: in memory); ``workers`` processes share it;
    ``max_concurrency`` answers 503 with ``retry-after`` past that many requests in flight
    (None: the serve command's measured default); ``header_timeout_s`` closes a connection
    whose request headers have not all arrived by then (slow clients)."""

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
    state: str | None = None
    workers: int = 1
    max_concurrency: int | None = None
    header_timeout_s: float = HEADER_TIMEOUT_S
