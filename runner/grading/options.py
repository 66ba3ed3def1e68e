"""How to grade: every setting of a batch, declared once with its default and meaning.

A setting that ``dockdojo grade`` offers on its command line is declared with
:func:`option`, which says its flag and its help there (as nbclient documents each of its
options where it is declared); the command's options are made from these declarations
(:func:`dockdojo.runner.cli.grade.add_settings`), and so is the README's table of them.
A setting given no value on the command line keeps the default written here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DockdojoError
from ..room import RoomConfig
from ..room.pyenv import DEFAULT_KERNEL_ENV

if TYPE_CHECKING:  # the command line reads this module: nothing heavy at import
    from ..authoring.model import Lesson
    from .reports import Isolation


@dataclass(frozen=True)
class Flag:
    """How a setting shows on ``dockdojo grade``'s command line."""

    name: str
    """The option, e.g. ``--cell-timeout``."""
    help: str
    """What the setting means, for ``--help`` and the README."""
    metavar: str | None = None
    """The value's name in ``--help`` (default: the option's name in capitals)."""
    group: str | None = None
    """The heading it is listed under in ``--help`` (None: with the command's own)."""
    command_default: Callable[[], Any] | None = None
    """The command's default, where it differs from the setting's (e.g. the CPU count
    for ``--jobs``); None: the setting's own."""
    shown_default: str | None = None
    """The default in words, where its value says too little (e.g. ``the CPU count``)."""


def option(
    default: Any,
    name: str,
    help: str,
    *,
    metavar: str | None = None,
    group: str | None = None,
    command_default: Callable[[], Any] | None = None,
    shown_default: str | None = None,
) -> Any:
    """A setting with ``default`` that ``dockdojo grade`` offers as ``name`` (the rest as
    :class:`Flag` has them)."""
    flag = Flag(name, help, metavar, group, command_default, shown_default)
    return field(default=default, metadata={"flag": flag})


@dataclass(frozen=True)
class Declared:
    """A setting that is a command-line option, where it is declared."""

    path: tuple[str, ...]
    """Its field names from :class:`GradeOptions` down, e.g. ``("limits", "pids")``."""
    field: Field[Any]
    """Its field, with its default."""
    flag: Flag
    """Its command-line form."""

    @property
    def dest(self) -> str:
        """Its name among the parsed arguments, e.g. ``limits.pids``."""
        return ".".join(self.path)

    def default(self) -> Any:
        """What the command uses when the option is not given."""
        if self.flag.command_default is not None:
            return self.flag.command_default()
        return None if self.field.default is MISSING else self.field.default

    def shown_default(self) -> str:
        """The command's default in words, for ``--help`` and the README."""
        if self.flag.shown_default is not None:
            return self.flag.shown_default
        value = self.default()
        if isinstance(value, bool):
            return "on" if value else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)


def options_of(cls: type, within: tuple[str, ...] = ()) -> list[Declared]:
    """The settings of ``cls`` (and of its dataclass-valued fields, such as the limits)
    that are command-line options, in the order they are declared."""
    found: list[Declared] = []
    for f in fields(cls):
        flag = f.metadata.get("flag")
        if isinstance(flag, Flag):
            found.append(Declared((*within, f.name), f, flag))
        elif isinstance(f.default_factory, type) and is_dataclass(f.default_factory):
            found += options_of(f.default_factory, (*within, f.name))
    return found


def options_markdown() -> str:
    """The README's table of ``dockdojo grade``'s settings, made from their declarations."""
    rows = ["| option | default | what it sets |", "|---|---|---|"]
    for declared in options_of(GradeOptions):
        flag = declared.flag
        rows.append(f"| `{flag.name}` | {declared.shown_default()} | {flag.help} |")
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Confinement:
    """What one submission's kernel (and everything it starts) may use."""

    memory_mb: int = option(
        1024,
        "--memory-mb",
        "memory, its files included",
        group="limits of each submission's kernel",
    )
    pids: int = option(
        256, "--pids", "processes and threads at once", group="limits of each submission's kernel"
    )
    cpu_seconds: float = option(
        300.0,
        "--cpu-seconds",
        "CPU time in all, over every process it started",
        group="limits of each submission's kernel",
    )
    disk_mb: int = option(
        256,
        "--disk-mb",
        "its work folder: the notebook's folder, home and /tmp",
        group="limits of each submission's kernel",
    )

    def check(self) -> None:
        for name in ("memory_mb", "pids", "cpu_seconds", "disk_mb"):
            if getattr(self, name) <= 0:
                raise DockdojoError(
                    f"The grading limit {name} must be positive, not {getattr(self, name)}.",
                    "Give a positive number, or leave the option out for its default.",
                )


