"""Images in one file that can travel on a USB stick: an OCI image layout in a tar.

The tar holds ``oci-layout``, ``blobs/sha256/HEX`` (every manifest, config and layer,
byte for byte as the registry stored it, so every digest is the one Docker Hub gave) and
``index.json``, whose entries are the images: each is its top-level manifest's
descriptor, annotated with

- ``org.opencontainers.image.ref.name``: the full name, ``docker.io/library/nginx:latest``
  (what containerd's ``ctr import`` reads);
- ``dockdojo.repository``: the repository path in the mirror, ``library/nginx``;
- ``dockdojo.tag``: the tag, when the image was named by one.

Writing streams each blob into the tar while checking its digest, into a temporary file
renamed into place at the end, so an archive is whole or absent. Reading checks the
sha256 of every blob and manifest while it is read: an altered byte is a
:class:`MirrorError` naming the blob.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from ..errors import MirrorError
from .registry_api import INDEX_TYPES, MANIFEST_TYPES, MAX_MANIFEST, Manifest

REF_NAME = "org.opencontainers.image.ref.name"
"""The OCI annotation with the image's full name."""
REPOSITORY = "dockdojo.repository"
"""Annotation: the repository path in the registry (``library/nginx``)."""
TAG = "dockdojo.tag"
"""Annotation: the tag (absent for an image named by digest)."""
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_BLOCK = 1 << 20
_MAX_INDEX = 16 * 1024 * 1024


@dataclass(frozen=True)
class Descriptor:
    """What a manifest or an index says about another blob."""

    media_type: str
    """The blob's media type (a manifest type, a config, a layer)."""
    digest: str
    """``sha256:`` and 64 hex digits."""
    size: int
    """Its length in bytes."""
    platform: str = ""
    """For a manifest in an index: ``os/architecture[/variant]``, else empty."""

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class ArchivedImage:
    """One image of an archive: where it goes in a registry and its top manifest."""

    repository: str
    """The repository path in the registry, ``library/nginx``."""
    tag: str | None
    """The tag it is stored under; ``None`` for an image kept only by digest."""
    manifest: Descriptor
    """Its top-level manifest (an image manifest, or an index of them)."""

    @property
    def name(self) -> str:
        """``library/nginx:latest`` (or ``library/nginx@sha256:...``)."""
        return f"{self.repository}:{self.tag}" if self.tag else f"{self.repository}@{self.digest}"

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def reference(self) -> str:
        """What the registry stores it under: the tag, else the digest."""
        return self.tag or self.manifest.digest


