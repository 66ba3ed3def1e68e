"""Docker SDK failures as dockdojo's errors, in one function (:func:`translate`).

The facade never builds an error message from an SDK exception itself: it says what it
was doing (an :class:`Op`) and hands the failure here, the way docker-py maps HTTP errors
in ``create_api_error_from_http_exception``. Each rule below reads the HTTP status, the
engine's explanation and what was being done, and says what happened and what to do
next.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests
from docker.errors import APIError, DockerException

from ..errors import (
    ContainerNotFound,
    ContainerNotRunning,
    ContainerUse,
    DockdojoError,
    EngineError,
    EngineUnavailable,
    ImageInUse,
    ImageNotFound,
    NameInUse,
    NetworkInUse,
    NetworkNotFound,
    PortInUse,
    PullFailed,
    VolumeInUse,
    VolumeNotFound,
)
from ..text import plural, shorten

START_DOCKER = (
    "Start Docker Desktop (or Docker Engine: sudo systemctl start docker) and try again. "
    'On Linux without Docker, start dockdojo\'s private engine: eval "$(dockdojo sandbox start)".'
)
"""What to do when no engine answers."""

_NETWORK_WORDS = (
    "dial tcp",
    "no such host",
    "i/o timeout",
    "connection refused",
    "tls handshake",
    "network is unreachable",
    "context deadline exceeded",
)
_NOT_FOUND_WORDS = (
    "not found",
    "manifest unknown",
    "does not exist",
    "pull access denied",
    "repository name not known",
    "unauthorized",
)


@dataclass(frozen=True)
class Op:
    """What the facade was doing when a call failed: the context of a translation."""

    doing: str
    """What was being done, as words after "while": ``removing nginx:latest``."""
    target: str = ""
    """What it was done to: ``image``, ``container``, ``run``, ``exec``, ``pull``,
    ``remove-image``, ``remove-container``, ``volume``, ``remove-volume``, ``network``,
    ``remove-network``, or empty for anything else."""
    subject: str = ""
    """The image or container as the learner wrote it (``nginx``, ``web``)."""
    name: str | None = None
    """``run``: the container name asked for."""
    argv: Sequence[str] = ()
    """``exec``: the command."""
    registry: str = "Docker Hub"
    """``pull``: the registry the image comes from."""
    users: Callable[[], Sequence[ContainerUse]] = field(default=lambda: ())
    """``remove-image``, ``remove-volume``, ``remove-network``: the containers that use
    it, asked only when it is in use."""
    mirrors: Callable[[], Sequence[str]] = field(default=lambda: ())
    """``pull``: the engine's registry mirrors, asked only when the registry is unreachable."""


def translate(failure: BaseException | str, op: Op, host: str) -> DockdojoError:
    """``failure`` (an SDK or transport exception, or the error text of a pull's event
    stream) as the :class:`DockdojoError` a person can act on."""
    if isinstance(failure, DockdojoError):
        return failure
    if isinstance(failure, str):
        return _pull_failed(failure, op)
    if isinstance(failure, APIError):
        return _refused(str(failure.explanation or failure), failure.status_code, op)
    if isinstance(failure, requests.Timeout) and not isinstance(failure, requests.ConnectionError):
        return EngineError(
            f"The Docker Engine did not answer in time while {op.doing}.",
            "It may be busy or stuck; wait a moment and try again, or restart Docker.",
        )
    if isinstance(failure, DockerException | requests.RequestException | OSError):
        return unavailable(failure, host)
    raise failure


def _refused(text: str, status: int | None, op: Op) -> DockdojoError:
    """The engine answered, with an error status."""
    if op.target == "pull":
        return _pull_failed(text, op)
    if op.target in _STORES:
        return _store_refused(text, status, op)
    if status == 404:
        return _missing(op)
    if op.target == "run":
        return _run_refused(text, status, op)
    if op.target == "exec" and (status == 409 or "is not running" in text):
        return ContainerNotRunning(
            f"{op.subject} is not running, so {op.argv[0]} cannot run in it.",
            f"Start it again (docker start {op.subject}) or run a new one.",
        )
    if op.target == "remove-image" and status == 409:
        return _in_use(op)
    if op.target == "remove-container" and status == 409:
        return ContainerNotRunning(
            f"{op.subject} is running, so it was not removed.",
            "Stop it first, or remove it with force.",
        )
    return _refused_as_is(text, op)


def _refused_as_is(text: str, op: Op) -> EngineError:
    """A refusal no rule knows: the engine's own reason, in a sentence."""
    return EngineError(
        f"The Docker Engine refused {op.doing}: {text}",
        "Read the engine's reason above; fix it and try again.",
    )


def unavailable(failure: BaseException, host: str) -> EngineUnavailable:
    """No engine answered at ``host``."""
    reason = shorten(str(failure)) if str(failure).strip() else type(failure).__name__
    return EngineUnavailable(f"No Docker Engine answered at {host} ({reason}).", START_DOCKER)


def removal_in_progress(failure: BaseException | None) -> bool:
    """Whether the engine refused a removal because another one is under way."""
    return (
        isinstance(failure, APIError)
        and failure.status_code == 409
        and "already in progress" in str(failure.explanation or failure)
    )


def _missing(op: Op) -> DockdojoError:
    if op.target in ("image", "run"):
        return ImageNotFound(
            f"The image {op.subject} is not on this engine yet.",
            f"Pull it first (dockdojo pull {op.subject} or docker pull "
            f"{op.subject}), then try again.",
        )
    if op.target == "remove-image":
        return ImageNotFound(
            f"There is no image {op.subject} on this engine to remove.",
            "List the images to see which exist; it may have been removed already.",
        )
    if op.target == "remove-container":
        return ContainerNotFound(
            f"There is no container {op.subject!r} to remove.", "It may have been removed already."
        )
    return ContainerNotFound(
        f"There is no container {op.subject!r}: it may have been deleted.",
        "List the containers to see which exist, or run a new one.",
    )