@dataclass(frozen=True)
class GradeOptions:
    """How to grade a batch of submissions."""

    lesson: Lesson
    """The lesson, as the grader loaded it (never from the submission)."""
    steps: tuple[str, ...] | None = None
    """Steps to score; None: the lesson's exercises (the work learners do on their own)."""
    cell_timeout: float = option(60.0, "--cell-timeout", "seconds one cell may run")
    submission_timeout: float = option(600.0, "--timeout", "seconds one submission may run")
    max_output: int = option(
        100_000,
        "--max-output",
        "bytes of output kept per cell; what a cell prints past that is dropped as it "
        "arrives (a cell printing without end cannot fill the grader's memory), and the "
        "run's message says which cells were cut",
        metavar="BYTES",
    )
    max_message_mb: int = option(
        16,
        "--max-message-mb",
        "size of one message the kernel may send; a bigger one stops the kernel, and the "
        "run's message says so (with at most 8 messages waiting, this bounds what a kernel "
        "can make the grader hold)",
        metavar="MB",
    )
    jobs: int = option(
        1,
        "--jobs",
        "submissions graded at once",
        command_default=lambda: os.cpu_count() or 1,
        shown_default="the CPU count",
    )
    out: Path | None = option(  # noqa: RUF009 (option() is a dataclass field)
        None,
        "--out",
        "folder for the reports, readable by you only (0700, its files 0600); each "
        "submission's are written as soon as it is graded",
        command_default=lambda: Path("grades"),
        shown_default="grades",
    )
    """None (the API's default): no files are written; the results are returned."""
    trusted: bool = option(
        False,
        "--trusted",
        "run the notebooks as you, on the current engine, without isolation: only for "
        "notebooks you wrote yourself (the reports say so)",
    )
    docker_host: str | None = None
    """Trusted mode: the engine to grade on (default: as Docker's tools find it)."""
    kernel: str = "python3"
    """Trusted mode: the kernel to execute submissions with."""
    room: RoomConfig = field(default_factory=RoomConfig)
    """Isolated mode: the room whose mirror and engine limits the boxes use."""
    limits: Confinement = field(default_factory=Confinement)
    """Isolated mode: what each submission's kernel may use."""
    kernel_env: Path = DEFAULT_KERNEL_ENV
    """Isolated mode: where the kernels' Python is kept."""
    hide: tuple[Path, ...] = ()
    """Isolated mode: folders a kernel must not see (besides the submissions' folders and
    :attr:`out`)."""

    def check(self) -> None:
        """Raise :class:`DockdojoError`, before anything runs, for a setting that cannot
        work."""
        for name in (
            "cell_timeout",
            "submission_timeout",
            "max_output",
            "max_message_mb",
            "jobs",
        ):
            if getattr(self, name) <= 0:
                raise DockdojoError(
                    f"The grading setting {name} must be positive, not {getattr(self, name)}.",
                    "Give a positive number, or leave the option out for its default.",
                )
        self.limits.check()

    def step_ids(self) -> list[str]:
        if self.steps is not None:
            return list(self.steps)
        return [s.id for s in self.lesson.steps if s.exercise] or [s.id for s in self.lesson.steps]

    @property
    def isolation(self) -> Isolation:
        return "trusted" if self.trusted else "isolated"


__all__ = [
    "Confinement",
    "Declared",
    "Flag",
    "GradeOptions",
    "option",
    "options_markdown",
    "options_of",
]
