"""``serve``: run the mock on a port (``python -m mockserver``, ``avara-mock serve``)."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

from mockserver.settings import DEFAULT_HOST, DEFAULT_PORT, Settings

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


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


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the ``serve`` options describe."""
    return Settings(
        host=args.host,
        port=args.port,
        seed=args.seed,
        lenient=args.lenient,
        api_keys=tuple(args.api_keys),
        log_level=args.log_level,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mockserver``: serve (the ``avara-mock`` command adds ``contract``)."""
    parser = argparse.ArgumentParser(prog="python -m mockserver", description=__doc__)
    add_serve_options(parser)
    words = list(sys.argv[1:] if argv is None else argv)
    return serve(settings_from(parser.parse_args(words[1:] if words[:1] == ["serve"] else words)))
