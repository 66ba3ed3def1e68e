"""``dockdojo room mirror start|stop|status|pack|load``: the room's registry mirror."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..mirror import Mirror

_HUB = "https://registry-1.docker.io"


def add_commands(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mirror`` to ``dockdojo room``'s command groups."""
    mirror = groups.add_parser(
        "mirror",
        help="the room's read-only registry mirror, and image archives for offline rooms",
        description="The room's registry mirror: a Distribution registry (package "
        "docker-registry) on 127.0.0.1:mirror_port, storage in STATE/mirror, that every "
        "learner engine pulls from (as http://10.0.2.2:PORT). It is read-only: learners "
        "reach the host's loopback, so none may push to it. Images arrive with load "
        "(an archive written by pack, no network needed) or, online, with start "
        "--pull-through.",
    )
    commands = mirror.add_subparsers(dest="mirror_command", required=True, metavar="COMMAND")

    start = commands.add_parser(
        "start",
        help="run the mirror (read-only); prints its URL",
        description="Run the mirror, read-only, on 127.0.0.1:mirror_port. Safe to run "
        "again: when it runs with the same settings, it only prints the URL. Needs root.",
    )
    start.add_argument(
        "--pull-through",
        nargs="?",
        const=_HUB,
        default=None,
        metavar="URL",
        help="also fetch what it lacks from Docker Hub (or URL) and keep it; needs the "
        "internet. Distribution 2.8 keeps a pull-through cache read-only too, so learners "
        "still cannot push; but they can make it download any public image (disk use). "
        "Default: off, the mirror serves only what was loaded",
    )
    start.set_defaults(func=_start)

    stop = commands.add_parser(
        "stop", help="stop the mirror; no process is left", description="Needs root."
    )
    stop.set_defaults(func=_stop)

    status = commands.add_parser(
        "status",
        help="whether it runs, what it holds, which lessons it can serve",
        description="Whether the mirror runs; every repository and tag it holds with its "
        "digest and size; and for each lesson, which of its images it serves. Exit code 0 "
        "when it runs, 3 when it is stopped.",
    )
    status.add_argument(
        "--lesson",
        dest="lessons",
        action="append",
        metavar="NAME",
        help="only these lessons (repeatable; default: every lesson)",
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(func=_status)

    pack = commands.add_parser(
        "pack",
        help="write images from a registry to one archive (for a USB stick)",
        description="Copy images, byte for byte (digests kept), from a registry into one "
        "tar file holding an OCI image layout. Written to a temporary file first, so the "
        "archive is whole or absent.",
    )
    pack.add_argument("images", nargs="*", metavar="IMAGE", help="Docker Hub images: nginx ...")
    pack.add_argument(
        "--lesson",
        dest="lessons",
        action="append",
        default=[],
        metavar="NAME",
        help="every image the lesson declares (repeatable)",
    )
    pack.add_argument(
        "--all-lessons",
        action="store_true",
        help="every image of every lesson of the course (with --lesson: all the same)",
    )
    pack.add_argument("-o", "--output", type=Path, required=True, help="the archive to write")
    pack.add_argument(
        "--from",
        dest="source",
        metavar="HOST:PORT",
        help="the registry to copy from (plain HTTP, no login; default: the room mirror)",
    )
    pack.add_argument(
        "--platform",
        metavar="OS/ARCH",
        help="of an image that lists several platforms, pack only this one (its tag then "
        "names that platform's manifest); default: every platform",
    )
    pack.set_defaults(func=_pack)

    load = commands.add_parser(
        "load",
        help="put an archive's images into the mirror (no network)",
        description="Check every blob and manifest of the archive by its digest while "
        "storing it through a private, temporary registry (a UNIX socket only root "
        "reaches); blobs first, manifests last, so an altered archive adds nothing the "
        "mirror serves. Works whether the mirror runs or not. Needs root.",
    )
    load.add_argument("archive", type=Path, help="an archive written by dockdojo room mirror pack")
    load.set_defaults(func=_load)


def _mirror(args: argparse.Namespace) -> Mirror:
    from ..mirror import Mirror
    from ..room import load_config

    return Mirror(load_config(args.config))


def _start(args: argparse.Namespace) -> int:
    status = _mirror(args).start(pull_through=args.pull_through)
    print(status.describe(), end="", file=sys.stderr)
    print(status.url)
    return 0


def _stop(args: argparse.Namespace) -> int:
    print(_mirror(args).stop().describe(), end="", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    status = _mirror(args).status(args.lessons)
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        print(status.describe(), end="")
    return 0 if status.running else 3


def _pack(args: argparse.Namespace) -> int:
    from ..lessons import course
    from ..text import human_bytes, plural

    lessons = list(dict.fromkeys([*args.lessons, *(course() if args.all_lessons else ())]))
    result = _mirror(args).pack(
        args.images, lessons, args.output, source=args.source, platform=args.platform
    )
    print(
        f"packed {plural(len(result.images), 'image')} ({', '.join(result.images)}), "
        f"{plural(result.blobs, 'blob')}, into {result.path}: "
        f"{human_bytes(result.size)} in {result.seconds:.1f} s"
    )
    return 0


def _load(args: argparse.Namespace) -> int:
    from ..text import human_bytes, plural

    result = _mirror(args).load(args.archive)
    served = (
        "the mirror serves them now"
        if result.served
        else "the mirror is stopped: start it to serve them"
    )
    print(
        f"loaded {plural(len(result.images), 'image')} ({', '.join(result.images)}): "
        f"{plural(result.blobs_added, 'blob')} added ({human_bytes(result.bytes_added)}), "
        f"{result.blobs_present} already held, every digest checked, in "
        f"{result.seconds:.1f} s; {served}"
    )
    return 0


__all__ = ["add_commands"]
