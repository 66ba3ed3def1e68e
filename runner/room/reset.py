"""Emptying a learner's engine between lessons or submissions, keeping the room's images.

- ``reset``: every container (running or not), every network the learner made and every
  volume go; every image stays.
- ``reset --lesson ID``: only the containers, networks and volumes labelled
  ``dockdojo.lesson=ID`` (what that lesson's widgets and solutions made).
- ``reset --images``: as ``reset``, and also every image the room's mirror does not
  serve: an image stays only when one of its repository digests (the manifest it was
  pulled as) is in the mirror now. Built, loaded, committed and foreign images go, and a
  kept image loses the tags of repositories it was not pulled from (``docker tag nginx
  redis`` does not survive), so each name means what the mirror says.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, replace

from ..engine import Engine, ImageRef, parse_ref
from ..errors import ContainerNotFound, DockdojoError, ImageNotFound, InvalidReference, RoomError
from ..text import plural
from .config import RoomConfig

_MANIFESTS = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


@dataclass(frozen=True)
class ResetReport:
    """What a reset removed from one learner's engine, and which images it kept."""

    learner: str
    """Whose engine."""
    containers: tuple[str, ...] = ()
    """Names of the removed containers."""
    networks: tuple[str, ...] = ()
    """Names of the removed networks."""
    volumes: tuple[str, ...] = ()
    """Names of the removed volumes."""
    images: tuple[str, ...] = ()
    """Removed images (a tag, or the id of an untagged one)."""
    untagged: tuple[str, ...] = ()
    """Tags taken off kept images (repositories the image was not pulled from)."""
    kept: tuple[str, ...] = ()
    """Tags (or ids) of the images kept."""

    def describe(self) -> str:
        removed = [
            plural(len(self.containers), "container"),
            plural(len(self.networks), "network"),
            plural(len(self.volumes), "volume"),
        ]
        if self.images or self.untagged:
            removed.append(plural(len(self.images), "image"))
        line = f"{self.learner}: removed {', '.join(removed)}"
        if self.untagged:
            line += f"; untagged {', '.join(self.untagged)}"
        return line + f"; kept {plural(len(self.kept), 'image')}"


def reset_engine(
    engine: Engine,
    learner: str,
    config: RoomConfig,
    *,
    lesson: str | None = None,
    images: bool = False,
) -> ResetReport:
    """Empty ``engine`` (``learner``'s) as the module says."""
    if lesson is not None and images:
        raise RoomError(
            "--images empties the whole engine's images, so it cannot be limited to a lesson.",
            "Reset the lesson (--lesson ID), or the whole engine with --images.",
        )
    labels = engine.ownership.lesson_filter(lesson) if lesson is not None else None
    containers = []
    for container in engine.containers(labels=labels):
        try:
            engine.remove_container(container.id, force=True)
        except ContainerNotFound:
            continue  # gone meanwhile: the goal is reached
        containers.append(container.name)
    networks = engine.network_manager().names(labels=labels)
    for network in networks:
        engine.network_manager().remove(network)
    volumes = engine.volume_manager().names(labels=labels)
    for volume in volumes:
        engine.volume_manager().remove(volume, force=True)
    report = ResetReport(learner, tuple(containers), tuple(networks), tuple(volumes))
    if images:
        report = _drop_foreign_images(engine, config, report)
    kept = tuple(tag for image in engine.stored_images() for tag in (image.tags or (image.id,)))
    return replace(report, kept=kept)


def _drop_foreign_images(engine: Engine, config: RoomConfig, report: ResetReport) -> ResetReport:
    """Remove the images the mirror does not serve, and foreign tags of those it does."""
    own = _own_domains(config)
    plan = [
        (image, {r.path for r in _refs(image.digests) if _served(config, r)})
        for image in engine.stored_images()
    ]  # the mirror is asked about every image before anything is removed
    removed: list[str] = []
    untagged: list[str] = []
    for image, served in plan:
        if not served:
            _remove(engine, image.id)
            removed.append(image.tags[0] if image.tags else image.id)
            continue
        for tag in image.tags:
            ref = _ref(tag)
            if ref is None or ref.path not in served or ref.domain not in own:
                _remove(engine, tag, force=False)
                untagged.append(tag)
    return replace(report, images=tuple(removed), untagged=tuple(untagged))


def _own_domains(config: RoomConfig) -> tuple[str, ...]:
    """Registries whose names the mirror answers for: Docker Hub, and itself by address."""
    return ("docker.io", f"10.0.2.2:{config.mirror_port}", f"127.0.0.1:{config.mirror_port}")


def _ref(text: str) -> ImageRef | None:
    try:
        return parse_ref(text)
    except InvalidReference:
        return None


def _refs(digests: tuple[str, ...]) -> list[ImageRef]:
    return [r for r in map(_ref, digests) if r is not None and r.digest]


def _served(config: RoomConfig, ref: ImageRef) -> bool:
    """Whether the room's mirror serves the manifest ``ref`` (a Docker Hub digest, or
    one pulled from the mirror by its own address) right now."""
    if ref.domain not in _own_domains(config):
        return False
    request = urllib.request.Request(
        f"http://127.0.0.1:{config.mirror_port}/v2/{ref.path}/manifests/{ref.digest}",
        method="HEAD",
        headers={"Accept": _MANIFESTS},
    )
    try:
        with urllib.request.urlopen(request, timeout=5.0) as response:
            return 200 <= int(response.status) < 300
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise _mirror_unreachable(config, str(exc)) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise _mirror_unreachable(config, str(exc)) from exc


def _mirror_unreachable(config: RoomConfig, reason: str) -> RoomError:
    return RoomError(
        f"The room's mirror on 127.0.0.1:{config.mirror_port} did not answer ({reason}), "
        "so reset --images cannot tell the room's images from others; no image was removed.",
        "Start it (dockdojo room mirror start), then reset again.",
    )


def _remove(engine: Engine, image: str, *, force: bool = True) -> None:
    try:
        engine.remove_image(image, force=force)
    except ImageNotFound:
        pass  # gone meanwhile (a parent removed with its child)
    except DockdojoError as exc:
        raise RoomError(f"Could not remove {image}: {exc.what}", exc.hint) from exc


__all__ = ["ResetReport", "reset_engine"]
