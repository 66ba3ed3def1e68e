"""The one place dockdojo talks to Docker: a small typed facade over the docker SDK.

Every SDK call goes through :meth:`Engine._call`, which hands a failure to
:func:`~.translate.translate` with what was being done, so each error says what happened
and what to do. Engine events are read in :mod:`.events`, the mirrors' catalogs in
:mod:`.mirror`. The engine is found the way Docker's own
tools find it: ``DOCKER_HOST``, then the current CLI context, then the default socket.
Each thread gets its own SDK client (the SDK's client is not thread-safe).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import requests
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.context import ContextAPI
from docker.errors import DockerException
from docker.utils import kwargs_from_env

from ..environ import host_ip as given_host_ip
from ..environ import learner as given_learner
from ..environ import shared_engine
from ..errors import (
    ContainerNotFound,
    ContainerNotRunning,
    ContainerUse,
    DockdojoError,
    EngineError,
    EngineUnavailable,
    ExecTimeout,
    ImageNotFound,
    PullFailed,
)
from . import mirror
from .journal import ENGINE_EVENTS_LIMIT, History, Journal
from .journal import LABEL as JOURNAL_LABEL
from .journal import from_events as journal_from_events
from .models import (
    ContainerInfo,
    EngineInfo,
    ExecResult,
    ImageInfo,
    PortLink,
    Removed,
    SearchResult,
    StoredImage,
    uses_image,
)
from .ownership import Ownership
from .progress import PullProgress, PullTracker, Throttle
from .refs import parse_ref
from .session import ExecSession
from .translate import START_DOCKER, Op, removal_in_progress, translate, unavailable

PING_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_EXEC_TIMEOUT = 30.0
DEFAULT_HOST_IP = "127.0.0.1"
MAX_EXEC_OUTPUT = 1_000_000
"""Bytes of a one-shot command's output kept by :meth:`Engine.exec`, at most."""

ProgressCallback = Callable[[PullProgress], None]
PortSpec = Mapping[str | int, int | str | None]
Json = dict[str, Any]
"""One JSON object of the engine's API, as the SDK decodes it."""


