"""The one place dockdojo talks to Docker: a small typed facade over the docker SDK.

Every SDK call goes through :class:`~.connection.Connection`, which hands a failure to
:func:`~.translate.translate` with what was being done, so each error says what happened
and what to do; the engine's answers become dockdojo's models in :mod:`.rows`. The past
is read in :mod:`.history`, the mirrors' catalogs in :mod:`.mirror`. The engine is found
the way Docker's own tools find it: ``DOCKER_HOST``, then the current CLI context, then
the default socket. Each thread gets its own SDK client (the SDK's client is not
thread-safe).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker

from ..environ import learner as given_learner
from ..errors import (
    ContainerNotFound,
    ContainerNotRunning,
    ContainerUse,
    DockdojoError,
    EngineError,
    ImageNotFound,
    PullFailed,
)
from . import mirror
from .connection import DEFAULT_TIMEOUT, PING_TIMEOUT, Connection, Json, describe_host
from .execs import run_once
from .explore import ContainerExplorer
from .history import find_journal, from_engine
from .journal import History, Journal
from .models import (
    ContainerInfo,
    EngineInfo,
    ExecResult,
    ImageInfo,
    Removed,
    SearchResult,
    StoredImage,
    uses_image,
)
from .networks import Networks
from .ownership import Ownership
from .progress import PullProgress, PullTracker, Throttle
from .provenance import ContainerFiles, read_container_files, read_stored_images
from .refs import parse_ref
from .rows import (
    PortSpec,
    check_argv,
    container_from_inspect,
    container_from_summary,
    image_key,
    parse_time,
    port_bindings,
    port_key,
    repo_digests,
)
from .running import ContainerSettings, RunSettings, run_container, settings_from_inspect
from .session import ExecSession
from .translate import Op, removal_in_progress, translate
from .volumes import Volumes

DEFAULT_EXEC_TIMEOUT = 30.0
DEFAULT_HOST_IP = "127.0.0.1"
MAX_EXEC_OUTPUT = 1_000_000
"""Bytes of a one-shot command's output kept by :meth:`Engine.exec`, at most."""

ProgressCallback = Callable[[PullProgress], None]


