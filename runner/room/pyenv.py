"""Pythons that other users run: one every learner or pool user may run and none may change.

dockdojo's own interpreter may live where other users cannot go (a pyenv under
``/root``), so what learners and graded submissions run gets a virtual environment of
its own, made from the system's ``/usr/bin/python3`` in a root-owned folder (mode 755):
dockdojo's runtime dependencies at the versions dockdojo itself runs with, ``ipykernel``,
and any ``extra`` packages (JupyterLab and jupyterhub-singleuser for a learner's server).
dockdojo's own code is copied beside it, once per version of that code
(``code/<hash>/dockdojo``), compiled, and read-only to everyone but root; the programs
find it through ``PYTHONPATH``. Nothing a learner or a submission does can change what
the next one runs.

- :data:`DEFAULT_KERNEL_ENV`: submissions' kernels (``dockdojo grade``);
- :data:`DEFAULT_LEARNER_ENV`: learners' single-user servers on the room's JupyterHub.
"""

from __future__ import annotations

import compileall
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution, requires
from pathlib import Path

from ..errors import DockdojoError
from ..privileged.run import locked

DEFAULT_KERNEL_ENV = Path("/var/lib/dockdojo/kernel")
DEFAULT_LEARNER_ENV = Path("/var/lib/dockdojo/learner")
LEARNER_EXTRA = ("jupyterhub", "jupyterlab", "jupyter-server-proxy")
"""What a learner's single-user server needs besides a kernel."""
SYSTEM_PYTHON = Path("/usr/bin/python3")
_PACKAGES = ("runner", "widgets", "content")
_MARKER = "dockdojo-kernel.json"


@dataclass(frozen=True)
class KernelEnv:
    """A ready environment."""

    python: Path
    """Its interpreter."""
    code: Path
    """The folder to put on ``PYTHONPATH`` (holds ``dockdojo/``)."""


def requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """What the environment needs, pinned to the versions dockdojo runs with."""
    names = ["ipykernel", *extra]
    for line in requires("dockdojo") or []:
        if "extra ==" in line:
            continue
        name = line.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        if name not in names:
            names.append(name)
    pinned = []
    for name in names:
        try:
            pinned.append(f"{name}=={distribution(name).version}")
        except PackageNotFoundError:
            pinned.append(name)
    return pinned


def prepare(
    folder: Path = DEFAULT_KERNEL_ENV,
    *,
    python: Path = SYSTEM_PYTHON,
    extra: tuple[str, ...] = (),
) -> KernelEnv:
    """The environment in ``folder``, made or brought up to date first (idempotent; the
    first time, ``pip`` downloads the packages). Raises :class:`DockdojoError` saying
    what to fix when it cannot be made."""
    pinned = requirements(extra)
    wanted = {"python": str(python), "requirements": pinned}
    folder.parent.mkdir(parents=True, exist_ok=True)
    with locked(folder.parent / f".{folder.name}.lock"):
        marker = folder / _MARKER
        try:
            current = json.loads(marker.read_text())
        except (OSError, ValueError):
            current = None
        if current != wanted:
            _install(folder, python, pinned)
            marker.write_text(json.dumps(wanted, indent=2) + "\n")
            marker.chmod(0o644)
        code = _code(folder)
    return KernelEnv(folder / "bin" / "python", code)


def _install(folder: Path, python: Path, wanted: list[str]) -> None:
    if not os.access(python, os.X_OK):
        raise DockdojoError(
            f"{python} is missing; submissions' kernels need a Python every user may run.",
            "Install Debian's python3 and python3-venv (apt-get install python3-venv).",
        )
    print(f"preparing the Python in {folder} (once per version)", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    steps = [
        [str(python), "-m", "venv", str(folder)],
        [str(folder / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *wanted],
    ]
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise DockdojoError(
                f"Could not prepare the Python in {folder} ({' '.join(argv[:3])}...): "
                + (done.stderr.strip().splitlines() or ["no message"])[-1],
                "Check that python3-venv is installed and that the package index is reachable.",
            )
    _open_to_all(folder)


def _code(folder: Path) -> Path:
    """dockdojo's code, copied read-only beside the environment (once per version)."""
    import importlib

    sources = {
        name: Path(str(importlib.import_module(f"dockdojo.{name}").__file__)).parent
        for name in _PACKAGES
    }
    digest = hashlib.sha256()
    for name, source in sorted(sources.items()):
        for path in sorted(_files(source)):
            digest.update(f"{name}/{path.relative_to(source)}\0".encode())
            digest.update(path.read_bytes())
    target = folder / "code" / digest.hexdigest()[:16]
    if (target / ".complete").is_file():
        return target
    shutil.rmtree(folder / "code", ignore_errors=True)  # earlier versions
    for name, source in sources.items():
        for path in _files(source):
            copy = target / "dockdojo" / name / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
    done = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "compileall", "-q", str(target)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        compileall.compile_dir(str(target), quiet=1)
    _open_to_all(target)
    (target / ".complete").touch(mode=0o644)
    return target


def _files(source: Path) -> Iterator[Path]:
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path


def _open_to_all(folder: Path) -> None:
    """Readable (and where so, executable) by everyone, writable by root alone."""
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(0o755 if mode & 0o100 else 0o644)
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(Path(root) / name, 0o755)


__all__ = [
    "DEFAULT_KERNEL_ENV",
    "DEFAULT_LEARNER_ENV",
    "LEARNER_EXTRA",
    "KernelEnv",
    "prepare",
    "requirements",
]
