"""Every check kind: one function and one entry of :data:`CHECKS` each.

A check reads the engine (images, containers, published ports, HTTP on a port link,
``redis-cli`` or ``mongosh`` run inside a container) and says what it saw (:class:`Seen`).
Checks never raise because of the engine's state: an engine that is down, a container
deleted meanwhile, a refused connection or a failing ``mongosh`` all become a failed
check with a sentence saying so (:mod:`..checking` turns exceptions into results).

Work is accepted however it was done (widgets, docker CLI, Docker Desktop): containers
are found by image and/or name, never by dockdojo labels alone (see
:func:`~dockdojo.runner.engine.prefer_lesson`).

The functions live by what they read: :mod:`.images`, :mod:`.containers`, :mod:`.ports`
(published ports and HTTP on a port link), :mod:`.commands` (commands run inside a
container), :mod:`.built` (images built here, Compose projects), :mod:`.stores`
(volumes and networks) and :mod:`.lesson` (other steps); :mod:`.targets` finds the
containers a check is about, and :mod:`.trust` says which of them, and which commands'
output, a check may believe (an image by the manifest it was pulled as, never by its
name alone). To add a check kind, write its function in one of them and add its entry
to :data:`CHECKS` here.
"""

from __future__ import annotations

from ...authoring.declarations import Param
from ..base import CheckKind, table
from .built import _compose_removed, _compose_running, _image_built
from .commands import _command_output, _mongo_document, mongo_script, parse_mongo_output
from .containers import (
    _container_absent,
    _container_exited,
    _container_removed,
    _container_running,
    _container_stopped,
    _logs_contain,
)
from .files import _bind_file, _file_beside
from .images import _image_absent, _image_present, _image_removed, _no_container_uses
from .lesson import _step_done
from .ports import EPHEMERAL_PORT_MIN, _http_ok, _port_published, port_link_host
from .settings import (
    _container_command,
    _container_env,
    _container_limits,
    _mounted,
    _port_bound,
)
from .stores import (
    _containers_reach,
    _network_exists,
    _on_network,
    _volume_absent,
    _volume_exists,
    _volume_holds,
)

# the table ----------------------------------------------------------------------------
_TARGET = (
    Param("image", "str", doc="a container created from this image"),
    Param("name", "str", doc="the container with this name"),
)
_PORT = Param("port", "port", doc="container port, default 80")

