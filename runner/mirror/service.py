"""The room's registry mirror, :class:`Mirror`: one Distribution registry every learner
engine pulls from.

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

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import MirrorError
from ..privileged.processes import alive, processes_using, read_pid, spawn, terminate
from ..room.config import RoomConfig
from ..sandbox import port_taken
from ..text import few
from .archive import Archive, ArchivedImage, ArchiveWriter
from .holdings import HeldImage, MirrorStatus, held_images, lesson_coverage, lessons_named
from .load import LoadResult, load_plan, push_blobs
from .pack import PackPlan, PackResult, images_to_pack, resolve
from .program import need_root, registry_binary, registry_config
from .registry_api import Registry

DOCKER_HUB = "https://registry-1.docker.io"
"""What ``start --pull-through`` fetches from by default."""
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


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
                    held = held_images(registry)
            else:
                note = "what it holds: only root can read its storage (stopped or pull-through)"
        coverage = lesson_coverage(lessons_named(lessons), held)
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
        wanted = images_to_pack(images, lessons)
        with self._source(source) as registry:
            plans: list[PackPlan] = []
            missing: list[str] = []
            for ref, why in wanted:
                plan = resolve(registry, ref, platform)
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
            plan = load_plan(archive)
            repositories = self.storage / "docker/registry/v2/repositories"
            created = [repositories / r for r in plan.blobs if not (repositories / r).exists()]
            try:
                with self._private(writable=True) as writer:
                    added, present, size = push_blobs(writer, archive, plan)
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


def _serves_its_storage(status: MirrorStatus) -> bool:
    """Whether the mirror answers with what its storage holds, and only that."""
    return status.ready and not status.pull_through
