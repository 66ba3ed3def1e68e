"""``dockdojo doctor`` (is this machine ready?), ``pull`` and ``images`` (the engine, as
Docker Desktop shows it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import PullProgress
    from ..readiness import Finding
    from ..room import RoomConfig


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``doctor``, ``pull`` and ``images`` to the ``dockdojo`` command's subparsers."""
    doctor = sub.add_parser(
        "doctor",
        help="check that this machine is ready for the lessons (with --room: a workshop server)",
        description="Check the engine dockdojo uses (which kind, its version, free disk), "
        "every image of the lessons (on the engine, or in its mirror), the host ports they "
        "fix, and the learner's identity. With --room, also the packages and kernel "
        "features learner engines need and the room's mirror. Every failing line says how "
        "to fix it; the exit code is 0 only when all pass.",
    )
    doctor.add_argument(
        "--lesson",
        dest="lessons",
        action="append",
        metavar="NAME",
        help="check for these lessons (repeatable; default: every lesson)",
    )
    doctor.add_argument(
        "--room", action="store_true", help="also check this server for a workshop room"
    )
    doctor.add_argument(
        "--config",
        type=Path,
        default=None,
        help="with --room: the room's settings (default: $DOCKDOJO_ROOM_CONFIG, else "
        "/etc/dockdojo/room.toml if it exists)",
    )
    doctor.add_argument(
        "--no-rehearsal",
        action="store_true",
        help="with --room: skip solving the first lesson on a throwaway "
        "learner's engine (about 20 s)",
    )
    doctor.add_argument("--json", action="store_true", help="print JSON for scripts")
    doctor.set_defaults(func=_doctor)

    pull = sub.add_parser("pull", help="pull images with progress")
    pull.add_argument("images", nargs="+", metavar="IMAGE")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    pull.set_defaults(func=_pull)

    images = sub.add_parser("images", help="list local images as the Images tab does")
    images.set_defaults(func=_images)


def _doctor(args: argparse.Namespace) -> int:
    from ..context import environment_engine
    from ..lessons import course, load_lesson
    from ..readiness import engine_findings, render, room_findings, to_json

    names = args.lessons or course()
    lessons = [load_lesson(name) for name in names]
    findings = []
    if not args.room:  # a room server needs no engine of its own: each learner has theirs
        with environment_engine() as engine:
            findings = engine_findings(engine, lessons)
    else:
        from ..room import load_config

        config = load_config(args.config)
        findings += room_findings(f"http://127.0.0.1:{config.mirror_port}", lessons)
        if not args.no_rehearsal:
            findings.append(_rehearsal(config, lessons[0].id if lessons else None))
    if args.json:
        print(to_json(findings))
    else:
        sys.stdout.write(render(findings))
    return 0 if all(f.ok for f in findings) else 1


def _rehearsal(config: RoomConfig, lesson: str | None) -> Finding:
    from ..readiness import Finding
    from ..room.rehearsal import kept_log, rehearse

    if lesson is None:
        return Finding("rehearsal", False, "there is no lesson to rehearse", "Name one: --lesson")
    done = rehearse(config, lesson)
    return Finding(
        "rehearsal",
        done.passed,
        done.detail,
        ""
        if done.passed
        else (
            "Fix the failing checks above, then run dockdojo doctor --room again; the "
            f"rehearsal engine's log is kept in {kept_log(config)}."
        ),
    )


def _pull(args: argparse.Namespace) -> int:
    from ..context import environment_engine
    from ..text import human_bytes

    engine = environment_engine()
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
    from ..context import environment_engine
    from ..text import human_bytes

    rows = environment_engine().images()
    print(f"{'NAME':<32} {'TAG':<14} {'IMAGE ID':<13} {'CREATED':<17} {'SIZE':>9}  IN USE")
    for r in rows:
        print(
            f"{r.repository:<32} {r.tag:<14} {r.short_id:<13} "
            f"{r.created:%Y-%m-%d %H:%M} {human_bytes(r.size):>9}  "
            f"{'yes (' + str(r.containers) + ')' if r.in_use else 'no'}"
        )
    return 0


__all__ = ["add_commands"]
