"""The room mirror against real registries: the seed lesson's images packed from the test
sandbox's registry, loaded into a room mirror of their own (a temporary state, a free
port), served to a root engine, never writable over TCP, safe from an altered archive,
and gone without a trace when stopped.

Needs the test world (``source /tmp/tenv.sh`` or ``make test``): DOCKDOJO_TEST_REGISTRY
(the sandbox registry with library/nginx, redis, mongo, busybox) and
DOCKDOJO_TEST_DOCKER_HOST. These tests fail, never skip, when it is missing. The sandbox
is only read from.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from common_kit import free_port

from dockdojo.runner.cli import main
from dockdojo.runner.mirror import Mirror, registry_config
from dockdojo.runner.mirror.registry_api import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    Manifest,
    Registry,
    sha256_digest,
)
from dockdojo.runner.privileged.processes import processes_using
from dockdojo.runner.room import load_config

pytestmark = pytest.mark.engine

SEED = "what-is-an-image"
IMAGES = ("library/nginx", "library/redis", "library/mongo", "library/busybox")


@dataclass(frozen=True)
class Room:
    """A room of its own: settings file, state folder, mirror port."""

    config: Path
    state: Path
    port: int

    def mirror(self, *args: str) -> int:
        return main(["room", "--config", str(self.config), "mirror", *args])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def folder(self) -> Path:
        return self.state / "mirror"


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _make_room(root: Path) -> Room:
    root.mkdir()
    port = free_port()
    config = root / "room.toml"
    config.write_text(f'state = "{root / "room"}"\nmirror_port = {port}\n')
    return Room(config, root / "room", port)


@pytest.fixture(scope="module")
def source() -> str:
    """The test sandbox's registry, which holds the fixture images."""
    address = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    if not address:
        pytest.fail("DOCKDOJO_TEST_REGISTRY is not set: source /tmp/tenv.sh or run make test.")
    assert Registry(address).ping(), f"the sandbox registry at {address} does not answer"
    return address


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mirror-test-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def room(workdir: Path) -> Iterator[Room]:
    """A room whose mirror the tests start; stopped at the end whatever happened."""
    made = _make_room(workdir / "a")
    yield made
    Mirror(load_config(made.config)).stop()


@pytest.fixture(scope="module")
def packed(room: Room, source: str, workdir: Path) -> tuple[Path, str]:
    """The seed lesson's images packed from the sandbox registry, and what pack printed."""
    out = workdir / "room.tar"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert room.mirror("pack", "--lesson", SEED, "--from", source, "-o", str(out)) == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def archive(packed: tuple[Path, str]) -> Path:
    return packed[0]


def _source_digests(source: str) -> dict[str, str]:
    registry = Registry(source)
    found = {}
    for name in IMAGES:
        manifest = registry.manifest(name, "latest")
        assert manifest is not None, f"the sandbox registry lacks {name}"
        found[name] = manifest.digest
    return found


