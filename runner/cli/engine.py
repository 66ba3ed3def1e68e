"""``dockdojo doctor``, ``pull`` and ``images``: the engine, as Docker Desktop shows it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import PullProgress


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``doctor``, ``pull`` and ``images`` to the ``dockdojo`` command's subparsers."""
    doctor = sub.add_parser("doctor", help="say which Docker Engine dockdojo uses, if any")
    doctor.set_defaults(func=_doctor)

    pull = sub.add_parser("pull", help="pull images with progress")
    pull.add_argument("images", nargs="+", metavar="IMAGE")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    pull.set_defaults(func=_pull)

    images = sub.add_parser("images", help="list local images as the Images tab does")
    images.set_defaults(func=_images)


def _doctor(_: argparse.Namespace) -> int:
    from ..engine import Engine

    info = Engine().ping()
    print(
        f"engine: Docker {info.version} (API {info.api_version}, {info.os}/{info.arch}) "
        f"at {info.host}"
    )
    if info.mirrors:
        print("registry mirrors: " + ", ".join(info.mirrors))
    return 0


def _pull(args: argparse.Namespace) -> int:
    from ..engine import Engine
    from ..text import human_bytes

    engine = Engine()
    tty = sys.stderr.isatty()

    def show(progress: PullProgress) -> None:
        line = f"{progress.ref}: {progress.describe()}"
        print(
            ("\r" + line.ljust(78)) if tty else line,
            end="" if tty else "\n",
            file=sys.stderr,
            flush=True,
        )

    for image in args.images:
        info = engine.pull(image, show if not args.quiet else None)
        if tty and not args.quiet:
            print(file=sys.stderr)
        print(f"{info.name}  {info.short_id}  {human_bytes(info.size)}")
    return 0


def _images(_: argparse.Namespace) -> int:
    from ..engine import Engine
    from ..text import human_bytes

    rows = Engine().images()
    print(f"{'NAME':<32} {'TAG':<14} {'IMAGE ID':<13} {'CREATED':<17} {'SIZE':>9}  IN USE")
    for r in rows:
        print(
            f"{r.repository:<32} {r.tag:<14} {r.short_id:<13} "
            f"{r.created:%Y-%m-%d %H:%M} {human_bytes(r.size):>9}  "
            f"{'yes (' + str(r.containers) + ')' if r.in_use else 'no'}"
        )
    return 0


__all__ = ["add_commands"]
