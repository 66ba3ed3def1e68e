"""The ``dockdojo`` command. ``main(argv) -> int`` so tests can call it in-process.

One module per command group; each adds its parsers and imports what its commands use
only when they run, so ``dockdojo --help`` answers at once:

- :mod:`.sandbox`: ``sandbox start|stop|status``;
- :mod:`.engine`: ``doctor``, ``pull``, ``images``;
- :mod:`.lessons`: ``build``, ``run``, ``check`` (tables in :mod:`.tables`);
- :mod:`.grade`: ``grade``;
- :mod:`.lab`: ``lab``;
- :mod:`.room`: ``room engine ...``, ``room mirror ...`` (workshop servers).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import DockdojoError
from . import engine, grade, lab, lessons, room, sandbox


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockdojo",
        description="Docker's getting-started guides as hands-on Jupyter lessons.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for group in (sandbox, engine, lessons, grade, lab, room):
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except DockdojoError as exc:
        print(f"error: {exc.what}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
