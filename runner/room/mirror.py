"""The room's registry mirror: one Distribution registry every learner engine pulls from.

It listens on ``127.0.0.1:mirror_port`` (learner engines reach it as ``10.0.2.2``) with
its storage in ``STATE/mirror/registry``, and it is always read-only
(``storage.maintenance.readonly``): learner engines and their containers reach every
port of the host's loopback, so no learner may push to it. Images arrive three ways:

- ``load``: from an archive (:mod:`.archive`), through a second, temporary and writable
  registry on the same storage that listens only on a UNIX socket in a folder of root's
  (mode 700), stopped when the load ends. Blobs go first, manifests last, each checked
  by digest, so a damaged or altered archive loads nothing that is served;
- ``pack``: the other way, from a registry (this mirror, or ``--from HOST:PORT``) to an
  archive;
- ``start --pull-through``: online, it also fetches what it lacks from Docker Hub and
  keeps it (Distribution 2.8 serves a pull-through cache read-only too: learners still
  cannot push).

No blob-descriptor cache is configured, so what a load stores is served at once by the
running mirror. Processes are started and stopped with the sandbox's helpers and leave
nothing behind.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.refs import ImageRef, parse_ref
from ..errors import HostError, MirrorError
from ..privileged.processes import alive, processes_using, read_pid, spawn, terminate
from ..sandbox import port_taken
from ..text import few, human_bytes, plural
from .archive import Archive, ArchivedImage, ArchiveWriter, Descriptor, references
from .config import RoomConfig
from .registry_api import Manifest, Registry

if TYPE_CHECKING:
    from ..authoring import Lesson

DOCKER_HUB = "https://registry-1.docker.io"
"""What ``start --pull-through`` fetches from by default."""
STATUS_SCHEMA = "dockdojo.room-mirror/v1"
"""Version of :meth:`MirrorStatus.to_json`'s shape."""
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0
_BLOCK = 1 << 20


# what the mirror holds ---------------------------------------------------------------
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


