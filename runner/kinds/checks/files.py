"""Checks of files shared with a container: a file beside the notebook, and a file of a
bind mount as the container sees it, as its server serves it, and as the host has it.

What the container sees is read through the engine's archive API (``docker cp``'s, as
the Files tab reads it), never by a program in the container. The host's side is read
only beside the notebook (:mod:`~dockdojo.runner.beside`: inside its folder, never
through a link), and only where the check knows that folder: in the notebook and in
``dockdojo check``. Elsewhere (the grader, the instructor's view, a remote engine) the
host folder is not this process's to open: a root process must never open a path a
learner chose. There, what the container sees through the bind mount stands for the
host's file, which is what a bind mount is.
"""

from __future__ import annotations

import http.client
import posixpath
from pathlib import Path
from typing import Any

from ...beside import read_beside
from ...engine import ContainerInfo, Mount, port_key
from ...engine.explore import ReadOnlyMountUnreadable
from ...errors import ContainerNotFound, DockdojoError
from ...text import human_bytes, snippet
from ..base import Call, Seen
from .ports import HTTP_TIMEOUT, _get, port_link_host
from .targets import MAX_TARGETS, _not_running, _records, _targets


def _file_beside(call: Call) -> Seen:
    relative = str(call.args["path"])
    contains = call.args.get("contains")
    folder = call.ctx.folder
    if folder is None:
        return Seen(
            True,
            f"{relative} beside the notebook cannot be told from here (this check runs "
            "away from the notebook's folder); the steps that share it with a container "
            "see it through the container.",
            {"path": relative, "seen": None},
        )
    text = read_beside(relative, folder)
    if text is None:
        return Seen(False, f"There is no {relative} beside the notebook.", {"path": relative})
    facts = {"path": relative, "bytes": len(text.encode())}
    if contains is not None and str(contains) not in text:
        return Seen(
            False,
            f"{relative} beside the notebook does not contain {str(contains)!r}.",
            {**facts, "snippet": snippet(text)},
        )
    said = f" and contains {str(contains)!r}" if contains is not None else ""
    size = human_bytes(len(text.encode()))
    return Seen(True, f"{relative} is beside the notebook ({size}){said}.", facts)


def _covering(mounts: tuple[Mount, ...], path: str) -> Mount | None:
    """The mount a path of the container lies in (the deepest one), if any."""
    inside = [
        m
        for m in mounts
        if path == m.target.rstrip("/") or path.startswith(m.target.rstrip("/") + "/")
    ]
    return max(inside, key=lambda m: len(m.target), default=None)


def _bind_file(call: Call) -> Seen:
    path = posixpath.normpath("/" + str(call.args["path"]).lstrip("/"))
    port = call.args.get("port")
    found = _targets(call)
    pool = [c for c in found if c.running] if port is not None else found
    if not pool:
        return Seen(False, f"{_not_running(call, found)}.", {"containers": _records(found)})
    failures: list[tuple[str, dict[str, Any]]] = []
    for container in pool[:MAX_TARGETS]:
        try:
            passed, message, facts = _one_bind_file(call, container, path)
        except ContainerNotFound:
            continue
        except DockdojoError as error:
            passed, message, facts = False, f"{container.name}: {error.what}", {}
        if passed:
            return Seen(True, message, {"container": container.name, "path": path, **facts})
        failures.append((message, {"container": container.name, **facts}))
    if not failures:
        return Seen(False, "The matching containers were removed meanwhile.", {})
    message, facts = failures[0]
    return Seen(False, message, {"path": path, **facts, "tried": len(failures)})


def _one_bind_file(
    call: Call, container: ContainerInfo, path: str
) -> tuple[bool, str, dict[str, Any]]:
    engine = call.ctx.engine
    mount = _covering(engine.settings(container.id).mounts, path)
    folder = posixpath.dirname(path)
    if mount is None or mount.kind != "bind":
        what = "nothing" if mount is None else f"volume {mount.source}"
        return (
            False,
            f"{container.name} has {what} mounted over {path}, not a folder of the host "
            f"(docker run -v ./folder:{folder} ...).",
            {},
        )
    read = _read_in(call, container, mount, path)
    if isinstance(read, str):
        return False, read, {"host_folder": mount.source}
    text, how = read
    facts: dict[str, Any] = {"host_folder": mount.source, "bytes": len(text.encode()), "read": how}
    facts["snippet"] = snippet(text)
    contains = call.args.get("contains")
    miss = _text_miss(call, text)
    if miss:
        return False, f"{path} in {container.name} {miss}.", facts
    host = _host_side(call, mount, path, text)
    if host is not None:
        facts["host"] = host[1]
        if not host[0]:
            return False, host[1], facts
    if call.args.get("port") is not None and how != "served":
        served = _served(call, container, text)
        facts["served"] = served[1]
        if not served[0]:
            return False, served[1], facts
    said = f" and contains {str(contains)!r}" if contains is not None else ""
    also = " and serves it" if call.args.get("port") is not None else ""
    if how == "served":
        said += " (read through its server: this engine cannot read a read-only mount)"
    return (
        True,
        f"{container.name} sees {path} from the host folder {mount.source}{said}{also}.",
        facts,
    )