def _status(room: Room, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    room.mirror("status", "--json", "--lesson", SEED)
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _held(status: dict[str, Any]) -> dict[str, str]:
    return {f"{i['repository']}:{i['tag']}": i["digest"] for i in status["images"]}


def _raw(port: int, method: str, target: str, body: bytes = b"") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _docker(docker_host: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker")
    assert binary, "the docker CLI is not installed (tests/world/install.sh installs it)"
    env = {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": str(config)}
    return subprocess.run(
        [binary, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


# ---------------------------------------------------------------------------------------
def test_pack_copies_the_lessons_images_with_their_digests(
    packed: tuple[Path, str], source: str
) -> None:
    archive, printed = packed
    assert printed.startswith("packed 4 images (library/nginx:latest, library/redis:latest")
    with tarfile.open(archive) as tar:
        index_file = tar.extractfile("index.json")
        assert index_file is not None
        index = json.load(index_file)
        names = set(tar.getnames())
    entries = {e["annotations"]["dockdojo.repository"]: e for e in index["manifests"]}
    assert {name: e["digest"] for name, e in entries.items()} == _source_digests(source)
    for name, entry in entries.items():
        ref = entry["annotations"]["org.opencontainers.image.ref.name"]
        assert ref == f"docker.io/{name}:latest"
        assert f"blobs/sha256/{entry['digest'][7:]}" in names
    assert not list(archive.parent.glob(".room.tar.*"))  # no temporary file left


def test_start_is_idempotent_and_prints_the_url(
    room: Room, capsys: pytest.CaptureFixture[str]
) -> None:
    assert room.mirror("start") == 0
    first = capsys.readouterr()
    assert first.out == f"http://{room.address}\n"
    assert f"--registry-mirror http://10.0.2.2:{room.port}" in first.err
    pid = Mirror(load_config(room.config)).status(content=False).pid
    assert room.mirror("start") == 0
    assert capsys.readouterr().out == f"http://{room.address}\n"
    assert Mirror(load_config(room.config)).status(content=False).pid == pid
    assert (room.folder.stat().st_mode & 0o777) == 0o700


def test_load_then_status_lists_the_images_with_the_sources_digests(
    room: Room, archive: Path, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert room.mirror("load", str(archive)) == 0
    out = capsys.readouterr().out
    assert "loaded 4 images" in out
    assert "the mirror serves them now" in out
    status = _status(room, capsys)
    assert status["running"]
    expected = {f"{name}:latest": digest for name, digest in _source_digests(source).items()}
    assert _held(status) == expected
    (lesson,) = status["lessons"]
    assert lesson["ready"]
    assert [(i["image"], i["digest"]) for i in lesson["images"]] == [
        (f"{n.removeprefix('library/')}:latest", expected[f"{n}:latest"]) for n in IMAGES
    ]
    sizes = {i["repository"]: i["size"] for i in status["images"]}
    assert sizes["library/mongo"] > 50_000_000
    assert not list(Path(tempfile.gettempdir()).glob("dockdojo-mirror-*"))  # socket folder
    assert not processes_using(room.folder / "writer.yml")


def test_the_mirror_serves_every_blob_right_after_the_load(room: Room) -> None:
    registry = Registry(room.address)
    manifest = registry.manifest("library/nginx", "latest")
    assert manifest is not None
    for blob in json.loads(manifest.body)["layers"] + [json.loads(manifest.body)["config"]]:
        digest = hashlib.sha256()
        with registry.blob("library/nginx", blob["digest"], blob["size"]) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        assert f"sha256:{digest.hexdigest()}" == blob["digest"]


def test_a_root_engine_pulls_through_it(room: Room, docker_host: str, workdir: Path) -> None:
    config = workdir / "docker-config"
    config.mkdir(exist_ok=True)
    name = f"{room.address}/library/nginx"
    pulled = _docker(docker_host, config, "pull", name)
    try:
        assert pulled.returncode == 0, pulled.stderr
        digest = Registry(room.address).manifest("library/nginx", "latest")
        assert digest is not None
        assert f"Digest: {digest.digest}" in pulled.stdout
    finally:
        _docker(docker_host, config, "rmi", name)


def test_nobody_can_write_to_it_over_tcp(
    room: Room, docker_host: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _status(room, capsys)
    nginx = before["images"][[i["repository"] for i in before["images"]].index("library/nginx")]
    blob = "sha256:" + "0" * 64
    for method, target in [
        ("POST", "/v2/library/nginx/blobs/uploads/"),
        ("POST", "/v2/x/blobs/uploads/"),
        ("PUT", "/v2/library/nginx/manifests/latest"),
        ("DELETE", f"/v2/library/nginx/manifests/{nginx['digest']}"),
        ("DELETE", f"/v2/library/nginx/blobs/{blob}"),
    ]:
        refused = _raw(room.port, method, target, b"{}")
        assert refused.status == 405, (method, target)
        assert refused.getheader("Allow") == "GET, HEAD"
    assert _raw(room.port, "PATCH", "/v2/x/blobs/uploads/some-id").status == 404

    config = workdir / "docker-config"
    config.mkdir(exist_ok=True)
    evil = f"{room.address}/library/evil"
    assert _docker(docker_host, config, "tag", "nginx", evil).returncode == 0
    try:
        pushed = _docker(docker_host, config, "push", evil)
    finally:
        _docker(docker_host, config, "rmi", evil)
    assert pushed.returncode != 0
    assert "405" in pushed.stderr
    after = _status(room, capsys)
    assert _held(after) == _held(before)
    assert "library/evil" not in Registry(room.address).catalog()


def test_an_altered_archive_is_refused_and_the_mirror_keeps_what_it_had(
    room: Room, archive: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy whose images are renamed library/evil-* and one byte of the last image's
    layer flipped: the others' blobs get pushed before the flipped one is read."""
    before = _status(room, capsys)
    altered = workdir / "altered.tar"
    with tarfile.open(archive) as src, tarfile.open(altered, "w") as dst:
        index_file = src.extractfile("index.json")
        assert index_file is not None
        index = json.load(index_file)
        for entry in index["manifests"]:
            notes = entry["annotations"]
            notes["dockdojo.repository"] = notes["dockdojo.repository"].replace("/", "/evil-")
        last = Registry(room.address).manifest(
            index["manifests"][-1]["annotations"]["dockdojo.repository"].replace("evil-", ""),
            "latest",
        )
        assert last is not None
        victim = "blobs/sha256/" + json.loads(last.body)["layers"][-1]["digest"][7:]
        for member in src.getmembers():
            data = src.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == "index.json":
                content = json.dumps(index).encode()
                member.size = len(content)
            elif member.name == victim:
                content = content[:500] + bytes([content[500] ^ 1]) + content[501:]
            dst.addfile(member, io.BytesIO(content))

    assert room.mirror("load", str(altered)) == 1
    err = capsys.readouterr().err
    assert f"the blob sha256:{victim.rsplit('/', 1)[1]} does not match its digest" in err
    assert "altered or damaged" in err
    after = _status(room, capsys)
    assert _held(after) == _held(before)
    assert after["lessons"][0]["ready"]
    registry = Registry(room.address)
    assert not [name for name in registry.catalog() if "evil" in name]
    assert registry.manifest("library/evil-nginx", "latest") is None
    assert not processes_using(room.folder / "writer.yml")


def test_a_pull_through_mirror_is_read_only_too(
    source: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox registry stands in for Docker Hub (no internet here)."""
    other = _make_room(workdir / "b")
    try:
        assert other.mirror("start", "--pull-through", f"http://{source}") == 0
        assert capsys.readouterr().out == f"http://{other.address}\n"
        mirror = Registry(other.address)
        fetched = mirror.manifest("library/redis", "latest")
        assert fetched is not None
        assert fetched.digest == _source_digests(source)["library/redis"]
        config = json.loads(fetched.body)["config"]
        with mirror.blob("library/redis", config["digest"], config["size"]) as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == config["digest"][7:]
        assert _raw(other.port, "POST", "/v2/library/redis/blobs/uploads/").status == 405
        assert other.mirror("start") == 1  # the other settings: stop first
        assert "already runs" in capsys.readouterr().err
        status = _status(other, capsys)
        assert status["pull_through"] == f"http://{source}"
        assert "library/redis:latest" in _held(status)  # kept
    finally:
        assert other.mirror("stop") == 0
    assert not processes_using(other.folder)


@pytest.fixture(scope="module")
def scratch(workdir: Path) -> Iterator[str]:
    """A writable registry of these tests' own (the sandbox's is only read from)."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed (tests/world/install.sh installs it)"
    port = free_port()
    storage = workdir / "scratch"
    storage.mkdir()
    config = workdir / "scratch.yml"
    config.write_text(registry_config(storage, f"127.0.0.1:{port}", readonly=False))
    with (workdir / "scratch.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while not Registry(f"127.0.0.1:{port}", timeout=1).ping():
            assert process.poll() is None, (workdir / "scratch.log").read_text()
            assert time.monotonic() < deadline, "the scratch registry did not come up"
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def _push_image(registry: Registry, repository: str, seed: str) -> Manifest:
    """A tiny hand-made image (a config, one layer), pushed by digest."""
    config = json.dumps({"architecture": seed, "os": "linux"}).encode()
    layer = hashlib.shake_256(seed.encode()).digest(200_000)
    described = []
    for media_type, data in [
        ("application/vnd.docker.container.image.v1+json", config),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", layer),
    ]:
        digest = sha256_digest(data)
        registry.push_blob(repository, digest, len(data), io.BytesIO(data))
        described.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": described[0],
            "layers": described[1:],
        }
    ).encode()
    manifest = Manifest(DOCKER_MANIFEST, sha256_digest(body), body)
    registry.put_manifest(repository, manifest.digest, manifest)
    return manifest


def test_a_multi_platform_image_keeps_its_list_and_its_digest(
    room: Room, scratch: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = Registry(scratch)
    children = {arch: _push_image(registry, "library/multi", arch) for arch in ("amd64", "arm64")}
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": m.digest,
                    "size": len(m.body),
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch, m in children.items()
            ],
        },
        indent=3,
    ).encode()
    listed = Manifest(DOCKER_LIST, sha256_digest(body), body)
    registry.put_manifest("library/multi", "latest", listed)

    both, arm = workdir / "multi.tar", workdir / "arm.tar"
    assert room.mirror("pack", "multi", "--from", scratch, "-o", str(both)) == 0
    platform = ["--platform", "linux/arm64"]
    assert room.mirror("pack", "multi", "--from", scratch, *platform, "-o", str(arm)) == 0
    with tarfile.open(arm) as tar:
        index_file = tar.extractfile("index.json")
        assert index_file is not None
        (entry,) = json.load(index_file)["manifests"]
    assert (entry["digest"], entry["mediaType"]) == (children["arm64"].digest, DOCKER_MANIFEST)

    assert room.mirror("load", str(both)) == 0
    status = _status(room, capsys)
    (multi,) = [i for i in status["images"] if i["repository"] == "library/multi"]
    assert (multi["digest"], multi["media_type"]) == (listed.digest, DOCKER_LIST)
    assert multi["platforms"] == ["linux/amd64", "linux/arm64"]
    served = Registry(room.address)
    for child in children.values():
        got = served.manifest("library/multi", child.digest)
        assert got is not None
        assert got.body == child.body


def test_pack_names_every_image_the_source_lacks(
    room: Room, scratch: str, source: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workdir / "none.tar"
    assert room.mirror("pack", "--lesson", SEED, "--from", scratch, "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert f"error: the registry at {scratch} does not hold nginx:latest (lesson {SEED})" in err
    assert "busybox:latest (lesson what-is-an-image)" in err
    assert room.mirror("pack", "nginx", "nosuchimage:1.0", "--from", source, "-o", str(out)) == 1
    assert "does not hold nosuchimage:1.0 (named)" in capsys.readouterr().err
    assert not out.exists()
    assert not list(workdir.glob(".none.tar.*"))


def test_pack_reads_the_room_mirror_by_default(room: Room, workdir: Path, source: str) -> None:
    out = workdir / "again.tar"
    assert room.mirror("pack", "nginx", "-o", str(out)) == 0
    with tarfile.open(out) as tar:
        index_file = tar.extractfile("index.json")
        assert index_file is not None
        (entry,) = json.load(index_file)["manifests"]
    assert entry["digest"] == _source_digests(source)["library/nginx"]


def test_stop_leaves_no_process_and_status_still_reads_the_storage(
    room: Room, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = Mirror(load_config(room.config)).status(content=False).pid
    assert pid is not None
    assert room.mirror("stop") == 0
    assert "room mirror: stopped" in capsys.readouterr().err
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert not processes_using(room.folder)
    assert not port_taken(room.port)
    assert room.mirror("stop") == 0  # again: nothing to do
    status = _status(room, capsys)
    assert not status["running"]
    assert set(_held(status)) == {f"{name}:latest" for name in (*IMAGES, "library/multi")}
    assert not processes_using(room.folder)
