"""Networks, as ``docker network`` manages them: each with the containers attached and
the names (aliases) they answer to on it; created, connected, removed.

Which networks are a learner's follows :class:`~.ownership.Ownership`: on their own
engine, every network; on a shared engine, those dockdojo labelled for them and those
their containers are attached to. Docker's own networks (``bridge``, ``host``, ``none``)
are listed but never removed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ContainerUse, DockdojoError
from .connection import Connection, Json
from .ownership import Ownership
from .rows import name_of, parse_time
from .translate import Op
from .volumes import LABEL_HELPER

BUILTIN = ("bridge", "host", "none")
"""The networks every engine has; they cannot be removed."""
PROBE_SECONDS = 3
"""Seconds a reachability probe waits for a connection."""
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


@dataclass(frozen=True)
class NetworkMember:
    """A container attached to a network."""

    id: str
    name: str
    state: str
    aliases: tuple[str, ...] = ()
    """The other names it answers to on the network (``--network-alias``)."""
    address: str = ""
    """Its IPv4 address there (while it runs)."""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name other containers of the network can reach it by."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class NetworkInfo:
    """One network of the engine."""

    name: str
    id: str
    driver: str
    created: datetime
    labels: Mapping[str, str]
    internal: bool = False
    members: tuple[NetworkMember, ...] = ()

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def member(self, ref: str) -> NetworkMember | None:
        """The attached container with this name or id."""
        found = (m for m in self.members if ref in (m.name, m.id) or m.id.startswith(ref))
        return next(found, None)


def _aliases(endpoint: Json, container_id: str, name: str) -> tuple[str, ...]:
    """The aliases of an endpoint, without the container's name and short id (which
    the engine adds itself)."""
    given = [*(endpoint.get("Aliases") or ()), *(endpoint.get("DNSNames") or ())]
    skip = {name, container_id[:12]}
    return tuple(dict.fromkeys(a for a in map(str, given) if a not in skip))


class Networks:
    """The networks of one engine, as one learner may see and change them."""

    def __init__(self, conn: Connection, ownership: Ownership) -> None:
        self.conn = conn
        self.ownership = ownership

    def names(self, *, labels: Mapping[str, str] | None = None) -> list[str]:
        """Names of the networks made on this engine (never ``bridge``, ``host``,
        ``none``), carrying all ``labels`` when given."""
        api = self.conn.api()
        filters: dict[str, object] = {"type": "custom"}
        if labels:
            filters["label"] = [f"{k}={v}" for k, v in labels.items()]
        rows = self.conn.rows(lambda: api.networks(filters=filters), Op("listing networks"))
        return sorted(str(r.get("Name") or r["Id"]) for r in rows)

    def _members(self, wanted: set[str] | None = None) -> dict[str, list[NetworkMember]]:
        """Each network's containers (stopped ones too), by network name."""
        api = self.conn.api()
        rows = self.conn.rows(lambda: api.containers(all=True), Op("listing containers"))
        found: dict[str, list[NetworkMember]] = {}
        for row in rows:
            attached = ((row.get("NetworkSettings") or {}).get("Networks") or {}).keys()
            if not attached or (wanted is not None and not wanted & set(attached)):
                continue
            data = self._inspect_container(str(row["Id"]))
            if data is None:
                continue
            endpoints = (data.get("NetworkSettings") or {}).get("Networks") or {}
            for net, endpoint in endpoints.items():
                cid, name = str(row["Id"]), name_of(row)
                found.setdefault(str(net), []).append(
                    NetworkMember(
                        cid,
                        name,
                        str(row.get("State", "")),
                        _aliases(endpoint or {}, cid, name),
                        str((endpoint or {}).get("IPAddress") or ""),
                        dict(row.get("Labels") or {}),
                    )
                )
        return found

    def _inspect_container(self, cid: str) -> Json | None:
        api = self.conn.api()
        try:
            return self.conn.json(
                lambda: api.inspect_container(cid), Op("inspecting a container", "container", cid)
            )
        except DockdojoError:
            return None  # removed meanwhile

    def mine(self, network: NetworkInfo) -> bool:
        """Whether ``network`` is this learner's: any on their own engine; on a shared
        engine, one labelled for them or with one of their containers attached."""
        return self.ownership.holds(network.labels, (m.labels for m in network.members))

    def listing(self) -> list[NetworkInfo]:
        """The learner's networks, made ones first, each with its containers."""
        api = self.conn.api()
        rows = self.conn.rows(api.networks, Op("listing networks"))
        members = self._members()
        found = [_network(r, members.get(str(r.get("Name")), ())) for r in rows]
        mine = [n for n in found if self.mine(n)]
        return sorted(mine, key=lambda n: (n.builtin, n.name))

    def get(self, name: str) -> NetworkInfo:
        """One network with its containers; :class:`NetworkNotFound` when there is none."""
        data = self.inspect(name)
        net = str(data.get("Name"))
        return _network(data, self._members({net}).get(net, ()))

    def inspect(self, name: str) -> Json:
        """``docker network inspect`` of the network."""
        api = self.conn.api()
        return self.conn.json(
            lambda: api.inspect_network(name),
            Op(f"inspecting the network {name}", "network", name),
        )

    def exists(self, name: str) -> bool:
        api = self.conn.api()
        rows = self.conn.rows(lambda: api.networks(names=[name]), Op("listing networks"))
        return any(r.get("Name") == name for r in rows)

    def create(
        self,
        name: str,
        *,
        driver: str = "bridge",
        step: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> NetworkInfo:
        """Create the network ``name`` (``docker network create``), labelled as
        dockdojo's for this learner; :class:`NameInUse` when one has that name."""
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise DockdojoError(
                f"{name!r} is not a valid network name.",
                "Use letters, digits, '_', '.' and '-', starting with a letter or digit "
                "(e.g. sample-app).",
            )
        api = self.conn.api()
        all_labels = {**self.ownership.labels(step), **dict(labels or {})}
        self.conn.call(
            lambda: api.create_network(
                name, driver=driver, labels=all_labels, check_duplicate=True
            ),
            Op(f"creating the network {name}", "network", name),
        )
        return self.get(name)

    def connect(self, network: str, container: str, *, aliases: Sequence[str] = ()) -> None:
        """Attach ``container`` to ``network``, answering there to ``aliases`` too
        (``docker network connect --alias``)."""
        api = self.conn.api()
        self.conn.call(
            lambda: api.connect_container_to_network(
                container, network, aliases=list(aliases) or None
            ),
            Op(f"connecting {container} to the network {network}", "network", network),
        )

    def disconnect(self, network: str, container: str) -> None:
        api = self.conn.api()
        self.conn.call(
            lambda: api.disconnect_container_from_network(container, network, force=True),
            Op(f"disconnecting {container} from the network {network}", "network", network),
        )

    def probe(
        self, source: str, target: str, *, port: int | None = None, image: str = "busybox"
    ) -> tuple[bool, str]:
        """Whether ``target`` (a name or alias) is reachable from inside the running
        container ``source``: its name resolves there and, with ``port``, a TCP connection
        to it opens. A short-lived helper container from ``image`` (which must have a
        ``busybox`` with ``nslookup`` and ``nc``) joins ``source``'s own network (``docker
        run --network NETWORK``; a room's engine refuses sharing another container's
        namespaces): on it, names and aliases resolve as they do for ``source``, whatever
        programs ``source``'s own image has. What it printed comes back too."""
        argv = (
            ["busybox", "nc", "-w", str(PROBE_SECONDS), target, str(port), "-e", "true"]
            if port is not None
            else ["busybox", "nslookup", target]
        )
        api = self.conn.api(self.conn.timeout + PROBE_SECONDS)
        op = Op(f"probing {target} from {source}", "container", source)
        data = self.conn.json(lambda: api.inspect_container(source), op)
        joined = [
            n
            for n in ((data.get("NetworkSettings") or {}).get("Networks") or {})
            if n not in BUILTIN
        ]
        if not joined:  # names resolve only on a network of one's own
            return False, (  # as busybox says it for a name that resolves nowhere
                f"nslookup: can't find {target}: {source} is on no network of its own (only "
                "Docker's default bridge, where containers do not find each other by name)"
            )
        created = self.conn.json(
            lambda: api.create_container(
                image,
                command=argv,
                labels={**self.ownership.labels(), LABEL_HELPER: "network-probe"},
                host_config=api.create_host_config(network_mode=joined[0]),
            ),
            op,
        )
        cid = str(created["Id"])
        try:
            self.conn.call(lambda: api.start(cid), op)
            status = self.conn.json(lambda: api.wait(cid, timeout=PROBE_SECONDS * 3), op)
            raw = self.conn.call(lambda: api.logs(cid), op)
        finally:
            with contextlib.suppress(DockdojoError):
                self.conn.call(
                    lambda: api.remove_container(cid, force=True),
                    Op("removing a helper container", "remove-container", cid),
                )
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return int(status.get("StatusCode", 1)) == 0, text.strip()

    def remove(self, name: str) -> None:
        """Remove a network; :class:`NetworkInUse` names the containers attached."""
        if name in BUILTIN:
            raise DockdojoError(
                f"{name} is one of Docker's own networks; it cannot be removed.",
                "Remove a network you created (docker network ls lists them).",
            )
        api = self.conn.api()

        def users() -> list[ContainerUse]:
            return [ContainerUse(m.id, m.name, m.state) for m in self.get(name).members]

        op = Op(f"removing the network {name}", "remove-network", name, users=users)
        self.conn.call(lambda: api.remove_network(name), op)


def _network(data: Json, members: Sequence[NetworkMember]) -> NetworkInfo:
    return NetworkInfo(
        name=str(data.get("Name") or data["Id"]),
        id=str(data["Id"]),
        driver=str(data.get("Driver") or ""),
        created=parse_time(str(data.get("Created") or "")),
        labels=dict(data.get("Labels") or {}),
        internal=bool(data.get("Internal")),
        members=tuple(members),
    )


__all__ = ["BUILTIN", "NetworkInfo", "NetworkMember", "Networks"]
