"""Volumes as Docker Desktop's Volumes view shows them: each with the containers that
mount it (and where), created, removed, pruned, and the files inside.

Which volumes are a learner's follows :class:`~.ownership.Ownership`: on their own engine,
every volume; on a shared engine, those dockdojo labelled for them and those their
containers mount. Whether a volume is in use is asked of every container on the engine,
anyone's, so a prune never takes a volume another learner's container mounts.

A volume's files are read through the engine's archive API (``docker cp``'s), the way
:mod:`.explore` reads a container's: a short-lived helper container mounts the volume at
:data:`HELPER_MOUNT` and is never started (nothing runs in it to change the files), so
any image already on the engine serves (preferably one of a container that mounts the
volume); it is removed right after. It carries the :data:`LABEL_HELPER` label, and
listings leave it out.
"""

from __future__ import annotations

import contextlib
import functools
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import ContainerNotFound, ContainerUse, DockdojoError
from .connection import Connection, Json
from .explore import ContainerExplorer, FileText, Folder
from .models import LABEL_LEARNER
from .ownership import Ownership
from .rows import name_of, parse_time
from .translate import Op

LABEL_HELPER = "dockdojo.helper"
"""The label of a helper container dockdojo makes for a moment (its value says what for)."""
HELPER_MOUNT = "/volume"
"""Where a helper container mounts the volume it reads."""


@dataclass(frozen=True)
class VolumeMount:
    """A container that mounts a volume, and where (the guide's "target")."""

    id: str
    name: str
    state: str
    """``running``, ``exited``, ``created``..."""
    image: str
    destination: str
    """The path inside the container that gives access to the volume's files."""
    read_only: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeInfo:
    """One volume of the engine."""

    name: str
    driver: str
    created: datetime
    labels: Mapping[str, str]
    mounts: tuple[VolumeMount, ...] = ()
    """The containers, running or stopped, that mount it."""
    size: int | None = None
    """Bytes it holds, when asked for (``docker system df -v``); None when not known."""

    @property
    def in_use(self) -> bool:
        return bool(self.mounts)

    @property
    def users(self) -> tuple[ContainerUse, ...]:
        """The containers that keep it from being removed."""
        return tuple(ContainerUse(m.id, m.name, m.state) for m in self.mounts)


def _mounts(rows: Sequence[Json]) -> dict[str, list[VolumeMount]]:
    """Each volume's mounts, from the engine's container summaries (helpers left out)."""
    found: dict[str, list[VolumeMount]] = {}
    for row in rows:
        labels = dict(row.get("Labels") or {})
        if LABEL_HELPER in labels:
            continue
        for mount in row.get("Mounts") or ():
            if mount.get("Type") != "volume" or not mount.get("Name"):
                continue
            found.setdefault(str(mount["Name"]), []).append(
                VolumeMount(
                    id=str(row["Id"]),
                    name=name_of(row),
                    state=str(row.get("State", "")),
                    image=str(row.get("Image", "")),
                    destination=str(mount.get("Destination", "")),
                    read_only=not mount.get("RW", True),
                    labels=labels,
                )
            )
    return found


def _volume(data: Json, mounts: Sequence[VolumeMount], size: int | None = None) -> VolumeInfo:
    created = str(data.get("CreatedAt") or "")
    return VolumeInfo(
        name=str(data["Name"]),
        driver=str(data.get("Driver") or "local"),
        created=parse_time(created) if created else datetime.fromtimestamp(0, UTC),
        labels=dict(data.get("Labels") or {}),
        mounts=tuple(mounts),
        size=size,
    )


