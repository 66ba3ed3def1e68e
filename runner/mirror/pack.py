"""``pack``: images copied from a registry (the room mirror, or another) to an archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.refs import ImageRef, parse_ref
from ..errors import MirrorError
from ..text import few
from .archive import ArchivedImage, Descriptor, references
from .holdings import lesson_images, lessons_named
from .registry_api import Manifest, Registry


@dataclass(frozen=True)
class PackResult:
    """What ``pack`` wrote."""

    path: Path
    """The archive."""
    images: tuple[str, ...]
    """The images in it, ``library/nginx:latest``."""
    blobs: int
    """Distinct blobs (manifests, configs, layers) in it."""
    size: int
    """The archive's size in bytes."""
    seconds: float
    """How long packing took."""


@dataclass
class PackPlan:
    """An image to pack: its index entry, its manifests (fetched) and its other blobs."""

    image: ArchivedImage
    manifests: list[Manifest] = field(default_factory=list)
    blobs: list[Descriptor] = field(default_factory=list)


def images_to_pack(images: Sequence[str], lessons: Sequence[str]) -> list[tuple[ImageRef, str]]:
    """The images to pack, each once, with why (``named``, ``lesson NAME``)."""
    out: dict[str, tuple[ImageRef, str]] = {}
    for name in images:
        ref = parse_ref(name)
        out.setdefault(ref.canonical, (ref, "named"))
    for lesson in lessons_named(lessons) if lessons else []:
        for ref in lesson_images(lesson):
            out.setdefault(ref.canonical, (ref, f"lesson {lesson.id}"))
    if not out:
        raise MirrorError(
            "There is nothing to pack.",
            "Name images (dockdojo room mirror pack nginx redis -o room.tar) or lessons "
            "(--lesson NAME).",
        )
    elsewhere = [ref.familiar for ref, _ in out.values() if ref.domain != "docker.io"]
    if elsewhere:
        raise MirrorError(
            f"A registry mirror serves only Docker Hub images, and {few(elsewhere)} "
            f"{'is' if len(elsewhere) == 1 else 'are'} not.",
            "Name Docker Hub images (nginx, library/nginx, someone/app).",
        )
    return list(out.values())


def resolve(registry: Registry, ref: ImageRef, platform: str | None) -> PackPlan | None:
    """Fetch an image's manifests; None when the registry does not hold it."""
    top = registry.manifest(ref.path, ref.digest or ref.tag or "latest")
    if top is None:
        return None
    tag = ref.tag if ref.digest is None else None
    if top.is_index and platform and tag:
        choices = references(top)
        chosen = [d for d in choices if d.platform == platform]
        chosen = chosen or [d for d in choices if d.platform.startswith(platform + "/")]
        if not chosen:
            raise MirrorError(
                f"{ref.familiar} has no {platform} image (it has "
                f"{', '.join(d.platform for d in choices) or 'no platform named'}).",
                "Choose one of those with --platform.",
            )
        child = registry.manifest(ref.path, chosen[0].digest)
        if child is None:
            raise MirrorError(
                f"{registry.name} lists {ref.familiar} for {platform} but does not hold "
                "that manifest.",
                "Pull it through the registry first, or pack from another one.",
            )
        top = child
    plan = PackPlan(
        ArchivedImage(ref.path, tag, Descriptor(top.media_type, top.digest, len(top.body)))
    )
    _collect(registry, ref, top, plan)
    return plan


def _collect(registry: Registry, ref: ImageRef, manifest: Manifest, plan: PackPlan) -> None:
    plan.manifests.append(manifest)
    for blob in references(manifest):
        if not manifest.is_index:
            plan.blobs.append(blob)
            continue
        child = registry.manifest(ref.path, blob.digest)
        if child is None or len(child.body) != blob.size:
            raise MirrorError(
                f"{registry.name} holds {ref.familiar} but not its "
                f"{blob.platform or blob.digest} image (a pull-through cache keeps only the "
                "platforms pulled).",
                "Pack one platform: --platform linux/amd64 (or the one your room uses).",
            )
        _collect(registry, ref, child, plan)
