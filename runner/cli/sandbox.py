"""``dockdojo sandbox start|stop|status``: the private engine and its registry mirror."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..sandbox import default_state_dir


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sandbox`` to the ``dockdojo`` command's subparsers."""
    box = sub.add_parser(
        "sandbox",
        help="start, stop or inspect a private Docker Engine with a local registry mirror",
    )
    box.add_argument("action", choices=["start", "stop", "status"])
    box.add_argument(
        "--state", type=Path, default=None, help=f"state folder (default: {default_state_dir()})"
    )
    box.add_argument(
        "--registry-port",
        type=int,
        default=None,
        help="port of the registry mirror on 127.0.0.1 (default: 5000)",
    )
    box.set_defaults(func=_sandbox)


def _sandbox(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    box = Sandbox(args.state, args.registry_port)
    if args.action == "start":
        status = box.start()
        print(status.describe(), file=sys.stderr)
        print(f"export DOCKER_HOST={shlex.quote(status.docker_host)}")
        return 0
    if args.action == "stop":
        print(box.stop().describe(), file=sys.stderr)
        return 0
    status = box.status()
    print(status.describe())
    if status.running:
        print(f"export DOCKER_HOST={shlex.quote(status.docker_host)}")
    return 0 if status.running else 3


__all__ = ["add_commands"]
