"""Image archives (an OCI image layout in a tar), written and read without any registry:
a tiny hand-made image, its digests kept, and every altered byte refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from dockdojo.runner.errors import MirrorError
from dockdojo.runner.mirror.archive import (
    OCI_LAYOUT,
    REF_NAME,
    REPOSITORY,
    TAG,
    Archive,
    ArchivedImage,
    ArchiveWriter,
    Descriptor,
    references,
)
from dockdojo.runner.mirror.registry_api import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    Manifest,
    sha256_digest,
)

LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"


class Image:
    """A hand-made image: a config, one layer and the manifest naming them."""

    def __init__(self, seed: str, layer_size: int = 300_000) -> None:
        self.config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        self.layer = hashlib.shake_256(seed.encode()).digest(layer_size)
        self.blobs = [
            Descriptor(CONFIG_TYPE, sha256_digest(self.config), len(self.config)),
            Descriptor(LAYER_TYPE, sha256_digest(self.layer), len(self.layer)),
        ]
        body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": self.blobs[0].to_json(),
                "layers": [self.blobs[1].to_json()],
            },
            indent=3,  # as a registry keeps it: these bytes, not a re-serialization
        ).encode()
        self.manifest = Manifest(DOCKER_MANIFEST, sha256_digest(body), body)

    def data(self, blob: Descriptor) -> bytes:
        return self.config if blob.digest == self.blobs[0].digest else self.layer

    def entry(self, repository: str, tag: str | None) -> ArchivedImage:
        m = self.manifest
        return ArchivedImage(repository, tag, Descriptor(m.media_type, m.digest, len(m.body)))


def write(path: Path, images: dict[str, Image]) -> int:
    with ArchiveWriter(path) as writer:
        for name, image in images.items():
            writer.add_manifest(image.manifest)
            for blob in image.blobs:
                writer.add_blob(blob, io.BytesIO(image.data(blob)))
            writer.add_image(image.entry(f"library/{name}", "latest"))
        return writer.commit()


@pytest.fixture
def images() -> dict[str, Image]:
    return {"nginx": Image("nginx"), "redis": Image("redis", 50_000)}


@pytest.fixture
def archive(tmp_path: Path, images: dict[str, Image]) -> Path:
    path = tmp_path / "room.tar"
    write(path, images)
    return path


def flip_byte(path: Path, member_name: str, at: int = 0) -> None:
    with tarfile.open(path) as tar:
        offset = tar.getmember(member_name).offset_data + at
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def blob_name(digest: str) -> str:
    return f"blobs/sha256/{digest[7:]}"


def test_an_archive_is_an_oci_layout_with_every_blob_byte_for_byte(
    archive: Path, images: dict[str, Image]
) -> None:
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[0] == "oci-layout"
        assert names[-1] == "index.json"
        layout = tar.extractfile("oci-layout")
        index_file = tar.extractfile("index.json")
        assert layout is not None
        assert index_file is not None
        assert layout.read() == OCI_LAYOUT
        index = json.load(index_file)
        for image in images.values():
            for digest, data in [
                (image.manifest.digest, image.manifest.body),
                *((b.digest, image.data(b)) for b in image.blobs),
            ]:
                member = tar.extractfile(blob_name(digest))
                assert member is not None
                assert member.read() == data
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    entries = {e["annotations"][REPOSITORY]: e for e in index["manifests"]}
    assert set(entries) == {"library/nginx", "library/redis"}
    nginx = entries["library/nginx"]
    assert nginx["digest"] == images["nginx"].manifest.digest
    assert nginx["size"] == len(images["nginx"].manifest.body)
    assert nginx["mediaType"] == DOCKER_MANIFEST
    assert nginx["annotations"][REF_NAME] == "docker.io/library/nginx:latest"
    assert nginx["annotations"][TAG] == "latest"


def test_reading_it_back_gives_the_images_and_checked_bytes(
    archive: Path, images: dict[str, Image]
) -> None:
    with Archive(archive) as opened:
        assert [i.name for i in opened.images] == ["library/nginx:latest", "library/redis:latest"]
        nginx = opened.images[0]
        assert nginx.reference == "latest"
        manifest = opened.manifest(nginx.manifest)
        assert manifest == images["nginx"].manifest
        assert references(manifest) == images["nginx"].blobs
        layer = references(manifest)[1]
        stream = opened.open(layer)
        assert stream.readall() == images["nginx"].layer


def test_a_blob_shared_by_two_images_is_written_once(tmp_path: Path) -> None:
    image = Image("same")
    with ArchiveWriter(tmp_path / "two.tar") as writer:
        for repository in ("library/a", "library/b"):
            writer.add_manifest(image.manifest)
            for blob in image.blobs:
                writer.add_blob(blob, io.BytesIO(image.data(blob)))
            writer.add_image(image.entry(repository, "v1"))
        writer.commit()
    with tarfile.open(tmp_path / "two.tar") as tar:
        names = tar.getnames()
    assert len(names) == len(set(names)) == 2 + 3  # oci-layout, index.json, three blobs
    with Archive(tmp_path / "two.tar") as opened:
        assert [i.name for i in opened.images] == ["library/a:v1", "library/b:v1"]


def test_a_flipped_layer_byte_is_refused_while_reading(
    archive: Path, images: dict[str, Image]
) -> None:
    layer = images["nginx"].blobs[1]
    flip_byte(archive, blob_name(layer.digest), at=123_456)
    with Archive(archive) as opened:
        manifest = opened.manifest(opened.images[0].manifest)  # the manifest is intact
        stream = opened.open(references(manifest)[1])
        with pytest.raises(MirrorError, match="does not match its digest") as err:
            stream.drain()
    assert layer.digest in err.value.what
    assert "altered or damaged" in err.value.what
    assert "Nothing from it is served" in err.value.hint


def test_a_flipped_manifest_byte_is_refused(archive: Path, images: dict[str, Image]) -> None:
    flip_byte(archive, blob_name(images["redis"].manifest.digest), at=10)
    with Archive(archive) as opened, pytest.raises(MirrorError, match="does not match"):
        opened.manifest(opened.images[1].manifest)


def test_a_blob_of_another_size_is_refused(tmp_path: Path, images: dict[str, Image]) -> None:
    """An archive rebuilt with a longer layer than its manifest says."""
    path = tmp_path / "longer.tar"
    write(path, images)
    layer = images["redis"].blobs[1]
    out = tmp_path / "rebuilt.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == blob_name(layer.digest):
                content += b"x"
                member.size += 1
            dst.addfile(member, io.BytesIO(content))
    with Archive(out) as opened, pytest.raises(MirrorError, match="not the 50000 its manifest"):
        opened.open(layer)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda _p: None, "There is no archive"),
        (lambda p: p.write_bytes(b"not a tar at all" * 100), "not a readable tar file"),
        (lambda p: _tar(p, {"index.json": b"{}"}), "has no oci-layout"),
        (lambda p: _tar(p, {"oci-layout": b'{"imageLayoutVersion":"9"}'}), "not version 1.0.0"),
        (lambda p: _tar(p, {"oci-layout": OCI_LAYOUT}), "has no index.json"),
        (lambda p: _tar(p, {"oci-layout": OCI_LAYOUT, "index.json": b"{"}), "cannot be read"),
        (
            lambda p: _tar(p, {"oci-layout": OCI_LAYOUT, "index.json": b'{"manifests": []}'}),
            "lists no image",
        ),
        (
            lambda p: _tar(
                p,
                {
                    "oci-layout": OCI_LAYOUT,
                    "index.json": json.dumps(
                        {"manifests": [{"digest": "sha256:" + "0" * 64, "size": 1}]}
                    ).encode(),
                },
            ),
            "has no dockdojo.repository annotation",
        ),
    ],
    ids=[
        "missing",
        "not-tar",
        "no-layout",
        "layout-version",
        "no-index",
        "bad-json",
        "empty",
        "anon",
    ],
)
def test_what_is_not_an_archive_is_named(tmp_path: Path, build: object, message: str) -> None:
    path = tmp_path / "room.tar"
    build(path)  # type: ignore[operator]
    with pytest.raises(MirrorError, match=message):
        Archive(path)


def test_a_missing_blob_is_named(tmp_path: Path, images: dict[str, Image]) -> None:
    path = tmp_path / "room.tar"
    write(path, images)
    layer = images["nginx"].blobs[1]
    out = tmp_path / "holed.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            if member.name != blob_name(layer.digest):
                dst.addfile(member, src.extractfile(member))
    with (
        Archive(out) as opened,
        pytest.raises(MirrorError, match=f"blob {layer.digest} is missing"),
    ):
        opened.open(layer)


def _tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_bytes_that_do_not_match_their_digest_leave_no_file(tmp_path: Path) -> None:
    """A registry that sends other bytes: the archive is not written, and an older
    archive at the same path stays as it was."""
    path = tmp_path / "room.tar"
    path.write_bytes(b"the archive of yesterday")
    image = Image("bad")

    def pack() -> None:
        with ArchiveWriter(path) as writer:
            writer.add_manifest(image.manifest)
            writer.add_blob(image.blobs[1], io.BytesIO(b"y" + image.layer[1:]))
            writer.commit()

    with pytest.raises(MirrorError, match="does not match its digest"):
        pack()
    assert path.read_bytes() == b"the archive of yesterday"
    assert os.listdir(tmp_path) == ["room.tar"]


def test_a_short_blob_leaves_no_file(tmp_path: Path) -> None:
    image = Image("short")
    with (
        pytest.raises(MirrorError, match="ended after 10 of"),
        ArchiveWriter(tmp_path / "a.tar") as w,
    ):
        w.add_blob(image.blobs[1], io.BytesIO(image.layer[:10]))
    assert os.listdir(tmp_path) == []


def test_blobs_are_streamed_not_held_in_memory(tmp_path: Path) -> None:
    """A 64 MB blob is copied in pieces of at most 1 MiB."""

    class Source(io.RawIOBase):
        def __init__(self, size: int) -> None:
            self.left, self.largest = size, 0
            self.hash = hashlib.sha256()

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            n = min(len(buffer), self.left)
            self.largest = max(self.largest, len(buffer))
            buffer[:n] = b"\x07" * n
            self.left -= n
            return n

    size = 64 * 1024 * 1024
    digest = "sha256:" + hashlib.sha256(b"\x07" * size).hexdigest()
    source = Source(size)
    with ArchiveWriter(tmp_path / "big.tar") as writer:
        writer.add_blob(Descriptor(LAYER_TYPE, digest, size), source)  # type: ignore[arg-type]
    assert source.left == 0
    assert source.largest <= 1 << 20


def test_references_of_a_list_and_of_a_bad_manifest() -> None:
    child = Image("child").manifest
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": child.digest,
                    "size": len(child.body),
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                }
            ],
        }
    ).encode()
    listed = references(Manifest(DOCKER_LIST, sha256_digest(body), body))
    assert listed == [Descriptor(DOCKER_MANIFEST, child.digest, len(child.body), "linux/arm64/v8")]
    with pytest.raises(MirrorError, match="is not a valid"):
        references(Manifest(DOCKER_MANIFEST, sha256_digest(b"{}"), b"{}"))