class Volumes:
    """The volumes of one engine, as one learner may see and change them."""

    def __init__(self, conn: Connection, ownership: Ownership) -> None:
        self.conn = conn
        self.ownership = ownership

    # reading ------------------------------------------------------------------------
    def names(self, *, labels: Mapping[str, str] | None = None) -> list[str]:
        """Names of the volumes on the engine (carrying all ``labels``, when given)."""
        api = self.conn.api()
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None
        answer = self.conn.json(lambda: api.volumes(filters=filters), Op("listing volumes"))
        return sorted(str(v["Name"]) for v in answer.get("Volumes") or ())

    def _all_mounts(self) -> dict[str, list[VolumeMount]]:
        api = self.conn.api()
        rows = self.conn.rows(lambda: api.containers(all=True), Op("listing containers"))
        return _mounts(rows)

    def _sizes(self) -> dict[str, int]:
        api = self.conn.api()
        answer = self.conn.json(api.df, Op("measuring the volumes"))
        sizes = {}
        for row in answer.get("Volumes") or ():
            size = int((row.get("UsageData") or {}).get("Size", -1))
            if size >= 0:
                sizes[str(row["Name"])] = size
        return sizes

    def mine(self, volume: VolumeInfo) -> bool:
        """Whether ``volume`` is this learner's: any on their own engine; on a shared
        engine, one labelled for them or mounted by one of their containers."""
        return self.ownership.holds(volume.labels, (m.labels for m in volume.mounts))

    def listing(self, *, sizes: bool = False) -> list[VolumeInfo]:
        """The learner's volumes by name, each with the containers that mount it; with
        ``sizes``, the bytes each holds too (the engine measures them: slower)."""
        api = self.conn.api()
        answer = self.conn.json(lambda: api.volumes(), Op("listing volumes"))
        mounts = self._all_mounts()
        measured = self._sizes() if sizes else {}
        found = [
            _volume(v, mounts.get(str(v["Name"]), ()), measured.get(str(v["Name"])))
            for v in answer.get("Volumes") or ()
        ]
        return sorted((v for v in found if self.mine(v)), key=lambda v: v.name)

    def get(self, name: str) -> VolumeInfo:
        """One volume with its mounts; :class:`VolumeNotFound` when there is none."""
        api = self.conn.api()
        data = self.conn.json(
            lambda: api.inspect_volume(name), Op(f"inspecting the volume {name}", "volume", name)
        )
        return _volume(data, self._all_mounts().get(str(data["Name"]), ()))

    def inspect(self, name: str) -> Json:
        """``docker volume inspect`` of the volume."""
        api = self.conn.api()
        return self.conn.json(
            lambda: api.inspect_volume(name), Op(f"inspecting the volume {name}", "volume", name)
        )

    def exists(self, name: str) -> bool:
        return name in self.names()

    # changing -----------------------------------------------------------------------
    def create(
        self, name: str, *, step: str | None = None, labels: Mapping[str, str] | None = None
    ) -> VolumeInfo:
        """Create the volume ``name`` (``docker volume create``), labelled as dockdojo's
        for this learner; one that exists already is kept as it is."""
        name = name.strip()
        if not name:
            raise DockdojoError("A volume needs a name, e.g. log-data.", "Type a name.")
        api = self.conn.api()
        all_labels = {**self.ownership.labels(step), **dict(labels or {})}
        self.conn.call(
            lambda: api.create_volume(name, labels=all_labels),
            Op(f"creating the volume {name}", "volume", name),
        )
        return self.get(name)

    def remove(self, name: str, *, force: bool = False) -> None:
        """Remove a volume (``docker volume rm``); :class:`VolumeInUse` names the
        containers that mount it and how to free it."""
        api = self.conn.api()

        def users() -> list[ContainerUse]:
            return list(self.get(name).users)

        op = Op(f"removing the volume {name}", "remove-volume", name, users=users)
        self.conn.call(lambda: api.remove_volume(name, force=force), op)

    def prune(self, *, labelled_only: bool = False) -> list[str]:
        """Remove every volume of the learner's that no container mounts (``docker
        volume prune --all``); on a shared engine, or with ``labelled_only``, only those
        dockdojo labelled for them. The names removed."""
        removed = []
        only_labelled = labelled_only or self.ownership.shared
        for volume in self.listing():
            if volume.in_use:
                continue
            if only_labelled and volume.labels.get(LABEL_LEARNER) != self.ownership.learner:
                continue
            try:
                self.remove(volume.name)
            except DockdojoError:
                continue  # mounted or removed meanwhile: not unused any more, or gone
            removed.append(volume.name)
        return removed

    # files --------------------------------------------------------------------------
    def folder(self, name: str, path: str = "/") -> Folder:
        """The entries of the folder ``path`` of the volume (``/`` is its top)."""
        inside = _inside(path)
        with self._reader(name) as explorer, _absent(name, inside):
            found = explorer.folder(HELPER_MOUNT + inside)
        return Folder(_outside(found.path), found.entries, found.complete)

    def read_file(self, name: str, path: str) -> FileText:
        """The beginning of the file ``path`` of the volume."""
        inside = _inside(path)
        with self._reader(name) as explorer, _absent(name, inside):
            found = explorer.read_file(HELPER_MOUNT + inside)
        return FileText(_outside(found.path), found.size, found.text, found.complete)

    def holds(self, name: str, path: str) -> bool:
        """Whether ``path`` exists in the volume (a file or a folder)."""
        inside = _inside(path)
        parent, leaf = posixpath.split(inside)
        if not leaf:
            return True
        try:
            listing = self.folder(name, parent)
        except DockdojoError as exc:
            if type(exc) is DockdojoError and exc.what.startswith("There is no "):
                return False  # a folder on the way is missing
            raise
        return any(e.name == leaf for e in listing.entries)

    def _helper_image(self, volume: VolumeInfo) -> str:
        api = self.conn.api()
        for mount in volume.mounts:
            with contextlib.suppress(DockdojoError):
                image = self.conn.json(
                    functools.partial(api.inspect_image, mount.image), Op("inspecting an image")
                )
                return str(image["Id"])
        images = self.conn.rows(api.images, Op("listing images"))
        if not images:
            raise DockdojoError(
                f"The files of the volume {volume.name} cannot be shown: the engine has no "
                "image to read them with.",
                "Pull any image (docker pull busybox), then try again.",
            )
        return str(images[0]["Id"])

    @contextlib.contextmanager
    def _reader(self, name: str) -> Iterator[ContainerExplorer]:
        """A helper container that mounts the volume, never started (so nothing in it can
        write; the mount is not read-only because a rootless engine cannot remount a
        volume read-only for the archive API)."""
        volume = self.get(name)  # VolumeNotFound, rather than creating it by mounting it
        api = self.conn.api()
        op = Op(f"reading the volume {name}", "volume", name)
        created = self.conn.json(
            lambda: api.create_container(
                self._helper_image(volume),
                command=["true"],
                labels={**self.ownership.labels(), LABEL_HELPER: "volume-files"},
                network_disabled=True,
                host_config=api.create_host_config(
                    binds={name: {"bind": HELPER_MOUNT, "mode": "rw"}}
                ),
            ),
            op,
        )
        cid = str(created["Id"])
        try:
            yield ContainerExplorer(self.conn, cid)
        finally:
            with contextlib.suppress(ContainerNotFound):
                self.conn.call(
                    lambda: api.remove_container(cid, force=True),
                    Op("removing a helper container", "remove-container", cid),
                )


@contextlib.contextmanager
def _absent(name: str, inside: str) -> Iterator[None]:
    """The explorer's "no such path in the container" said of the volume."""
    try:
        yield
    except DockdojoError as exc:
        if type(exc) is not DockdojoError:
            raise  # the engine, not the path
        raise DockdojoError(
            f"There is no {inside or '/'} in the volume {name}.",
            "Open a folder of the listing, or go up to /.",
        ) from None


def _inside(path: str) -> str:
    """``path`` of a volume as an absolute path inside it (``..`` cannot leave it)."""
    inside = posixpath.normpath("/" + path.strip().lstrip("/"))
    return "" if inside == "/" else inside


def _outside(path: str) -> str:
    """A helper's path back as the volume's own (``/volume/x`` is ``/x``)."""
    rest = path.removeprefix(HELPER_MOUNT)
    return rest if rest.startswith("/") else "/" + rest


__all__ = ["HELPER_MOUNT", "LABEL_HELPER", "VolumeInfo", "VolumeMount", "Volumes"]