# the mirror ----------------------------------------------------------------------------
class Mirror:
    """The room's registry mirror, under ``config.state / "mirror"``."""

    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.folder = (config.state / "mirror").absolute()
        """Root's alone (mode 700): the storage, settings, logs and process ids."""
        self.storage = self.folder / "registry"
        """The registry's storage (``rootdirectory``)."""

    def _path(self, name: str) -> Path:
        return self.folder / name

    def _saved(self) -> dict[str, Any]:
        """The settings the running mirror was started with."""
        try:
            data = json.loads(self._path("mirror.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    # lifecycle ---------------------------------------------------------------------------
    def status(self, lessons: Sequence[str] | None = None, *, content: bool = True) -> MirrorStatus:
        """Whether it runs; with ``content``, every tag it holds and, for ``lessons`` (all
        known lessons when None), which of their images it serves."""
        pid = alive(read_pid(self._path("registry.pid")))
        saved = self._saved() if pid is not None else {}
        port = int(saved.get("port", self.config.mirror_port))
        ready = pid is not None and Registry(f"127.0.0.1:{port}", timeout=2.0).ping()
        status = MirrorStatus(
            url=f"http://127.0.0.1:{port}",
            learner_url=f"http://10.0.2.2:{port}",
            storage=self.storage,
            pid=pid,
            ready=ready,
            pull_through=saved.get("pull_through"),
        )
        if not content:
            return status
        held: tuple[HeldImage, ...] = ()
        note = ""
        if ready or self.storage.is_dir():
            if _serves_its_storage(status) or os.geteuid() == 0:
                with self._reader(status) as registry:
                    held = _held(registry)
            else:
                note = "what it holds: only root can read its storage (stopped or pull-through)"
        coverage = lesson_coverage(_lessons(lessons), held)
        return replace(status, images=held, lessons=coverage, listed=not note, note=note)

    def start(self, pull_through: str | None = None) -> MirrorStatus:
        """Run the mirror, read-only (and, with ``pull_through``, a pull-through cache of
        that registry). Safe to call when it runs with the same settings."""
        need_root("start the room mirror")
        binary = registry_binary()
        current = self.status(content=False)
        if current.pid is not None:
            if current.pull_through != pull_through:
                running = f"from {current.pull_through}" if current.pull_through else "off"
                raise MirrorError(
                    f"The room mirror already runs (pid {current.pid}) with pull-through "
                    f"{running}.",
                    "Stop it (dockdojo room mirror stop), then start it with the settings "
                    "you want.",
                )
            running_pid = current.pid
            self._wait(
                lambda: self.status(content=False).ready,
                lambda: alive(running_pid) is not None,
                "registry.log",
            )
            return self.status(content=False)
        port = self.config.mirror_port
        if port_taken(port):
            raise MirrorError(
                f"Port {port} on 127.0.0.1 is taken by another program, so the room "
                "mirror cannot listen there.",
                "Stop that program, or set another mirror_port in the room's settings (room.toml).",
            )
        self._prepare()
        config = self._path("registry.yml")
        config.write_text(
            registry_config(
                self.storage, f"127.0.0.1:{port}", readonly=True, pull_through=pull_through
            )
        )
        self._path("mirror.json").write_text(
            json.dumps({"port": port, "pull_through": pull_through}) + "\n"
        )
        with _as_mirror_error():
            pid = spawn([binary, "serve", str(config)], self._path("registry.log"))
        self._path("registry.pid").write_text(f"{pid}\n")
        try:
            self._wait(
                lambda: Registry(f"127.0.0.1:{port}", timeout=2.0).ping(),
                lambda: alive(pid) is not None,
                "registry.log",
            )
        except MirrorError:
            self.stop()
            raise
        return self.status(content=False)

    def stop(self) -> MirrorStatus:
        """Stop the mirror, and any private registry a killed load left; nothing stays."""
        need_root("stop the room mirror")
        pid = alive(read_pid(self._path("registry.pid")))
        port = int(self._saved().get("port", self.config.mirror_port))
        with _as_mirror_error():
            terminate(pid, "the room mirror's registry")
            for name in ("registry.yml", "writer.yml", "reader.yml"):
                for other in processes_using(self._path(name)):
                    terminate(other, f"registry process {other}")
        for name in ("registry.pid", "writer.pid", "reader.pid"):
            self._path(name).unlink(missing_ok=True)
        deadline = time.monotonic() + _STOP_TIMEOUT
        while pid and port_taken(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.status(content=False)

    # archives ------------------------------------------------------------------------------
    def pack(
        self,
        images: Sequence[str],
        lessons: Sequence[str],
        out: Path,
        *,
        source: str | None = None,
        platform: str | None = None,
    ) -> PackResult:
        """Write ``images`` and every image of ``lessons`` to the archive ``out``, copied
        from ``source`` (``HOST:PORT``; default: this mirror).

        With ``platform`` (``linux/amd64``), an image that is a list of platforms is packed
        as that platform's image alone (its tag then names that manifest)."""
        started = time.monotonic()
        wanted = _wanted(images, lessons)
        with self._source(source) as registry:
            plans: list[_Plan] = []
            missing: list[str] = []
            for ref, why in wanted:
                plan = _resolve(registry, ref, platform)
                if plan is None:
                    missing.append(f"{ref.familiar} ({why})")
                else:
                    plans.append(plan)
            if missing:
                raise MirrorError(
                    f"{registry.name} does not hold {few(missing)}.",
                    "Pack from a registry that holds them (--from HOST:PORT), or load them "
                    "into it first.",
                )
            with ArchiveWriter(out) as writer:
                for plan in plans:
                    for manifest in plan.manifests:
                        writer.add_manifest(manifest)
                    for blob in plan.blobs:
                        if not writer.has(blob.digest):
                            with registry.blob(plan.image.repository, blob.digest, blob.size) as s:
                                writer.add_blob(blob, s)
                    writer.add_image(plan.image)
                size = writer.commit()
        return PackResult(
            out,
            tuple(p.image.name for p in plans),
            len(writer.blobs),
            size,
            time.monotonic() - started,
        )

    def load(self, path: Path) -> LoadResult:
        """Put the archive's images into the mirror, with no network: blobs first, then
        manifests, each checked by digest; then ask the running mirror for each image.

        When it fails, the repositories it created are removed again, so not even their
        names appear in the mirror's catalog."""
        started = time.monotonic()
        need_root("load images into the room mirror")
        with Archive(path) as archive:
            plan = _load_plan(archive)
            repositories = self.storage / "docker/registry/v2/repositories"
            created = [repositories / r for r in plan.blobs if not (repositories / r).exists()]
            try:
                with self._private(writable=True) as writer:
                    added, present, size = _push_blobs(writer, archive, plan)
                    for repository, reference, manifest in plan.manifests:
                        writer.put_manifest(repository, reference, manifest)
            except BaseException:
                for folder in created:
                    shutil.rmtree(folder, ignore_errors=True)
                raise
        served = self._check_served(archive.images)
        return LoadResult(
            tuple(i.name for i in archive.images),
            added,
            present,
            size,
            time.monotonic() - started,
            served,
        )

    def _check_served(self, images: Sequence[ArchivedImage]) -> bool:
        status = self.status(content=False)
        if not status.ready:
            return False
        registry = Registry(status.url.removeprefix("http://"))
        for image in images:
            # a pull-through cache asks upstream for tags first: compare by digest there
            reference = image.digest if status.pull_through else image.reference
            served = registry.manifest(image.repository, reference)
            if served is None or served.digest != image.digest:
                raise MirrorError(
                    f"After the load, the room mirror serves {image.name} as "
                    f"{served.digest if served else 'nothing'}, not {image.digest}.",
                    "Restart it (dockdojo room mirror stop, then start) and check again "
                    "with dockdojo room mirror status.",
                )
        return True

    # private registries --------------------------------------------------------------------
    def _prepare(self) -> None:
        try:
            self.config.state.mkdir(parents=True, exist_ok=True)
            self.folder.mkdir(mode=0o700, exist_ok=True)
            self.folder.chmod(0o700)
            self.storage.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise MirrorError(
                f"Cannot make the mirror's folder {self.folder} ({exc.strerror}).",
                "Check the room's state setting (room.toml) and that this is root.",
            ) from exc

    @contextmanager
    def _source(self, source: str | None) -> Iterator[Registry]:
        if source is None:
            with self._reader(self.status(content=False)) as registry:
                yield registry
            return
        registry = Registry(source)
        if not registry.ping():
            raise MirrorError(
                f"{registry.name} does not answer.",
                "Check the address (HOST:PORT) and that the registry runs.",
            )
        yield registry

    @contextmanager
    def _reader(self, status: MirrorStatus) -> Iterator[Registry]:
        """The running mirror, or a private read-only registry on its storage (when it is
        stopped, or a pull-through cache, which would ask upstream for every tag)."""
        if _serves_its_storage(status):
            yield Registry(status.url.removeprefix("http://"))
            return
        need_root("read the room mirror's storage while it is stopped or a pull-through cache")
        with self._private(writable=False) as registry:
            yield registry

    @contextmanager
    def _private(self, *, writable: bool) -> Iterator[Registry]:
        """A registry on the mirror's storage that listens only on a UNIX socket in a
        fresh folder of root's (mode 700); stopped, and the folder removed, on exit."""
        binary = registry_binary()
        self._prepare()
        with self._locked():
            name = "writer" if writable else "reader"
            with _as_mirror_error():
                for pid in processes_using(self._path(f"{name}.yml")):  # a killed run's
                    terminate(pid, f"registry process {pid}")
            sockets = Path(tempfile.mkdtemp(prefix="dockdojo-mirror-"))
            socket_path = sockets / "registry.sock"
            config = self._path(f"{name}.yml")
            config.write_text(registry_config(self.storage, socket_path, readonly=not writable))
            pidfile = self._path(f"{name}.pid")
            with self._path(f"{name}.log").open("ab") as log:
                process = subprocess.Popen(
                    [binary, "serve", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            pidfile.write_text(f"{process.pid}\n")
            registry = Registry(socket_path)
            try:
                self._wait(registry.ping, lambda: process.poll() is None, f"{name}.log")
                yield registry
            finally:
                process.terminate()
                try:
                    process.wait(timeout=_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                pidfile.unlink(missing_ok=True)
                shutil.rmtree(sockets, ignore_errors=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._path("private.lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise MirrorError(
                    "Another dockdojo room mirror command is using the mirror's storage "
                    "(a load, or a status or pack while the mirror is stopped).",
                    "Wait for it to finish, then try again.",
                ) from exc
            yield

    def _wait(self, ready: Callable[[], bool], alive: Callable[[], bool], log: str) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if ready():
                return
            if not alive():
                break
            time.sleep(0.05)
        path = self._path(log)
        tail = ""
        if path.exists():
            tail = "\n".join(path.read_text(errors="replace").splitlines()[-8:])
        raise MirrorError(
            f"The registry did not come up. Last lines of {path}:\n{tail}",
            "Fix what the log says, then try again.",
        )


# helpers ------------------------------------------------------------------------------------
def _serves_its_storage(status: MirrorStatus) -> bool:
    """Whether the mirror answers with what its storage holds, and only that."""
    return status.ready and not status.pull_through


def need_root(doing: str) -> None:
    """Raise :class:`MirrorError` unless this process runs as root."""
    if os.geteuid() != 0:
        raise MirrorError(
            f"Only root can {doing}: the mirror's storage and its private write socket "
            "belong to root alone.",
            "Run it as root (sudo dockdojo room mirror ...).",
        )


def registry_binary() -> str:
    """The Distribution registry's program, or a :class:`MirrorError` naming its package."""
    found = shutil.which("docker-registry") or shutil.which("registry")
    if found is None:
        raise MirrorError(
            "The room mirror needs the Distribution registry (docker-registry), and it is "
            "not installed.",
            "Install it: apt-get install -y docker-registry (Debian/Ubuntu).",
        )
    return found


def registry_config(
    storage: Path, listen: str | Path, *, readonly: bool, pull_through: str | None = None
) -> str:
    """A registry configuration: ``listen`` is ``HOST:PORT`` or a UNIX socket's path.

    No ``cache`` section, so no blob-descriptor cache can serve what another process on
    the same storage changed; upload purging is off (a read-only registry must not write).
    """

    def quoted(value: object) -> str:
        return json.dumps(str(value))  # a JSON string is a YAML string

    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {quoted(storage)}",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "    readonly:",
        f"      enabled: {'true' if readonly else 'false'}",
        "http:",
        *(
            ["  net: unix", f"  addr: {quoted(listen)}", "  relativeurls: true"]
            if isinstance(listen, Path)
            else [f"  addr: {quoted(listen)}"]
        ),
        f"  secret: {secrets.token_hex(16)}",
        "  headers:",
        "    X-Content-Type-Options: [nosniff]",
    ]
    if pull_through:
        lines += ["proxy:", f"  remoteurl: {quoted(pull_through)}"]
    return "\n".join(lines) + "\n"


@contextmanager
def _as_mirror_error() -> Iterator[None]:
    """The process helpers' errors, worded the same, as :class:`MirrorError`."""
    try:
        yield
    except HostError as exc:
        raise MirrorError(exc.what, exc.hint) from exc


def lesson_images(lesson: Lesson) -> list[ImageRef]:
    """Every image a lesson declares (:attr:`Lesson.images`), parsed, without repeats."""
    seen: dict[str, ImageRef] = {}
    for name in lesson.images:
        ref = parse_ref(name)
        seen.setdefault(ref.canonical, ref)
    return list(seen.values())


def _lessons(names: Sequence[str] | None) -> list[Lesson]:
    from ..authoring import content_dirs, lesson_sources
    from ..lessons import load_lesson

    if names is None:
        names = sorted({p.stem for d in content_dirs() for p in lesson_sources(d)})
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


def _held(registry: Registry) -> tuple[HeldImage, ...]:
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


# pack ------------------------------------------------------------------------------------
@dataclass
class _Plan:
    """An image to pack: its index entry, its manifests (fetched) and its other blobs."""

    image: ArchivedImage
    manifests: list[Manifest] = field(default_factory=list)
    blobs: list[Descriptor] = field(default_factory=list)


def _wanted(images: Sequence[str], lessons: Sequence[str]) -> list[tuple[ImageRef, str]]:
    """The images to pack, each once, with why (``named``, ``lesson NAME``)."""
    out: dict[str, tuple[ImageRef, str]] = {}
    for name in images:
        ref = parse_ref(name)
        out.setdefault(ref.canonical, (ref, "named"))
    for lesson in _lessons(lessons) if lessons else []:
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


def _resolve(registry: Registry, ref: ImageRef, platform: str | None) -> _Plan | None:
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
    plan = _Plan(
        ArchivedImage(ref.path, tag, Descriptor(top.media_type, top.digest, len(top.body)))
    )
    _collect(registry, ref, top, plan)
    return plan


def _collect(registry: Registry, ref: ImageRef, manifest: Manifest, plan: _Plan) -> None:
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


# load ------------------------------------------------------------------------------------
@dataclass
class _LoadPlan:
    """What a load pushes: each repository's blobs, then the manifests in order."""

    blobs: dict[str, dict[str, Descriptor]] = field(default_factory=dict)
    """Repository -> its configs and layers by digest."""
    manifests: list[tuple[str, str, Manifest]] = field(default_factory=list)
    """(repository, tag or digest, manifest): the manifests a list names before the list."""


def _load_plan(archive: Archive) -> _LoadPlan:
    """Read and check every manifest of the archive before anything is pushed."""
    plan = _LoadPlan()

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


def _push_blobs(writer: Registry, archive: Archive, plan: _LoadPlan) -> tuple[int, int, int]:
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


__all__ = [
    "DOCKER_HUB",
    "STATUS_SCHEMA",
    "HeldImage",
    "LessonCoverage",
    "LessonImage",
    "LoadResult",
    "Mirror",
    "MirrorStatus",
    "PackResult",
    "lesson_coverage",
    "lesson_images",
    "need_root",
    "registry_binary",
    "registry_config",
]
