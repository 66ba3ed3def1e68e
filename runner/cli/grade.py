"""``dockdojo grade``: the command line over :mod:`dockdojo.runner.grading`.

The grading modules (nbclient, nbformat) are imported only when the command runs."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DockdojoError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from ..grading.reports import SubmissionResult


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grade = sub.add_parser(
        "grade",
        help="score submitted lesson notebooks against the live engine",
        description="Execute each submission in a fresh kernel, then check its engine's "
        "state in this process, and write JSON, JUnit XML, Gradescope results, a "
        "gradebook CSV and a feedback notebook per submission. The learner is "
        "each file's name (ada.ipynb is ada). Each submission runs as a pool user of "
        "its own (dd-grade-N), on a throwaway rootless engine of its own pulling from "
        "the room's mirror, confined by the limits below; this needs Linux and root. "
        "Exit code 0 means grading worked, whatever the scores.",
    )
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION.ipynb")
    grade.add_argument("--lesson", required=True, help="lesson name or path (the grader's copy)")
    grade.add_argument(
        "--out", type=Path, default=Path("grades"), help="folder for the reports (default: grades)"
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the CPU count)",
    )
    grade.add_argument(
        "--steps",
        nargs="+",
        metavar="ID",
        help="steps to score (default: the exercises; 'all' for every step)",
    )
    grade.add_argument(
        "--cell-timeout", type=float, default=None, help="seconds one cell may run (default: 60)"
    )
    grade.add_argument(
        "--timeout", type=float, default=None, help="seconds one submission may run (default: 600)"
    )
    grade.add_argument(
        "--max-output",
        type=int,
        default=None,
        metavar="BYTES",
        help="output kept per cell; the rest is dropped and the report says so (default: 100000)",
    )
    grade.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the room's settings (default: /etc/dockdojo/room.toml when it exists): its "
        "mirror and the limits of each submission's engine",
    )
    limits = grade.add_argument_group("limits of each submission's kernel")
    limits.add_argument(
        "--memory-mb", type=int, default=None, help="memory, its files included (default: 1024)"
    )
    limits.add_argument(
        "--pids", type=int, default=None, help="processes and threads at once (default: 256)"
    )
    limits.add_argument(
        "--cpu-seconds", type=float, default=None, help="CPU time in all (default: 300)"
    )
    limits.add_argument(
        "--disk-mb", type=int, default=None, help="its folder, home and /tmp (default: 256)"
    )
    grade.add_argument(
        "--trusted",
        action="store_true",
        help="run the notebooks as you, on the current engine, without isolation: only "
        "for notebooks you wrote yourself (the reports say so)",
    )
    grade.set_defaults(func=_grade)


def _grade(args: argparse.Namespace) -> int:

    from ..engine import Engine
    from ..grading import Confinement
    from ..grading.execute import (
        DEFAULT_CELL_TIMEOUT,
        DEFAULT_MAX_OUTPUT,
        DEFAULT_SUBMISSION_TIMEOUT,
        GradeOptions,
        grade_all,
        private_copies,
    )
    from ..grading.reports import write_all
    from ..lessons import load_lesson
    from ..room.config import RoomConfig, load_config
    from ..room.mirror import Mirror

    lesson = load_lesson(args.lesson)
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        raise DockdojoError(f"No such submission: {', '.join(missing)}.", "Check the paths.")
    steps = None
    if args.steps == ["all"]:
        steps = tuple(s.id for s in lesson.steps)
    elif args.steps:
        unknown = sorted(set(args.steps) - {s.id for s in lesson.steps})
        if unknown:
            raise DockdojoError(
                f"The lesson has no step {', '.join(unknown)}.",
                f"Use the step ids that dockdojo run {args.lesson} lists.",
            )
        steps = tuple(args.steps)
    defaults = Confinement()
    given = {
        name: getattr(args, name)
        for name in ("memory_mb", "pids", "cpu_seconds", "disk_mb")
        if getattr(args, name) is not None
    }
    limits = Confinement(**{**defaults.__dict__, **given})
    limits.check()
    room_options: dict[str, RoomConfig] = {}
    if args.trusted:
        with Engine(lesson=lesson.id) as engine:
            engine.ping()  # no engine: grading cannot work, say so before running anything
            host = engine.host
        where = f"on {host}, trusted (as you, without isolation)"
    else:
        host = None
        room = load_config(args.config)
        room_options["room"] = room
        status = Mirror(room).status(content=False)
        if not status.running:
            raise DockdojoError(
                f"The room's mirror is not running, so submissions' engines cannot pull "
                f"({status.describe()}).",
                "Start it: dockdojo room mirror start (see dockdojo room mirror --help).",
            )
        where = "each isolated on an engine of its own"
    options = GradeOptions(
        lesson=lesson,
        steps=steps,
        docker_host=host,
        cell_timeout=args.cell_timeout or DEFAULT_CELL_TIMEOUT,
        submission_timeout=args.timeout or DEFAULT_SUBMISSION_TIMEOUT,
        max_output=args.max_output or DEFAULT_MAX_OUTPUT,
        trusted=args.trusted,
        limits=limits,
        hide=(args.out.resolve(),),
    )
    if room_options:
        options = replace(options, room=room_options["room"])
    total = len(args.submissions)
    done = [0]
    tty = sys.stderr.isatty()
    print(
        f"grading {total} submission(s) of {lesson.id} {where}, {args.jobs} at a time",
        file=sys.stderr,
    )

    def progress(result: SubmissionResult) -> None:
        done[0] += 1
        width = 30
        filled = width * done[0] // total
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {done[0]}/{total}  {result.learner}: {result.points}/"
            f"{result.max_points} ({result.status}, {result.seconds:.1f} s)"
        )
        if tty:  # one line that fills up
            end = "" if done[0] < total else "\n"
            print("\r" + line.ljust(100), end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    copies = private_copies(list(args.submissions))  # before any submission runs
    results = grade_all(
        list(args.submissions), options, jobs=args.jobs, on_done=progress, copies=copies
    )
    submissions = {
        str(path): nb for path, nb in ((p, _notebook(c)) for p, c in copies.items()) if nb
    }
    written = write_all(results, args.out, submissions)
    print(f"{'LEARNER':<24} {'STATUS':<12} {'POINTS':>8}  SUBMISSION")
    for r in results:
        print(f"{r.learner:<24} {r.status:<12} {r.points:>3}/{r.max_points:<4}  {r.submission}")
    print(f"wrote {len(written)} file(s) to {args.out}", file=sys.stderr)
    return 0


def _notebook(copy: bytes | OSError) -> NotebookNode | None:
    """A private copy as a notebook, or None when it is none (already reported)."""
    import nbformat

    if isinstance(copy, OSError):
        return None
    try:
        nb: NotebookNode = nbformat.reads(copy.decode("utf-8"), as_version=4)
    except Exception:  # an unreadable submission is already reported as such
        return None
    return nb
