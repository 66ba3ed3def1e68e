"""Where an image came from, and what a container changed of the programs it runs.

A name proves nothing: ``docker tag busybox redis`` makes an image called ``redis``, and
a container may replace its own ``redis-cli`` with a script that prints the expected
answer. So an image a lesson declares is recognised by the manifest it was pulled as (its
repository digests), and a command run inside a container is trusted only when the
container changed neither the command's file nor what runs it (its folders of programs
and libraries, the dynamic loader's settings, its environment).

:class:`TrustedImages` says which digests count: those the room's mirror serves (a room,
grading), or, where no mirror is known (a laptop, the sandbox), any digest of the declared
repository. :class:`ContainerFiles` is what the engine says a container changed, mounts
and was given; the functions here judge them, without asking the engine.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidReference
from .connection import Connection
from .models import StoredImage
from .refs import ImageRef, parse_ref
from .rows import repo_digests
from .translate import Op

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The search path a command runs with when its image names none (Docker's default)."""

PROGRAM_FOLDERS = ("/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32")
"""Folders of programs and their libraries: a container that changes anything in them
(beyond Python's own bytecode caches) may have changed what a command runs."""

LOADER_FILES = ("/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ld.so.cache")
"""The dynamic loader's settings: what every program loads before its own code."""

_BYTECODE = re.compile(r"/__pycache__/[^/]+\.pyc\Z")


