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

Run as ``python -I .../authz.py SOCKET UID CONTAINERS_DIR LIMIT`` (the file itself: it
needs nothing but the standard library, and about 12 MB of memory). If the
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


class _Handler(socketserver.StreamRequestHandler):
    """One plugin call per connection, in plain HTTP/1.0 (``http.server`` would double
    the process's memory for nothing this needs)."""

    server: _Server

    def handle(self) -> None:
        try:
            path, body = self._read()
        except (OSError, ValueError):
            return
        answer = self.server.answer(path, body)
        data = json.dumps(answer).encode()
        self.wfile.write(
            b"HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1+json\r\n"
            + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )

    def _read(self) -> tuple[str, dict[str, Any]]:
        """The request's path and JSON body (``{}`` when it has none or a bad one)."""
        parts = self.rfile.readline(8192).split()
        if len(parts) < 2:
            raise ValueError("not an HTTP request")
        headers: dict[str, str] = {}
        while (line := self.rfile.readline(8192).strip()) and len(headers) < 100:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            raw = b""
            while (size := int(self.rfile.readline(100).strip() or b"0", 16)) > 0:
                raw += self.rfile.read(min(size, _MAX_BODY - len(raw)) + 2)[:-2]
        else:
            raw = self.rfile.read(min(int(headers.get("content-length") or 0), _MAX_BODY))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        return parts[1].decode("latin-1"), body if isinstance(body, dict) else {}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, gate: Gate) -> None:
        self.gate = gate
        super().__init__(str(path), _Handler)

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The plugin's answer to one call of dockerd's."""
        method = str(body.get("RequestMethod") or "")
        uri = str(body.get("RequestUri") or "")
        if path == "/Plugin.Activate":
            return {"Implements": ["authz"]}
        if path == "/AuthZPlugin.AuthZReq":
            allowed, message = self.gate.request(method, uri)
            if not allowed:
                print(f"refused {method} {uri}: {message}", file=sys.stderr, flush=True)
            return {"Allow": allowed, "Msg": message}
        if path == "/AuthZPlugin.AuthZRes":
            self.gate.response(method, uri)
            return {"Allow": True}
        return {"Err": f"unknown call {path}"}


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
