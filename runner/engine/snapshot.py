"""One look at the engine's images and containers, shared by the checks of one run.

Checks accept work done any way (dockdojo's widgets, the docker CLI, Docker Desktop), so
containers are matched by what any tool leaves behind: the image they were created from
and their name, never by dockdojo labels. ``nginx``, ``nginx:latest`` and
``docker.io/library/nginx:latest`` name one image; a container matches it when its
image id is that image's id, or when the image name it was created with means the same.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import InvalidReference
from .facade import Engine
from .models import LABEL_LESSON, LABEL_STEP, ContainerInfo, ImageInfo, uses_image
from .refs import parse_ref

_IMAGE_ID = re.compile(r"(?:sha256:)?([0-9a-f]{12,64})\Z")


@dataclass(frozen=True)
class Snapshot:
    """The engine's images and containers as seen at one moment."""

    images: tuple[ImageInfo, ...]
    """One row per tag (an untagged image has one row named ``<none>``)."""
    containers: tuple[ContainerInfo, ...]
    """Every container, running or stopped, newest first."""
    host: str
    """Where the engine was reached."""
    seconds: float = 0.0
    """How long taking the snapshot took."""

    @classmethod
    def take(cls, engine: Engine) -> Snapshot:
        """Ask the engine (raises :class:`~dockdojo.runner.errors.DockdojoError`); on a
        shared engine, this learner's containers only, and images counted by them alone
        (the engine's :class:`~.ownership.Ownership` rule)."""
        started = time.monotonic()
        images = tuple(engine.images())
        containers = tuple(engine.containers())
        return cls(images, containers, engine.host, time.monotonic() - started)

    # images -----------------------------------------------------------------------
    def image(self, ref: str) -> ImageInfo | None:
        """The local image ``ref`` names (a tag, or an image id), or None.

        Raises :class:`InvalidReference` when ``ref`` is neither.
        """
        try:
            wanted = parse_ref(ref).familiar
        except InvalidReference:
            wanted = None
        if wanted is not None:
            for row in self.images:
                if row.tag != "<none>" and _familiar(row.name) == wanted:
                    return row
        match = _IMAGE_ID.match(ref.strip())
        if match:
            for row in self.images:
                if row.id.removeprefix("sha256:").startswith(match.group(1)):
                    return row
        if wanted is None:
            parse_ref(ref)  # raises the InvalidReference that says what is wrong
        return None

    def image_by_id(self, image_id: str) -> ImageInfo | None:
        """The local image with the id ``image_id`` (a container's), or None."""
        for row in self.images:
            if row.id == image_id:
                return row
        return None

    def tags(self) -> list[str]:
        """Names of the local images, as ``docker images`` shows them."""
        return sorted({row.name for row in self.images if row.tag != "<none>"})

    # containers -------------------------------------------------------------------
    def users(self, ref: str) -> list[ContainerInfo]:
        """Containers, running or stopped, created from the image ``ref`` names."""
        local = self.image(ref)
        return [
            c
            for c in self.containers
            if uses_image(c, image_id=local.id if local else None, ref=ref)
        ]

    def matching(
        self, *, image: str | None = None, name: str | None = None, running: bool | None = None
    ) -> list[ContainerInfo]:
        """Containers from ``image`` and/or named ``name`` (both, when both are given)."""
        found: Iterable[ContainerInfo] = self.containers
        if name is not None:
            found = [c for c in found if c.name == name.lstrip("/")]
        if image is not None:
            local = self.image(image)
            found = [
                c for c in found if uses_image(c, image_id=local.id if local else None, ref=image)
            ]
        if running is not None:
            found = [c for c in found if c.running == running]
        return list(found)

    def named(self, name: str) -> ContainerInfo | None:
        """The container called ``name``, if there is one."""
        for container in self.containers:
            if container.name == name.lstrip("/"):
                return container
        return None


def prefer_lesson(
    containers: Iterable[ContainerInfo], lesson: str, steps: Sequence[str] = ()
) -> list[ContainerInfo]:
    """``containers``, the likeliest target of a lesson's step first.

    ``steps`` are the lesson's step ids up to the current one, in order. First come the
    containers a step among them made (the latest step first), then other containers of
    the lesson, then the rest; the engine's order (newest first) is kept within each.
    """
    rank = {step: len(steps) - i for i, step in enumerate(steps)}

    def key(container: ContainerInfo) -> tuple[int, int]:
        if container.labels.get(LABEL_LESSON) != lesson:
            return (2, 0)
        step = container.labels.get(LABEL_STEP, "")
        return (0, rank[step]) if step in rank else (1, 0)

    return sorted(containers, key=key)


def _familiar(text: str) -> str | None:
    try:
        return parse_ref(text).familiar
    except InvalidReference:
        return None


__all__ = ["Snapshot", "prefer_lesson"]
