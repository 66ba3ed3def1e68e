"""Checks of volumes and networks: a volume exists and holds data, a network exists, a
container is attached to one (under an alias), and one container reaches another by
name.

A volume's files are read through the engine (:meth:`~dockdojo.runner.engine.Volumes.
holds`), never by a program of the learner's containers; a command run in a container
that mounts the volume (``psql``) is believed only where :mod:`.trust` believes it, as
for ``command_output``. Reachability is probed from inside the source container's
network by a short-lived busybox helper (:meth:`~dockdojo.runner.engine.Networks.probe`),
whose image must be busybox as pulled.
"""

from __future__ import annotations

from typing import Any

from ...engine import ContainerInfo, NetworkInfo, VolumeInfo, parse_ref
from ...errors import DockdojoError, NetworkNotFound, VolumeNotFound
from ...text import few, snippet
from ..base import Call, Seen
from .commands import Distrusted, _output_ok, _run_in
from .targets import MAX_TARGETS
from .trust import genuine

PROBE_IMAGE = "busybox"
"""The image whose ``busybox nc`` and ``nslookup`` probe reachability."""


def _volume(call: Call) -> tuple[VolumeInfo | None, str]:
    name = str(call.args["volume"])
    try:
        return call.ctx.engine.volume_manager().get(name), name
    except VolumeNotFound:
        return None, name


def _no_volume(name: str, evidence: dict[str, Any]) -> Seen:
    return Seen(
        False,
        f"There is no volume {name}: create it (docker volume create {name}), or run a "
        f"container with -v {name}:/path, which creates it.",
        evidence,
    )


def _mount_records(volume: VolumeInfo) -> list[dict[str, Any]]:
    return [
        {"container": m.name, "state": m.state, "target": m.destination} for m in volume.mounts[:10]
    ]


def _volume_exists(call: Call) -> Seen:
    """``volume_exists``: the volume is there (and which containers mount it, where)."""
    volume, name = _volume(call)
    if volume is None:
        return _no_volume(name, {"volume": name})
    used = (
        f", mounted by {few([f'{m.name} at {m.destination}' for m in volume.mounts], 5)}"
        if volume.mounts
        else ", mounted by no container"
    )
    return Seen(
        True,
        f"The volume {name} exists{used}.",
        {"volume": name, "mounts": _mount_records(volume)},
    )


def _volume_absent(call: Call) -> Seen:
    """``volume_absent``: no volume has the name; when one has, who still mounts it."""
    volume, name = _volume(call)
    if volume is None:
        return Seen(True, f"There is no volume {name}.", {"volume": name})
    if volume.mounts:
        users = few([m.name for m in volume.mounts], 5)
        return Seen(
            False,
            f"The volume {name} still exists, mounted by {users}: remove those containers "
            f"(docker rm -f {' '.join(m.name for m in volume.mounts[:5])}), then the volume "
            f"(docker volume rm {name}).",
            {"volume": name, "mounts": _mount_records(volume)},
        )
    return Seen(
        False,
        f"The volume {name} still exists: remove it (docker volume rm {name}, or "
        "docker volume prune --all when no container uses it).",
        {"volume": name},
    )


def _volume_holds(call: Call) -> Seen:
    """``volume_holds``: a path exists in the volume (read through the engine), or a
    command run in a running container that mounts it prints what is expected."""
    volume, name = _volume(call)
    evidence: dict[str, Any] = {"volume": name}
    if volume is None:
        return _no_volume(name, evidence)
    path = call.args.get("path")
    if path is not None:
        shown = "/" + str(path).strip().lstrip("/")
        if call.ctx.engine.volume_manager().holds(name, shown):
            return Seen(True, f"The volume {name} holds {shown}.", {**evidence, "path": shown})
        return Seen(
            False,
            f"The volume {name} has no {shown}: whatever writes it has not run with the "
            f"volume mounted (-v {name}:/path), or wrote elsewhere.",
            {**evidence, "path": shown, "mounts": _mount_records(volume)},
        )
    return _volume_command(call, volume)


def _volume_command(call: Call, volume: VolumeInfo) -> Seen:
    argv = [str(a) for a in call.args["command"]]
    expect, contains = call.args.get("expect"), call.args.get("contains")
    shown = " ".join(argv)
    evidence: dict[str, Any] = {"volume": volume.name, "command": argv}
    ids = {m.id for m in volume.mounts if m.state == "running"}
    running = [c for c in call.ctx.snapshot.containers if c.id in ids]
    if not running:
        return Seen(
            False,
            f"No running container mounts the volume {volume.name}, so `{shown}` could not "
            f"run: run one with -v {volume.name}:PATH, then check again.",
            {**evidence, "mounts": _mount_records(volume)},
        )
    runs: list[dict[str, Any]] = []
    message = ""
    results = _run_in(
        call, running[:MAX_TARGETS], argv, lambda r: _output_ok(r.output, expect, contains)
    )
    for container, result in results:
        if isinstance(result, Distrusted | str):
            why = result.why if isinstance(result, Distrusted) else result
            runs.append({"container": container.name, "error": why})
            message = message or why
            continue
        out = result.output.strip()
        runs.append({"container": container.name, "output": snippet(out)})
        if _output_ok(out, expect, contains):
            return Seen(
                True,
                f"`{shown}` in {container.name}, which mounts {volume.name}, printed "
                f"{snippet(out)!r}.",
                {**evidence, "runs": runs},
            )
        wanted = f"{str(expect).strip()!r}" if expect is not None else f"{str(contains)!r} in it"
        message = message or (
            f"`{shown}` in {container.name}, which mounts {volume.name}, printed "
            f"{snippet(out)!r}, not {wanted}: the data is not in the volume yet."
        )
    return Seen(False, message, {**evidence, "runs": runs})


