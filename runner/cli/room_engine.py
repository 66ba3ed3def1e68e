"""``dockdojo room engine start|stop|status|reset``: each learner's own rootless engine."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

RESET_HELP = (
    "Empty the learner's engine: remove every container (running or not), every network "
    "they made and every volume; keep every image. With --lesson ID, only what carries "
    "the label dockdojo.lesson=ID. With --images, also remove every image the room's "
    "mirror does not serve (kept: images one of whose repository digests the mirror "
    "serves now, with only the tags of the repositories they were pulled as)."
)


def add_commands(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``engine`` to ``dockdojo room``'s command groups."""
    group = groups.add_parser(
        "engine",
        help="each learner's own Docker Engine (rootless, as the learner's Unix user)",
        description="Each learner gets a rootless Docker Engine of their own that runs as "
        "their Unix user, with its own data root (STATE/engines/LEARNER/data), network "
        "namespace and socket (/run/user/UID/docker.sock), pulling from the room's "
        "mirror, limited by room.toml's [limits].",
    )
    actions = group.add_subparsers(dest="engine_action", required=True, metavar="ACTION")

    start = actions.add_parser(
        "start",
        help="start a learner's engine (idempotent) and print its DOCKER_HOST",
        description="Start LEARNER's engine, or do nothing when it runs; wait until its "
        "API answers, then print export DOCKER_HOST=... for it.",
    )
    start.add_argument("learner", metavar="LEARNER", help="the learner's Unix user name")
    start.add_argument(
        "--create-user",
        action="store_true",
        help="create the Unix user with useradd -m when it does not exist",
    )
    start.set_defaults(func=_start)

    stop = actions.add_parser(
        "stop",
        help="stop a learner's engine (or every engine): no process, cgroup or mount is left",
    )
    stop.add_argument("learners", nargs="*", metavar="LEARNER")
    stop.add_argument("--all", action="store_true", help="stop every learner's engine")
    stop.set_defaults(func=_stop)

    status = actions.add_parser(
        "status",
        help="one line per learner engine (every engine when no LEARNER is given)",
    )
    status.add_argument("learners", nargs="*", metavar="LEARNER")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_status)

    reset = actions.add_parser("reset", help="empty a learner's engine", description=RESET_HELP)
    reset.add_argument("learner", metavar="LEARNER")
    scope = reset.add_mutually_exclusive_group()
    scope.add_argument(
        "--lesson",
        metavar="ID",
        help="remove only the containers, networks and volumes labelled dockdojo.lesson=ID",
    )
    scope.add_argument(
        "--images",
        action="store_true",
        help="also remove the images the room's mirror does not serve",
    )
    reset.set_defaults(func=_reset)


def _start(args: argparse.Namespace) -> int:
    from ..room import load_config
    from ..room.engines import LearnerEngine

    status = LearnerEngine(args.learner, load_config(args.config)).start(
        create_user=args.create_user
    )
    print(status.describe(), file=sys.stderr)
    print(f"export DOCKER_HOST={shlex.quote(status.docker_host)}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ..errors import RoomError
    from ..room import load_config
    from ..room.engines import LearnerEngine, engine_names

    config = load_config(args.config)
    names = engine_names(config) if args.all else args.learners
    if not names and not args.all:
        raise RoomError(
            "Say whose engine to stop.", "dockdojo room engine stop LEARNER... (or --all)"
        )
    with ThreadPoolExecutor(max_workers=8) as pool:  # each may wait for its containers
        for status in pool.map(lambda name: LearnerEngine(name, config).stop(), names):
            print(status.describe(), file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..room import load_config
    from ..room.engines import SCHEMA, LearnerEngine, engine_names

    config = load_config(args.config)
    names = args.learners or engine_names(config)
    found = [LearnerEngine(name, config).status() for name in names]
    if args.json:
        print(json.dumps({"schema": SCHEMA, "engines": [s.to_json() for s in found]}, indent=2))
    else:
        for status in found:
            print(status.describe())
        if not found:
            print(f"no learner engines in {config.state / 'engines'}")
    return 0 if not args.learners or all(s.running for s in found) else 3


def _reset(args: argparse.Namespace) -> int:
    from ..room import load_config
    from ..room.engines import LearnerEngine

    engine = LearnerEngine(args.learner, load_config(args.config))
    print(engine.reset(lesson=args.lesson, images=args.images).describe())
    return 0


__all__ = ["add_commands"]
