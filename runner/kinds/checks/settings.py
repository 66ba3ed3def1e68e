"""Checks of what a container was made with, as the engine reports it (``docker
inspect``): a port bound to an address, an environment variable, memory and CPU limits,
the command, a volume or a bind mount.

Each reads the settings of the containers :func:`.targets._targets` finds (a running one
unless said otherwise) and passes when one of them has the setting; otherwise it says
what the closest one has instead and which ``docker run`` flag gives it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ...engine import ContainerInfo, ContainerSettings, port_key
from ...engine.running import parse_cpus, parse_memory
from ...errors import ContainerNotFound
from ..base import Call, Seen
from .targets import MAX_TARGETS, _not_running, _records, _targets

Test = Callable[[ContainerSettings], str | None]
"""None when the settings pass, else what they have instead (a sentence fragment)."""


def _judge(call: Call, test: Test, passed: str, *, running: bool = True) -> Seen:
    """Pass with ``passed`` (formatted with the container's name) when a target's
    settings pass ``test``; else fail with what the first target has instead."""
    found = _targets(call)
    pool = [c for c in found if c.running] if running else found
    if not pool:
        return Seen(False, f"{_not_running(call, found)}.", {"containers": _records(found)})
    misses: list[tuple[ContainerInfo, str]] = []
    for container in pool[:MAX_TARGETS]:
        try:
            settings = call.ctx.engine.settings(container.id)
        except ContainerNotFound:
            continue
        miss = test(settings)
        if miss is None:
            return Seen(True, passed.format(name=container.name), {"container": container.name})
        misses.append((container, miss))
    if not misses:
        return Seen(False, "The matching containers were removed meanwhile.", {})
    container, miss = misses[0]
    more = f" (and {len(misses) - 1} more like it)" if len(misses) > 1 else ""
    return Seen(
        False,
        f"{container.name} {miss}{more}.",
        {"containers": _records([c for c, _ in misses]), "seen": [m for _, m in misses]},
    )


def _port_bound(call: Call) -> Seen:
    port, address = port_key(call.args.get("port", 80)), str(call.args["address"])
    host_port = call.args.get("host_port")

    def test(settings: ContainerSettings) -> str | None:
        binds = [(a, p) for c, a, p in settings.bound if c == port]
        if any(
            _same_address(a, address) and (host_port is None or p == int(host_port))
            for a, p in binds
        ):
            return None
        if not binds:
            return f"does not publish {port}"
        shown = ", ".join(f"{a or '0.0.0.0'}:{p}" for a, p in binds)
        named = "127.0.0.1" if address == LOOPBACK else address
        want = f"{named}:{host_port}" if host_port is not None else f"{named}:PORT"
        return (
            f"publishes {port} on {shown}, not on {want} "
            f"(docker run -p {want.replace('PORT', '8080')}:{port.split('/')[0]})"
        )

    shown = "a loopback address (this machine only)" if address == LOOPBACK else address
    where = f"{shown}, host port {host_port}," if host_port is not None else shown
    return _judge(call, test, f"{{name}} publishes {port} on {where} only.")


LOOPBACK = "loopback"
"""``address: loopback``: any loopback address (``127.0.0.1``, or in a room the learner's
own ``127.x.y.z``, which only they can reach)."""


def _same_address(bound: str, wanted: str) -> bool:
    if wanted != LOOPBACK:
        return bound == wanted
    try:
        return ipaddress.ip_address(bound).is_loopback
    except ValueError:
        return False


def _container_env(call: Call) -> Seen:
    key = str(call.args["key"])
    value = call.args.get("value")

    def test(settings: ContainerSettings) -> str | None:
        if key not in settings.env:
            return f"has no environment variable {key} (docker run -e {key}=...)"
        if value is not None and settings.env[key] != str(value):
            return f"has {key}={settings.env[key]!r}, not {str(value)!r}"
        return None

    shown = f"{key}={value}" if value is not None else key
    return _judge(call, test, f"{{name}} has {shown} in its environment.", running=False)


def _container_limits(call: Call) -> Seen:
    memory = parse_memory(call.args["memory"]) if call.args.get("memory") else None
    cpus = parse_cpus(call.args["cpus"]) if call.args.get("cpus") is not None else None

    def test(settings: ContainerSettings) -> str | None:
        wrong = []
        if memory is not None and settings.memory != memory:
            has = _size(settings.memory) if settings.memory else "no memory limit"
            wrong.append(f"has {has}, not {_size(memory)} (--memory)")
        if cpus is not None and settings.nano_cpus != cpus:
            has = f"{settings.nano_cpus / 1e9:g} CPUs" if settings.nano_cpus else "no CPU limit"
            wrong.append(f"has {has}, not {cpus / 1e9:g} (--cpus)")
        return " and ".join(wrong) or None

    parts = [f"{_size(memory)} of memory"] if memory is not None else []
    parts += [f"{cpus / 1e9:g} CPUs"] if cpus is not None else []
    return _judge(call, test, f"{{name}} is limited to {' and '.join(parts)}.", running=False)


def _size(size: int) -> str:
    """Bytes as docker run's --memory writes them: ``512m``, ``1g``."""
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


def _container_command(call: Call) -> Seen:
    words = [str(a) for a in call.args["command"]]

    def test(settings: ContainerSettings) -> str | None:
        argv = [*settings.entrypoint, *settings.command]
        n = len(words)
        if any(argv[i : i + n] == words for i in range(len(argv) - n + 1)):
            return None
        return f"runs {' '.join(argv) or 'nothing'!r}, without {' '.join(words)!r}"

    return _judge(call, test, f"{{name}} runs a command with {' '.join(words)!r}.", running=False)


def _mounted(call: Call) -> Seen:
    path = str(call.args["path"]).rstrip("/") or "/"
    volume, bind = call.args.get("volume"), bool(call.args.get("bind"))
    read_only = call.args.get("read_only")

    def test(settings: ContainerSettings) -> str | None:
        here = [m for m in settings.mounts if m.target.rstrip("/") == path]
        if not here:
            flag = f"-v {volume or './folder'}:{path}"
            return f"has nothing mounted at {path} (docker run {flag})"
        mount = here[0]
        if volume is not None and (mount.kind != "volume" or mount.source != str(volume)):
            return f"mounts {_mount_words(mount.kind, mount.source)} at {path}, not volume {volume}"
        if bind and mount.kind != "bind":
            return f"mounts volume {mount.source} at {path}, not a folder of the host"
        if read_only is not None and mount.read_only != bool(read_only):
            return f"mounts {path} {'read-only' if mount.read_only else 'read-write'}" + (
                " (add :ro)" if read_only else " (drop :ro)"
            )
        return None

    what = f"volume {volume}" if volume else "a folder of the host" if bind else "something"
    mode = "" if read_only is None else " read-only" if read_only else " read-write"
    return _judge(call, test, f"{{name}} mounts {what} at {path}{mode}.", running=False)


def _mount_words(kind: str, source: str) -> str:
    return f"volume {source}" if kind == "volume" else f"host folder {source}"
