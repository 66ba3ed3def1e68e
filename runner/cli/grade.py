"""``dockdojo grade``: the command line over :mod:`dockdojo.runner.grading`.

Its options for grading's settings are made from their declarations in
:mod:`dockdojo.runner.grading.options`; progress lines come from the stages' end hook.
What it prints of learners' ids and files' paths is escaped
(:func:`~dockdojo.runner.text.escaped`): a file name cannot move the cursor, retitle the
window or hide a line.
The grading modules (nbclient, nbformat) are imported only when the command runs."""

from __future__ import annotations

import argparse
import stat
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DockdojoError
from ..grading.options import GradeOptions, options_of
from ..text import escaped

if TYPE_CHECKING:
    from ..authoring.model import Lesson
    from ..grading.reports import SubmissionResult
    from ..grading.stages import Stage, Submission


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..room.config import DEFAULT_CONFIG

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
        "--steps",
        nargs="+",
        metavar="ID",
        help="steps to score (default: the exercises; 'all' for every step)",
    )
    grade.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"the room's settings (default: {DEFAULT_CONFIG} when it exists): its "
        "mirror and the limits of each submission's engine",
    )
    add_settings(grade)
    grade.set_defaults(func=_grade)


def add_settings(parser: argparse.ArgumentParser) -> None:
    """``dockdojo grade``'s options for the settings :class:`GradeOptions` declares as
    such, each with the help and default written there; an option left out is not
    passed on, so the setting keeps its declared default."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for declared in options_of(GradeOptions):
        flag = declared.flag
        where: argparse._ActionsContainer = parser
        if flag.group is not None:
            where = groups.setdefault(flag.group, parser.add_argument_group(flag.group))
        value = declared.default()
        default = value if flag.command_default else argparse.SUPPRESS
        if isinstance(value, bool):
            where.add_argument(
                flag.name, dest=declared.dest, action="store_true", default=default, help=flag.help
            )
            continue
        where.add_argument(
            flag.name,
            dest=declared.dest,
            type=type(value),
            default=default,
            metavar=flag.metavar or flag.name.lstrip("-").upper().replace("-", "_"),
            help=f"{flag.help} (default: {declared.shown_default()})",
        )


def settings_given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (or the command's own defaults), as
    :class:`GradeOptions` takes them: nested ones (``limits.pids``) in their own dict."""
    given: dict[str, Any] = {}
    for declared in options_of(GradeOptions):
        if declared.dest not in vars(args):
            continue
        *parents, name = declared.path
        place = given
        for parent in parents:
            place = place.setdefault(parent, {})
        place[name] = vars(args)[declared.dest]
    return given


def _grade(args: argparse.Namespace) -> int:
    from ..grading.batch import grade_batch

    options, where = _options(args)
    total = len(args.submissions)
    print(
        escaped(
            f"grading {total} submission(s) of {options.lesson.id} {where}, "
            f"{options.jobs} at a time"
        ),
        file=sys.stderr,
    )
    progress = _Progress(total)
    batch = grade_batch(list(args.submissions), options, on_stage_end=progress.stage_ended)
    print(table(batch.results))
    print(f"wrote {len(batch.written)} file(s) to {escaped(str(options.out))}", file=sys.stderr)
    return 0


def table(results: Sequence[SubmissionResult]) -> str:
    """The final table: a line per submission, its learner, status, points and path, each
    escaped for the terminal."""
    lines = [f"{'LEARNER':<24} {'STATUS':<12} {'POINTS':>8}  SUBMISSION"]
    for r in results:
        lines.append(
            f"{escaped(r.learner):<24} {escaped(r.status):<12} {r.points:>3}/{r.max_points:<4}  "
            f"{escaped(r.submission)}"
        )
    return "\n".join(lines)


def _options(args: argparse.Namespace) -> tuple[GradeOptions, str]:
    """The grading options from the command line, and where grading runs, in words.
    Raises :class:`DockdojoError` before anything runs when grading cannot work."""
    from ..context import environment_engine
    from ..grading.options import Confinement
    from ..lessons import load_lesson
    from ..mirror import Mirror
    from ..room.config import load_config

    lesson = load_lesson(args.lesson)
    _check_paths(args.submissions)
    given = settings_given(args)
    limits = Confinement(**given.pop("limits", {}))
    options = GradeOptions(lesson=lesson, steps=_steps(args, lesson), limits=limits, **given)
    options.check()
    if options.trusted:
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


def _check_paths(paths: list[Path]) -> None:
    """Raise :class:`DockdojoError` for a path that does not exist or is a folder, before
    anything runs. Links, FIFOs and devices are the learner's doing: each is refused in
    its own report (the submission scores 0, with a message), and the batch goes on."""
    missing, folders = [], []
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except OSError:
            missing.append(escaped(str(path)))
            continue
        if stat.S_ISDIR(mode):
            folders.append(escaped(str(path)))
    if missing:
        raise DockdojoError(f"No such submission: {', '.join(missing)}.", "Check the paths.")
    if folders:
        raise DockdojoError(
            f"Not a notebook but a folder: {', '.join(folders)}.",
            f"Give the notebooks in it (for example {folders[0]}/*.ipynb).",
        )


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
    """One line per graded submission (one line that fills up on a terminal), printed as
    its last stage ends."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()

    def stage_ended(self, stage: Stage, sub: Submission) -> None:
        if stage.name == "report" and sub.result is not None:
            self.show(sub.result)

    def show(self, result: SubmissionResult) -> None:
        self.done += 1
        width = 30
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {self.done}/{self.total}  {escaped(result.learner)}: {result.points}/"
            f"{result.max_points} ({escaped(result.status)}, {result.seconds:.1f} s)"
        )
        if self.tty:
            end = "" if self.done < self.total else "\n"
            print("\r" + line.ljust(100), end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