def describe_host(base_url: str | None = None) -> str:
    """Where an engine is looked for, as ``docker context`` would say it."""
    if base_url:
        return base_url
    env = kwargs_from_env()
    if "base_url" in env:
        return str(env["base_url"])
    try:
        host = ContextAPI.kwargs_from_context().get("base_url")
    except DockerException:
        host = None
    return str(host or "unix:///var/run/docker.sock")


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
        shared: bool | None = None,
        journal: Path | bool = True,
    ) -> None:
        self.base_url = base_url
        self.shared = shared_engine() if shared is None else shared
        """Whether other learners use this engine too (``DOCKDOJO_SHARED_ENGINE=1``, which
        workshops set): then only this learner's labelled containers are listed,
        counted, removed and solved over (:class:`~.ownership.Ownership`)."""
        self.lesson = lesson or "none"
        self.learner = learner or given_learner()
        self.timeout = timeout
        self.host_ip = host_ip or given_host_ip() or DEFAULT_HOST_IP
        """Where published ports bind: ``host_ip``, else ``DOCKDOJO_HOST_IP``, else
        ``127.0.0.1``."""
        self._api_version: str | None = None
        self.history_since = 0.0
        """Epoch seconds: what happened before this does not count as history."""
        self._journal = Journal(journal) if isinstance(journal, Path) else None
        self._journal_known = journal is not True
        """Whether :attr:`_journal` is settled: given by whoever started the engine (a
        room, the grader: ``journal=PATH``), none (``journal=False``: the engine's own
        events only), or (``True``) looked up once from the engine's label."""
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def ownership(self) -> Ownership:
        """What on this engine is this learner's, and the labels that say so."""
        return Ownership(self.lesson, self.learner, self.shared)

    # connection -------------------------------------------------------------------
    @property
    def host(self) -> str:
        return describe_host(self.base_url)

    def _client(self, timeout: float | None = None) -> docker.DockerClient:
        """This thread's SDK client for ``timeout`` (created on first use)."""
        key = self.timeout if timeout is None else timeout
        clients: dict[float, docker.DockerClient] = self._local.__dict__.setdefault("clients", {})
        client = clients.get(key)
        if client is None:
            client = self._connect(key)
            clients[key] = client
        return client

    def _connect(self, timeout: float) -> docker.DockerClient:
        host = self.host
        if host.startswith("unix://"):
            _listening(host)  # checked here because the SDK leaks a socket when a connect fails
        if self._api_version is None:
            probe = self._new_client(min(timeout, PING_TIMEOUT), MINIMUM_DOCKER_API_VERSION)
            try:
                version = str(probe.api.version(api_version=False)["ApiVersion"])
            except (DockerException, requests.RequestException, KeyError) as exc:
                raise unavailable(exc, self.host) from exc
            finally:
                probe.close()
            with self._lock:
                self._api_version = version
        try:
            return self._new_client(timeout, self._api_version)
        except DockerException as exc:
            raise unavailable(exc, self.host) from exc

    def _new_client(self, timeout: float, version: str) -> docker.DockerClient:
        if self.base_url:
            return docker.DockerClient(base_url=self.base_url, version=version, timeout=timeout)
        return docker.from_env(version=version, timeout=timeout)

    def close(self) -> None:
        """Close this thread's connections (other threads close theirs on exit)."""
        for client in self._local.__dict__.pop("clients", {}).values():
            client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ping(self) -> EngineInfo:
        """Check that the engine answers within 5 s and say which engine it is."""
        api = self._client(PING_TIMEOUT).api
        op = Op("asking which engine this is")
        self._call(api.ping, op)
        version = self._json(api.version, op)
        info = self._json(api.info, op)
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

    def _drop_clients(self) -> None:
        self.close()
        self._api_version = None

    def _call(self, fn: Callable[[], object], op: Op) -> object:
        """Run one SDK call; any failure becomes the :class:`DockdojoError` that
        :func:`~.translate.translate` makes of it for ``op``."""
        try:
            return fn()
        except (DockerException, requests.RequestException, OSError) as exc:
            if isinstance(exc, requests.ConnectionError):
                self._drop_clients()
            raise translate(exc, op, self.host) from exc

    def _json(self, fn: Callable[[], object], op: Op) -> Json:
        """One SDK call whose answer is a JSON object."""
        result = self._call(fn, op)
        if not isinstance(result, dict):
            raise EngineError(
                f"The Docker Engine gave an unexpected answer while {op.doing}.",
                "Check that DOCKER_HOST points at a Docker Engine.",
            )
        return result

    def _rows(self, fn: Callable[[], object], op: Op) -> list[Json]:
        """One SDK call whose answer is a list of JSON objects."""
        result = self._call(fn, op)
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            raise EngineError(
                f"The Docker Engine gave an unexpected answer while {op.doing}.",
                "Check that DOCKER_HOST points at a Docker Engine.",
            )
        return result

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
        api = self._client().api
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

        self._call(stream, op)
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
        api = self._client().api
        return self._json(lambda: api.inspect_image(key), op)

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
            created=_parse_time(str(data.get("Created", ""))),
            size=int(data.get("Size") or 0),
            in_use=bool(users),
            containers=len(users),
        )

    def images(self) -> list[ImageInfo]:
        """Local images as the Images tab lists them: one row per tag, newest first."""
        api = self._client().api
        summaries = self._rows(api.images, Op("listing images"))
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
        api = self._client(PING_TIMEOUT * 2).api
        try:
            hits = self._rows(lambda: api.search(term, limit=limit), Op("searching"))
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
        named, else the one the engine's ``dockdojo.journal`` label names whose first
        line has this engine's id; None for an engine dockdojo did not start."""
        if self._journal_known:
            return self._journal
        info = self._json(self._client(PING_TIMEOUT).api.info, Op("asking which engine this is"))
        found = None
        for label in info.get("Labels") or ():
            key, _, value = str(label).partition("=")
            if key == JOURNAL_LABEL and value:
                candidate = Journal(Path(value))
                if candidate.exists() and candidate.engine_id == str(info.get("ID") or ""):
                    found = candidate
        with self._lock:
            self._journal, self._journal_known = found, True
        return found

    def history(self, since: float = 0.0) -> History:
        """What happened on the engine from ``since`` (or :attr:`history_since`, whichever
        is later) until now: images that arrived, containers created and removed.

        Read from dockdojo's journal of the engine when there is one; else from the
        engine's own event log, which keeps only its last 256 events since it started
        (:attr:`History.complete` says whether it may have lost some).
        """
        since = max(since, self.history_since)
        journal = self.journal()
        if journal is not None:
            return journal.history(since)
        api = self._client().api
        until = time.time()
        # The engine streams until `until`; to the nanosecond, it answers at once (a whole
        # second rounded up would make every read wait for that second to pass).
        found = self._rows(
            lambda: list(api.events(since=f"{since:.9f}", until=f"{until:.9f}", decode=True)),
            Op("reading the engine's events"),
        )
        full = len(found) >= ENGINE_EVENTS_LIMIT
        why = (
            "the engine keeps only its last 256 events and has had more since then" if full else ""
        )
        return journal_from_events(found, complete=not full, why=why)

    def containers_created(self, since: float) -> list[str]:
        """Ids of the containers created since ``since`` that still exist."""
        made = {cid for _, cid in self.history(since).created}
        return sorted(c.id for c in self.containers() if c.id in made)

    def logs(self, container: str, *, tail: int = 20) -> str:
        """The container's last ``tail`` log lines (stdout and stderr)."""
        api = self._client().api
        raw = self._call(
            lambda: api.logs(container, tail=tail),
            Op(f"reading the logs of {container}", "container", container),
        )
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

    def remove_image(self, image: str, *, force: bool = False) -> None:
        """Remove a local image (by reference or id); :class:`ImageInUse` lists the
        containers that block it."""
        key = image_key(image)
        api = self._client().api
        data: Json = {}

        def users() -> list[ContainerUse]:
            return [ContainerUse(c.id, c.name, c.state) for c in self._users(str(data["Id"]))]

        op = Op(f"removing {key}", "remove-image", key, users=users)
        data = self._inspect_image(key, op)
        self._call(lambda: api.remove_image(key, force=force), op)

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
        api = self._client().api
        rows = self._rows(
            lambda: api.containers(all=True, filters=filters), Op("listing containers")
        )
        found = [_container_from_summary(r) for r in rows]
        if image is not None:
            wanted = self.image(image)
            found = [c for c in found if wanted is not None and uses_image(c, image_id=wanted.id)]
        if running_only:
            found = [c for c in found if c.running]
        return found

    def container(self, ref: str) -> ContainerInfo:
        """One container by name or id; :class:`ContainerNotFound` when it is gone."""
        api = self._client().api
        data = self._json(
            lambda: api.inspect_container(ref), Op("inspecting a container", "container", ref)
        )
        return _container_from_inspect(data)

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
    ) -> ContainerInfo:
        """Run a container from a local image, like Desktop's Run with optional settings.

        ``ports`` maps a container port (``80`` or ``"80/tcp"``) to a host port; 0, None
        or an empty string picks a random free port. Ports bind to ``self.host_ip``.
        """
        ref = parse_ref(image)
        api = self._client().api
        op = Op(f"running {ref.familiar}", "run", ref.familiar, name=name)
        self._inspect_image(ref.familiar, op)
        bindings = {key: (self.host_ip, port) for key, port in port_bindings(ports).items()}
        all_labels = {**self.labels_for(step), **dict(labels or {})}
        env_list = [f"{k}={v}" for k, v in (env or {}).items()]
        created = self._json(
            lambda: api.create_container(
                ref.familiar,
                command=list(command) if command is not None else None,
                name=name or None,
                environment=env_list or None,
                labels=all_labels,
                ports=[(int(p.split("/")[0]), p.split("/")[1]) for p in bindings],
                host_config=api.create_host_config(port_bindings=bindings),
                detach=True,
            ),
            op,
        )
        cid = str(created["Id"])
        try:
            self._call(lambda: api.start(cid), op)
        except DockdojoError:
            # A container that never started is removed so that nothing is left behind.
            self._call(
                lambda: api.remove_container(cid, force=True),
                Op("cleaning up a container that did not start", "container", cid),
            )
            raise
        return self._wait_for_ports(cid, len(bindings), port_timeout)

    def _wait_for_ports(self, cid: str, expected: int, timeout: float) -> ContainerInfo:
        deadline = time.monotonic() + timeout
        while True:
            info = self.container(cid)
            if len(info.ports) >= expected or not info.running or time.monotonic() > deadline:
                return info
            time.sleep(0.05)

    def stop_container(self, ref: str, *, timeout: int = 10) -> None:
        """Stop a running container (a stopped one stays as it is)."""
        api = self._client(self.timeout + timeout).api
        self.container(ref)
        self._call(lambda: api.stop(ref, timeout=timeout), Op(f"stopping {ref}", "container", ref))

    def remove_container(self, ref: str, *, force: bool = True) -> None:
        """Remove a container; with ``force`` (the default) a running one is killed first."""
        api = self._client().api
        try:
            self._call(
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
        """Remove the containers and images carrying all ``labels`` (``dockdojo.*`` only);
        on a shared engine only this learner's (:meth:`.Ownership.scoped`)."""
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
        api = self._client().api
        selector = [f"{k}={v}" for k, v in labels.items()]
        images = []
        for summary in self._rows(
            lambda: api.images(filters={"label": selector}), Op("listing images")
        ):
            self.remove_image(str(summary["Id"]), force=True)
            images.append(str(summary["Id"]))
        return Removed(containers=tuple(removed), images=tuple(images))

    def stored_images(self) -> list[StoredImage]:
        """Every local image once, with all its tags and repository digests."""
        api = self._client().api
        return [
            StoredImage(
                id=str(row["Id"]),
                tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
                digests=tuple(d for d in row.get("RepoDigests") or () if d != "<none>@<none>"),
            )
            for row in self._rows(api.images, Op("listing images"))
        ]

    # networks and volumes ---------------------------------------------------------
    def networks(self, *, labels: Mapping[str, str] | None = None) -> list[str]:
        """Names of the networks made on this engine (never ``bridge``, ``host``, ``none``)."""
        api = self._client().api
        filters: dict[str, Any] = {"type": "custom"}
        if labels:
            filters["label"] = [f"{k}={v}" for k, v in labels.items()]
        rows = self._rows(lambda: api.networks(filters=filters), Op("listing networks"))
        return sorted(str(r.get("Name") or r["Id"]) for r in rows)

    def remove_network(self, name: str) -> None:
        api = self._client().api
        self._call(lambda: api.remove_network(name), Op(f"removing the network {name}"))

    def volumes(self, *, labels: Mapping[str, str] | None = None) -> list[str]:
        """Names of the volumes on this engine."""
        api = self._client().api
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None
        answer = self._json(lambda: api.volumes(filters=filters), Op("listing volumes"))
        return sorted(str(v["Name"]) for v in answer.get("Volumes") or ())

    def remove_volume(self, name: str) -> None:
        api = self._client().api
        self._call(lambda: api.remove_volume(name, force=True), Op(f"removing the volume {name}"))

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
        argv = _check_argv(argv)
        self.require_running(container)
        api = self._client(timeout).api
        op = Op(f"running {argv[0]} in {container}", "exec", container, argv=argv)
        started = time.monotonic()
        cut = [False]

        def too_slow() -> ExecTimeout:
            return ExecTimeout(
                f"{' '.join(argv)} did not finish within {timeout:g} s in {container}.",
                "It may be waiting for input or stuck; it may still run in the container.",
            )

        def read(exec_id: str) -> bytes:
            stream = api.exec_start(exec_id, socket=True)
            sock: socket.socket = getattr(stream, "_sock", stream)
            try:
                output, cut[0] = read_frames(sock, max_output, started + timeout)
            except TimeoutError as exc:  # an OSError: raised as ours, past _call
                raise too_slow() from exc
            finally:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                stream.close()  # both: the socket stays open while its SocketIO is
                sock.close()
            return output

        try:
            exec_id = self._json(
                lambda: api.exec_create(container, argv, environment=dict(env) if env else None), op
            )["Id"]
            raw = self._call(lambda: read(exec_id), op)
            code = self._json(lambda: api.exec_inspect(exec_id), op)
        except (EngineError, TimeoutError) as exc:
            if not isinstance(exc, TimeoutError) and not isinstance(
                exc.__cause__, requests.Timeout
            ):
                raise
            raise ExecTimeout(
                f"{' '.join(argv)} did not finish within {timeout:g} s in {container}.",
                "It may be waiting for input or stuck; it may still run in the container.",
            ) from exc
        exit_code = code.get("ExitCode")
        return ExecResult(
            argv=tuple(argv),
            exit_code=int(exit_code) if exit_code is not None else -1,
            output=raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw),
            seconds=time.monotonic() - started,
            truncated=cut[0],
        )

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
        return self._client(timeout).api

    def session(
        self,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        plain: bool = True,
    ) -> ExecSession:
        """Start an interactive program (``redis-cli``, ``mongosh``, ``sh``) in a container."""
        argv = _check_argv(argv)
        name = self.require_running(container).name
        api = self.api_client()
        op = Op(f"starting {argv[0]} in {container}", "exec", container, argv=argv)
        session = self._call(lambda: ExecSession(api, name, argv, env=env, plain=plain), op)
        assert isinstance(session, ExecSession)
        return session


