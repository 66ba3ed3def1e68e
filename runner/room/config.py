"""A room's settings, with defaults that suit a workshop server.

Read from a TOML file (``--config room.toml``; default ``/etc/dockdojo/room.toml`` when it
exists), every key optional::

    state = "/var/lib/dockdojo/room"   # engines' data roots, the mirror's storage
    mirror_port = 5100                 # the mirror on the host's 127.0.0.1

    [limits]                           # each learner's engine
    containers = 60                    # containers at once, running or not
    memory_mb = 2048                   # memory of the engine and its containers
    pids = 4096                        # processes and threads of the engine and its containers

    [hub]                              # the room on JupyterHub (dockdojo room hub-config)
    port = 8000                        # the hub on 127.0.0.1
    api_port = 8081                    # the hub's own API on 127.0.0.1 (one per room)
    proxy_api_port = 8001              # the proxy's API on 127.0.0.1 (one per room)
    learners = ["ada", "bob"]          # who may log in (empty: whoever the authenticator lets in)
    instructors = ["teacher"]          # JupyterHub admins
    instructor_group = "instructors"   # members of this hub group are instructors too
    idle_minutes = 60                  # a server idle this long is stopped, with its engine

    [instructor]                       # the instructor's view, a service of the hub
    port = 8010                        # the service on 127.0.0.1
    database = ""                      # SQLAlchemy URL; empty: a SQLite file in STATE/instructor
    stuck_minutes = 10                 # a learner this long on one step is shown as stuck
    recheck_seconds = 30               # how often every active learner is checked anew
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DockdojoError, RoomError
from ..privileged.users import UserName

GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A hub group's name as a room may give it."""
DEFAULT_CONFIG = Path("/etc/dockdojo/room.toml")
ROOM_CONFIG = "DOCKDOJO_ROOM_CONFIG"
"""Environment variable naming the room's settings file when no ``--config`` is given
(the hub's hooks, a second room on one server, scripts)."""
DEFAULT_STATE = Path("/var/lib/dockdojo/room")


@dataclass(frozen=True)
class Limits:
    """What one learner's engine may use."""

    containers: int = 60
    """Containers at once, running or stopped; one more is refused with a message. The
    whole course, nothing deleted between lessons, leaves 36."""
    memory_mb: int = 2048
    """Memory of the engine and everything it runs, in MB."""
    pids: int = 4096
    """Processes of the engine and everything it runs; the kernel counts each thread. An
    idle engine has about 35; each container adds its shim (about 12) and its own, and
    each published port about 14 more (measured on 2 cores; Go programs start more
    threads on more cores), so 30 containers with ports need about 1500 and 60 about
    3000: the container limit is met first, with its sentence."""


@dataclass(frozen=True)
class HubSettings:
    """The room on JupyterHub."""

    port: int = 8000
    """The hub's port on 127.0.0.1."""
    api_port: int = 8081
    """The hub's own API on 127.0.0.1, which servers and services reach (JupyterHub's
    ``hub_bind_url``): a second room on the server needs another."""
    proxy_api_port: int = 8001
    """configurable-http-proxy's API on 127.0.0.1 (``ConfigurableHTTPProxy.api_url``)."""
    learners: tuple[str, ...] = ()
    """Who may log in; empty: whoever the authenticator lets in."""
    instructors: tuple[str, ...] = ()
    """JupyterHub admins."""
    instructor_group: str = ""
    """A JupyterHub group whose members are instructors too (they see the instructor's
    view, and land on it); empty: none. The hub creates it; its admins fill it."""
    idle_minutes: int = 60
    """A learner's server idle this long is stopped (and its engine with it); 0: never."""


