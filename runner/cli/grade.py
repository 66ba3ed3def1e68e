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

    from ..authoring.model import Lesson
    from ..grading.execute import GradeOptions
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
    from ..grading.execute import grade_all, learner_of, private_copies
    from ..grading.reports import check_names, write_all, write_one

    options, where = _options(args)
    try:
        check_names([learner_of(p) for p in args.submissions])
    except ValueError as exc:
        raise DockdojoError(f"{exc}.", "Give each learner's notebook a distinct name.") from exc
    total = len(args.submissions)
    print(
        f"grading {total} submission(s) of {options.lesson.id} {where}, {args.jobs} at a time",
        file=sys.stderr,
    )
    args.out.mkdir(parents=True, exist_ok=True)  # hidden from the kernels from the start
    copies = private_copies(list(args.submissions))  # before any submission runs
    submissions = {
        str(path): nb for path, nb in ((p, _notebook(c)) for p, c in copies.items()) if nb
    }
    progress = _Progress(total)

    def done(result: SubmissionResult) -> None:
        write_one(result, args.out, submissions)  # kept even if the batch is stopped later
        progress.show(result)

    results = grade_all(
        list(args.submissions), options, jobs=args.jobs, on_done=done, copies=copies
    )
    written = write_all(results, args.out, submissions)
    print(f"{'LEARNER':<24} {'STATUS':<12} {'POINTS':>8}  SUBMISSION")
    for r in results:
        print(f"{r.learner:<24} {r.status:<12} {r.points:>3}/{r.max_points:<4}  {r.submission}")
    print(f"wrote {len(written)} file(s) to {args.out}", file=sys.stderr)
    return 0


def _options(args: argparse.Namespace) -> tuple[GradeOptions, str]:
    """The grading options from the command line, and where grading runs, in words.
    Raises :class:`DockdojoError` before anything runs when grading cannot work."""
    from ..context import environment_engine
    from ..grading import Confinement
    from ..grading.execute import (
        DEFAULT_CELL_TIMEOUT,
        DEFAULT_MAX_OUTPUT,
        DEFAULT_SUBMISSION_TIMEOUT,
        GradeOptions,
    )
    from ..lessons import load_lesson
    from ..mirror import Mirror
    from ..room.config import load_config

    lesson = load_lesson(args.lesson)
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        raise DockdojoError(f"No such submission: {', '.join(missing)}.", "Check the paths.")
    given = {
        name: getattr(args, name)
        for name in ("memory_mb", "pids", "cpu_seconds", "disk_mb")
        if getattr(args, name) is not None
    }
    options = GradeOptions(
        lesson=lesson,
        steps=_steps(args, lesson),
        cell_timeout=args.cell_timeout or DEFAULT_CELL_TIMEOUT,
        submission_timeout=args.timeout or DEFAULT_SUBMISSION_TIMEOUT,
        max_output=args.max_output or DEFAULT_MAX_OUTPUT,
        trusted=args.trusted,
        limits=replace(Confinement(), **given),
        hide=(args.out.resolve(),),
    )
    options.limits.check()
    if args.trusted:
        with environment_engine(lesson=lesson.id) as engine:
            engine.ping()  # no engine: grading cannot work, say so before running anything
            host = engine.host
        return replace(options, docker_host=host), f"on {host}, trusted (as you, unisolated)"
    room = load_config(args.config)
    status = Mirror(room).status(content=False)
    if not status.running:
        raise DockdojoError(
            "The room's mirror is not running, so submissions' engines cannot pull "
            f"({status.describe()}).",
            "Start it: dockdojo room mirror start (see dockdojo room mirror --help).",
        )
    return replace(options, room=room), "each isolated on an engine of its own"


def _steps(args: argparse.Namespace, lesson: Lesson) -> tuple[str, ...] | None:
    if args.steps == ["all"]:
        return tuple(s.id for s in lesson.steps)
    if not args.steps:
        return None
    unknown = sorted(set(args.steps) - {s.id for s in lesson.steps})
    if unknown:
        raise DockdojoError(
            f"The lesson has no step {', '.join(unknown)}.",
            f"Use the step ids that dockdojo run {args.lesson} lists.",
        )
    return tuple(args.steps)


class _Progress:
    """One line per graded submission (one line that fills up on a terminal)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()

    def show(self, result: SubmissionResult) -> None:
        self.done += 1
        width = 30
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {self.done}/{self.total}  {result.learner}: {result.points}/"
            f"{result.max_points} ({result.status}, {result.seconds:.1f} s)"
        )
        if self.tty:
            end = "" if self.done < self.total else "\n"
            print("\r" + line.ljust(100), end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


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