class Engine:
    """A connection to one Docker Engine, scoped to a lesson and a learner for labels."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        lesson: str | None = None,
        learner: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        host_ip: str | None = None,
        shared: bool = False,
        journal: Path | bool = True,
    ) -> None:
        self.base_url = base_url
        self.shared = shared
        """Whether other learners use this engine too (a workshop's setting, which
        :func:`~dockdojo.runner.context.environment_engine` reads): then only this
        learner's labelled containers are listed, counted, removed and solved over
        (:class:`~.ownership.Ownership`)."""
        self.lesson = lesson or "none"
        self.learner = learner or given_learner()
        self.timeout = timeout
        self.host_ip = host_ip or DEFAULT_HOST_IP
        """Where published ports bind: ``host_ip`` (a room gives each learner an address of
        their own), else ``127.0.0.1``."""
        self._conn = Connection(base_url, timeout)
        self.history_since = 0.0
        """Epoch seconds: what happened before this does not count as history."""
        self._journal = Journal(journal) if isinstance(journal, Path) else None
        self._journal_known = journal is not True
        """Whether :attr:`_journal` is settled: given by whoever started the engine (a
        room, the grader: ``journal=PATH``), none (``journal=False``: the engine's own
        events only), or (``True``) looked up once from the engine's label."""
        self._lock = threading.Lock()

    @property
    def ownership(self) -> Ownership:
        """What on this engine is this learner's, and the labels that say so."""
        return Ownership(self.lesson, self.learner, self.shared)

    # connection -------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._conn.host

    def close(self) -> None:
        """Close this thread's connections (other threads close theirs on exit)."""
        self._conn.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ping(self) -> EngineInfo:
        """Check that the engine answers within 5 s and say which engine it is."""
        api = self._conn.api(PING_TIMEOUT)
        op = Op("asking which engine this is")
        self._conn.call(api.ping, op)
        version = self._conn.json(api.version, op)
        info = self._conn.json(api.info, op)
        mirrors = tuple((info.get("RegistryConfig") or {}).get("Mirrors") or ())
        return EngineInfo(
            host=self.host,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(version.get("Os", "?")),
            arch=str(version.get("Arch", "?")),
            mirrors=mirrors,
            operating_system=str(info.get("OperatingSystem") or ""),
            root_dir=str(info.get("DockerRootDir") or ""),
            rootless=any("rootless" in str(o) for o in info.get("SecurityOptions") or ()),
        )

    # images -----------------------------------------------------------------------
    def pull(
        self,
        image: str,
        on_progress: ProgressCallback | None = None,
        *,
        max_updates_per_second: float = 10.0,
    ) -> ImageInfo:
        """Pull ``image``, reporting progress at most ``max_updates_per_second`` times."""
        ref = parse_ref(image)
        tracker = PullTracker(ref.familiar)
        throttle = Throttle(max_updates_per_second)
        api = self._conn.api()
        op = Op(
            f"pulling {ref.familiar}",
            "pull",
            ref.familiar,
            registry="Docker Hub" if ref.domain == "docker.io" else ref.domain,
            mirrors=lambda: self.ping().mirrors if ref.domain == "docker.io" else (),
        )

        def stream() -> None:
            for event in api.pull(
                ref.repository if ref.domain == "docker.io" else f"{ref.domain}/{ref.path}",
                tag=ref.digest or ref.tag,
                stream=True,
                decode=True,
            ):
                if "error" in event or "errorDetail" in event:
                    detail = event.get("errorDetail") or {}
                    reason = str(event.get("error") or detail.get("message"))
                    raise translate(reason, op, self.host)
                snapshot = tracker.feed(event)
                if on_progress is not None and throttle.ready():
                    on_progress(snapshot)

        self._conn.call(stream, op)
        info = self.image(ref.familiar)
        if info is None:
            raise PullFailed(
                f"The pull of {ref.familiar} ended but the image is not there.",
                "Try the pull again.",
            )
        if on_progress is not None:
            on_progress(tracker.snapshot(finished=True))
        return info

    def _inspect_image(self, key: str, op: Op) -> Json:
        api = self._conn.api()
        return self._conn.json(lambda: api.inspect_image(key), op)

    def image(self, image: str) -> ImageInfo | None:
        """The local image ``image`` names, or None when the engine does not have it."""
        ref = parse_ref(image)
        try:
            data = self._inspect_image(
                ref.familiar, Op(f"inspecting {ref.familiar}", "image", ref.familiar)
            )
        except ImageNotFound:
            return None
        users = self._users(str(data["Id"]))
        return ImageInfo(
            repository=ref.repository,
            tag=ref.tag or "<none>",
            id=str(data["Id"]),
            created=parse_time(str(data.get("Created", ""))),
            size=int(data.get("Size") or 0),
            in_use=bool(users),
            containers=len(users),
            digests=repo_digests(data),
        )

    def images(self) -> list[ImageInfo]:
        """Local images as the Images tab lists them: one row per tag, newest first."""
        api = self._conn.api()
        summaries = self._conn.rows(api.images, Op("listing images"))
        containers = self.containers()
        rows: list[ImageInfo] = []
        for summary in summaries:
            tags = [t for t in summary.get("RepoTags") or [] if t != "<none>:<none>"]
            count = len([c for c in containers if uses_image(c, image_id=str(summary["Id"]))])
            for tag in tags or ["<none>:<none>"]:
                repository, _, name_tag = tag.rpartition(":")
                rows.append(
                    ImageInfo(
                        repository=repository,
                        tag=name_tag,
                        id=str(summary["Id"]),
                        created=datetime.fromtimestamp(int(summary.get("Created") or 0), UTC),
                        size=int(summary.get("Size") or 0),
                        in_use=count > 0,
                        containers=count,
                        digests=repo_digests(summary),
                    )
                )
        rows.sort(key=lambda r: (-r.created.timestamp(), r.repository, r.tag))
        return rows

    def _users(self, image_id: str) -> list[ContainerInfo]:
        """Containers, running or stopped, created from the image with this id."""
        return [c for c in self.containers() if uses_image(c, image_id=image_id)]

    def exposed_ports(self, image: str) -> list[str]:
        """Ports the image declares (``EXPOSE``), e.g. ``["80/tcp"]``."""
        ref = parse_ref(image)
        data = self._inspect_image(
            ref.familiar, Op(f"inspecting {ref.familiar}", "image", ref.familiar)
        )
        return sorted((data.get("Config") or {}).get("ExposedPorts") or {})

    def search(self, term: str, *, limit: int = 10) -> list[SearchResult]:
        """Search Docker Hub; offline, the engine's registry mirrors' catalogs.

        Raises :class:`DockdojoError` when neither can be asked: pulling by name still works.
        """
        term = term.strip().lower()
        if not term:
            raise DockdojoError("Type a name to search for, e.g. nginx.", "")
        api = self._conn.api(PING_TIMEOUT * 2)
        try:
            hits = self._conn.rows(lambda: api.search(term, limit=limit), Op("searching"))
            return [
                SearchResult(
                    str(h.get("name", "")),
                    str(h.get("description") or ""),
                    bool(h.get("is_official")),
                    "Docker Hub",
                )
                for h in hits
            ]
        except EngineError:
            pass  # offline: ask the mirrors
        return mirror.search(self.ping().mirrors, term, limit=limit, timeout=PING_TIMEOUT)

    def journal(self) -> Journal | None:
        """dockdojo's journal of this engine, when dockdojo started it: the one its starter
        named, else the one the engine's ``dockdojo.journal`` label names (:func:`.history.
        find_journal`); None for an engine dockdojo did not start."""
        if not self._journal_known:
            found = find_journal(self._conn)
            with self._lock:
                self._journal, self._journal_known = found, True
        return self._journal

    def history(self, since: float = 0.0) -> History:
        """What happened on the engine from ``since`` (or :attr:`history_since`, whichever
        is later) until now: images that arrived, containers created and removed.

        Read from dockdojo's journal of the engine when there is one; else from the
        engine's own event log, which keeps only its last 256 events since it started
        (:attr:`History.complete` says whether it may have lost some).
        """
        since = max(since, self.history_since)
        journal = self.journal()
        return journal.history(since) if journal is not None else from_engine(self._conn, since)

    def containers_created(self, since: float) -> list[str]:
        """Ids of the containers created since ``since`` that still exist."""
        made = {cid for _, cid in self.history(since).created}
        return sorted(c.id for c in self.containers() if c.id in made)

    def logs(self, container: str, *, tail: int = 20) -> str:
        """The container's last ``tail`` log lines (stdout and stderr)."""
        api = self._conn.api()
        raw = self._conn.call(
            lambda: api.logs(container, tail=tail),
            Op(f"reading the logs of {container}", "container", container),
        )
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

    def remove_image(self, image: str, *, force: bool = False) -> None:
        """Remove a local image (by reference or id); :class:`ImageInUse` lists the
        containers that block it."""
        key = image_key(image)
        api = self._conn.api()
        data: Json = {}

        def users() -> list[ContainerUse]:
            return [ContainerUse(c.id, c.name, c.state) for c in self._users(str(data["Id"]))]

        op = Op(f"removing {key}", "remove-image", key, users=users)
        data = self._inspect_image(key, op)
        self._conn.call(lambda: api.remove_image(key, force=force), op)

    # containers -------------------------------------------------------------------
    def containers(
        self,
        *,
        running_only: bool = False,
        labels: Mapping[str, str] | None = None,
        image: str | None = None,
    ) -> list[ContainerInfo]:
        """Containers, stopped ones too unless ``running_only``, optionally filtered; on a
        shared engine only this learner's (:meth:`.Ownership.scoped`)."""
        filters: dict[str, Any] = {}
        labels = self.ownership.scoped(labels)
        if labels:
            filters["label"] = [f"{k}={v}" for k, v in labels.items()]
        api = self._conn.api()
        rows = self._conn.rows(
            lambda: api.containers(all=True, filters=filters), Op("listing containers")
        )
        found = [container_from_summary(r) for r in rows]
        if image is not None:
            wanted = self.image(image)
            found = [c for c in found if wanted is not None and uses_image(c, image_id=wanted.id)]
        if running_only:
            found = [c for c in found if c.running]
        return found

    def container(self, ref: str) -> ContainerInfo:
        """One container by name or id; :class:`ContainerNotFound` when it is gone."""
        return container_from_inspect(self.explore(ref).inspect())

    def explore(self, ref: str) -> ContainerExplorer:
        """One container's inspect data, files, logs as they come, and start."""
        return ContainerExplorer(self._conn, ref)

    def container_files(self, ref: str) -> ContainerFiles:
        """What a container changed of its image, mounts and was created with."""
        return read_container_files(self._conn, ref)

    def labels_for(self, step: str | None = None) -> dict[str, str]:
        """The ``dockdojo.*`` labels dockdojo puts on what it creates."""
        return self.ownership.labels(step)

    def run(
        self,
        image: str,
        *,
        name: str | None = None,
        ports: PortSpec | None = None,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        step: str | None = None,
        labels: Mapping[str, str] | None = None,
        port_timeout: float = 10.0,
        settings: RunSettings | None = None,
    ) -> ContainerInfo:
        """Run a container from a local image, like Desktop's Run with optional settings
        (every other ``docker run`` setting in ``settings``: :class:`.running.RunSettings`).

        ``ports`` maps a container port (``80`` or ``"80/tcp"``) to a host port; 0, None
        or an empty string picks a random free port. Ports bind to ``self.host_ip``
        unless written ``ADDRESS:PORT``.
        """
        base = settings or RunSettings()
        merged = replace(
            base,
            name=name or base.name,
            ports=ports if ports is not None else base.ports,
            env={**base.env, **dict(env or {})},
            command=command if command is not None else base.command,
        )
        all_labels = {**self.labels_for(step), **dict(labels or {})}
        return run_container(self, self._conn, image, merged, all_labels, port_timeout)

    def settings(self, ref: str) -> ContainerSettings:
        """What the engine says a container was made with: environment, limits, command,
        mounts, networks and aliases, bound addresses."""
        return settings_from_inspect(self.explore(ref).inspect())

    def stop_container(self, ref: str, *, timeout: int = 10) -> None:
        """Stop a running container (a stopped one stays as it is)."""
        api = self._conn.api(self.timeout + timeout)
        self.container(ref)
        self._conn.call(
            lambda: api.stop(ref, timeout=timeout), Op(f"stopping {ref}", "container", ref)
        )

    def remove_container(self, ref: str, *, force: bool = True) -> None:
        """Remove a container; with ``force`` (the default) a running one is killed first."""
        api = self._conn.api()
        try:
            self._conn.call(
                lambda: api.remove_container(ref, force=force),
                Op(f"removing {ref}", "remove-container", ref),
            )
        except DockdojoError as exc:
            if not removal_in_progress(exc.__cause__):
                raise
            self._wait_gone(ref)  # someone else is removing it: the goal is reached

    def _wait_gone(self, ref: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.container(ref)
            except ContainerNotFound:
                return
            time.sleep(0.1)

    def remove_labelled(self, labels: Mapping[str, str]) -> Removed:
        """Remove the containers, images, volumes and networks carrying all ``labels``
        (``dockdojo.*`` only); on a shared engine only this learner's
        (:meth:`.Ownership.scoped`). A volume or network that a container without those
        labels still uses stays."""
        if not labels or not all(k.startswith("dockdojo.") for k in labels):
            raise DockdojoError(
                "Cleanup needs at least one label, and only dockdojo.* labels.",
                "Pass e.g. {'dockdojo.lesson': 'what-is-an-image'}; unlabelled resources "
                "are never removed.",
            )
        labels = self.ownership.scoped(labels) or {}
        removed = []
        for container in self.containers(labels=labels):
            try:
                self.remove_container(container.id, force=True)
                removed.append(container.name)
            except ContainerNotFound:
                pass  # removed by someone else meanwhile: the goal is reached
        api = self._conn.api()
        selector = [f"{k}={v}" for k, v in labels.items()]
        images = []
        for summary in self._conn.rows(
            lambda: api.images(filters={"label": selector}), Op("listing images")
        ):
            self.remove_image(str(summary["Id"]), force=True)
            images.append(str(summary["Id"]))
        stores: list[tuple[str, ...]] = []
        for manager in (self.volume_manager(), self.network_manager()):
            gone = []
            for store in manager.names(labels=labels):
                with contextlib.suppress(DockdojoError):  # in use by another: it stays
                    manager.remove(store)
                    gone.append(store)
            stores.append(tuple(gone))
        return Removed(tuple(removed), tuple(images), volumes=stores[0], networks=stores[1])

    def stored_images(self) -> list[StoredImage]:
        """Every local image once, with all its tags and repository digests."""
        return read_stored_images(self._conn)

    # networks and volumes ---------------------------------------------------------
    def volume_manager(self) -> Volumes:
        """This learner's volumes: listed with the containers that mount them, created,
        removed, pruned, and the files inside."""
        return Volumes(self._conn, self.ownership)

    def network_manager(self) -> Networks:
        """This learner's networks: listed with the containers attached and their
        aliases, created, connected, removed."""
        return Networks(self._conn, self.ownership)

    # exec -------------------------------------------------------------------------
    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_EXEC_TIMEOUT,
        env: Mapping[str, str] | None = None,
        max_output: int = MAX_EXEC_OUTPUT,
    ) -> ExecResult:
        """Run ``argv`` (a list, never a shell string) inside a running container.

        At most ``max_output`` bytes of its output are kept: past that the command's output
        is no longer read (:attr:`ExecResult.truncated`), so a command that prints without
        end cannot fill the caller's memory.
        """
        argv = check_argv(argv)
        self.require_running(container)
        return run_once(self._conn, container, argv, timeout=timeout, env=env, limit=max_output)

    def require_running(self, container: str) -> ContainerInfo:
        """The container, or :class:`ContainerNotRunning` / :class:`ContainerNotFound`."""
        info = self.container(container)
        if not info.running:
            raise ContainerNotRunning(
                f"{info.name} is not running (it is {info.state}), so nothing can run in it.",
                f"Start it again (docker start {info.name}) or run a new container.",
            )
        return info

    def api_client(self, timeout: float | None = None) -> docker.APIClient:
        """This thread's low-level SDK client, for the interactive console."""
        return self._conn.api(timeout)

    def session(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        plain: bool = True,
    ) -> ExecSession:
        """Start an interactive program (``redis-cli``, ``mongosh``, ``sh``) in a container."""
        argv = check_argv(argv)
        name = self.require_running(container).name
        api = self.api_client()
        op = Op(f"starting {argv[0]} in {container}", "exec", container, argv=argv)
        session = self._conn.call(lambda: ExecSession(api, name, argv, env=env, plain=plain), op)
        assert isinstance(session, ExecSession)
        return session


def connect(
    base_url: str | None = None,
    *,
    lesson: str | None = None,
    learner: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    host_ip: str | None = None,
    shared: bool = False,
    journal: Path | bool = True,
) -> Engine:
    """An :class:`Engine` (its arguments are :class:`Engine`'s) that has answered a ping;
    raises :class:`EngineUnavailable`."""
    engine = Engine(
        base_url,
        lesson=lesson,
        learner=learner,
        timeout=timeout,
        host_ip=host_ip,
        shared=shared,
        journal=journal,
    )
    engine.ping()
    return engine


__all__ = ["Engine", "connect", "describe_host", "port_bindings", "port_key"]
