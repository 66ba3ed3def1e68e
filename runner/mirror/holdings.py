"""What the room mirror holds: its status, each tag it serves, which of each lesson's
images are among them, and so which manifests checks count as the lesson's images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.provenance import TrustedImages, repository_key
from ..engine.refs import ImageRef, parse_ref
from ..text import human_bytes, plural
from .archive import references
from .registry_api import Manifest, Registry

if TYPE_CHECKING:
    from ..authoring import Lesson

STATUS_SCHEMA = "dockdojo.room-mirror/v1"
"""Version of :meth:`MirrorStatus.to_json`'s shape."""


@dataclass(frozen=True)
class HeldImage:
    """One tag the mirror serves."""

    repository: str
    """Repository path, ``library/nginx`` (what ``docker pull nginx`` asks a mirror for)."""
    tag: str
    """The tag."""
    digest: str
    """Digest of the manifest the tag points at (what ``docker pull`` prints)."""
    media_type: str
    """That manifest's media type (an image manifest, or a list of them)."""
    size: int
    """Bytes of the manifest(s), config(s) and layers it holds for this image."""
    platforms: tuple[str, ...] = ()
    """For a manifest list: the platforms whose image it holds."""

    @property
    def name(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class LessonImage:
    """An image a lesson declares, and whether the mirror serves it."""

    image: str
    """As people write it: ``nginx:latest``."""
    repository: str
    """The repository path the mirror is asked for: ``library/nginx``."""
    reference: str
    """Its tag (or digest)."""
    digest: str | None
    """The digest the mirror serves it as; ``None`` when the mirror does not hold it."""

    @property
    def present(self) -> bool:
        return self.digest is not None


@dataclass(frozen=True)
class LessonCoverage:
    """Which of a lesson's images the mirror can serve."""

    lesson: str
    """The lesson's name, ``what-is-an-image``."""
    images: tuple[LessonImage, ...]
    """Every image it declares (actions, solutions and checks), in order."""

    @property
    def ready(self) -> bool:
        """Whether the mirror holds every one."""
        return all(i.present for i in self.images)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(i.image for i in self.images if not i.present)


@dataclass(frozen=True)
class MirrorStatus:
    """Whether the room mirror runs, where, and what it serves."""

    url: str
    """The mirror on this host: ``http://127.0.0.1:PORT``."""
    learner_url: str
    """The mirror as learner engines reach it: ``http://10.0.2.2:PORT``."""
    storage: Path
    """Its registry storage folder."""
    pid: int | None
    """The registry's process id when it runs."""
    ready: bool
    """Whether it answers HTTP."""
    pull_through: str | None
    """The registry it fetches missing images from (``start --pull-through``), or None."""
    images: tuple[HeldImage, ...] = ()
    """Every tag it holds (empty when not listed)."""
    lessons: tuple[LessonCoverage, ...] = ()
    """Each lesson asked about, and which of its images are here."""
    listed: bool = False
    """Whether ``images`` and ``lessons`` were read (``status``; not ``start``/``stop``)."""
    note: str = ""
    """Why the content could not be listed, when it could not."""

    @property
    def running(self) -> bool:
        return self.ready

    @property
    def size(self) -> int:
        """Bytes of all its images (a layer two images share counts twice)."""
        return sum(i.size for i in self.images)

    def describe(self) -> str:
        """The status as ``dockdojo room mirror status`` prints it."""
        if self.pid is None:
            state = "stopped"
        elif self.ready:
            state = f"running (pid {self.pid}) at {self.url}, read-only"
        else:
            state = f"started (pid {self.pid}) but not answering at {self.url}"
        lines = [
            f"room mirror: {state}",
            f"learner engines use: --registry-mirror {self.learner_url}",
            "pull-through: "
            + (f"from {self.pull_through}" if self.pull_through else "off (offline: load)"),
            f"storage: {self.storage}",
        ]
        if self.note:
            lines.append(self.note)
        elif not self.listed:
            pass
        elif not self.images:
            lines.append("holds no image yet (dockdojo room mirror load ARCHIVE)")
        else:
            lines.append(f"holds {plural(len(self.images), 'image')}:")
            width = max(len(i.name) for i in self.images)
            for image in self.images:
                extra = f"  ({', '.join(image.platforms)})" if image.platforms else ""
                lines.append(
                    f"  {image.name:<{width}}  {image.digest}  {human_bytes(image.size):>9}{extra}"
                )
        for lesson in self.lessons:
            count = sum(1 for i in lesson.images if i.present)
            verdict = "ready" if lesson.ready else "missing " + ", ".join(lesson.missing)
            if self.pull_through and not lesson.ready:
                verdict += " (fetched when first pulled, online)"
            lines.append(
                f"lesson {lesson.lesson}: {verdict} ({count} of "
                f"{plural(len(lesson.images), 'image')} here)"
            )
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The status for scripts (schema :data:`STATUS_SCHEMA`)."""
        return {
            "schema": STATUS_SCHEMA,
            "running": self.running,
            "pid": self.pid,
            "url": self.url,
            "learner_url": self.learner_url,
            "read_only": True,
            "pull_through": self.pull_through,
            "storage": str(self.storage),
            "listed": self.listed,
            "note": self.note,
            "size": self.size,
            "images": [
                {
                    "repository": i.repository,
                    "tag": i.tag,
                    "digest": i.digest,
                    "media_type": i.media_type,
                    "size": i.size,
                    "platforms": list(i.platforms),
                }
                for i in self.images
            ],
            "lessons": [
                {
                    "lesson": c.lesson,
                    "ready": c.ready,
                    "images": [
                        {
                            "image": i.image,
                            "repository": i.repository,
                            "reference": i.reference,
                            "present": i.present,
                            "digest": i.digest,
                        }
                        for i in c.images
                    ],
                }
                for c in self.lessons
            ],
        }


def lesson_images(lesson: Lesson) -> list[ImageRef]:
    """Every image a lesson declares (:attr:`Lesson.images`), parsed, without repeats."""
    seen: dict[str, ImageRef] = {}
    for name in lesson.images:
        ref = parse_ref(name)
        seen.setdefault(ref.canonical, ref)
    return list(seen.values())


def lessons_named(names: Sequence[str] | None) -> list[Lesson]:
    from ..lessons import course, load_lesson

    if names is None:
        names = course()
    return [load_lesson(name) for name in names]


def lesson_coverage(
    lessons: Sequence[Lesson], held: Sequence[HeldImage]
) -> tuple[LessonCoverage, ...]:
    """Which of each lesson's images are among ``held``."""
    by_tag = {(h.repository, h.tag): h.digest for h in held}
    by_digest = {(h.repository, h.digest): h.digest for h in held}
    out = []
    for lesson in lessons:
        images = []
        for ref in lesson_images(lesson):
            reference = ref.digest or ref.tag or "latest"
            digest = None
            if ref.domain == "docker.io":
                digest = (
                    by_digest.get((ref.path, ref.digest))
                    if ref.digest
                    else by_tag.get((ref.path, reference))
                )
            images.append(LessonImage(ref.familiar, ref.path, reference, digest))
        out.append(LessonCoverage(lesson.id, tuple(images)))
    return tuple(out)


MIRROR_SOURCE = "the room's mirror"
"""How messages name the room's mirror as where a lesson's images come from."""


def trusted_images(lessons: Sequence[Lesson], registry: Registry) -> TrustedImages:
    """The digests the mirror serves for each of ``lessons``' images now: the manifests a
    learner's checks count as those images (one GET of a manifest per image; a tag the
    mirror does not hold counts nothing). Raises :class:`MirrorError` when it does not
    answer."""
    digests: dict[str, set[str]] = {}
    for lesson in lessons:
        for ref in lesson_images(lesson):
            if ref.domain != "docker.io":
                continue  # the mirror serves Docker Hub's images only
            manifest = registry.manifest(ref.path, ref.digest or ref.tag or "latest")
            if manifest is not None:
                digests.setdefault(repository_key(ref), set()).add(manifest.digest)
    return TrustedImages({k: frozenset(v) for k, v in digests.items()}, MIRROR_SOURCE)


def room_images(lesson: Lesson, mirror_port: int) -> TrustedImages:
    """:func:`trusted_images` of ``lesson`` as the room's mirror on this host's
    ``127.0.0.1:mirror_port`` serves them (the grader's and the instructor's view's one
    source)."""
    return trusted_images([lesson], Registry(f"127.0.0.1:{mirror_port}", timeout=10.0))


def held_images(registry: Registry) -> tuple[HeldImage, ...]:
    out = []
    for repository in registry.catalog():
        for tag in registry.tags(repository):
            manifest = registry.manifest(repository, tag)
            if manifest is None:
                continue
            sizes: dict[str, int] = {}
            platforms: list[str] = []
            _sizes(registry, repository, manifest, sizes, platforms)
            out.append(
                HeldImage(
                    repository,
                    tag,
                    manifest.digest,
                    manifest.media_type,
                    sum(sizes.values()),
                    tuple(platforms),
                )
            )
    return tuple(out)


def _sizes(
    registry: Registry,
    repository: str,
    manifest: Manifest,
    sizes: dict[str, int],
    platforms: list[str],
) -> None:
    """Add the sizes of a manifest and what it names (the platforms it holds, for a list)."""
    sizes[manifest.digest] = len(manifest.body)
    for blob in references(manifest):
        if not manifest.is_index:
            sizes[blob.digest] = blob.size
            continue
        child = registry.manifest(repository, blob.digest)
        if child is not None:  # a pull-through cache holds only the platforms pulled
            platforms.append(blob.platform or blob.digest)
            _sizes(registry, repository, child, sizes, [])
