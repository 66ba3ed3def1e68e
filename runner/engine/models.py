"""Plain data the engine layer returns: what Docker Desktop's tabs show, as typed values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import InvalidReference
from .refs import parse_ref

LABEL_LESSON = "dockdojo.lesson"
LABEL_STEP = "dockdojo.step"
LABEL_LEARNER = "dockdojo.learner"


@dataclass(frozen=True)
class EngineInfo:
    """The engine that answered a ping."""

    host: str
    """Where it was reached (``unix:///var/run/docker.sock``, ``tcp://...``)."""
    version: str
    """Engine version, e.g. ``20.10.24``."""
    api_version: str
    """API version both sides speak."""
    os: str
    """Operating system of the engine (Docker Desktop runs Linux in a VM)."""
    arch: str
    """CPU architecture of the engine."""
    mirrors: tuple[str, ...] = ()
    """Registry mirrors the engine pulls through, if any."""
    operating_system: str = ""
    """What the engine runs on, as it says: ``Docker Desktop``, ``Debian GNU/Linux 12``..."""
    root_dir: str = ""
    """Where the engine keeps images and containers, on its own machine."""
    rootless: bool = False
    """Whether the engine runs as an unprivileged user (rootless Docker)."""


@dataclass(frozen=True)
class ImageInfo:
    """One row of the Images tab: a tag of a local image."""

    repository: str
    """``nginx``, ``me/app``; ``<none>`` for an untagged image."""
    tag: str
    """``latest``; ``<none>`` for an untagged image."""
    id: str
    """Full image id, ``sha256:...``."""
    created: datetime
    """When the image was built."""
    size: int
    """Size on disk in bytes."""
    in_use: bool
    """Whether any container, running or stopped, was created from it."""
    containers: int = 0
    """How many containers use it."""
    digests: tuple[str, ...] = ()
    """Repository digests, ``redis@sha256:...``: the manifests it was pulled as (whatever
    its tags say); empty for an image built, committed or loaded here."""

    @property
    def name(self) -> str:
        return f"{self.repository}:{self.tag}" if self.tag != "<none>" else self.repository

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class PortLink:
    """A published port and the link that opens it."""

    container_port: str
    """``80/tcp``."""
    host_ip: str
    """Address the port listens on, ``127.0.0.1`` by default."""
    host_port: int
    """Port on the host (the random one when 0 was asked for)."""

    @property
    def url(self) -> str:
        """The link a learner opens: local, or through JupyterHub's server proxy."""
        return port_url(self.host_port, self.host_ip)

    @property
    def reach(self) -> str:
        """The address to connect to: the one it listens on, or ``127.0.0.1`` for any."""
        return self.host_ip if self.host_ip not in ANY_ADDRESS else "127.0.0.1"


ANY_ADDRESS = ("", "0.0.0.0", "::", "127.0.0.1", "localhost")
"""Addresses a port link names as ``localhost``."""


def port_url(port: int, host_ip: str = "") -> str:
    """``http://localhost:PORT/`` (or the address the port listens on, when it is a
    particular one); under JupyterHub, the path of the learner's server proxy
    (jupyter-server-proxy: ``proxy/PORT/``, or ``proxy/ADDRESS:PORT/``)."""
    host = "" if host_ip in ANY_ADDRESS else host_ip
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return f"{prefix.rstrip('/')}/proxy/{host + ':' if host else ''}{port}/"
    return f"http://{host or 'localhost'}:{port}/"


@dataclass(frozen=True)
class SearchResult:
    """One hit of an image search."""

    name: str
    """Image name to pull, e.g. ``nginx``."""
    description: str
    """The registry's one-line description (empty when a mirror lists it)."""
    official: bool
    """Whether Docker Hub marks it as an official image."""
    source: str
    """Where it was found: ``Docker Hub`` or the mirror's URL."""


@dataclass(frozen=True)
class ContainerInfo:
    """One row of the Containers tab."""

    id: str
    """Full container id."""
    name: str
    """Name without the leading slash."""
    image: str
    """The image as the container was created from it (``nginx`` or ``nginx:latest``)."""
    image_id: str
    """Id of that image, ``sha256:...``."""
    state: str
    """``running``, ``exited``, ``created``, ``paused``..."""
    status: str
    """Human status, e.g. ``Up 3 seconds``, when the engine gives one."""
    ports: tuple[PortLink, ...] = ()
    """Published ports."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """All labels, including ``dockdojo.*``."""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(p.url for p in self.ports)


@dataclass(frozen=True)
class ExecResult:
    """What a one-shot command inside a container did."""

    argv: tuple[str, ...]
    """The command as run."""
    exit_code: int
    """Its exit status."""
    output: str
    """stdout and stderr as the program interleaved them."""
    seconds: float
    """Wall time."""
    truncated: bool = False
    """Whether the output was cut at the caller's limit (the command may still run; its
    exit code is then -1)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class StoredImage:
    """One local image with every name it has (a room's reset keeps what its mirror serves)."""

    id: str
    """Full image id, ``sha256:...``."""
    tags: tuple[str, ...]
    """``nginx:latest``, ``me/app:1``...; empty for an untagged image."""
    digests: tuple[str, ...]
    """Repository digests, ``nginx@sha256:...``: the manifests it was pulled (or pushed)
    as; empty for an image built, loaded or committed here."""


@dataclass(frozen=True)
class Removed:
    """What a cleanup removed."""

    containers: tuple[str, ...] = ()
    """Names of removed containers."""
    images: tuple[str, ...] = ()
    """Ids of removed images."""
    volumes: tuple[str, ...] = ()
    """Names of removed volumes."""
    networks: tuple[str, ...] = ()
    """Names of removed networks."""


def uses_image(
    container: ContainerInfo, *, image_id: str | None = None, ref: str | None = None
) -> bool:
    """Whether ``container`` was created from an image: the one with ``image_id``, or one
    whose name means the same as ``ref`` (``nginx``, ``library/nginx:latest``...).

    The one place that decides which containers use an image: the Images tab's counts,
    the "in use" refusal, and the checks all ask it.
    """
    if image_id is not None and container.image_id == image_id:
        return True
    if ref is None:
        return False
    try:
        return parse_ref(container.image).familiar == parse_ref(ref).familiar
    except InvalidReference:
        return False
