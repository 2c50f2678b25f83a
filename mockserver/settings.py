"""What a mock server instance is configured with; the CLI and the pytest plugin build one."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """One mock's options: ``seed`` fixes every answer, ``lenient`` ignores unknown fields,
    ``stateless`` stores nothing and answers every valid request from the request alone,
    ``strict_references`` refuses a study naming a user the clinic does not know."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: int | None = None
    lenient: bool = False
    stateless: bool = False
    strict_references: bool = False
    api_keys: tuple[str, ...] = ()
    log_level: str = "info"
    max_body_bytes: int = MAX_BODY_BYTES