@dataclass(frozen=True)
class InstructorSettings:
    """The ``[instructor]`` table: the instructor's view (:mod:`dockdojo.runner.hub.instructor`)."""

    port: int = 8010
    """The service's port on 127.0.0.1 (the hub's proxy forwards to it)."""
    database: str = ""
    """SQLAlchemy URL of the progress store (``postgresql+psycopg://...``); empty: a
    SQLite file, ``STATE/instructor/progress.sqlite``."""
    stuck_minutes: int = 10
    """A learner on one step this long is shown as stuck."""
    recheck_seconds: int = 30
    """Every learner whose server runs is checked anew this often (and at once when their
    Check asks)."""


@dataclass(frozen=True)
class RoomConfig:
    """Where a room keeps its state and what each learner's engine may use."""

    state: Path = DEFAULT_STATE
    """Root-owned folder: the mirror's storage and each learner's engine state."""
    mirror_port: int = 5100
    """Port of the room's registry mirror on 127.0.0.1 (learner engines reach it as
    10.0.2.2, slirp4netns's name for the host's loopback)."""
    limits: Limits = field(default_factory=Limits)
    """Each learner engine's limits."""
    hub: HubSettings = field(default_factory=HubSettings)
    """The ``[hub]`` table: the room on JupyterHub."""
    instructor: InstructorSettings = field(default_factory=InstructorSettings)
    """The ``[instructor]`` table."""

    @property
    def mirror_url(self) -> str:
        """The mirror as a learner's engine reaches it."""
        return f"http://10.0.2.2:{self.mirror_port}"