def _in_use(op: Op) -> ImageInUse:
    users = list(op.users())
    names = ", ".join(f"{u.name} ({u.status})" for u in users) or "unknown containers"
    return ImageInUse(
        f"{op.subject} is in use by {plural(len(users), 'container')}: {names}. "
        "An image cannot be removed while containers, running or stopped, use it.",
        "Delete those containers first (stop them if they run), then remove the image.",
        users,
    )


_STORES = ("volume", "remove-volume", "network", "remove-network")
"""Targets of volumes and networks (:mod:`.volumes`, :mod:`.networks`)."""


def _store_refused(text: str, status: int | None, op: Op) -> DockdojoError:
    """A volume or network call refused: missing, in use, or the engine's own reason."""
    kind = "volume" if op.target.endswith("volume") else "network"
    lowered = text.lower()
    if status == 404 and "no such container" in lowered:
        return ContainerNotFound(
            f"The Docker Engine has no such container ({text.strip()}), so {op.doing} "
            "did not happen.",
            "List the containers to see which exist (docker ps -a).",
        )
    if status == 404 or ("not found" in lowered and "container" not in lowered):
        missing = VolumeNotFound if kind == "volume" else NetworkNotFound
        return missing(
            f"There is no {kind} {op.subject!r} on this engine.",
            f"List the {kind}s to see which exist (docker {kind} ls); it may have been "
            "removed already.",
        )
    if op.target.startswith("remove-") and (
        status == 409 or "in use" in lowered or "active endpoints" in lowered
    ):
        return _store_in_use(kind, op)
    if status == 409 and "already exists" in lowered:
        return NameInUse(
            f"A {kind} named {op.subject!r} already exists.",
            f"Use it as it is, or choose another name (or remove it: docker {kind} rm "
            f"{op.subject}).",
        )
    return _refused_as_is(text, op)


def _store_in_use(kind: str, op: Op) -> DockdojoError:
    users = list(op.users())
    names = ", ".join(f"{u.name} ({u.status})" for u in users) or "unknown containers"
    if kind == "volume":
        return VolumeInUse(
            f"The volume {op.subject} is in use by {plural(len(users), 'container')}: "
            f"{names}. A volume cannot be removed while a container, running or stopped, "
            "mounts it.",
            f"Remove those containers first (docker rm -f {' '.join(u.name for u in users)}"
            "), then remove the volume; its data goes with it.",
            users,
        )
    return NetworkInUse(
        f"The network {op.subject} still has {plural(len(users), 'container')} attached: {names}.",
        f"Disconnect them (docker network disconnect {op.subject} NAME) or remove them, "
        "then remove the network.",
        users,
    )


def _run_refused(text: str, status: int | None, op: Op) -> DockdojoError:
    lowered = text.lower()
    if "port is already allocated" in lowered or "address already in use" in lowered:
        match = re.search(r":(\d+)(?: failed|: bind)", text)
        port = match.group(1) if match else "the requested port"
        return PortInUse(
            f"Host port {port} is already in use, so the {op.subject} container did not "
            "start (it was removed again).",
            "Choose another host port, or use 0 (or leave it empty) for a random free port.",
        )
    if status == 409 and "name" in lowered:
        return NameInUse(
            f"The name {op.name!r} is already used by another container.",
            "Choose another name, or remove the old container first.",
        )
    if "mount source path" in lowered and "permission denied" in lowered:
        found = re.search(r"mount source path '([^']+)'", text)
        folder = found.group(1) if found else "the folder"
        return DockdojoError(
            f"The folder {folder} cannot be shared with the container: the engine runs as "
            "you, and you may not open it (permission denied).",
            "Share a folder of your own, such as one beside the notebook (./public_html); "
            "another user's private folder stays theirs.",
        )
    if "invalid container name" in lowered:
        return DockdojoError(
            f"{op.name!r} is not a valid container name.",
            "Use letters, digits, '_', '.' and '-', starting with a letter or digit.",
        )
    return _refused_as_is(text, op)


def _pull_failed(message: str, op: Op) -> DockdojoError:
    lowered = message.lower()
    detail = message.strip()
    if any(word in lowered for word in _NOT_FOUND_WORDS):
        return ImageNotFound(
            f"Could not pull {op.subject}: {op.registry} has no such image ({detail}).",
            "Check the name and tag (the official nginx image is simply 'nginx').",
        )
    if any(word in lowered for word in _NETWORK_WORDS):
        mirrors = op.mirrors()
        if mirrors:
            return ImageNotFound(
                f"Could not pull {op.subject}: the registry mirror ({', '.join(mirrors)}) "
                f"does not have it, and {op.registry} cannot be reached ({detail}).",
                "Check the name and tag. Offline, only images the mirror holds can be "
                "pulled: ask whoever runs it to add this one.",
            )
        return PullFailed(
            f"Could not reach {op.registry} to pull {op.subject} ({detail}).",
            "Check the network connection (and any proxy settings of Docker), then pull again.",
        )
    return PullFailed(
        f"Pulling {op.subject} failed: {detail}",
        "Pull again; layers already downloaded are kept. If it keeps failing, check the "
        "disk space and the engine's log.",
    )


__all__ = ["START_DOCKER", "Op", "removal_in_progress", "translate", "unavailable"]
