"""The one place dockdojo talks to Docker: a small typed facade over the docker SDK.

Every SDK error is turned into a :class:`~dockdojo.runner.errors.DockdojoError` whose
message says what happened and what to do. The engine is found the way Docker's own
tools find it: ``DOCKER_HOST``, then the current CLI context, then the default socket.
Each thread gets its own SDK client (the SDK's client is not thread-safe).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

import docker
import requests
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.context import ContextAPI
from docker.errors import APIError, DockerException, NotFound
from docker.utils import kwargs_from_env

from ..errors import (
    ContainerNotFound,
    ContainerNotRunning,
    ContainerUse,
    DockdojoError,
    EngineError,
    EngineUnavailable,
    ExecTimeout,
    ImageInUse,
    ImageNotFound,
    NameInUse,
    PortInUse,
    PullFailed,
)
from .models import (
    LABEL_LEARNER,
    LABEL_LESSON,
    LABEL_STEP,
    ContainerInfo,
    EngineInfo,
    ExecResult,
    ImageInfo,
    PortLink,
    Removed,
    SearchResult,
)
from .progress import PullProgress, PullTracker, Throttle
from .refs import ImageRef, parse_ref
from .session import ExecSession

PING_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_EXEC_TIMEOUT = 30.0
DEFAULT_HOST_IP = "127.0.0.1"

ProgressCallback = Callable[[PullProgress], None]
PortSpec = Mapping[str | int, int | str | None]

_START_DOCKER = (
    "Start Docker Desktop (or Docker Engine: sudo systemctl start docker) and try again. "
    'On Linux without Docker, start dockdojo\'s private engine: eval "$(dockdojo sandbox start)".'
)
_NETWORK_WORDS = ("dial tcp", "no such host", "i/o timeout", "connection refused",
                  "tls handshake", "network is unreachable", "context deadline exceeded")
_NOT_FOUND_WORDS = ("not found", "manifest unknown", "does not exist", "pull access denied",
                    "repository name not known", "unauthorized")


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
        host_ip: str = DEFAULT_HOST_IP,
    ) -> None:
        self.base_url = base_url
        self.lesson = lesson or "none"
        self.learner = learner or _default_learner()
        self.timeout = timeout
        self.host_ip = host_ip
        self._api_version: str | None = None
        self.history_since = 0.0
        """Epoch seconds: engine events before this do not count as history (the grader
        sets it to a submission's start, so one learner's past is not another's)."""
        self._local = threading.local()
        self._lock = threading.Lock()

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
        if host.startswith("unix://") and not os.path.exists(host.removeprefix("unix://")):
            # Checked here because the SDK leaks a socket when a connect fails.
            raise EngineUnavailable(f"No Docker Engine answered at {host} (there is no socket "
                                    "file there).", _START_DOCKER)
        if self._api_version is None:
            probe = self._new_client(min(timeout, PING_TIMEOUT), MINIMUM_DOCKER_API_VERSION)
            try:
                version = str(probe.api.version(api_version=False)["ApiVersion"])
            except (DockerException, requests.RequestException, KeyError) as exc:
                raise self._unavailable(exc) from exc
            finally:
                probe.close()
            with self._lock:
                self._api_version = version
        try:
            return self._new_client(timeout, self._api_version)
        except DockerException as exc:
            raise self._unavailable(exc) from exc

    def _new_client(self, timeout: float, version: str) -> docker.DockerClient:
        if self.base_url:
            return docker.DockerClient(base_url=self.base_url, version=version, timeout=timeout)
        return docker.from_env(version=version, timeout=timeout)

    def _unavailable(self, exc: BaseException) -> EngineUnavailable:
        return EngineUnavailable(
            f"No Docker Engine answered at {self.host} ({_short(exc)}).", _START_DOCKER)

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
        client = self._client(PING_TIMEOUT)
        try:
            client.api.ping()
            version = client.api.version()
            info = client.api.info()
        except (DockerException, requests.RequestException) as exc:
            self._drop_clients()
            raise self._unavailable(exc) from exc
        mirrors = tuple((info.get("RegistryConfig") or {}).get("Mirrors") or ())
        return EngineInfo(
            host=self.host,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(version.get("Os", "?")),
            arch=str(version.get("Arch", "?")),
            mirrors=mirrors,
        )

    def _drop_clients(self) -> None:
        self.close()
        self._api_version = None

    def _call(self, fn: Callable[[], Any], context: str) -> Any:
        """Run one SDK call; turn transport failures into :class:`EngineUnavailable`."""
        try:
            return fn()
        except requests.ConnectionError as exc:
            self._drop_clients()
            raise self._unavailable(exc) from exc
        except requests.Timeout as exc:
            raise EngineError(
                f"The Docker Engine did not answer in time while {context}.",
                "It may be busy or stuck; wait a moment and try again, or restart Docker.",
            ) from exc

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

        def stream() -> None:
            for event in api.pull(ref.repository if ref.domain == "docker.io" else
                                  f"{ref.domain}/{ref.path}",
                                  tag=ref.digest or ref.tag, stream=True, decode=True):
                if "error" in event or "errorDetail" in event:
                    detail = event.get("errorDetail") or {}
                    self._pull_error(ref, str(event.get("error") or detail.get("message")))
                snapshot = tracker.feed(event)
                if on_progress is not None and throttle.ready():
                    on_progress(snapshot)

        try:
            self._call(stream, f"pulling {ref.familiar}")
        except APIError as exc:
            self._pull_error(ref, _explanation(exc))
        info = self.image(ref.familiar)
        if info is None:
            raise PullFailed(f"The pull of {ref.familiar} ended but the image is not there.",
                             "Try the pull again.")
        if on_progress is not None:
            on_progress(tracker.snapshot(finished=True))
        return info

    def _pull_error(self, ref: ImageRef, message: str) -> NoReturn:
        lowered = message.lower()
        detail = message.strip()
        registry = "Docker Hub" if ref.domain == "docker.io" else ref.domain
        if any(word in lowered for word in _NOT_FOUND_WORDS):
            raise ImageNotFound(
                f"Could not pull {ref.familiar}: {registry} has no such image ({detail}).",
                "Check the name and tag (the official nginx image is simply 'nginx').",
            )
        if any(word in lowered for word in _NETWORK_WORDS):
            mirrors = self.ping().mirrors if ref.domain == "docker.io" else ()
            if mirrors:
                raise ImageNotFound(
                    f"Could not pull {ref.familiar}: the registry mirror ({', '.join(mirrors)}) "
                    f"does not have it, and {registry} cannot be reached ({detail}).",
                    "Check the name and tag. Offline, only images the mirror holds can be "
                    "pulled: ask whoever runs it to add this one.",
                )
            raise PullFailed(
                f"Could not reach {registry} to pull {ref.familiar} ({detail}).",
                "Check the network connection (and any proxy settings of Docker), then pull "
                "again.",
            )
        raise PullFailed(
            f"Pulling {ref.familiar} failed: {detail}",
            "Pull again; layers already downloaded are kept. If it keeps failing, check the "
            "disk space and the engine's log.",
        )

    def image(self, image: str) -> ImageInfo | None:
        """The local image ``image`` names, or None when the engine does not have it."""
        ref = parse_ref(image)
        client = self._client()
        try:
            data = self._call(lambda: client.api.inspect_image(ref.familiar), "inspecting")
        except NotFound:
            return None
        except APIError as exc:
            raise _engine_error(exc, f"inspecting {ref.familiar}") from exc
        users = [c for c in self._raw_containers() if c.get("ImageID") == data["Id"]]
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
        client = self._client()
        summaries = self._call(lambda: client.api.images(), "listing images")
        use: dict[str, int] = {}
        for container in self._raw_containers():
            use[container.get("ImageID", "")] = use.get(container.get("ImageID", ""), 0) + 1
        rows: list[ImageInfo] = []
        for summary in summaries:
            tags = [t for t in summary.get("RepoTags") or [] if t != "<none>:<none>"]
            for tag in tags or ["<none>:<none>"]:
                repository, _, name_tag = tag.rpartition(":")
                count = use.get(summary["Id"], 0)
                rows.append(ImageInfo(
                    repository=repository,
                    tag=name_tag,
                    id=str(summary["Id"]),
                    created=datetime.fromtimestamp(int(summary.get("Created") or 0), UTC),
                    size=int(summary.get("Size") or 0),
                    in_use=count > 0,
                    containers=count,
                ))
        rows.sort(key=lambda r: (-r.created.timestamp(), r.repository, r.tag))
        return rows

    def exposed_ports(self, image: str) -> list[str]:
        """Ports the image declares (``EXPOSE``), e.g. ``["80/tcp"]``."""
        ref = parse_ref(image)
        client = self._client()
        try:
            data = self._call(lambda: client.api.inspect_image(ref.familiar), "inspecting")
        except NotFound as exc:
            raise self._missing_image(ref) from exc
        return sorted((data.get("Config") or {}).get("ExposedPorts") or {})

    def search(self, term: str, *, limit: int = 10) -> list[SearchResult]:
        """Search Docker Hub; offline, the engine's registry mirrors' catalogs.

        Raises :class:`DockdojoError` when neither can be asked: pulling by name still works.
        """
        term = term.strip().lower()
        if not term:
            raise DockdojoError("Type a name to search for, e.g. nginx.", "")
        client = self._client(PING_TIMEOUT * 2)
        try:
            hits = self._call(lambda: client.api.search(term, limit=limit), "searching")
            return [SearchResult(str(h.get("name", "")), str(h.get("description") or ""),
                                 bool(h.get("is_official")), "Docker Hub") for h in hits]
        except (APIError, EngineError):
            pass  # offline: ask the mirrors
        found: list[SearchResult] = []
        mirrors = self.ping().mirrors
        for mirror in mirrors:
            try:
                with urllib.request.urlopen(f"{mirror.rstrip('/')}/v2/_catalog?n=1000",
                                            timeout=PING_TIMEOUT) as resp:
                    names = json.load(resp).get("repositories") or []
            except (OSError, ValueError):
                continue
            for name in names:
                short = str(name).removeprefix("library/")
                if term in short and all(r.name != short for r in found):
                    found.append(SearchResult(short, "", False, mirror))
        if not found and not mirrors:
            raise DockdojoError(
                "Search is unavailable: Docker Hub cannot be reached and the engine has no "
                "registry mirror to ask.",
                "Pulling by name still works: type the exact name (e.g. nginx) and select Pull.")
        return found[:limit]

    def _events(self, filters: Mapping[str, Any], since: float) -> list[dict[str, Any]]:
        """The engine's remembered events matching ``filters``, from ``since`` (or from
        :attr:`history_since`, whichever is later) until now."""
        client = self._client()
        since = max(since, self.history_since)
        until = time.time()
        events: list[dict[str, Any]] = self._call(lambda: list(client.api.events(
            since=int(since), until=int(until) + 1, filters=dict(filters), decode=True)),
            "reading the engine's events")
        return [e for e in events if _event_time(e) >= since]

    def image_arrivals(self, since: float = 0.0) -> list[tuple[float, str]]:
        """(time, image name) of every pull, tag and load the engine still remembers.

        The engine keeps its last few hundred events in memory, since it started. An image
        that arrived and is gone now was removed (by the CLI, Desktop or dockdojo): the
        engine's delete events name only ids, so arrivals are what can be matched by name.
        """
        return [(_event_time(e), str((e.get("Actor") or {}).get("ID") or ""))
                for e in self._events({"type": "image"}, since)
                if (e.get("Action") or e.get("status")) in ("pull", "tag", "load")]

    def container_removals(self, since: float = 0.0) -> list[tuple[float, str]]:
        """(time, container name) of every container destroyed that the engine remembers."""
        return [(_event_time(e),
                 str(((e.get("Actor") or {}).get("Attributes") or {}).get("name") or ""))
                for e in self._events({"type": "container", "event": "destroy"}, since)]

    def logs(self, container: str, *, tail: int = 20) -> str:
        """The container's last ``tail`` log lines (stdout and stderr)."""
        client = self._client()
        try:
            raw = self._call(lambda: client.api.logs(container, tail=tail), "reading logs")
        except NotFound as exc:
            raise ContainerNotFound(f"There is no container {container!r}: it may have been "
                                    "deleted.", "Run a new container.") from exc
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

    def remove_image(self, image: str, *, force: bool = False) -> None:
        """Remove a local image (by reference or id); :class:`ImageInUse` lists the
        containers that block it."""
        key = image_key(image)
        client = self._client()
        try:
            data = self._call(lambda: client.api.inspect_image(key), "inspecting")
            self._call(lambda: client.api.remove_image(key, force=force), f"removing {key}")
        except NotFound as exc:
            raise ImageNotFound(
                f"There is no image {key} on this engine to remove.",
                "List the images to see which exist; it may have been removed already.",
            ) from exc
        except APIError as exc:
            if exc.status_code != 409:
                raise _engine_error(exc, f"removing {key}") from exc
            users = [ContainerUse(id=c["Id"], name=_name(c), status=str(c.get("State", "")))
                     for c in self._raw_containers() if c.get("ImageID") == data["Id"]]
            names = ", ".join(f"{u.name} ({u.status})" for u in users) or "unknown containers"
            raise ImageInUse(
                f"{key} is in use by {len(users)} container"
                f"{'s' if len(users) != 1 else ''}: {names}. "
                "An image cannot be removed while containers, running or stopped, use it.",
                "Delete those containers first (stop them if they run), then remove the image.",
                users,
            ) from exc

    def _missing_image(self, ref: ImageRef) -> ImageNotFound:
        return ImageNotFound(f"The image {ref.familiar} is not on this engine yet.",
                             f"Pull it first (dockdojo pull {ref.familiar} or docker pull "
                             f"{ref.familiar}), then try again.")

    # containers -------------------------------------------------------------------
    def _raw_containers(self, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        client = self._client()
        result: list[dict[str, Any]] = self._call(
            lambda: client.api.containers(all=True, filters=dict(filters or {})),
            "listing containers")
        return result

    def containers(
        self,
        *,
        running_only: bool = False,
        labels: Mapping[str, str] | None = None,
        image: str | None = None,
    ) -> list[ContainerInfo]:
        """Containers, stopped ones too unless ``running_only``, optionally filtered."""
        filters: dict[str, Any] = {}
        if labels:
            filters["label"] = [f"{k}={v}" for k, v in labels.items()]
        rows = self._raw_containers(filters)
        if image is not None:
            wanted = self.image(image)
            rows = [r for r in rows if wanted is not None and r.get("ImageID") == wanted.id]
        if running_only:
            rows = [r for r in rows if r.get("State") == "running"]
        return [_container_from_summary(r) for r in rows]

    def container(self, ref: str) -> ContainerInfo:
        """One container by name or id; :class:`ContainerNotFound` when it is gone."""
        return _container_from_inspect(self._inspect_container(ref))

    def _inspect_container(self, ref: str) -> dict[str, Any]:
        client = self._client()
        try:
            data: dict[str, Any] = self._call(lambda: client.api.inspect_container(ref),
                                              "inspecting a container")
        except NotFound as exc:
            raise ContainerNotFound(
                f"There is no container {ref!r}: it may have been deleted.",
                "List the containers to see which exist, or run a new one.",
            ) from exc
        return data

    def labels_for(self, step: str | None = None) -> dict[str, str]:
        """The ``dockdojo.*`` labels dockdojo puts on what it creates."""
        labels = {LABEL_LESSON: self.lesson, LABEL_LEARNER: self.learner}
        if step:
            labels[LABEL_STEP] = step
        return labels

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
        client = self._client()
        try:
            self._call(lambda: client.api.inspect_image(ref.familiar), "inspecting")
        except NotFound as exc:
            raise self._missing_image(ref) from exc
        bindings = {key: (self.host_ip, port) for key, port in port_bindings(ports).items()}
        all_labels = {**self.labels_for(step), **dict(labels or {})}
        env_list = [f"{k}={v}" for k, v in (env or {}).items()]
        try:
            created = self._call(lambda: client.api.create_container(
                ref.familiar,
                command=list(command) if command is not None else None,
                name=name or None,
                environment=env_list or None,
                labels=all_labels,
                ports=[(int(p.split("/")[0]), p.split("/")[1]) for p in bindings],
                host_config=client.api.create_host_config(port_bindings=bindings),
                detach=True,
            ), f"creating a container from {ref.familiar}")
        except APIError as exc:
            raise _run_error(exc, ref, name) from exc
        cid = str(created["Id"])
        try:
            self._call(lambda: client.api.start(cid), "starting the container")
        except (APIError, DockdojoError) as exc:
            # A container that never started is removed so that nothing is left behind.
            self._call(lambda: client.api.remove_container(cid, force=True), "cleaning up")
            if isinstance(exc, APIError):
                raise _run_error(exc, ref, name, bindings) from exc
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
        client = self._client(self.timeout + timeout)
        self._inspect_container(ref)
        self._call(lambda: client.api.stop(ref, timeout=timeout), f"stopping {ref}")

    def remove_container(self, ref: str, *, force: bool = True) -> None:
        """Remove a container; with ``force`` (the default) a running one is killed first."""
        client = self._client()
        try:
            self._call(lambda: client.api.remove_container(ref, force=force),
                       f"removing {ref}")
        except NotFound as exc:
            raise ContainerNotFound(f"There is no container {ref!r} to remove.",
                                    "It may have been removed already.") from exc
        except APIError as exc:
            if exc.status_code == 409 and "already in progress" in _explanation(exc):
                self._wait_gone(ref)  # someone else is removing it: the goal is reached
                return
            if exc.status_code == 409:
                raise ContainerNotRunning(
                    f"{ref} is running, so it was not removed.",
                    "Stop it first, or remove it with force.") from exc
            raise _engine_error(exc, f"removing {ref}") from exc

    def _wait_gone(self, ref: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._inspect_container(ref)
            except ContainerNotFound:
                return
            time.sleep(0.1)

    def remove_labelled(self, labels: Mapping[str, str]) -> Removed:
        """Remove the containers and images carrying all ``labels`` (``dockdojo.*`` only)."""
        if not labels or not all(k.startswith("dockdojo.") for k in labels):
            raise DockdojoError(
                "Cleanup needs at least one label, and only dockdojo.* labels.",
                "Pass e.g. {'dockdojo.lesson': 'what-is-an-image'}; unlabelled resources "
                "are never removed.")
        selector = [f"{k}={v}" for k, v in labels.items()]
        removed = []
        for row in self._raw_containers({"label": selector}):
            try:
                self.remove_container(row["Id"], force=True)
                removed.append(_name(row))
            except ContainerNotFound:
                pass  # removed by someone else meanwhile: the goal is reached
        client = self._client()
        images = []
        for summary in self._call(lambda: client.api.images(filters={"label": selector}),
                                  "listing images"):
            self.remove_image(summary["Id"], force=True)
            images.append(str(summary["Id"]))
        return Removed(containers=tuple(removed), images=tuple(images))

    # exec -------------------------------------------------------------------------
    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_EXEC_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run ``argv`` (a list, never a shell string) inside a running container."""
        argv = _check_argv(argv)
        self.require_running(container)
        client = self._client(timeout)
        started = time.monotonic()
        try:
            exec_id = self._call(lambda: client.api.exec_create(
                container, argv, environment=dict(env) if env else None), "starting a command")
            raw = self._call(lambda: client.api.exec_start(exec_id), f"running {argv[0]}")
            code = self._call(lambda: client.api.exec_inspect(exec_id), "reading the exit code")
        except EngineError as exc:
            raise ExecTimeout(
                f"{' '.join(argv)} did not finish within {timeout:g} s in {container}.",
                "It may be waiting for input or stuck; it may still run in the container.",
            ) from exc
        except APIError as exc:
            raise _exec_error(exc, container, argv) from exc
        exit_code = code.get("ExitCode")
        return ExecResult(
            argv=tuple(argv),
            exit_code=int(exit_code) if exit_code is not None else -1,
            output=raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw),
            seconds=time.monotonic() - started,
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
        try:
            session: ExecSession = self._call(
                lambda: ExecSession(self.api_client(), self.require_running(container).name,
                                    argv, env=env, plain=plain),
                f"starting {argv[0]}")
        except APIError as exc:
            raise _exec_error(exc, container, argv) from exc
        return session


# helpers ----------------------------------------------------------------------------
_IMAGE_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})\Z")


def _event_time(event: Mapping[str, Any]) -> float:
    """An engine event's time in epoch seconds, to the nanosecond when the engine says."""
    nano = event.get("timeNano")
    return int(nano) / 1e9 if nano else float(event.get("time") or 0)


def image_key(text: str) -> str:
    """How the engine is asked for an image: ``sha256:...`` for an id, else ``nginx:latest``."""
    match = _IMAGE_ID.match(text.strip())
    return f"sha256:{match.group(1)}" if match else parse_ref(text).familiar

def _default_learner() -> str:
    try:
        return (os.environ.get("DOCKDOJO_LEARNER") or os.environ.get("JUPYTERHUB_USER")
                or getpass.getuser())
    except (KeyError, OSError):
        return "learner"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


def _explanation(exc: APIError) -> str:
    return str(exc.explanation or exc)


def _engine_error(exc: APIError, context: str) -> EngineError:
    return EngineError(f"The Docker Engine refused {context}: {_explanation(exc)}",
                       "Read the engine's reason above; fix it and try again.")


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
        if not number.isdigit() or not 0 < int(number) < 65536 or proto not in {"tcp", "udp",
                                                                                 "sctp"}:
            raise DockdojoError(f"{key!r} is not a container port.",
                                "Write a port as 80 or 80/tcp.")
        if value is None or (isinstance(value, str) and not value.strip()):
            out[container_port] = None
            continue
        try:
            host_port = int(value)
        except ValueError:
            raise DockdojoError(f"Host port {value!r} is not a number.",
                                "Give a port between 1 and 65535, or 0 for a random one.") from None
        if not 0 <= host_port < 65536:
            raise DockdojoError(f"Host port {host_port} is out of range.",
                                "Give a port between 1 and 65535, or 0 for a random one.")
        out[container_port] = host_port or None
    return out


def _run_error(exc: APIError, ref: ImageRef, name: str | None,
               bindings: Mapping[str, tuple[str, int | None]] | None = None) -> DockdojoError:
    text = _explanation(exc)
    lowered = text.lower()
    if "port is already allocated" in lowered or "address already in use" in lowered:
        match = re.search(r":(\d+)(?: failed|: bind)", text)
        port = match.group(1) if match else "the requested port"
        return PortInUse(
            f"Host port {port} is already in use, so the {ref.familiar} container did not "
            "start (it was removed again).",
            "Choose another host port, or use 0 (or leave it empty) for a random free port.",
        )
    if exc.status_code == 409 and "name" in lowered:
        return NameInUse(
            f"The name {name!r} is already used by another container.",
            "Choose another name, or remove the old container first.",
        )
    if "invalid container name" in lowered:
        return DockdojoError(
            f"{name!r} is not a valid container name.",
            "Use letters, digits, '_', '.' and '-', starting with a letter or digit.",
        )
    return _engine_error(exc, f"running {ref.familiar}")


def _exec_error(exc: APIError, container: str, argv: Sequence[str]) -> DockdojoError:
    text = _explanation(exc)
    if exc.status_code == 409 or "is not running" in text:
        return ContainerNotRunning(f"{container} is not running, so {argv[0]} cannot run in it.",
                                   f"Start it again (docker start {container}) or run a new one.")
    if exc.status_code == 404:
        return ContainerNotFound(f"There is no container {container!r}: it may have been deleted.",
                                 "Run a new container.")
    return _engine_error(exc, f"running {argv[0]} in {container}")


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
        PortLink(f"{p['PrivatePort']}/{p.get('Type', 'tcp')}", str(p.get("IP", "")),
                 int(p["PublicPort"]))
        for p in row.get("Ports") or [] if p.get("PublicPort") and ":" not in str(p.get("IP"))
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
    published = ((data.get("NetworkSettings") or {}).get("Ports") or {})
    ports = tuple(
        PortLink(container_port, str(b.get("HostIp", "")), int(b["HostPort"]))
        for container_port, binds in sorted(published.items())
        for b in binds or [] if b.get("HostPort") and ":" not in str(b.get("HostIp"))
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


def connect(base_url: str | None = None, **kwargs: Any) -> Engine:
    """An :class:`Engine` that has answered a ping (raises :class:`EngineUnavailable`)."""
    engine = Engine(base_url, **kwargs)
    engine.ping()
    return engine


__all__ = ["Engine", "connect", "describe_host", "port_bindings"]

