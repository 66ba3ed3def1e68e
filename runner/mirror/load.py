"""``load``: an archive's images checked and pushed into the room mirror's storage."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from .archive import Archive, Descriptor, references
from .registry_api import Manifest, Registry

_BLOCK = 1 << 20


@dataclass(frozen=True)
class LoadResult:
    """What ``load`` did."""

    images: tuple[str, ...]
    """The images loaded, ``library/nginx:latest``."""
    blobs_added: int
    """Blobs stored that the mirror did not hold."""
    blobs_present: int
    """Blobs the mirror held already (their copy in the archive was still checked)."""
    bytes_added: int
    """Bytes of the blobs stored."""
    seconds: float
    """How long loading took."""
    served: bool
    """Whether the running mirror was asked afterwards and served every image with the
    archive's digest (False when the mirror is stopped)."""


@dataclass
class LoadPlan:
    """What a load pushes: each repository's blobs, then the manifests in order."""

    blobs: dict[str, dict[str, Descriptor]] = field(default_factory=dict)
    """Repository -> its configs and layers by digest."""
    manifests: list[tuple[str, str, Manifest]] = field(default_factory=list)
    """(repository, tag or digest, manifest): the manifests a list names before the list."""


def load_plan(archive: Archive) -> LoadPlan:
    """Read and check every manifest of the archive before anything is pushed."""
    plan = LoadPlan()

    def walk(repository: str, manifest: Manifest, reference: str) -> None:
        for blob in references(manifest):
            if manifest.is_index:
                walk(repository, archive.manifest(blob), blob.digest)
            else:
                plan.blobs.setdefault(repository, {})[blob.digest] = blob
        entry = (repository, reference, manifest)
        if entry not in plan.manifests:
            plan.manifests.append(entry)

    for image in archive.images:
        walk(image.repository, archive.manifest(image.manifest), image.reference)
    return plan


def push_blobs(writer: Registry, archive: Archive, plan: LoadPlan) -> tuple[int, int, int]:
    """Push (or check) every blob; returns (blobs added, blobs held already, bytes added)."""
    added = present = size = 0
    holder: dict[str, str] = {}  # digest -> a repository that holds it, checked in this load
    for repository, blobs in plan.blobs.items():
        for blob in blobs.values():
            if blob.digest in holder and writer.mount_blob(
                repository, blob.digest, holder[blob.digest]
            ):
                continue
            stream = archive.open(blob)
            if writer.has_blob(repository, blob.digest):
                stream.drain()  # the archive's copy is checked all the same
                present += 1
            else:
                data = io.BufferedReader(stream, _BLOCK)
                writer.push_blob(repository, blob.digest, blob.size, data)
                added += 1
                size += blob.size
            holder[blob.digest] = repository
    return added, present, size
