"""``serve``: run the mock on a port (``python -m mockserver``, ``avara-mock serve``).

This module is all that ``serve`` imports before it builds the app: the ``avara-mock`` command
comes here without loading the contract suite, and uvicorn and the app load only in ``serve``.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from mockserver.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    HEADER_TIMEOUT_S,
    JOURNAL_SIZE,
    Settings,
)

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
MAX_CONCURRENCY = 256
"""Requests in flight per process before 503 + retry-after (the README says how measured)."""
BACKLOG = 2048
"""Connections the kernel queues before the server accepts them (capped by somaxconn)."""
KEEP_ALIVE_S = 5
"""An idle keep-alive connection closes after this (uvicorn's default)."""
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CONTROL = "/_mock"


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
        "--stateless",
        action="store_true",
        help=(
            "store nothing: answer every valid request from the request alone, "
            "for the SDKs' generated tests written for a Prism-style mock"
        ),
    )
    parser.add_argument(
        "--strict-references",
        action="store_true",
        help="refuse (404) a study assigned to a user id the clinic does not know, instead "
        "of adding that user to the clinic",
    )
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this bearer key (repeatable; default: any non-empty key)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="info and more detailed levels also print a line per request (default info)",
    )
    control = parser.add_argument_group(
        "control plane", "the /_mock/ routes tests and people set the mock up and watch it with"
    )
    control.add_argument(
        "--latency",
        type=latency,
        metavar="DELAY",
        help="delay every API answer: 50ms, 1s, or a range drawn from, 20ms..200ms",
    )
    control.add_argument(
        "--fault-rate",
        type=fraction,
        default=0.0,
        metavar="RATE",
        help="answer this share of API requests (0 to 1, e.g. 0.05) with a random 429, 500 "
        "or 503 carrying retry headers",
    )
    control.add_argument(
        "--scenario",
        metavar="FILE",
        help="start from this state document (as GET /_mock/state writes it); "
        "POST /_mock/reset goes back to it",
    )
    control.add_argument(
        "--admin-token",
        type=token,
        metavar="TOKEN",
        help="require this token on /_mock/ (Authorization: Bearer TOKEN); without it, "
        "/_mock/ is open only when the mock binds a loopback address",
    )
    control.add_argument(
        "--journal-size",
        type=count,
        default=JOURNAL_SIZE,
        metavar="N",
        help=f"keep the latest N requests in the journal, GET /_mock/requests "
        f"(default {JOURNAL_SIZE})",
    )

    load = parser.add_argument_group(
        "durability and load", "a world kept in a file, several processes, limits under abuse"
    )
    load.add_argument(
        "--state",
        metavar="FILE",
        help="keep the whole world in this SQLite file (created if missing): every "
        "acknowledged write survives a crash or restart; default: in memory",
    )
    load.add_argument(
        "--workers",
        type=workers,
        default=1,
        metavar="N",
        help="serve with N processes on the same port, sharing --state FILE (required)",
    )
    load.add_argument(
        "--max-concurrency",
        type=whole("requests in flight"),
        default=MAX_CONCURRENCY,
        metavar="N",
        help=f"answer 503 with retry-after past N requests in flight per process "
        f"(default {MAX_CONCURRENCY})",
    )
    load.add_argument(
        "--header-timeout",
        type=seconds,
        default=HEADER_TIMEOUT_S,
        metavar="SECONDS",
        help=f"close a connection whose request headers have not all arrived after this "
        f"(slow clients; default {HEADER_TIMEOUT_S:g})",
    )


def whole(what: str) -> Any:
    """An argparse type: a whole number, at least 1, refused in terms of ``what`` it counts."""

    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number of {what}: give a whole number, at least 1"
            )
        return int(text)

    return parse


workers = whole("worker processes")


def seconds(text: str) -> float:
    """``--header-timeout``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds: give a positive number, such as 10 or 2.5"
        )
    return value


def latency(text: str) -> tuple[float, float]:
    """``--latency``: ``(low, high)`` milliseconds; argparse exits 2 with the accepted forms."""
    from mockserver.control.latency import parse_latency

    try:
        return parse_latency(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fraction(text: str) -> float:
    """``--fault-rate``: a share of requests, from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a share of requests: give a number from 0 to 1, such as 0.05"
        )
    return value


def count(text: str) -> int:
    """``--journal-size``: a whole number, at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of requests to keep: give a whole number, at least 1"
        )
    return int(text)


def token(text: str) -> str:
    """``--admin-token``: any text a header can carry, not empty."""
    if not text.strip() or not text.isprintable() or text != text.strip():
        raise argparse.ArgumentTypeError(
            "the admin token must be printable text, not empty and without leading or "
            "trailing spaces (it is sent as 'Authorization: Bearer TOKEN')"
        )
    return text


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so the URL printed is the one bound (port 0 included)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def method_rank(method: str) -> tuple[int, str]:
    """Where a method goes in the list: GET, POST, PUT, PATCH, DELETE, then the rest."""
    known = method in METHOD_ORDER
    return (METHOD_ORDER.index(method) if known else len(METHOD_ORDER), method)


def route_lines(routes: Iterable[Any]) -> list[str]:
    """``METHOD path`` for each method of each route, in routing order; HEAD goes unsaid.

    ``routes`` are the app's own (Starlette ``Route`` objects), so the list cannot drift
    from what is served; a route without methods (a mount) is left out.
    """
    lines: list[str] = []
    for route in routes:
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or path is None:
            continue
        shown = [name for name in methods if name != "HEAD" or "GET" not in methods]
        lines.extend(f"  {name:<6} {path}" for name in sorted(shown, key=method_rank))
    return lines


def banner(url: str, routes: Iterable[Any], control: str = "") -> str:
    """What ``serve`` prints: the URL line first (tests parse it), the export, the API's
    routes, then the control plane's (``/_mock/``), headed by ``control`` (who may use it)."""
    listed = list(routes)
    api = [route for route in listed if not _is_control(route)]
    admin = [route for route in listed if _is_control(route)]
    lines = [
        f"avara-mock serving the Avara Viewer API at {url}",
        "Point the SDK at it:",
        f"  export AVARA_BASE_URL={url}",
        "Routes:",
        *route_lines(api),
    ]
    if admin:
        lines += [f"Control plane{f' ({control})' if control else ''}:", *route_lines(admin)]
    return "\n".join(lines)