def config_file(given: Path | None = None) -> Path | None:
    """The settings file a room's command reads: ``given`` (``--config``), else the one
    ``$DOCKDOJO_ROOM_CONFIG`` names, else the default file when it exists; None: none
    (the defaults)."""
    if given is not None:
        return given
    if os.environ.get(ROOM_CONFIG):
        return Path(os.environ[ROOM_CONFIG])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_config(path: Path | None = None) -> RoomConfig:
    """The room's settings from ``path``, else the file ``$DOCKDOJO_ROOM_CONFIG`` names,
    else the default file when it exists, else the defaults. Raises
    :class:`DockdojoError` naming the file and the wrong key."""
    path = config_file(path)
    if path is None:
        return RoomConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DockdojoError(
            f"The room's settings {path} cannot be read ({exc.strerror}).",
            "Check the path given with --config.",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DockdojoError(
            f"{path} is not valid TOML: {exc}.", "Fix the file; every key is optional."
        ) from exc
    known = {"state", "mirror_port", "limits", "hub", "instructor"}
    unknown = sorted(set(data) - known)
    raw_limits = data.get("limits", {})
    if unknown or not isinstance(raw_limits, dict):
        raise DockdojoError(
            f"{path} has keys dockdojo does not know: {', '.join(unknown)}."
            if unknown
            else f"{path}: [limits] must be a table.",
            f"Known keys: {', '.join(sorted(known))} (limits: containers, memory_mb, pids).",
        )
    limits = Limits()
    for key, value in raw_limits.items():
        if (
            key not in ("containers", "memory_mb", "pids")
            or not isinstance(value, int)
            or isinstance(value, bool)
            or value <= 0
        ):
            raise DockdojoError(
                f"{path}: limits.{key} = {value!r} is not a known limit with "
                "a positive whole number.",
                "Known limits: containers, memory_mb, pids.",
            )
        limits = Limits(**{**limits.__dict__, key: value})
    port = data.get("mirror_port", 5100)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise DockdojoError(
            f"{path}: mirror_port = {port!r} is not a port.", "Give a port between 1 and 65535."
        )
    return RoomConfig(
        state=Path(str(data.get("state", DEFAULT_STATE))),
        mirror_port=port,
        limits=limits,
        hub=_hub(path, data.get("hub", {})),
        instructor=_instructor(path, data.get("instructor", {})),
    )


def _hub_numbers(
    path: Path, raw: dict[str, Any], settings: HubSettings, ports: tuple[str, ...]
) -> dict[str, int]:
    """The ``[hub]`` table's numbers, each checked; the ports must differ."""
    chosen: dict[str, int] = {}
    for key in (*ports, "idle_minutes"):
        value = raw.get(key, getattr(settings, key))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DockdojoError(
                f"{path}: hub.{key} = {value!r} is not a whole number of 0 or more.",
                "Give a number, e.g. port = 8000, idle_minutes = 60.",
            )
        chosen[key] = value
    for key in ports:
        others = [k for k in ports if k != key and chosen[k] == chosen[key]]
        if others:
            raise DockdojoError(
                f"{path}: hub.{key} and hub.{others[0]} are both {chosen[key]}; each needs "
                "a port of its own.",
                "Give each a different port (defaults: port 8000, api_port 8081, "
                "proxy_api_port 8001).",
            )
    return chosen


def _hub(path: Path, raw: object) -> HubSettings:
    """The ``[hub]`` table, checked key by key."""
    if not isinstance(raw, dict):
        raise DockdojoError(f"{path}: [hub] must be a table.", "Write it as [hub] with keys.")
    ports = ("port", "api_port", "proxy_api_port")
    known = {*ports, "learners", "instructors", "instructor_group", "idle_minutes"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DockdojoError(
            f"{path} has [hub] keys dockdojo does not know: {', '.join(unknown)}.",
            f"Known keys: {', '.join(sorted(known))}.",
        )
    settings = HubSettings()
    chosen = _hub_numbers(path, raw, settings, ports)
    names: dict[str, tuple[str, ...]] = {}
    for key in ("learners", "instructors"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DockdojoError(
                f"{path}: hub.{key} must be a list of user names.",
                'Write it as learners = ["ada", "bob"].',
            )
        names[key] = tuple(value)
    for name in names["learners"]:
        try:
            UserName.parse(name)
        except RoomError as exc:
            raise RoomError(f"{path}: hub.learners: {exc.what}", exc.hint) from None
    group = raw.get("instructor_group", "")
    if not isinstance(group, str) or not GROUP_NAME.fullmatch(group or "x"):
        raise DockdojoError(
            f"{path}: hub.instructor_group = {group!r} is not a group name.",
            'Give letters, digits, ".", "_" or "-", e.g. instructor_group = "instructors".',
        )
    return HubSettings(
        port=chosen["port"],
        api_port=chosen["api_port"],
        proxy_api_port=chosen["proxy_api_port"],
        learners=names["learners"],
        instructors=names["instructors"],
        instructor_group=group,
        idle_minutes=chosen["idle_minutes"],
    )


def _instructor(path: Path, raw: object) -> InstructorSettings:
    """The ``[instructor]`` table, checked key by key."""
    if not isinstance(raw, dict):
        raise DockdojoError(
            f"{path}: [instructor] must be a table.", "Write it as [instructor] with keys."
        )
    settings = InstructorSettings()
    known = set(settings.__dict__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DockdojoError(
            f"{path} has [instructor] keys dockdojo does not know: {', '.join(unknown)}.",
            f"Known keys: {', '.join(sorted(known))}.",
        )
    for key in ("port", "stuck_minutes", "recheck_seconds"):
        value = raw.get(key, getattr(settings, key))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DockdojoError(
                f"{path}: instructor.{key} = {value!r} is not a whole number of 1 or more.",
                "Give a number, e.g. port = 8010, stuck_minutes = 10.",
            )
    database = raw.get("database", "")
    if not isinstance(database, str):
        raise DockdojoError(
            f"{path}: instructor.database must be a text (an SQLAlchemy URL).",
            'Write it as database = "postgresql+psycopg://user@host/db", or leave it out.',
        )
    return InstructorSettings(
        port=int(raw.get("port", settings.port)),
        database=database,
        stuck_minutes=int(raw.get("stuck_minutes", settings.stuck_minutes)),
        recheck_seconds=int(raw.get("recheck_seconds", settings.recheck_seconds)),
    )


__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_STATE",
    "ROOM_CONFIG",
    "HubSettings",
    "InstructorSettings",
    "Limits",
    "RoomConfig",
    "config_file",
    "load_config",
]