CHECKS: dict[str, CheckKind] = table(
    [
        CheckKind(
            "image_present",
            "The image is on the engine.",
            _image_present,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "image_absent",
            "The image is not on the engine.",
            _image_absent,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "image_removed",
            "The image was removed: it is gone now, and the engine saw it "
            "arrive earlier (so never pulling it does not count).",
            _image_removed,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "container_running",
            "A container (from the image, or with the name) is running.",
            _container_running,
            _TARGET,
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "port_published",
            "A running container publishes the port on the host.",
            _port_published,
            (
                *_TARGET,
                _PORT,
                Param("random", "bool", doc="the host port must be a random (ephemeral) one"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "http_ok",
            "The container's port link answers HTTP.",
            _http_ok,
            (
                *_TARGET,
                _PORT,
                Param("status", "int", doc="expected status, default 200"),
                Param("contains", "str", doc="text the page must contain"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "command_output",
            "A command run inside the container prints what is expected.",
            _command_output,
            (
                *_TARGET,
                Param("command", "argv", True, "e.g. [redis-cli, GET, test]"),
                Param("expect", "str", doc="the whole output, trimmed"),
                Param("contains", "str", doc="text the output must contain"),
            ),
            one_of=(("image", "name"), ("expect", "contains")),
        ),
        CheckKind(
            "mongo_document",
            "A document matching the filter exists (checked with mongosh).",
            _mongo_document,
            (
                *_TARGET,
                Param("collection", "str", True),
                Param("filter", "map", True),
                Param("db", "str", doc="database, default test"),
            ),
            one_of=(("image", "name"),),
            costly=True,
        ),
        CheckKind(
            "no_container_uses",
            "No container, running or stopped, uses the image.",
            _no_container_uses,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "container_stopped",
            "No matching container is running (stopped or removed).",
            _container_stopped,
            _TARGET,
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "port_bound",
            "A running container publishes the port on the given host address (and host "
            "port, when given), as docker run -p ADDRESS:PORT:PORT does.",
            _port_bound,
            (
                *_TARGET,
                _PORT,
                Param(
                    "address",
                    "str",
                    True,
                    "host address, e.g. 0.0.0.0; loopback: any loopback address (127.0.0.1, "
                    "or the learner's own in a room)",
                ),
                Param("host_port", "int", doc="the host port, when the number matters"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "container_env",
            "A container has the environment variable (with the value, when given).",
            _container_env,
            (
                *_TARGET,
                Param("key", "str", True, "variable name, e.g. POSTGRES_PASSWORD"),
                Param("value", "str", doc="its value, when it matters"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "container_limits",
            "A container was given these memory and/or CPU limits (--memory, --cpus).",
            _container_limits,
            (
                *_TARGET,
                Param("memory", "str", doc="memory limit, e.g. 512m"),
                Param("cpus", "number", doc="CPU limit, e.g. 0.5"),
            ),
            one_of=(("image", "name"), ("memory", "cpus")),
        ),
        CheckKind(
            "container_command",
            "A container's command (entrypoint and arguments) contains these words in "
            "order, however they were given.",
            _container_command,
            (*_TARGET, Param("command", "argv", True, "words, e.g. [postgres, -p, '5432']")),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "mounted",
            "A container has a volume (or, with bind, a folder of the host) mounted at "
            "the path, read-only or not when that is given.",
            _mounted,
            (
                *_TARGET,
                Param("path", "str", True, "the path in the container"),
                Param("volume", "str", doc="the volume's name"),
                Param("bind", "bool", doc="a bind mount of a host folder"),
                Param("read_only", "bool", doc="whether it must be read-only (or not)"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "file_beside",
            "A file beside the notebook (in its folder) exists, with the text when given; "
            "where the check runs away from the notebook (the grader, the instructor's "
            "view) it says it cannot be told and passes.",
            _file_beside,
            (
                Param("path", "str", True, "relative to the notebook, e.g. public_html/index.html"),
                Param("contains", "str", doc="text the file must contain"),
            ),
        ),
        CheckKind(
            "bind_file",
            "A file the container sees through a bind mount of a host folder (read through "
            "the engine, as the Files tab does) is the file beside the notebook, when the "
            "check runs there; with port, the container's server serves that same file.",
            _bind_file,
            (
                *_TARGET,
                Param("path", "str", True, "the file in the container"),
                Param("contains", "str", doc="text the file must contain"),
                Param("lacks", "str", doc="text the file must no longer contain"),
                Param("port", "port", doc="container port whose page must be the file"),
                Param("url", "str", doc="the page's path on that port, default /"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "container_exited",
            "A matching container exists and is stopped (not running, not removed).",
            _container_exited,
            _TARGET,
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "container_absent",
            "No container with the name exists.",
            _container_absent,
            (Param("name", "str", True),),
        ),
        CheckKind(
            "container_removed",
            "A container with the name existed and was removed (the "
            "engine saw it go; never creating it does not count).",
            _container_removed,
            (
                Param("name", "str", True),
                Param(
                    "times",
                    "int",
                    doc="how many containers of that name the engine must have seen go, "
                    "default 1 (2: the one made after the first was removed)",
                ),
            ),
        ),
        CheckKind(
            "logs_contain",
            "A container's log (stdout and stderr) has a line containing the text.",
            _logs_contain,
            (
                *_TARGET,
                Param("contains", "str", True, "text a log line must contain"),
                Param("tail", "int", doc="how many of the last lines to read, default 200"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "image_built",
            "The image was built on this engine (not pulled, renamed or loaded as it is): "
            "on the genuine base image, with the Dockerfile's commands in its history.",
            _image_built,
            (
                Param("image", "str", True, "the built image's name, e.g. web"),
                Param("base", "str", doc="the image its Dockerfile builds FROM, e.g. node:21"),
                Param("runs", "strings", doc="commands its history must show, e.g. [npm ci]"),
            ),
        ),
        CheckKind(
            "compose_running",
            "A Compose project runs the services (read from the labels every Compose "
            "puts on its containers, whichever Compose started them).",
            _compose_running,
            (
                Param("services", "strings", True, "e.g. [redis, web1, web2, nginx]"),
                Param("project", "str", doc="the project's name (default: any project)"),
            ),
        ),
        CheckKind(
            "compose_removed",
            "No container of the Compose project remains, and the engine saw them removed "
            "(so a project never started does not count).",
            _compose_removed,
            (Param("project", "str", True, "the project's name, e.g. nginx-node-redis"),),
        ),
        CheckKind(
            "volume_exists",
            "The volume exists.",
            _volume_exists,
            (Param("volume", "str", True, "the volume's name"),),
        ),
        CheckKind(
            "volume_absent",
            "No volume with the name exists (it was removed, or never made).",
            _volume_absent,
            (Param("volume", "str", True, "the volume's name"),),
        ),
        CheckKind(
            "volume_holds",
            "The volume holds data: a path inside it exists, or a command run in a "
            "running container that mounts it prints what is expected.",
            _volume_holds,
            (
                Param("volume", "str", True, "the volume's name"),
                Param("path", "str", doc="a file or folder inside the volume, e.g. /PG_VERSION"),
                Param("command", "argv", doc="e.g. [psql, -U, postgres, -c, SELECT 1]"),
                Param("expect", "str", doc="the command's whole output, trimmed"),
                Param("contains", "str", doc="text the command's output must contain"),
            ),
            one_of=(("path", "command"),),
            costly=True,
        ),
        CheckKind(
            "network_exists",
            "The network exists.",
            _network_exists,
            (Param("network", "str", True, "the network's name"),),
        ),
        CheckKind(
            "on_network",
            "A container is attached to the network (under the alias, when given).",
            _on_network,
            (
                Param("network", "str", True, "the network's name"),
                Param("name", "str", True, "the container's name"),
                Param("alias", "str", doc="a name it must answer to there (--network-alias)"),
            ),
        ),
        CheckKind(
            "containers_reach",
            "From inside one running container, another is reachable by its name or "
            "alias (it resolves; with a port, a TCP connection opens); probed with busybox.",
            _containers_reach,
            (
                Param("name", "str", True, "the container the probe starts from"),
                Param("target", "str", True, "the name or alias to reach, e.g. redis"),
                Param("port", "port", doc="a TCP port that must accept a connection"),
            ),
            costly=True,
        ),
        CheckKind(
            "step_done",
            "Every other check of the named step passes.",
            _step_done,
            (Param("step", "str", True, "id of a step in this lesson"),),
        ),
    ]
)
"""Every check kind, in the order lesson authors see them listed."""


__all__ = ["CHECKS", "EPHEMERAL_PORT_MIN", "mongo_script", "parse_mongo_output", "port_link_host"]
