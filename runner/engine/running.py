"""``docker run`` with every setting the guides use, and those settings read back.

:class:`RunSettings` holds what Docker Desktop's Run dialog and ``docker run`` take:
a name, ports (fixed, random, bound to an address, or all the image exposes: ``-P``),
environment variables (and ``--env-file``), memory and CPU limits, a command and an
entrypoint, a network with aliases and a hostname, volumes and bind mounts. Each is
checked before anything is sent, with a message that says how to write it (the text
forms are Docker's own: ``512m``, ``0.5``, ``postgres_data:/var/lib/postgresql``,
``./site:/usr/local/apache2/htdocs:ro``, ``127.0.0.1:8080``).

:func:`run_container` creates and starts the container (a container that never starts
is removed); :func:`read_settings` reads the same settings back from the engine's
inspection (:class:`ContainerSettings`), which is what checks believe: what the engine
says the container was made with, however it was made.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DockdojoError
from .connection import Connection
from .models import ContainerInfo
from .refs import parse_ref
from .rows import PortSpec, container_from_inspect, port_bindings, port_key
from .translate import Op

if TYPE_CHECKING:
    from .facade import Engine

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*\Z", re.IGNORECASE)
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MIN_MEMORY = 6 * 1024 * 1024
"""The engine refuses a memory limit below 6 MiB."""


def parse_memory(value: object) -> int:
    """``512m``, ``1g``, ``1048576`` as bytes (Docker's ``--memory`` forms)."""
    match = _MEMORY.match(str(value))
    if not match:
        raise DockdojoError(
            f"Memory limit {value!r} is not a size.",
            "Write it as docker run --memory does: 512m, 1g, or a number of bytes.",
        )
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < MIN_MEMORY:
        raise DockdojoError(
            f"Memory limit {value!r} is below the engine's smallest, 6m.",
            "Give at least 6m (the guide uses 512m).",
        )
    return size


def parse_cpus(value: object) -> int:
    """``0.5`` CPUs as the engine's nano-CPUs."""
    try:
        cpus = float(str(value).strip())
    except ValueError:
        cpus = -1.0
    if not 0 < cpus <= 1024:
        raise DockdojoError(
            f"CPU limit {value!r} is not a number of CPUs.",
            "Write it as docker run --cpus does: 0.5 for half a CPU, 2 for two.",
        )
    return round(cpus * 1e9)


def parse_env_lines(text: str, *, where: str = "Environment") -> dict[str, str]:
    """``KEY=value`` lines (blank lines and ``#`` comments skipped), as ``--env-file``
    reads them: no quotes removed, a bare ``KEY`` is left out (it would copy the host's)."""
    env: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, eq, value = line.lstrip().partition("=")
        if not _ENV_KEY.match(key.strip()):
            raise DockdojoError(
                f"{where} line {number} ({line.strip()!r}) is not KEY=value.",
                "Write one variable per line, e.g. POSTGRES_PASSWORD=secret.",
            )
        if eq:
            env[key.strip()] = value
    return env


def read_env_file(path: Path) -> dict[str, str]:
    """An ``--env-file``'s variables; a clear error when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DockdojoError(
            f"The env file {str(path)!r} could not be read ({exc.__class__.__name__}).",
            "Create it next to the notebook with one KEY=value per line, or fix the path.",
        ) from None
    return parse_env_lines(text, where=f"{path.name}:")


@dataclass(frozen=True)
class Mount:
    """A volume or a bind mount, as ``-v SOURCE:TARGET[:ro]`` gives it."""

    source: str
    """A volume's name, or a bind mount's absolute host path."""
    target: str
    """The absolute path inside the container."""
    read_only: bool = False
    kind: str = "volume"
    """``volume`` or ``bind``."""

    @property
    def text(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")


def parse_mount(text: str, *, base: Path | None = None) -> Mount:
    """``NAME:/path``, ``./dir:/path:ro`` or ``/abs:/path`` (``-v``'s syntax). A source
    starting with ``.``, ``~`` or ``/`` is a bind mount, resolved against ``base`` (the
    notebook's folder); any other is a volume's name."""
    parts = str(text).strip().split(":")
    how = "Write NAME:/path/in/container for a volume, or ./folder:/path[:ro] to share a folder."
    if len(parts) == 3 and parts[2] in {"ro", "rw"}:
        source, target, mode = parts
    elif len(parts) == 2:
        (source, target), mode = parts, "rw"
    else:
        raise DockdojoError(f"Mount {text!r} is not SOURCE:TARGET[:ro].", how)
    if not target.startswith("/") or not source:
        raise DockdojoError(f"Mount {text!r}: the path in the container must be absolute.", how)
    target = posixpath.normpath(target)
    if source.startswith((".", "/", "~")):
        path = Path(source).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        path = path.resolve()
        _readable(path, source)
        return Mount(str(path), target, mode == "ro", "bind")
    if not _VOLUME_NAME.match(source):
        raise DockdojoError(f"{source!r} is not a volume name.", how)
    return Mount(source, target, mode == "ro", "volume")


def _readable(path: Path, source: str) -> None:
    """A folder (or file) to share exists and this user may read it: a rootless engine
    runs as this user, so what they may not read, a container may not either."""
    private = DockdojoError(
        f"You may not read {str(path)!r}, so it cannot be shared with a container: the "
        "engine runs as you, and a container sees only what you may read.",
        "Share a folder of your own, such as one beside the notebook (./public_html).",
    )
    try:
        found = path.stat()
    except PermissionError:
        raise private from None
    except OSError:
        found = None
    if found is None or not (stat.S_ISDIR(found.st_mode) or stat.S_ISREG(found.st_mode)):
        raise DockdojoError(
            f"The folder {str(path)!r} to share does not exist.",
            f"Create it first (mkdir {source}), then run again.",
        )
    wanted = os.R_OK | (os.X_OK if stat.S_ISDIR(found.st_mode) else 0)
    if not os.access(path, wanted):
        raise private


@dataclass(frozen=True)
class RunSettings:
    """What ``docker run`` is given besides the image (Desktop's optional settings)."""

    name: str | None = None
    ports: PortSpec | None = None
    """Container port -> host port (0/None/empty: random) or ``ADDRESS:PORT``."""
    publish_all: bool = False
    """``-P``: every port the image exposes, each on a random host port."""
    env: Mapping[str, str] = field(default_factory=dict)
    command: Sequence[str] | None = None
    entrypoint: Sequence[str] | None = None
    memory: str | int | None = None
    cpus: str | float | None = None
    network: str | None = None
    aliases: Sequence[str] = ()
    hostname: str | None = None
    mounts: Sequence[Mount] = ()


def settings_from_args(args: Mapping[str, Any], *, base: Path | None = None) -> RunSettings:
    """The settings a ``run`` step declares (the action's parameters: ``name``,
    ``ports``, ``env``, ``env_file``, ``memory``...), as the Run widget's fields give
    them too; relative paths (a bind mount's folder, the env file) are read from
    ``base``, the notebook's folder (default: the current one)."""
    folder = base or Path.cwd()
    env: dict[str, str] = {}
    if args.get("env_file"):
        env.update(read_env_file(folder / str(args["env_file"])))
    env.update({str(k): str(v) for k, v in (args.get("env") or {}).items()})
    return RunSettings(
        name=str(args["name"]) if args.get("name") else None,
        ports=dict(args["ports"]) if args.get("ports") else None,
        publish_all=bool(args.get("publish_all")),
        env=env,
        command=[str(a) for a in args["command"]] if args.get("command") else None,
        entrypoint=[str(a) for a in args["entrypoint"]] if args.get("entrypoint") else None,
        memory=args.get("memory"),
        cpus=args.get("cpus"),
        network=args.get("network") or None,
        aliases=tuple(str(a) for a in args.get("aliases") or ()),
        hostname=args.get("hostname") or None,
        mounts=tuple(parse_mount(str(m), base=folder) for m in args.get("mounts") or ()),
    )


def bindings(ports: PortSpec | None, host_ip: str) -> dict[str, tuple[str, int | None]]:
    """Ports as the engine binds them: ``{"80/tcp": ("127.0.0.1", 8080)}``. A host port
    written ``ADDRESS:PORT`` (``127.0.0.1:8080``, ``0.0.0.0:``) binds to that address
    (``127.0.0.1`` to the engine's own loopback address, in a room)."""
    addresses: dict[str, str] = {}
    numbers: dict[str | int, int | str | None] = {}
    for key, value in (ports or {}).items():
        text = "" if value is None else str(value).strip()
        if ":" in text:
            address, _, text = text.rpartition(":")
            if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", address):
                raise DockdojoError(
                    f"{address!r} is not an IPv4 address to bind port {key} to.",
                    "Write ADDRESS:PORT, e.g. 127.0.0.1:8080 (or only the port).",
                )
            addresses[port_key(key)] = _loopback(address, host_ip)
        numbers[key] = text
    return {
        port: (addresses.get(port, host_ip), number)
        for port, number in port_bindings(numbers).items()
    }


def _loopback(address: str, host_ip: str) -> str:
    """``127.0.0.1`` (this machine only) as this engine binds it: in a room, the learner's
    own loopback address (:attr:`Engine.host_ip <.facade.Engine.host_ip>`), the one
    only they can reach; any other address as written."""
    if address == "127.0.0.1" and ipaddress.ip_address(host_ip).is_loopback:
        return host_ip
    return address


def create_args(settings: RunSettings, host_ip: str, exposed: Sequence[str]) -> dict[str, Any]:
    """The SDK's ``create_container`` keyword arguments, host config aside."""
    ports = bindings(settings.ports, host_ip)
    if settings.publish_all:
        for port in exposed:
            ports.setdefault(port, (host_ip, None))
    args: dict[str, Any] = {
        "name": settings.name or None,
        "command": list(settings.command) if settings.command is not None else None,
        "entrypoint": list(settings.entrypoint) if settings.entrypoint is not None else None,
        "environment": [f"{k}={v}" for k, v in settings.env.items()] or None,
        "hostname": settings.hostname or None,
        "ports": [(int(p.split("/")[0]), p.split("/")[1]) for p in ports],
        "volumes": [m.target for m in settings.mounts] or None,
    }
    host: dict[str, Any] = {
        "port_bindings": ports,
        "binds": [m.text for m in settings.mounts] or None,
    }
    if settings.memory not in (None, ""):
        host["mem_limit"] = parse_memory(settings.memory)
    if settings.cpus not in (None, ""):
        host["nano_cpus"] = parse_cpus(settings.cpus)
    if settings.network:
        host["network_mode"] = settings.network
    return {"create": args, "host": host}


def run_container(
    engine: Engine,
    conn: Connection,
    image: str,
    settings: RunSettings,
    labels: Mapping[str, str],
    port_timeout: float,
) -> ContainerInfo:
    """Create and start a container (see :meth:`Engine.run <.facade.Engine.run>`)."""
    ref = parse_ref(image)
    api = conn.api()
    op = Op(f"running {ref.familiar}", "run", ref.familiar, name=settings.name)
    data = conn.json(lambda: api.inspect_image(ref.familiar), op)
    exposed = sorted((data.get("Config") or {}).get("ExposedPorts") or {})
    made = create_args(settings, engine.host_ip, exposed)
    volumes = engine.volume_manager()
    for mount in settings.mounts:  # docker run makes a missing volume; this one is
        if mount.kind == "volume" and not volumes.exists(mount.source):  # labelled too,
            volumes.create(mount.source, labels=labels)  # so Start over removes it
    networking = None
    if settings.network and settings.aliases:
        networking = api.create_networking_config(
            {settings.network: api.create_endpoint_config(aliases=list(settings.aliases))}
        )
    created = conn.json(
        lambda: api.create_container(
            ref.familiar,
            labels=dict(labels),
            host_config=api.create_host_config(**made["host"]),
            networking_config=networking,
            detach=True,
            **made["create"],
        ),
        op,
    )
    cid = str(created["Id"])
    try:
        conn.call(lambda: api.start(cid), op)
    except DockdojoError:
        # A container that never started is removed so that nothing is left behind.
        conn.call(
            lambda: api.remove_container(cid, force=True),
            Op("cleaning up a container that did not start", "container", cid),
        )
        raise
    return _wait_for_ports(engine, cid, len(made["host"]["port_bindings"]), port_timeout)


def _wait_for_ports(engine: Engine, cid: str, expected: int, timeout: float) -> ContainerInfo:
    deadline = time.monotonic() + timeout
    while True:
        info = engine.container(cid)
        if len(info.ports) >= expected or not info.running or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


@dataclass(frozen=True)
class ContainerSettings:
    """What the engine says a container was made with (``docker inspect``)."""

    info: ContainerInfo
    env: Mapping[str, str]
    memory: int
    """Bytes; 0 when unlimited."""
    nano_cpus: int
    """Billionths of a CPU; 0 when unlimited."""
    command: tuple[str, ...]
    entrypoint: tuple[str, ...]
    hostname: str
    mounts: tuple[Mount, ...]
    networks: Mapping[str, tuple[str, ...]]
    """Network name -> the container's aliases on it."""
    bound: tuple[tuple[str, str, int], ...]
    """(container port, host address, host port) of each published port."""


def settings_from_inspect(data: Mapping[str, Any]) -> ContainerSettings:
    config = data.get("Config") or {}
    host = data.get("HostConfig") or {}
    env = parse_env_lines("\n".join(str(e) for e in config.get("Env") or []))
    mounts = tuple(
        Mount(
            str(m.get("Name") or m.get("Source") or ""),
            str(m.get("Destination", "")),
            not m.get("RW", True),
            str(m.get("Type", "volume")),
        )
        for m in data.get("Mounts") or []
    )
    nets = (data.get("NetworkSettings") or {}).get("Networks") or {}
    published = (data.get("NetworkSettings") or {}).get("Ports") or {}
    bound = tuple(
        (port, str(b.get("HostIp", "")), int(b["HostPort"]))
        for port, binds in sorted(published.items())
        for b in binds or []
        if b.get("HostPort")
    )
    return ContainerSettings(
        info=container_from_inspect(data),
        env=env,
        memory=int(host.get("Memory") or 0),
        nano_cpus=int(host.get("NanoCpus") or 0),
        command=tuple(str(a) for a in config.get("Cmd") or ()),
        entrypoint=tuple(str(a) for a in config.get("Entrypoint") or ()),
        hostname=str(config.get("Hostname", "")),
        mounts=mounts,
        networks={
            str(name): tuple(str(a) for a in (net or {}).get("Aliases") or ())
            for name, net in nets.items()
        },
        bound=bound,
    )


__all__ = [
    "ContainerSettings",
    "Mount",
    "RunSettings",
    "bindings",
    "parse_cpus",
    "parse_env_lines",
    "parse_memory",
    "parse_mount",
    "read_env_file",
    "run_container",
    "settings_from_args",
    "settings_from_inspect",
]
