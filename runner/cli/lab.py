"""``dockdojo lab``: find (or start) an engine, then open the lessons in JupyterLab."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import DockdojoError


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lab`` to the ``dockdojo`` command's subparsers."""
    lab = sub.add_parser("lab", help="find (or start) an engine, then open the lessons in "
                                     "JupyterLab")
    lab.add_argument("--lessons", type=Path, default=Path("lessons"),
                     help="folder of lesson notebooks (default: lessons)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                     help="further arguments for jupyter lab")
    lab.set_defaults(func=_lab)


def choose_engine() -> str:
    """Find an engine for the lessons; start the sandbox when none answers and it can run.

    Returns what was chosen, as a sentence; sets ``DOCKER_HOST`` when it starts the sandbox.
    """
    from ..engine import Engine
    from ..errors import EngineUnavailable, SandboxError
    from ..sandbox import Sandbox

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


__all__ = ["add_commands", "choose_engine"]
