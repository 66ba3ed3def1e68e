"""The engine's answers as dockdojo's models, and arguments checked before they are sent.

The SDK returns plain JSON; these turn a container's summary or inspection into a
:class:`~.models.ContainerInfo`, and check what callers give (a port mapping, a command
as an argv list, an image id or reference) with a message that says how to write it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import DockdojoError
from .models import ContainerInfo, PortLink
from .refs import parse_ref

PortSpec = Mapping[str | int, int | str | None]
"""Container port (``80``, ``"80/tcp"``) -> host port (0, None or empty: a random one)."""

_IMAGE_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})\Z")


def image_key(text: str) -> str:
    """How the engine is asked for an image: ``sha256:...`` for an id, else ``nginx:latest``."""
    match = _IMAGE_ID.match(text.strip())
    return f"sha256:{match.group(1)}" if match else parse_ref(text).familiar


def name_of(row: Mapping[str, Any]) -> str:
    names = row.get("Names") or [row.get("Id", "?")[:12]]
    return str(names[0]).lstrip("/")


def port_key(port: str | int) -> str:
    """A container port as the engine keys it: ``80`` -> ``"80/tcp"``; ``"53/udp"`` as is."""
    text = str(port).strip()
    return text if "/" in text else f"{text}/tcp"


def port_bindings(ports: PortSpec | None) -> dict[str, int | None]:
    """``{80: 0}`` as the engine takes it: ``{"80/tcp": None}`` (None: a random host port).

    Raises :class:`DockdojoError` for a port that is not one, saying how to write it.
    """
    out: dict[str, int | None] = {}
    for key, value in (ports or {}).items():
        container_port = port_key(key)
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


def check_argv(argv: Sequence[str] | str) -> list[str]:
    if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
        raise DockdojoError(
            f"A command must be a non-empty list of strings, not {argv!r}.",
            'Write e.g. ["redis-cli", "GET", "test"]: each argument is its own item.',
        )
    return list(argv)


def repo_digests(row: Mapping[str, Any]) -> tuple[str, ...]:
    """An image's repository digests (``redis@sha256:...``), from a summary or inspection."""
    return tuple(str(d) for d in row.get("RepoDigests") or () if d != "<none>@<none>")


def parse_time(text: str) -> datetime:
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", text)
    if not match:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)


def container_from_summary(row: Mapping[str, Any]) -> ContainerInfo:
    ports = tuple(
        PortLink(
            f"{p['PrivatePort']}/{p.get('Type', 'tcp')}", str(p.get("IP", "")), int(p["PublicPort"])
        )
        for p in row.get("Ports") or []
        if p.get("PublicPort") and ":" not in str(p.get("IP"))
    )
    return ContainerInfo(
        id=str(row["Id"]),
        name=name_of(row),
        image=str(row.get("Image", "")),
        image_id=str(row.get("ImageID", "")),
        state=str(row.get("State", "")),
        status=str(row.get("Status", "")),
        ports=tuple(sorted(set(ports), key=lambda p: (p.container_port, p.host_port))),
        labels=dict(row.get("Labels") or {}),
    )


def _status(state: Mapping[str, Any]) -> str:
    """The engine's state in words as ``docker ps`` says them: ``Exited (3)`` with the
    exit code, else the state itself (``running``)."""
    status = str(state.get("Status", ""))
    if status == "exited" and isinstance(state.get("ExitCode"), int):
        return f"Exited ({state['ExitCode']})"
    return status


def container_from_inspect(data: Mapping[str, Any]) -> ContainerInfo:
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
        status=_status(state),
        ports=ports,
        labels=dict(config.get("Labels") or {}),
    )


__all__ = [
    "PortSpec",
    "check_argv",
    "container_from_inspect",
    "container_from_summary",
    "image_key",
    "name_of",
    "parse_time",
    "port_bindings",
    "repo_digests",
]
