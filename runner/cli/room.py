"""``dockdojo room engine ...`` and ``dockdojo room mirror ...``: a workshop server's
learner engines and registry mirror (Linux, as root)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import room_engine, room_hub, room_mirror


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``room`` and its command groups to the ``dockdojo`` command's subparsers."""
    room = sub.add_parser(
        "room",
        help="run a workshop room: an engine per learner, one registry mirror",
        description="A workshop server's rooms (Linux, as root): each learner gets a "
        "rootless Docker Engine of their own, and every engine pulls from the room's "
        "read-only registry mirror.",
    )
    room.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the room's settings (default: $DOCKDOJO_ROOM_CONFIG, else "
        "/etc/dockdojo/room.toml if it exists)",
    )
    groups = room.add_subparsers(dest="room_group", required=True, metavar="GROUP")
    room_engine.add_commands(groups)
    room_mirror.add_commands(groups)
    room_hub.add_commands(groups)


__all__ = ["add_commands"]
