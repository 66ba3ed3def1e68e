"""Every error dockdojo raises, in one hierarchy.

Each error carries two sentences for people: ``what`` (what happened) and ``hint``
(what to do next). ``str(error)`` joins them, so a CLI, a widget or a grading report can
show an error without knowing its type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DockdojoError(Exception):
    """Base class: ``what`` happened, and a ``hint`` on what to do next."""

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(what if not hint else f"{what}\n{hint}")


class EngineUnavailable(DockdojoError):
    """No Docker Engine answered where dockdojo looked for one."""


class EngineError(DockdojoError):
    """The engine answered with an error dockdojo has no more specific name for."""


class InvalidReference(DockdojoError):
    """An image reference that Docker would reject (``UPPER:case``, ``nginx;rm -rf /``)."""


class ImageNotFound(DockdojoError):
    """The image is neither on the engine nor in any registry the engine can reach."""


class PullFailed(DockdojoError):
    """A pull started but the engine reported an error part-way through."""


class BuildFailed(DockdojoError):
    """An image build stopped: no Dockerfile, a failing instruction, a missing base image."""


class ComposeError(DockdojoError):
    """Compose is not installed, or ``compose up`` / ``down`` failed."""


class ContainerNotFound(DockdojoError):
    """No container has that name or id (it may have been deleted meanwhile)."""


class ContainerNotRunning(DockdojoError):
    """The operation needs a running container and this one is stopped."""


class NameInUse(DockdojoError):
    """Another container already has the requested name."""


class PortInUse(DockdojoError):
    """The requested host port is taken by another program or container."""


class ExecTimeout(DockdojoError):
    """A command inside a container did not finish in time."""


@dataclass(frozen=True)
class ContainerUse:
    """A container that keeps an image, a volume or a network from being removed."""

    id: str
    """Full container id."""
    name: str
    """Container name without the leading slash."""
    status: str
    """Engine status word: ``running``, ``exited``, ``created``..."""


class ImageInUse(DockdojoError):
    """Removing the image failed because containers (running or stopped) use it."""

    def __init__(self, what: str, hint: str, containers: Sequence[ContainerUse]) -> None:
        super().__init__(what, hint)
        self.containers = tuple(containers)


class VolumeNotFound(DockdojoError):
    """No volume has that name (it may have been removed meanwhile)."""


class NetworkNotFound(DockdojoError):
    """No network has that name or id."""


class VolumeInUse(DockdojoError):
    """Removing the volume failed because containers (running or stopped) mount it."""

    def __init__(self, what: str, hint: str, containers: Sequence[ContainerUse]) -> None:
        super().__init__(what, hint)
        self.containers = tuple(containers)


class NetworkInUse(DockdojoError):
    """Removing the network failed because containers are still attached to it."""

    def __init__(self, what: str, hint: str, containers: Sequence[ContainerUse]) -> None:
        super().__init__(what, hint)
        self.containers = tuple(containers)


class HostError(DockdojoError):
    """A command run as root, or an act on another user, a cgroup, a mount, a firewall
    rule or another user's process, failed (:mod:`dockdojo.runner.privileged`)."""


class SandboxError(DockdojoError):
    """The private engine or its registry could not be started, stopped or inspected."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson source."""

    path: str
    """The source file, as given (relative paths stay relative)."""
    line: int
    """1-based line; 0 when the problem is the file itself (missing, not UTF-8...)."""
    message: str
    """What is wrong, in a sentence."""

    def __str__(self) -> str:
        if not self.line:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class LessonError(DockdojoError):
    """A lesson source that cannot be built; ``problems`` lists every ``file:line``."""

    def __init__(self, found: Sequence[Problem]) -> None:
        self.problems = tuple(found)
        super().__init__(
            "\n".join(str(p) for p in self.problems),
            "Fix the lesson source at those lines, then build again.",
        )


class MirrorError(DockdojoError):
    """The room's registry mirror could not start, stop, pack or load, or an archive of
    images is missing, damaged or altered."""


class RoomError(DockdojoError):
    """A learner's engine in a workshop room could not be started, stopped, inspected or
    reset, or the server or the learner's account is not ready for one."""
