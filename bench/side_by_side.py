"""Two mocks side by side on one CPU: this checkout's against another git revision's.

Both run at the same time, pinned on the same CPU, each loaded with creates by its own wrk
(bench/together.py says why that is steady where runs apart are not): the ratio of the
creates each answered, this checkout's over the revision's, says which costs less (1.10:
this one answers 10% more). ``--against HEAD`` measures the method itself (about 1.00,
within 0.01 to 0.02).

The revision is checked out in a temporary git worktree (removed after) and served from it
with this interpreter, so both run the same installed packages. Writes nothing; exits 1 on
a failed run, 2 without wrk or git. Run: ``python bench/side_by_side.py --against REV
[--state] [--rounds 3] [--duration 8]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError
from bench.servers import HOST, ROOT, ArgvForPort, Pinning, pinning
from bench.together import Side, together_round


def served_from(checkout: Path, state: Path | None) -> ArgvForPort:
    """``python -m mockserver serve`` run in ``checkout``, so its code is the one imported."""

    def argv(port: int) -> list[str]:
        command = ["env", "-C", str(checkout), sys.executable, "-m", "mockserver", "serve"]
        command += ["--host", HOST, "--port", str(port)]
        return command + (["--state", str(state)] if state is not None else [])

    return argv


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary git worktree, removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="bench-side-") as folder:
        tree = Path(folder) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        added = subprocess.run(
            [*git, "add", "--detach", str(tree), revision], capture_output=True, text=True
        )
        if added.returncode != 0:
            raise BenchError(f"git worktree add {revision} failed: {added.stderr.strip()}")
        try:
            yield tree
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], capture_output=True)


def one_round(checkouts: Sequence[Path], state: bool, duration: int, pins: Pinning) -> list[Side]:
    """Both mocks started afresh (a fresh state file each), warmed, then loaded together."""
    with tempfile.TemporaryDirectory(prefix="bench-side-") as name:
        folder = Path(name)
        argvs = [
            served_from(checkout, folder / f"{k}.db" if state else None)
            for k, checkout in enumerate(checkouts)
        ]
        return together_round(argvs, duration, pins)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--against", default="HEAD", help="git revision to compare (HEAD)")
    parser.add_argument("--state", action="store_true", help="both with --state FILE")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per round (8)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None or shutil.which("git") is None:
        print("side_by_side.py needs wrk and git", file=sys.stderr)
        return 2
    pins = pinning()
    print(f"this checkout against {args.against}, {'--state' if args.state else 'in memory'}")
    print(pins.note + " (both servers on the same CPU)")
    ratios: list[float] = []
    try:
        with worktree(args.against) as other:
            for number in range(1, args.rounds + 1):
                mine, theirs = one_round((ROOT, other), args.state, args.duration, pins)
                ratios.append(mine.run.requests / max(theirs.run.requests, 1))
                print(
                    f"  round {number}: this {mine.run.requests} creates "
                    f"({mine.cpu_us:.0f} us CPU each), {args.against} {theirs.run.requests} "
                    f"({theirs.cpu_us:.0f} us): {ratios[-1]:.3f}"
                )
    except BenchError as error:
        print(f"bench FAILED: {error}", file=sys.stderr)
        return 1
    print(
        f"creates answered, this / {args.against}: {statistics.median(ratios):.3f} "
        f"(rounds {min(ratios):.3f}-{max(ratios):.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