def _is_control(route: Any) -> bool:
    return str(getattr(route, "path", "")).startswith(CONTROL)


def control_access(settings: Settings) -> str:
    """Who may use ``/_mock/``, in the banner's words."""
    from mockserver.control.guard import is_loopback

    if settings.admin_token is not None:
        return "needs the admin token: Authorization: Bearer TOKEN"
    if is_loopback(settings.host):
        return "open: the mock binds a loopback address"
    return "closed: not a loopback address and no --admin-token"


def serve(settings: Settings) -> int:
    """Run the mock until interrupted: in this process, or in ``settings.workers`` processes
    on the socket bound here (``mockserver.workers``), after the state file is checked and
    the app built once here (its errors stop the start with exit 2, before any worker)."""
    if settings.workers > 1 and settings.state is None:
        print(
            f"avara-mock: --workers {settings.workers} needs --state FILE: each worker is a "
            "process of its own, and without a state file they share, each would hold its own "
            "world (a study created through one would be unknown to the others).",
            file=sys.stderr,
        )
        return 2
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        print(
            f"avara-mock: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "choose another with --port, or --port 0 for any free port.",
            file=sys.stderr,
        )
        return 2
    try:
        app = built(settings)
    except CannotStart as exc:
        sock.close()
        print(f"avara-mock: {exc}", file=sys.stderr)
        return 2
    from mockserver.workers import WorkerApp, served

    several = settings.workers > 1
    config = uvicorn_config(settings, WorkerApp(settings) if several else served(app, settings))
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(banner(f"http://{shown}:{port}", app.routes, control_access(settings)), flush=True)
    if several:
        app.state.services.close()  # the workers open the file themselves
    del app  # several: the workers build their own; one: the config holds it
    return supervise(config, sock) if several else serve_here(config, sock)


class CannotStart(Exception):
    """A scenario or a state file the mock cannot start from; the message says why."""


def built(settings: Settings) -> Any:
    """The app, the state file checked first (``CannotStart`` says what is wrong)."""
    if settings.state is None:
        return _app_of(settings)
    from mockserver.world.sqlite import StateFileError, check_state_file

    try:
        check_state_file(settings.state)
        return _app_of(settings)
    except StateFileError as exc:
        raise CannotStart(str(exc)) from None


def _app_of(settings: Settings) -> Any:
    from mockserver.app import create_app
    from mockserver.control.state import ScenarioError

    try:
        return create_app(settings)
    except ScenarioError as exc:
        raise CannotStart(str(exc)) from None


def uvicorn_config(settings: Settings, app: Any) -> Any:
    """uvicorn's settings (measured: see the README's "Limits"): our header guards and
    bound on requests in flight instead of uvicorn's ``limit_concurrency``, which counts
    connections too, so slow clients would turn everyone away."""
    from mockserver.http.protocol import ServeConfig, protocol_for

    return ServeConfig(
        app,
        factory=settings.workers > 1,
        workers=settings.workers,
        header_timeout_s=settings.header_timeout_s,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        http=protocol_for("auto"),
        timeout_keep_alive=KEEP_ALIVE_S,
    )


def serve_here(config: Any, sock: socket.socket) -> int:
    """Serve in this process.

    At the levels that log requests, mockserver.http.access_log writes them instead of
    uvicorn's access log, which costs the mock over a third of its throughput.
    """
    import uvicorn

    from mockserver.workers import tune_collector

    tune_collector()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        flush = getattr(config.app, "flush", None)
        if flush is not None:
            flush()
    return 0


def supervise(config: Any, sock: socket.socket) -> int:
    """Serve with ``config.workers`` processes on ``sock``, until interrupted."""
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()
    return 0


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the ``serve`` options describe."""
    return Settings(
        host=args.host,
        port=args.port,
        seed=args.seed,
        lenient=args.lenient,
        stateless=args.stateless,
        strict_references=args.strict_references,
        api_keys=tuple(args.api_keys),
        log_level=args.log_level,
        latency=args.latency,
        fault_rate=args.fault_rate,
        scenario=args.scenario,
        admin_token=args.admin_token,
        journal_size=args.journal_size,
        state=args.state,
        workers=args.workers,
        max_concurrency=args.max_concurrency,
        header_timeout_s=args.header_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mockserver``: serve (the ``avara-mock`` command adds ``contract``)."""
    parser = argparse.ArgumentParser(prog="python -m mockserver", description=__doc__)
    add_serve_options(parser)
    words = list(sys.argv[1:] if argv is None else argv)
    return serve(settings_from(parser.parse_args(words[1:] if words[:1] == ["serve"] else words)))
