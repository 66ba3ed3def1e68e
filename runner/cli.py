"""The ``dockdojo`` command. ``main(argv) -> int`` so tests can call it in-process."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli_grade import add_command as add_grade_command
from .cli_lessons import add_commands
from .engine import Engine
from .errors import DockdojoError, EngineUnavailable, SandboxError
from .progress import PullProgress, human_bytes
from .sandbox import Sandbox, default_state_dir


def _sandbox(args: argparse.Namespace) -> int:
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


def _doctor(_: argparse.Namespace) -> int:
    info = Engine().ping()
    print(f"engine: Docker {info.version} (API {info.api_version}, {info.os}/{info.arch}) "
          f"at {info.host}")
    if info.mirrors:
        print("registry mirrors: " + ", ".join(info.mirrors))
    return 0


def _pull(args: argparse.Namespace) -> int:
    engine = Engine()
    tty = sys.stderr.isatty()

    def show(progress: PullProgress) -> None:
        line = f"{progress.ref}: {progress.describe()}"
        print(("\r" + line.ljust(78)) if tty else line, end="" if tty else "\n",
              file=sys.stderr, flush=True)

    for image in args.images:
        info = engine.pull(image, show if not args.quiet else None)
        if tty and not args.quiet:
            print(file=sys.stderr)
        print(f"{info.name}  {info.short_id}  {human_bytes(info.size)}")
    return 0


def _images(_: argparse.Namespace) -> int:
    rows = Engine().images()
    print(f"{'NAME':<32} {'TAG':<14} {'IMAGE ID':<13} {'CREATED':<17} {'SIZE':>9}  IN USE")
    for r in rows:
        print(f"{r.repository:<32} {r.tag:<14} {r.short_id:<13} "
              f"{r.created:%Y-%m-%d %H:%M} {human_bytes(r.size):>9}  "
              f"{'yes (' + str(r.containers) + ')' if r.in_use else 'no'}")
    return 0


def choose_engine() -> str:
    """Find an engine for the lessons; start the sandbox when none answers and it can run.

    Returns what was chosen, as a sentence; sets ``DOCKER_HOST`` when it starts the sandbox.
    """
    try:
        info = Engine().ping()
        return f"Using the Docker Engine at {info.host} (Docker {info.version})."
    except EngineUnavailable as unavailable:
        try:
            status = Sandbox().start()
        except SandboxError as exc:
            return (f"{unavailable.what} The sandbox cannot start either: {exc.what} "
                    f"{unavailable.hint} The lessons will say so until an engine answers.")
        os.environ["DOCKER_HOST"] = status.docker_host
        return (f"{unavailable.what} Started dockdojo's private sandbox engine instead "
                f"(DOCKER_HOST={status.docker_host}, registry mirror {status.registry_url}). "
                "Stop it with: dockdojo sandbox stop")


def _lab(args: argparse.Namespace) -> int:
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        raise DockdojoError("JupyterLab is not installed next to dockdojo.",
                            "Install it: pip install 'dockdojo[lab]' (make lab does this).")
    print(choose_engine(), file=sys.stderr, flush=True)
    argv = [str(jupyter), "lab", f"--notebook-dir={args.lessons}", *args.jupyter_args]
    if os.geteuid() == 0 and "--allow-root" not in argv:
        argv.append("--allow-root")  # the sandbox engine needs root, so lessons may run as root
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return


def _build(args: argparse.Namespace) -> int:
    from .builder import LessonError, lesson_sources
    from .notebook import build, stale

    content = Path("content")
    sources = [Path(p) for p in args.paths] or lesson_sources(content)
    if not sources:
        raise DockdojoError("There are no lessons to build.",
                            "Run this in a folder with content/NAME.md, or name the files.")
    out_dir = Path(args.out)
    try:
        planned = build(sources, out_dir)
    except LessonError as exc:
        for found in exc.problems:
            print(found, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written.", file=sys.stderr)
        return 1
    for lesson, _ in planned.values():
        for warning in lesson.warnings:
            print(f"{lesson.source}:{warning.line}: warning: {warning.message}", file=sys.stderr)
    if args.check:
        problems = stale(planned, out_dir) if not args.paths else [
            p for p in stale(planned, out_dir) if "has no lesson source" not in p]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("lessons/ does not match content/: run dockdojo build", file=sys.stderr)
            return 1
        print(f"{len(planned)} lesson notebook(s) up to date")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for target, (_, text) in planned.items():
        tmp = target.with_suffix(".ipynb.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        print(f"wrote {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockdojo",
        description="Docker's getting-started guides as hands-on Jupyter lessons.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    box = sub.add_parser("sandbox", help="start, stop or inspect a private Docker Engine "
                                         "with a local registry mirror")
    box.add_argument("action", choices=["start", "stop", "status"])
    box.add_argument("--state", type=Path, default=None,
                     help=f"state folder (default: {default_state_dir()})")
    box.add_argument("--registry-port", type=int, default=None,
                     help="port of the registry mirror on 127.0.0.1 (default: 5000)")
    box.set_defaults(func=_sandbox)

    doctor = sub.add_parser("doctor", help="say which Docker Engine dockdojo uses, if any")
    doctor.set_defaults(func=_doctor)

    pull = sub.add_parser("pull", help="pull images with progress")
    pull.add_argument("images", nargs="+", metavar="IMAGE")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    pull.set_defaults(func=_pull)

    images = sub.add_parser("images", help="list local images as the Images tab does")
    images.set_defaults(func=_images)

    build = sub.add_parser("build", help="build lesson notebooks (lessons/) from content/")
    build.add_argument("paths", nargs="*", metavar="PATH",
                       help="lesson sources (default: every content/*.md)")
    build.add_argument("--out", default="lessons", help="output folder (default: lessons)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 and name the files when lessons/ is stale")
    build.set_defaults(func=_build)

    add_commands(sub)
    add_grade_command(sub)

    lab = sub.add_parser("lab", help="find (or start) an engine, then open the lessons in "
                                     "JupyterLab")
    lab.add_argument("--lessons", type=Path, default=Path("lessons"),
                     help="folder of lesson notebooks (default: lessons)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                     help="further arguments for jupyter lab")
    lab.set_defaults(func=_lab)
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
