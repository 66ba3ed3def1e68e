"""``dockdojo lab``: find (or start) an engine, then open the lessons in JupyterLab.

In a clone of dockdojo (``content/`` with lesson sources, and ``lessons/``) it opens
``lessons/``, or ``--lessons DIR``. Anywhere else it opens a workspace
(``./dockdojo-lessons``, or ``--lessons DIR``) that it first fills with the lessons
packaged with dockdojo (:mod:`~dockdojo.runner.workspace`). Arguments after ``--`` go to
JupyterLab: ``dockdojo lab -- --port 8899 --no-browser``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import DockdojoError


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lab`` to the ``dockdojo`` command's subparsers."""
    lab = sub.add_parser(
        "lab",
        help="find (or start) an engine, then open the lessons in JupyterLab",
        usage="%(prog)s [-h] [--lessons DIR] [-- JUPYTERLAB_ARGS ...]",
        description="Find a Docker Engine (or start dockdojo's sandbox), then open the "
        "lessons in JupyterLab. In a clone of dockdojo that is lessons/; "
        "anywhere else, the lessons packaged with dockdojo are built into "
        "./dockdojo-lessons (or --lessons DIR) on first use, and later runs "
        "add new lessons without overwriting a notebook you changed. "
        "Arguments after -- go to JupyterLab, e.g. "
        "dockdojo lab -- --port 8899 --no-browser",
    )
    lab.add_argument(
        "--lessons",
        type=Path,
        metavar="DIR",
        help="folder of lesson notebooks (default: lessons in a clone of "
        "dockdojo, else ./dockdojo-lessons, built on first use)",
    )
    lab.add_argument(
        "jupyter_args",
        nargs=argparse.REMAINDER,
        metavar="JUPYTERLAB_ARGS",
        help="arguments for JupyterLab, after --",
    )
    lab.set_defaults(func=_lab)


def choose_engine() -> str:
    """Find an engine for the lessons; start the sandbox when none answers and it can run.

    Returns what was chosen, as a sentence; sets ``DOCKER_HOST`` when it starts the sandbox.
    """
    from ..engine import Engine
    from ..errors import EngineUnavailable, HostError, SandboxError
    from ..sandbox import Sandbox

    try:
        info = Engine().ping()
        return f"Using the Docker Engine at {info.host} (Docker {info.version})."
    except EngineUnavailable as unavailable:
        try:
            status = Sandbox().start()
        except (SandboxError, HostError) as exc:
            return (
                f"{unavailable.what} The sandbox cannot start either: {exc.what} "
                f"{unavailable.hint} The lessons will say so until an engine answers."
            )
        os.environ["DOCKER_HOST"] = status.docker_host
        return (
            f"{unavailable.what} Started dockdojo's private sandbox engine instead "
            f"(DOCKER_HOST={status.docker_host}, registry mirror {status.registry_url}). "
            "Stop it with: dockdojo sandbox stop"
        )


def jupyter_lab() -> list[str] | None:
    """The command that starts JupyterLab with dockdojo's Python, or None without one.

    The ``jupyter-lab`` script beside this Python when there is one (a virtual
    environment, pipx), else ``python -m jupyterlab`` when JupyterLab is importable
    (``pip install --user``). A ``jupyter`` command alone is no sign of JupyterLab: it
    comes with jupyter_core, which dockdojo needs anyway.
    """
    import importlib.util

    script = Path(sys.executable).parent / "jupyter-lab"
    if script.is_file():
        return [str(script)]
    if importlib.util.find_spec("jupyterlab") is not None:
        return [sys.executable, "-m", "jupyterlab"]
    return None


def jupyter_arguments(passed: list[str]) -> list[str]:
    """The arguments given after ``dockdojo lab --``, without that ``--``."""
    return passed[1:] if passed[:1] == ["--"] else list(passed)


def lessons_folder(given: Path | None) -> Path:
    """The folder to open, filled first when it is a workspace (see the module doc)."""
    from ..workspace import default_workspace, in_clone, shown, sync_workspace

    cwd = Path.cwd()
    if in_clone(cwd):
        folder = cwd / "lessons" if given is None else given
        if not folder.is_dir():
            what = "is a file, not a folder" if folder.exists() else "does not exist"
            raise DockdojoError(
                f"The lessons folder {shown(folder)} {what}.",
                f"Build the lessons into it: dockdojo build --out {folder}",
            )
        return folder.resolve()
    folder = default_workspace(cwd) if given is None else given
    report = sync_workspace(folder)
    for line in report.lines():
        print(line, file=sys.stderr)
    return folder.resolve()


def _lab(args: argparse.Namespace) -> int:
    command = jupyter_lab()
    if command is None:
        raise DockdojoError(
            "JupyterLab is not installed next to dockdojo.",
            "Install it: pip install 'dockdojo[lab]' (make lab does this).",
        )
    folder = lessons_folder(args.lessons)
    print(choose_engine(), file=sys.stderr, flush=True)
    argv = [*command, f"--notebook-dir={folder}", *jupyter_arguments(args.jupyter_args)]
    if os.geteuid() == 0 and "--allow-root" not in argv:
        argv.append("--allow-root")  # the sandbox engine needs root, so lessons may run as root
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return


__all__ = ["add_commands", "choose_engine", "jupyter_arguments", "jupyter_lab", "lessons_folder"]
