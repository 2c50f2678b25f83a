"""The ``avara-mock`` command: ``serve`` runs the mock, ``contract`` tests an implementation,
``drift`` compares ``schemas/`` with the installed SDK.

This module sits on top of both packages: it is the one place the command line meets them.
The suite (hypothesis, httpx and all) loads only for ``contract``, the SDK only for
``drift``: ``serve``, the command users start most, imports no more than
``python -m mockserver serve`` does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mockserver.cli import add_serve_options, serve, settings_from

if TYPE_CHECKING:
    from contract_tests.transport.target import Target

COMMANDS = ("serve", "contract", "drift")
MOCK_KEY = "avara-mock-contract"


def build_parser() -> argparse.ArgumentParser:
    """``serve`` (the default), ``contract`` and ``drift``."""
    parser = argparse.ArgumentParser(
        prog="avara-mock",
        description="Offline mock server and contract tests of the Avara Viewer API.",
    )
    commands = parser.add_subparsers(dest="command")
    add_serve_options(commands.add_parser("serve", help="serve the mock (the default command)"))
    add_contract_options(
        commands.add_parser("contract", help="test an implementation against the contract")
    )
    add_drift_options(
        commands.add_parser("drift", help="compare schemas/ with the installed avara SDK")
    )
    return parser


def _default(name: str, fallback: str) -> str:
    """A budget's default: the ``AVARA_CONTRACT_<NAME>`` variable that also configures
    ``contract_tests.conformance``, else ``fallback`` (argparse converts and checks it)."""
    return os.environ.get(f"AVARA_CONTRACT_{name}", fallback)


def add_contract_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``contract``."""
    parser.add_argument(
        "--base-url", help="the implementation to test (default: avara-mock itself, in-process)"
    )
    parser.add_argument(
        "--api-key", help=f"bearer key to send (default: $AVARA_API_KEY, else {MOCK_KEY!r})"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=_default("MAX_EXAMPLES", "500"),
        help="requests hypothesis draws (default 500, or $AVARA_CONTRACT_MAX_EXAMPLES)",
    )
    parser.add_argument(
        "--sequences",
        type=int,
        default=_default("SEQUENCES", "25"),
        help="sequences of calls the state machine runs against a model of the world "
        "(default 25, or $AVARA_CONTRACT_SEQUENCES; 0: none)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=_default("STEPS", "30"),
        help="calls a sequence makes at most (default 30, or $AVARA_CONTRACT_STEPS)",
    )
    parser.add_argument("--seed", type=int, help="draw the same requests as an earlier run")
    parser.add_argument(
        "--inferred",
        choices=("warn", "fail"),
        default="warn",
        help="what a breach of an inferred rule is (default: a warning)",
    )
    parser.add_argument("--junit-xml", type=Path, metavar="FILE", help="also write JUnit XML")
    parser.add_argument("--timeout", type=float, help="seconds to wait for an answer")
    parser.add_argument(
        "--no-shrink", dest="shrink", action="store_false", help="report failures unshrunk"
    )
    parser.add_argument(
        "--stateless",
        action="store_true",
        help="the target keeps no state (a Prism-style mock): per-request checks only, none "
        "that needs state",
    )


def add_drift_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``drift``."""
    parser.add_argument(
        "--sdk-module", default="avara", help="the SDK's module to compare with (default avara)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--notes", action="store_true", help="also print the notes (findings that are not drift)"
    )


@contextlib.contextmanager
def open_target(
    base_url: str | None, timeout: float, *, stateless: bool = False
) -> Iterator[Target]:
    """The implementation at ``base_url``, or avara-mock in-process (``stateless``: as
    ``serve --stateless`` runs it); unreachable: exit 2."""
    from contract_tests.transport.target import asgi_target, http_target

    if base_url is None:
        from mockserver import Settings, create_app

        with asgi_target(create_app(Settings(stateless=stateless)), timeout) as target:
            yield target
        return
    with http_target(base_url, timeout) as http:
        http.check_reachable()
        yield http


def contract(args: argparse.Namespace) -> int:
    """Run the suite; 0 conforms, 1 a check failed, 2 unusable options or target."""
    from contract_tests.report import summary, write_junit
    from contract_tests.suite import KeyRefused, Options, Report, run_suite
    from contract_tests.transport.target import DEFAULT_TIMEOUT, TargetUnreachable
    from mockserver.contract import Contract

    key = args.api_key or os.environ.get("AVARA_API_KEY") or MOCK_KEY
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if min(args.max_examples, args.sequences) < 0 or args.steps < 1 or timeout <= 0:
        print(
            "avara-mock contract: --max-examples >= 0, --sequences >= 0, --steps >= 1 and "
            "--timeout > 0",
            file=sys.stderr,
        )
        return 2
    options = Options(
        max_examples=args.max_examples,
        seed=args.seed,
        inferred=args.inferred,
        api_key=key,
        shrink=args.shrink,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
        stateless=args.stateless,
        sequences=args.sequences,
        steps=args.steps,
    )
    try:
        with open_target(args.base_url, timeout, stateless=args.stateless) as target:
            report: Report = run_suite(target, Contract.load(), options)
    except (TargetUnreachable, KeyRefused) as exc:
        print(f"avara-mock contract: {exc}", file=sys.stderr)
        return 2
    print(summary(report))
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    return 1 if report.failed else 0


def drift(args: argparse.Namespace) -> int:
    """Compare schemas/ with the SDK; 0 they agree, 1 drift, 2 no SDK or a bad x-sdk."""
    from contract_tests.sdk.drift import as_json, inspect_sdk, render
    from contract_tests.sdk.models import Unusable

    try:
        report = inspect_sdk(args.sdk_module)
    except Unusable as exc:
        print(f"avara-mock drift: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(report), indent=2, ensure_ascii=False))
    else:
        print(render(report, notes=args.notes))
    return 1 if report.drifted else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avara-mock``; no command means ``serve``."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] not in (*COMMANDS, "-h", "--help"):
        words.insert(0, "serve")
    args = build_parser().parse_args(words)
    if args.command == "contract":
        return contract(args)
    if args.command == "drift":
        return drift(args)
    return serve(settings_from(args))


if __name__ == "__main__":
    raise SystemExit(main())
