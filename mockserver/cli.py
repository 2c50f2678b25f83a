"""The ``avara-mock`` command: ``serve`` runs the mock on a port."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

from mockserver.settings import DEFAULT_HOST, DEFAULT_PORT, Settings

COMMANDS = ("serve",)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with ``serve`` as the default command."""
    parser = argparse.ArgumentParser(
        prog="avara-mock", description="Offline mock server of the Avara Viewer API."
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the mock (the default command)")
    add_serve_options(serve)
    return parser


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``serve``."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default 4010; 0 picks a free one)"
    )
    parser.add_argument(
        "--seed", type=int, help="make ids, timestamps and fake people reproducible"
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="ignore unknown request fields instead of refusing them",
    )
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this bearer key (repeatable; default: any non-empty key)",
    )
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so the URL printed is the one bound (port 0 included)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def serve(settings: Settings) -> int:
    """Run the mock until interrupted."""
    import uvicorn

    from mockserver.app import create_app

    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        print(
            f"avara-mock: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "choose another with --port, or --port 0 for any free port.",
            file=sys.stderr,
        )
        return 2
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    print(f"avara-mock serving the Avara Viewer API at {url}", flush=True)
    print(f"Point the SDK at it:\n  export AVARA_BASE_URL={url}", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        log_level=settings.log_level,
        access_log=settings.log_level in ("debug", "trace", "info"),
        lifespan="off",
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avara-mock`` and ``python -m mockserver``; no command means ``serve``."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] not in (*COMMANDS, "-h", "--help"):
        words.insert(0, "serve")
    args = build_parser().parse_args(words)
    return serve(
        Settings(
            host=args.host,
            port=args.port,
            seed=args.seed,
            lenient=args.lenient,
            api_keys=tuple(args.api_keys),
            log_level=args.log_level,
        )
    )