def references(manifest: Manifest) -> list[Descriptor]:
    """The blobs a manifest names: an index's manifests, or an image's config and layers.

    Raises :class:`MirrorError` when the manifest is not one dockdojo can read.
    """
    try:
        data = json.loads(manifest.body)
        if manifest.media_type in INDEX_TYPES:
            return [_descriptor(d) for d in data["manifests"]]
        return [_descriptor(data["config"]), *(_descriptor(d) for d in data.get("layers") or [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise MirrorError(
            f"The manifest {manifest.digest} is not a valid {manifest.media_type} ({exc}).",
            "Pack the image again from a registry that holds it intact.",
        ) from exc


def _descriptor(raw: Any) -> Descriptor:
    digest, size = str(raw["digest"]), raw["size"]
    if not _DIGEST.match(digest) or not isinstance(size, int) or size < 0:
        raise ValueError(f"bad descriptor {digest!r} of size {size!r}")
    platform = raw.get("platform") or {}
    parts = [platform.get(k) for k in ("os", "architecture", "variant")]
    return Descriptor(
        str(raw.get("mediaType", "")), digest, size, "/".join(str(p) for p in parts if p)
    )


class _Checked(io.RawIOBase):
    """A stream of exactly ``size`` bytes whose sha256 must be ``digest``: the last read
    raises :class:`MirrorError` when it is not."""

    def __init__(self, raw: IO[bytes], digest: str, size: int, what: str) -> None:
        super().__init__()
        self.raw, self.digest, self.size, self.what = raw, digest, size, what
        self.hash = hashlib.sha256()
        self.seen = 0
        self.checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self.size - self.seen)
        chunk = self.raw.read(want) if want else b""
        view[: len(chunk)] = chunk
        self.seen += len(chunk)
        self.hash.update(chunk)
        if not chunk and want:
            raise MirrorError(
                f"{self.what} ended after {self.seen} of {self.size} bytes.",
                "The copy is incomplete; copy it again from its source.",
            )
        if self.seen == self.size and not self.checked:
            self.checked = True
            found = "sha256:" + self.hash.hexdigest()
            if found != self.digest:
                raise MirrorError(
                    f"{self.what} does not match its digest: its bytes hash to {found}, "
                    f"not {self.digest}. It was altered or damaged.",
                    "Nothing from it is served. Copy it again from its source, or pack it "
                    "again (dockdojo room mirror pack).",
                )
        return len(chunk)

    def drain(self) -> None:
        """Read to the end, checking the digest, without keeping the bytes."""
        while self.read(_BLOCK):
            pass


class ArchiveWriter:
    """Writes an archive: blobs first, as they arrive, then ``index.json`` on
    :meth:`commit`. Used as a context manager, leaving it without :meth:`commit` (an
    exception) removes the partial file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.images: list[ArchivedImage] = []
        self.blobs: dict[str, int] = {}
        self.committed = False
        try:
            self.tmp.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.tmp.open("wb")
        except OSError as exc:
            raise MirrorError(
                f"Cannot write {path} ({exc.strerror}).", "Choose a folder you can write."
            ) from exc
        self.tar = tarfile.TarFile(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)
        self._add("oci-layout", len(OCI_LAYOUT), io.BytesIO(OCI_LAYOUT))

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self.committed:
            self.abort()

    def has(self, digest: str) -> bool:
        """Whether the blob is in the archive already (blobs are shared between images)."""
        return digest in self.blobs

    def add_manifest(self, manifest: Manifest) -> None:
        """Add a manifest's bytes (its digest was checked when it was fetched)."""
        if not self.has(manifest.digest):
            self.add_blob(
                Descriptor(manifest.media_type, manifest.digest, len(manifest.body)),
                io.BytesIO(manifest.body),
            )

    def add_blob(self, blob: Descriptor, data: BinaryIO) -> None:
        """Copy ``blob.size`` bytes from ``data``, checking that they hash to its digest."""
        if self.has(blob.digest):
            return
        checked = _Checked(data, blob.digest, blob.size, f"The blob {blob.digest}")
        self._add(f"blobs/sha256/{blob.digest[7:]}", blob.size, io.BufferedReader(checked, _BLOCK))
        self.blobs[blob.digest] = blob.size

    def add_image(self, image: ArchivedImage) -> None:
        """Record an image in the index (its blobs must be added already)."""
        if image.manifest.digest not in self.blobs:
            raise ValueError(f"{image.name}: add its manifest before the image")
        self.images.append(image)

    def commit(self) -> int:
        """Write ``index.json``, then put the file in place; returns its size in bytes."""
        index = json.dumps(index_json(self.images), indent=2).encode()
        self._add("index.json", len(index), io.BytesIO(index))
        self.tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.path)
        self.committed = True
        _fsync_folder(self.path.parent)
        return self.path.stat().st_size

    def abort(self) -> None:
        """Close and delete the partial file."""
        self._file.close()
        self.tmp.unlink(missing_ok=True)

    def _add(self, name: str, size: int, data: BinaryIO) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        try:
            self.tar.addfile(info, data)
        except OSError as exc:
            raise MirrorError(
                f"Cannot write {self.path} ({exc.strerror or exc}).",
                "Check the free space where it goes.",
            ) from exc


def index_json(images: list[ArchivedImage]) -> dict[str, Any]:
    """The OCI ``index.json`` of these images."""
    entries = []
    for image in images:
        annotations = {REF_NAME: f"docker.io/{image.name}", REPOSITORY: image.repository}
        if image.tag:
            annotations[TAG] = image.tag
        entries.append({**image.manifest.to_json(), "annotations": annotations})
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Archive:
    """An archive opened for reading; every blob read through it is checked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise MirrorError(
                f"There is no archive {path}.", "Check the path (dockdojo room mirror pack -o)."
            )
        try:
            self.tar = tarfile.TarFile(path, mode="r")
        except (tarfile.TarError, OSError) as exc:
            raise MirrorError(
                f"{path} is not an image archive: it is not a readable tar file ({exc}).",
                "Copy it again from its source; dockdojo room mirror pack writes them.",
            ) from exc
        try:
            self.members = {m.name.removeprefix("./"): m for m in self.tar.getmembers()}
            self._check_layout()
            self.images = self._read_index()
        except BaseException:
            self.tar.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.tar.close()

    def _corrupt(self, what: str) -> MirrorError:
        return MirrorError(
            f"{self.path} is not a complete image archive: {what}.",
            "Copy it again from its source, or pack it again (dockdojo room mirror pack).",
        )

    def _check_layout(self) -> None:
        member = self.members.get("oci-layout")
        if member is None or not member.isfile():
            raise self._corrupt("it has no oci-layout file")
        raw = self._member_bytes(member, 4096)
        try:
            version = json.loads(raw).get("imageLayoutVersion")
        except (ValueError, AttributeError):
            version = None
        if version != "1.0.0":
            raise self._corrupt(f"its oci-layout is not version 1.0.0 ({raw[:60]!r})")

    def _read_index(self) -> tuple[ArchivedImage, ...]:
        member = self.members.get("index.json")
        if member is None or not member.isfile():
            raise self._corrupt("it has no index.json")
        try:
            entries = json.loads(self._member_bytes(member, _MAX_INDEX))["manifests"]
            images = tuple(_archived(entry) for entry in entries)
        except (ValueError, KeyError, TypeError) as exc:
            raise self._corrupt(f"its index.json cannot be read ({exc})") from exc
        if not images:
            raise self._corrupt("its index.json lists no image")
        return images

    def _member_bytes(self, member: tarfile.TarInfo, limit: int) -> bytes:
        if member.size > limit:
            raise self._corrupt(f"{member.name} is larger than {limit} bytes")
        data = self.tar.extractfile(member)
        if data is None:
            raise self._corrupt(f"{member.name} is not a file")
        return data.read()

    def _member(self, blob: Descriptor) -> tarfile.TarInfo:
        member = self.members.get(f"blobs/sha256/{blob.digest[7:]}")
        if member is None or not member.isfile():
            raise self._corrupt(f"the blob {blob.digest} is missing")
        if member.size != blob.size:
            raise MirrorError(
                f"In {self.path}, the blob {blob.digest} is {member.size} bytes, not the "
                f"{blob.size} its manifest says. It was altered or damaged.",
                "Nothing from it is served. Copy it again from its source, or pack it again.",
            )
        return member

    def open(self, blob: Descriptor) -> _Checked:
        """The blob as a stream whose last read checks its sha256."""
        data = self.tar.extractfile(self._member(blob))
        assert data is not None  # _member checked that it is a file
        return _Checked(data, blob.digest, blob.size, f"In {self.path}, the blob {blob.digest}")

    def manifest(self, blob: Descriptor) -> Manifest:
        """A manifest blob, its digest checked."""
        if blob.media_type not in MANIFEST_TYPES:
            raise self._corrupt(f"{blob.digest} is a {blob.media_type!r}, not a manifest")
        if blob.size > MAX_MANIFEST:
            raise self._corrupt(f"the manifest {blob.digest} is larger than 4 MiB")
        stream = self.open(blob)
        body = b"".join(iter(lambda: stream.read(_BLOCK), b""))
        return Manifest(blob.media_type, blob.digest, body)


def _archived(entry: Any) -> ArchivedImage:
    annotations = entry.get("annotations") or {}
    repository = annotations.get(REPOSITORY)
    if not isinstance(repository, str) or not repository:
        raise ValueError(f"the entry {entry.get('digest')} has no {REPOSITORY} annotation")
    tag = annotations.get(TAG)
    return ArchivedImage(repository, str(tag) if tag else None, _descriptor(entry))


__all__ = [
    "OCI_LAYOUT",
    "REF_NAME",
    "REPOSITORY",
    "TAG",
    "Archive",
    "ArchiveWriter",
    "ArchivedImage",
    "Descriptor",
    "index_json",
    "references",
]
