"""``dockdojo build``, ``run`` and ``check``: lessons built, solved and checked.

- ``dockdojo build [--check] [--report] [--docs-base URL] [PATH...]`` writes (or
  compares) ``lessons/*.ipynb`` from ``content/`` (or the files named; a Hugo site's
  folder, or the current folder when it is one, gives every page under its content/);
  ``--report`` prints, per page, what was translated, kept as written, or warned about.

- ``dockdojo run LESSON`` lists the steps and what each would do; the engine is not
  touched.
- ``dockdojo run LESSON --solve [--fresh]`` performs every step's solution in order and
  checks it; ``--fresh`` first removes what dockdojo labelled for the lesson.
- ``dockdojo check LESSON [--step ID ...]`` only checks the engine's current state,
  however the work was done.

Both print a table, step by step, with the hint under each failed check and totals at
the end; ``--json`` prints :meth:`~dockdojo.runner.kinds.LessonReport.to_json`
instead (``run`` without ``--solve``: the plan, see :func:`.tables.plan_json`). The exit code
is 0 only when every check passed (and every solve action worked).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DockdojoError

if TYPE_CHECKING:
    from ..authoring import Lesson
    from ..context import LearnerContext


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``build``, ``kinds``, ``run`` and ``check`` to the ``dockdojo`` command's subparsers."""
    build = subparsers.add_parser("build", help="build lesson notebooks (lessons/) from content/")
    build.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="lesson sources, or a Hugo site's folder (content/ and hugo.yaml: every page "
        "under content/); default: every content/*.md, or every page when here is a Hugo site",
    )
    build.add_argument("--out", default="lessons", help="output folder (default: lessons)")
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the files when lessons/ is stale",
    )
    build.add_argument(
        "--report",
        action="store_true",
        help="print, per page, what was translated, kept as written, or warned about",
    )
    build.add_argument(
        "--docs-base",
        metavar="URL",
        help="the docs site for site paths in the guides (/reference/...), e.g. "
        "https://docs.docker.com, when a lesson's front matter names no docs_url",
    )
    build.set_defaults(func=_build_command)

    kinds = subparsers.add_parser(
        "kinds",
        help="list the actions and checks a lesson may declare, with their arguments",
        description="Print, as Markdown tables, every action kind (the widget a step shows) "
        "and every check kind, with their arguments.",
    )
    kinds.set_defaults(func=_kinds_command)

    run = subparsers.add_parser(
        "run",
        help="show a lesson's steps, or perform and check them all (--solve)",
        description="Without --solve, list the lesson's steps and what each would do "
        "(nothing changes on the engine). With --solve, perform each step as "
        "its widget would, then check it.",
    )
    run.add_argument(
        "lesson",
        metavar="LESSON",
        help="lesson name (e.g. what-is-an-image) or path to its .md file",
    )
    run.add_argument(
        "--solve", action="store_true", help="perform every step on the engine, then run its checks"
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="with --solve: first remove what dockdojo labelled for this lesson "
        "(on a shared engine, only what it made for this learner)",
    )
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument(
        "--learner",
        help="whose per-learner exercise values to use (default: "
        "$DOCKDOJO_LEARNER, $JUPYTERHUB_USER, or your user name)",
    )
    run.set_defaults(func=_run_command)

    check = subparsers.add_parser(
        "check",
        help="check a lesson's steps against the engine's current state",
        description="Run the lesson's checks against the live engine, however the work "
        "was done (widgets, docker CLI, Docker Desktop). Exit code 0 only when "
        "every check passes.",
    )
    check.add_argument(
        "lesson",
        metavar="LESSON",
        help="lesson name (e.g. what-is-an-image) or path to its .md file",
    )
    check.add_argument(
        "--step",
        dest="steps",
        action="extend",
        nargs="+",
        metavar="ID",
        help="check only these steps (repeatable)",
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument("--learner", help="whose per-learner exercise values to check")
    check.set_defaults(func=_check_command)


# commands ---------------------------------------------------------------------------
def _context(ref: str, learner: str | None) -> LearnerContext:
    from ..context import learner_context
    from ..lessons import load_lesson

    return learner_context(load_lesson(ref), learner=learner)


def _run_command(args: argparse.Namespace) -> int:
    from ..kinds import solve_lesson
    from .tables import Table, plan_json, render_plan

    context = _context(args.lesson, args.learner)
    lesson = context.lesson
    if not args.solve:
        if args.fresh:
            raise DockdojoError(
                "--fresh removes this lesson's containers before solving, so it needs --solve.",
                f"Run: dockdojo run {args.lesson} --solve --fresh",
            )
        if args.json:
            _print_json(plan_json(lesson))
        else:
            sys.stdout.write(render_plan(lesson))
        return 0
    out = sys.stdout
    with context as mine:
        engine = mine.engine
        table = Table(
            out if not args.json else sys.stderr,
            lesson=lesson.id,
            title=lesson.title,
            steps=[s.id for s in lesson.steps],
            mode="solve",
            host=engine.host,
        )
        table.header()
        report = solve_lesson(engine, lesson, fresh=args.fresh, on_step=table.step)
    if args.json:
        _print_json(report.to_json())
    else:
        table.footer(report)
    return 0 if report.passed else 1


def _check_command(args: argparse.Namespace) -> int:
    from ..kinds import check_lesson
    from .tables import render_report

    with _context(args.lesson, args.learner) as context:
        report = check_lesson(
            context.engine,
            context.lesson,
            args.steps,
            images=context.images,
            folder=Path.cwd(),  # files beside the notebook are read from here, as run --solve
        )
    if args.json:
        _print_json(report.to_json())
    else:
        sys.stdout.write(render_report(report))
    return 0 if report.passed else 1


def _print_json(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _kinds_command(_args: argparse.Namespace) -> int:
    from ..kinds import ACTIONS, CHECKS
    from ..kinds.reference import reference_markdown

    sys.stdout.write(reference_markdown(ACTIONS, CHECKS))
    return 0


def _build_command(args: argparse.Namespace) -> int:
    from ..authoring import lesson_sources
    from ..authoring.files import lesson_files
    from ..authoring.site import site_config, site_pages
    from ..errors import LessonError
    from ..lessons import build_lessons

    sources: list[Path] = []
    for named in map(Path, args.paths):
        sources += site_pages(named) if named.is_dir() and site_config(named) else [named]
    if not args.paths:
        here = Path(".")
        sources = site_pages(here) if site_config(here) else lesson_sources(Path("content"))
    if not sources:
        raise DockdojoError(
            "There are no lessons to build.",
            "Run this in a folder with content/NAME.md, or name the files.",
        )
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise DockdojoError(
            f"--out {out_dir} is a file, not a folder; nothing was written.",
            "Name a folder for the notebooks (it is made when missing), e.g. --out lessons.",
        )
    try:
        planned = build_lessons(sources, out_dir, docs_base=args.docs_base)
    except LessonError as exc:
        for found in exc.problems:
            print(found, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written.", file=sys.stderr)
        return 1
    _print_fidelity(planned, report=args.report)
    # a lesson's own files (content/LESSON/) go beside its notebook; not a site's folders
    files = lesson_files(sources) if not args.paths and not site_config(Path(".")) else {}
    if args.check:
        return _check_built(planned, out_dir, named=bool(args.paths), files=files)
    _write_built(planned, files, out_dir)
    return 0


def _write_built(
    planned: Mapping[Path, tuple[Lesson, str]], files: dict[str, Path], out_dir: Path
) -> None:
    """Write the notebooks, and the lessons' own files beside them."""
    from ..authoring.files import place_files

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for target, (_, text) in planned.items():
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            print(f"wrote {target}")
        for name in place_files(files, out_dir, replace=True):
            print(f"wrote {out_dir / name}")
    except OSError as exc:
        raise DockdojoError(
            f"Cannot write the notebooks to {out_dir}: {exc.strerror or exc} "
            f"({exc.filename or out_dir}).",
            "Name a folder you can write to with --out, or fix the one named.",
        ) from exc


def _print_fidelity(planned: Mapping[Path, tuple[Lesson, str]], *, report: bool) -> None:
    """Each page's report (``--report``, on stdout), else its warnings on stderr."""
    from ..authoring.build import report as page_report

    for target, (lesson, _) in planned.items():
        if report:
            print("\n".join(page_report(lesson, target)))
            continue
        for warning in lesson.warnings:
            print(f"{lesson.source}:{warning.line}: warning: {warning.message}", file=sys.stderr)


def _check_built(
    planned: Mapping[Path, tuple[Lesson, str]],
    out_dir: Path,
    *,
    named: bool,
    files: dict[str, Path],
) -> int:
    """``build --check``: 0 when every planned notebook, and every lesson's own file, is
    on disk as planned."""
    from ..authoring.build import stale
    from ..authoring.files import stale_files

    problems = stale(dict(planned), out_dir) + stale_files(files, out_dir)
    if named:  # only the files named are checked; others in out_dir are not orphans
        problems = [p for p in problems if "has no lesson source" not in p]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("lessons/ does not match content/: run dockdojo build", file=sys.stderr)
        return 1
    print(f"{len(planned)} lesson notebook(s) up to date")
    return 0


__all__ = ["add_commands"]
