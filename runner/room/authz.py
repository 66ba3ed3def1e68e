"""The containers limit: a Docker authorization plugin that refuses a learner's next
container, with a message, once their engine has as many as the room allows.

dockerd has no setting for a number of containers, but it asks its authorization
plugins before every API request. Each learner engine is started with
``--authorization-plugin dockdojo-limits-LEARNER``; its spec file (root's, in the
engine's folder, and seen as ``/etc/docker/plugins`` by that engine alone: see
:mod:`.engines`) points at this server's socket, ``/run/dockdojo/limits/LEARNER.sock``
(the learner's, mode 600). The server runs as
root, outside the learner's cgroup; it allows every request but ``POST
/containers/create`` when the engine's data root already holds ``limit`` containers
(running or stopped). The learner then sees::

    docker: Error response from daemon: authorization denied by plugin
    dockdojo-limits-ada: This room allows 30 containers per learner ...

Run as ``python -m dockdojo.runner.room.authz SOCKET UID CONTAINERS_DIR LIMIT``. If the
server is not running, the engine refuses every request (Docker fails closed);
``dockdojo room engine start`` starts it again.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

SOCKETS = Path("/run/dockdojo/limits")
"""Root's folder of the plugins' sockets."""
_CREATE = re.compile(r"(/v[0-9.]+)?/containers/create(\?|\Z)")
_MAX_BODY = 1 << 20
_PENDING_FOR = 120.0
"""Seconds an allowed create counts before its container shows up (or its answer comes)."""


def plugin_name(learner: str) -> str:
    """The authorization plugin of ``learner``'s engine."""
    return f"dockdojo-limits-{learner}"


def socket_path(learner: str) -> Path:
    return SOCKETS / f"{learner}.sock"


def refusal(limit: int, count: int) -> str:
    """What a learner reads when their engine is full."""
    return (
        f"This room allows {limit} containers per learner, and your engine has {count} "
        "(running or stopped). Remove one you no longer need (docker rm NAME, or docker "
        "container prune to remove every stopped one), then try again."
    )


class Gate:
    """Counts an engine's containers and decides on each create."""

    def __init__(self, containers: Path, limit: int) -> None:
        self.containers = containers
        self.limit = limit
        self._pending: list[float] = []
        self._lock = threading.Lock()

    def count(self) -> int:
        """Containers in the data root (a folder each, from create until removal)."""
        try:
            return sum(1 for entry in os.scandir(self.containers) if entry.is_dir())
        except OSError:
            return 0

    def request(self, method: str, uri: str) -> tuple[bool, str]:
        """(allowed, message) for one API request."""
        if method != "POST" or not _CREATE.match(uri):
            return True, ""
        with self._lock:
            now = time.monotonic()
            self._pending = [t for t in self._pending if now - t < _PENDING_FOR]
            count = self.count()
            if count + len(self._pending) >= self.limit:
                return False, refusal(self.limit, count)
            self._pending.append(now)
            return True, ""

    def response(self, method: str, uri: str) -> None:
        """A create's answer came: its container (if any) is in the data root now."""
        if method == "POST" and _CREATE.match(uri):
            with self._lock:
                if self._pending:
                    self._pending.pop(0)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        try:
            body: Any = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        method = str(body.get("RequestMethod") or "")
        uri = str(body.get("RequestUri") or "")
        gate = self.server.gate
        answer: dict[str, Any]
        if self.path == "/Plugin.Activate":
            answer = {"Implements": ["authz"]}
        elif self.path == "/AuthZPlugin.AuthZReq":
            allowed, message = gate.request(method, uri)
            answer = {"Allow": allowed, "Msg": message}
            if not allowed:
                print(f"refused {method} {uri}: {message}", file=sys.stderr, flush=True)
        elif self.path == "/AuthZPlugin.AuthZRes":
            gate.response(method, uri)
            answer = {"Allow": True}
        else:
            answer = {"Err": f"unknown call {self.path}"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would flood the log


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, gate: Gate) -> None:
        self.gate = gate
        super().__init__(str(path), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        conn, _ = self.socket.accept()
        return conn, ("dockerd", 0)  # http.server wants a (host, port) client address


def serve(path: Path, owner: int, containers: Path, limit: int) -> None:
    """Listen on ``path`` (then owned by ``owner``, mode 600) until killed."""
    path.unlink(missing_ok=True)
    server = _Server(path, Gate(containers, limit))
    os.chown(path, owner, -1)
    path.chmod(0o600)
    print(f"containers limit {limit} for {containers} on {path}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