@dataclass(frozen=True)
class TrustedImages:
    """Which manifests count as the images a lesson declares, for one learner's checks."""

    digests: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Repository (``docker.io/library/redis``) -> the manifest digests served for it."""
    source: str = ""
    """Who serves them, as a sentence names it (``the room's mirror``); empty when no
    mirror is known: then any digest of the declared repository counts."""

    @property
    def known(self) -> bool:
        """Whether a mirror says which digests count."""
        return bool(self.source)

    def origin(self, ref: ImageRef) -> str:
        """Where a genuine ``ref`` is pulled from, for messages."""
        if self.known:
            return self.source
        return "Docker Hub" if ref.domain == "docker.io" else ref.domain

    def genuine(self, ref: ImageRef, repo_digests: Iterable[str]) -> bool:
        """Whether an image whose repository digests are ``repo_digests`` is the image
        ``ref`` names: pulled as a manifest of ``ref``'s repository that counts (one the
        mirror serves; where none is known, any one, or the one ``ref`` pins)."""
        mine = _repository(ref)
        pulled = {r.digest for r in _digest_refs(repo_digests) if _repository(r) == mine}
        if self.known:
            return bool(pulled & self.digests.get(_repository(ref), frozenset()))
        return ref.digest in pulled if ref.digest else bool(pulled)


def repository_key(ref: ImageRef) -> str:
    """How :attr:`TrustedImages.digests` names the repository of ``ref``."""
    return _repository(ref)


def _repository(ref: ImageRef) -> str:
    return f"{ref.domain}/{ref.path}"


def _digest_refs(repo_digests: Iterable[str]) -> list[ImageRef]:
    out = []
    for text in repo_digests:
        try:
            ref = parse_ref(text)
        except InvalidReference:
            continue
        if ref.digest:
            out.append(ref)
    return out


def pulled_as(repo_digests: Iterable[str]) -> str:
    """What an image really is, as a phrase: the manifests it was pulled as, or that it
    was made on the engine."""
    refs = _digest_refs(repo_digests)
    if not refs:
        return "it was built, committed or loaded on this engine, not pulled"
    shown = ", ".join(f"{r.repository}@{(r.digest or '')[:19]}" for r in refs[:3])
    return f"it was pulled as {shown}"


@dataclass(frozen=True)
class ContainerFiles:
    """What a container changed on top of its image, what it mounts, and what it was
    given when it was created: what could change a command run inside it."""

    changed: tuple[str, ...]
    """Paths ``docker diff`` lists as added, changed or deleted (their folders too)."""
    mounts: tuple[str, ...]
    """Where volumes, bind mounts and tmpfs are mounted in the container."""
    env: tuple[str, ...]
    """``NAME=value`` as the container was created with (its image's and its own)."""
    image_env: tuple[str, ...]
    """``NAME=value`` as its image declares them."""
    privileged: bool = False
    """Whether it may mount over its own files (``--privileged``, ``CAP_SYS_ADMIN``)."""


def read_container_files(conn: Connection, container: str) -> ContainerFiles:
    """Ask the engine what ``container`` changed, mounts and was given."""
    api = conn.api()
    op = Op(f"reading what {container} changed", "container", container)
    data = conn.json(lambda: api.inspect_container(container), op)
    changes = conn.rows(lambda: api.diff(container) or [], op)
    image = conn.json(lambda: api.inspect_image(str(data.get("Image", ""))), op)
    host: Mapping[str, Any] = data.get("HostConfig") or {}
    caps = {str(c).upper().removeprefix("CAP_") for c in host.get("CapAdd") or ()}
    mounts = [str(m.get("Destination", "")) for m in data.get("Mounts") or ()]
    mounts += [str(k) for k in (host.get("Tmpfs") or {})]
    return ContainerFiles(
        changed=tuple(str(c.get("Path", "")) for c in changes),
        mounts=tuple(m for m in mounts if m),
        env=tuple(str(e) for e in (data.get("Config") or {}).get("Env") or ()),
        image_env=tuple(str(e) for e in (image.get("Config") or {}).get("Env") or ()),
        privileged=bool(host.get("Privileged")) or bool(caps & {"SYS_ADMIN", "ALL"}),
    )


def read_stored_images(conn: Connection) -> list[StoredImage]:
    """Every local image once, with all its tags and repository digests."""
    api = conn.api()
    return [
        StoredImage(
            id=str(row["Id"]),
            tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
            digests=repo_digests(row),
        )
        for row in conn.rows(api.images, Op("listing images"))
    ]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _leaves(paths: Iterable[str]) -> list[str]:
    """The paths that are not a folder of another listed path."""
    listed = sorted({posixpath.normpath(p) for p in paths if p})
    return [p for i, p in enumerate(listed) if not any(_within(q, p) for q in listed[i + 1 :])]


def _env(entries: Iterable[str]) -> dict[str, str]:
    out = {}
    for entry in entries:
        name, _, value = entry.partition("=")
        out[name] = value
    return out


def search_path(files: ContainerFiles) -> str:
    """The search path the image gives its commands (never the container's own)."""
    return _env(files.image_env).get("PATH") or DEFAULT_PATH


def tampering(files: ContainerFiles, command: str) -> str | None:
    """Why the output of ``command`` run inside the container cannot be trusted, as a
    phrase (``its /usr/local/bin/redis-cli was changed``), or None.

    Changed: a file named like the command anywhere, anything in the folders of programs
    and libraries (or the image's search path) but Python's bytecode caches, or the
    dynamic loader's settings. Mounted: a volume, bind mount or tmpfs over any of those.
    A privileged container may mount over its own files, where ``docker diff`` cannot see.
    """
    name = posixpath.basename(command)
    folders = [*PROGRAM_FOLDERS, *LOADER_FILES]
    folders += [d for d in search_path(files).split(":") if d.startswith("/")]
    if "/" in command:
        folders.append(posixpath.normpath(command))
    for path in _leaves(files.changed):
        if posixpath.basename(path) == name:
            return f"its {path} was changed"
        if any(_within(path, f) for f in folders) and not _BYTECODE.search(path):
            return f"its {path} was changed, in a folder of programs or libraries"
    for mount in sorted({posixpath.normpath(m) for m in files.mounts}):
        if any(_within(mount, f) or _within(f, mount) for f in folders):
            return f"something is mounted over its {mount}"
    if files.privileged:
        return "it runs privileged, so it may mount over its own files unseen"
    return None


def exec_env(files: ContainerFiles) -> dict[str, str]:
    """The environment a trusted command runs with: the image's own for every variable
    the container was created with (so ``PATH``, ``LD_PRELOAD``, ``LD_LIBRARY_PATH``,
    ``NODE_OPTIONS``... set with ``docker run -e`` change nothing), empty where the image
    has none, and the image's search path."""
    image = _env(files.image_env)
    out = {name: image.get(name, "") for name in _env(files.env)}
    out["PATH"] = search_path(files)
    return out


__all__ = [
    "DEFAULT_PATH",
    "LOADER_FILES",
    "PROGRAM_FOLDERS",
    "ContainerFiles",
    "TrustedImages",
    "exec_env",
    "pulled_as",
    "read_container_files",
    "read_stored_images",
    "repository_key",
    "search_path",
    "tampering",
]