def _read_in(
    call: Call, container: ContainerInfo, mount: Mount, path: str
) -> tuple[str, str] | str:
    """The file's text as the container sees it, and how it was read (``archive``, as
    the Files tab reads; ``cat``, in the container, where a rootless engine cannot read a
    read-only bind mount's files that way); else why not, as a sentence."""
    name = container.name
    try:
        seen = call.ctx.engine.explore(container.id).read_file(path)
    except ContainerNotFound:
        raise
    except ReadOnlyMountUnreadable:
        return _through_server(call, container, mount, path)
    except DockdojoError:
        inner = posixpath.relpath(path, mount.target.rstrip("/") or "/")
        return (
            f"{name} sees no {path}: there is no {inner} in the host folder {mount.source} "
            "it shares."
        )
    if seen.text is None:
        return f"{path} in {name} is not text."
    return seen.text, "archive"


def _through_server(
    call: Call, container: ContainerInfo, mount: Mount, path: str
) -> tuple[str, str] | str:
    """The file as the container's server serves it: a rootless engine (a room's, the
    grader's) cannot read a read-only bind mount's files through the archive API, and a
    program run in the container would not be believed there (the mount covers /usr)."""
    if call.args.get("port") is None or not container.running:
        return (
            f"{container.name} shares {mount.source} read-only, and this engine (a rootless "
            f"one) cannot read {path} in it; its server can, when it runs and the check "
            "names its port."
        )
    got = _fetch(call, container)
    if isinstance(got, str):
        return got
    return got[0], "served"


def _text_miss(call: Call, text: str) -> str | None:
    """What the file's text lacks (or still has), as a sentence's end; None when right."""
    contains, lacks = call.args.get("contains"), call.args.get("lacks")
    if contains is not None and str(contains) not in text:
        return f"does not contain {str(contains)!r}"
    if lacks is not None and str(lacks) in text:
        return f"still contains {str(lacks)!r}"
    return None


def _host_side(call: Call, mount: Mount, path: str, text: str) -> tuple[bool, str] | None:
    """The host's file beside the notebook against what the container sees; None when
    the check cannot read it here (see the module)."""
    folder = call.ctx.folder
    if folder is None:
        return None
    source = Path(mount.source)
    inner = posixpath.relpath(path, mount.target.rstrip("/") or "/")
    try:
        relative = (source / inner).relative_to(folder.resolve())
    except ValueError:
        return None  # a folder elsewhere on the host: not this check's to open
    on_host = read_beside(str(relative), folder)
    if on_host is None:
        return False, f"There is no {relative} beside the notebook, yet the container sees it."
    if on_host[: len(text)] != text:
        return (
            False,
            f"{relative} beside the notebook and {path} in the container differ: save the "
            "file and check again.",
        )
    return True, f"{relative} beside the notebook is the same file."


def _fetch(call: Call, container: ContainerInfo) -> str | tuple[str]:
    """The page at the check's port and url: its text (a 1-tuple), or why not."""
    port = port_key(call.args.get("port", 80))
    page = "/" + str(call.args.get("url", "/")).lstrip("/")
    links = [p for p in container.ports if p.container_port == port]
    if not links:
        return f"{container.name} does not publish {port} on the host (docker run -p)."
    link = links[0]
    url = f"http://{port_link_host(call.ctx.snapshot.host, link)}:{link.host_port}{page}"
    try:
        status, body = _get(url, min(HTTP_TIMEOUT, call.left()))
    except (OSError, http.client.HTTPException) as exc:
        return f"{url} ({container.name}) could not be reached ({exc})."
    if status == 403:
        return (
            f"{url} ({container.name}) answered 403 Forbidden: the server in the container "
            "may not read the file. It reads as a user of its own, not as you: make the "
            "shared folder readable by others (chmod -R o+rX FOLDER)."
        )
    if status != 200:
        return f"{url} ({container.name}) answered {status}, not the file."
    return (body,)


def _served(call: Call, container: ContainerInfo, text: str) -> tuple[bool, str]:
    got = _fetch(call, container)
    if isinstance(got, str):
        return False, got
    if got[0].strip() != text.strip():
        return False, f"{container.name} serves {snippet(got[0])!r} on its port, not the file."
    return True, "its server serves the file."
