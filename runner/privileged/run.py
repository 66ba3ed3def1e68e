"""The one way dockdojo runs a command as root, and the one lock of its host state.

Every command runs from an argv list (never a shell string), with :data:`PATH` as its
whole ``PATH`` (nothing inherited from whoever runs dockdojo), a timeout, its output
captured, and, when it fails, :class:`~dockdojo.runner.errors.HostError` carrying its
standard error.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from ..errors import HostError

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The ``PATH`` of every command run here and of a learner's engine."""
TIMEOUT = 60.0
"""Seconds a command may take unless its caller says otherwise."""


def which(name: str) -> str | None:
    """``name`` on the PATH, or in the system's own folders (/usr/sbin...) when the PATH
    lacks them (a hub or a service started with a short PATH)."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}{os.pathsep}{PATH}")


def run(
    argv: Sequence[str],
    *,
    hint: str,
    timeout: float = TIMEOUT,
    ok: Collection[int] = (0,),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and return what it did; an exit status outside ``ok`` raises
    :class:`HostError` (``hint`` saying what to do) unless ``check`` is False. A command
    that cannot start or outlives ``timeout`` always raises."""
    words = " ".join(argv)
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env={"PATH": PATH},
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise HostError(f"{argv[0]} is not installed, so {words} could not run.", hint) from exc
    except subprocess.TimeoutExpired as exc:
        raise HostError(f"{words} did not finish within {timeout:.0f} s.", hint) from exc
    if check and done.returncode not in ok:
        why = done.stderr.strip() or f"exit status {done.returncode}"
        raise HostError(f"{words} failed: {why}", hint)
    return done


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock file ``path`` (made, with its folder, when missing) exclusively. Each
    holder opens the file itself, so threads of one process exclude each other too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


__all__ = ["PATH", "TIMEOUT", "locked", "run", "which"]