# helpers ----------------------------------------------------------------------------
def read_frames(sock: socket.socket, limit: int, deadline: float) -> tuple[bytes, bool]:
    """The output of a non-TTY exec stream (8-byte headers before each frame of stdout or
    stderr), at most ``limit`` bytes, and whether it was cut there.

    Raises :class:`TimeoutError` when the stream has not ended by ``deadline``
    (``time.monotonic()``).
    """
    pending = bytearray()
    output = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError("the command's output did not end in time")
        data = sock.recv(65536)
        if not data:
            return bytes(output[:limit]), False
        pending += data
        while len(pending) >= 8:
            size = int.from_bytes(pending[4:8], "big")
            if len(pending) < 8 + size:
                break
            output += pending[8 : 8 + size]
            del pending[: 8 + size]
        if len(output) > limit:
            return bytes(output[:limit]), True


_IMAGE_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})\Z")


def _listening(host: str) -> None:
    """Raise :class:`EngineUnavailable` when nothing listens on the socket of ``host``."""
    path = host.removeprefix("unix://")
    if not os.path.exists(path):
        raise EngineUnavailable(
            f"No Docker Engine answered at {host} (there is no socket file there).",
            START_DOCKER,
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(PING_TIMEOUT)
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            raise EngineUnavailable(
                f"No Docker Engine answered at {host} (its socket file is there, but "
                "nothing listens on it: the engine stopped).",
                START_DOCKER,
            ) from None
        except OSError:
            pass  # let the SDK say what is wrong (permission, ...)


def image_key(text: str) -> str:
    """How the engine is asked for an image: ``sha256:...`` for an id, else ``nginx:latest``."""
    match = _IMAGE_ID.match(text.strip())
    return f"sha256:{match.group(1)}" if match else parse_ref(text).familiar


def _name(row: Mapping[str, Any]) -> str:
    names = row.get("Names") or [row.get("Id", "?")[:12]]
    return str(names[0]).lstrip("/")


def port_bindings(ports: PortSpec | None) -> dict[str, int | None]:
    """``{80: 0}`` as the engine takes it: ``{"80/tcp": None}`` (None: a random host port).

    Raises :class:`DockdojoError` for a port that is not one, saying how to write it.
    """
    out: dict[str, int | None] = {}
    for key, value in (ports or {}).items():
        container_port = str(key).strip()
        if "/" not in container_port:
            container_port += "/tcp"
        number, _, proto = container_port.partition("/")
        if (
            not number.isdigit()
            or not 0 < int(number) < 65536
            or proto not in {"tcp", "udp", "sctp"}
        ):
            raise DockdojoError(
                f"{key!r} is not a container port.", "Write a port as 80 or 80/tcp."
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            out[container_port] = None
            continue
        try:
            host_port = int(value)
        except ValueError:
            raise DockdojoError(
                f"Host port {value!r} is not a number.",
                "Give a port between 1 and 65535, or 0 for a random one.",
            ) from None
        if not 0 <= host_port < 65536:
            raise DockdojoError(
                f"Host port {host_port} is out of range.",
                "Give a port between 1 and 65535, or 0 for a random one.",
            )
        out[container_port] = host_port or None
    return out


def _check_argv(argv: Sequence[str] | str) -> list[str]:
    if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
        raise DockdojoError(
            f"A command must be a non-empty list of strings, not {argv!r}.",
            'Write e.g. ["redis-cli", "GET", "test"]: each argument is its own item.',
        )
    return list(argv)


def _parse_time(text: str) -> datetime:
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", text)
    if not match:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)


def _container_from_summary(row: Mapping[str, Any]) -> ContainerInfo:
    ports = tuple(
        PortLink(
            f"{p['PrivatePort']}/{p.get('Type', 'tcp')}", str(p.get("IP", "")), int(p["PublicPort"])
        )
        for p in row.get("Ports") or []
        if p.get("PublicPort") and ":" not in str(p.get("IP"))
    )
    return ContainerInfo(
        id=str(row["Id"]),
        name=_name(row),
        image=str(row.get("Image", "")),
        image_id=str(row.get("ImageID", "")),
        state=str(row.get("State", "")),
        status=str(row.get("Status", "")),
        ports=tuple(sorted(set(ports), key=lambda p: (p.container_port, p.host_port))),
        labels=dict(row.get("Labels") or {}),
    )


def _container_from_inspect(data: Mapping[str, Any]) -> ContainerInfo:
    published = (data.get("NetworkSettings") or {}).get("Ports") or {}
    ports = tuple(
        PortLink(container_port, str(b.get("HostIp", "")), int(b["HostPort"]))
        for container_port, binds in sorted(published.items())
        for b in binds or []
        if b.get("HostPort") and ":" not in str(b.get("HostIp"))
    )
    state = data.get("State") or {}
    config = data.get("Config") or {}
    return ContainerInfo(
        id=str(data["Id"]),
        name=str(data.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        image_id=str(data.get("Image", "")),
        state=str(state.get("Status", "")),
        status=str(state.get("Status", "")),
        ports=ports,
        labels=dict(config.get("Labels") or {}),
    )


def connect(
    base_url: str | None = None,
    *,
    lesson: str | None = None,
    learner: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    host_ip: str | None = None,
    shared: bool | None = None,
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


__all__ = ["Engine", "connect", "describe_host", "port_bindings"]