def _network(call: Call) -> tuple[NetworkInfo | None, str]:
    name = str(call.args["network"])
    try:
        return call.ctx.engine.network_manager().get(name), name
    except NetworkNotFound:
        return None, name


def _no_network(name: str, evidence: dict[str, Any]) -> Seen:
    return Seen(
        False,
        f"There is no network {name}: create it (docker network create {name}).",
        evidence,
    )


def _network_exists(call: Call) -> Seen:
    """``network_exists``: the network is there, with the containers attached."""
    network, name = _network(call)
    if network is None:
        return _no_network(name, {"network": name})
    attached = few([m.name for m in network.members], 5) or "no container"
    return Seen(
        True,
        f"The network {name} exists ({network.driver}), with {attached} attached.",
        {"network": name, "containers": [m.name for m in network.members[:10]]},
    )


def _on_network(call: Call) -> Seen:
    """``on_network``: the container is attached to the network, answering to the alias
    there when one is given."""
    network, net = _network(call)
    container = str(call.args["name"])
    alias = call.args.get("alias")
    evidence: dict[str, Any] = {"network": net, "container": container}
    if network is None:
        return _no_network(net, evidence)
    member = network.member(container)
    if member is None:
        attached = few([m.name for m in network.members], 5) or "none"
        return Seen(
            False,
            f"{container} is not attached to the network {net} (attached: {attached}): run "
            f"it with --network {net}, or docker network connect {net} {container}.",
            evidence,
        )
    evidence["aliases"] = list(member.aliases)
    if alias is not None and str(alias) not in member.names:
        known = ", ".join(member.aliases) or "none"
        return Seen(
            False,
            f"{container} is on the network {net}, but not as {alias} (its aliases: "
            f"{known}): run it with --network {net} --network-alias {alias}, or reconnect "
            f"it (docker network disconnect {net} {container}; docker network connect "
            f"--alias {alias} {net} {container}).",
            evidence,
        )
    said = f" as {alias}" if alias is not None else ""
    return Seen(True, f"{container} is attached to the network {net}{said}.", evidence)


def _source(call: Call) -> ContainerInfo | str:
    """The running container the probe starts from, or why there is none."""
    name = str(call.args["name"])
    found = call.ctx.snapshot.named(name)
    if found is None:
        return f"There is no container {name} to reach {call.args['target']} from: run it first."
    if not found.running:
        return f"{name} is not running ({found.state}): start it (docker start {name})."
    return found


def _probe_image(call: Call) -> str | None:
    """Why the busybox probe cannot be trusted or run, or None."""
    image = call.ctx.snapshot.image(PROBE_IMAGE)
    if image is None:
        return (
            f"Reachability is probed with the {PROBE_IMAGE} image, which the engine does not "
            f"have: pull it (docker pull {PROBE_IMAGE}), then check again."
        )
    if not genuine(call, parse_ref(PROBE_IMAGE), image):
        return (
            f"The {PROBE_IMAGE} image on the engine is not the one pulled from a registry, "
            f"so its probe cannot be trusted: remove it (docker rmi {PROBE_IMAGE}) and pull "
            "it again."
        )
    return None


def _containers_reach(call: Call) -> Seen:
    """``containers_reach``: from inside the running container ``name``, ``target``
    resolves (and with ``port``, a TCP connection to it opens); a busybox helper that
    shares the container's network probes it (:meth:`Networks.probe`)."""
    target = str(call.args["target"])
    port = call.args.get("port")
    evidence: dict[str, Any] = {"from": str(call.args["name"]), "target": target}
    source = _source(call)
    if isinstance(source, str):
        return Seen(False, source, evidence)
    why = _probe_image(call)
    if why is not None:
        return Seen(False, why, evidence)
    number = int(str(port).split("/")[0]) if port is not None else None
    try:
        ok, said = call.ctx.engine.network_manager().probe(source.id, target, port=number)
    except DockdojoError as exc:
        return Seen(False, f"The probe from {source.name} could not run: {exc.what}", evidence)
    where = f"{target}:{number}" if number is not None else target
    evidence.update({"port": number, "probe": snippet(said)})
    if ok:
        return Seen(True, f"{source.name} reaches {where} by name.", evidence)
    if "bad address" in said or "can't find" in said:
        return Seen(
            False,
            f"From {source.name}, the name {target} does not resolve: put both containers on "
            f"one network you created (--network NAME), the other one named or aliased "
            f"{target} (--network-alias {target}).",
            evidence,
        )
    return Seen(
        False,
        f"From {source.name}, {target} resolves but nothing answers on {where} "
        f"({snippet(said)}): check that it runs and listens on port {number}.",
        evidence,
    )
