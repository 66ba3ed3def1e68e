"""The containers limit: a Docker authorization plugin that refuses a learner's next
container, with a message, once their engine has as many as the room allows.

dockerd has no setting for a number of containers, but it asks its authorization
plugins before every API request. Each learner engine is started with
``--authorization-plugin dockdojo-limits-LEARNER``; its spec file (root's, in the
engine's folder, and seen as ``/etc/docker/plugins`` by that engine alone: see
:mod:`dockdojo.runner.room.engines`) points at this server's socket,
``/run/dockdojo/limits/LEARNER.sock`` (the learner's, mode 600). The server runs as
root, outside the learner's cgroup; it allows every request but ``POST
/containers/create`` when the engine's data root already holds ``limit`` containers
(running or stopped). The learner then sees::

    docker: Error response from daemon: authorization denied by plugin
    dockdojo-limits-ada: This room allows 60 containers per learner ...

It also keeps the learner's published ports theirs: the engine publishes on the learner's
own address (``ip`` in its settings; :mod:`.firewall` lets only them reach it), and a
create that names another address for a port (``-p 127.0.0.1:8080:80``, ``-p
0.0.0.0:80:80``) is refused with a sentence saying which address to use. A create whose
settings dockerd did not pass on (a body over 1 MiB) is refused too, as it could not be
read.

Run as ``python -I .../authz.py SOCKET UID CONTAINERS_DIR LIMIT [ADDRESS]`` (the file itself: it
needs nothing but the standard library, and about 12 MB of memory). If the
server is not running, the engine refuses every request (Docker fails closed);
``dockdojo room engine start`` starts it again.

The learner can connect to the socket too, so every call is bounded: at most
:data:`MAX_CONNECTIONS` at once, :data:`READ_TIMEOUT` seconds to send the whole call,
:data:`MAX_LINE` bytes a line, :data:`MAX_HEADERS` headers and :data:`MAX_BODY` bytes of
body; what breaks a bound or is no HTTP is answered with an error or closed, and an
authorization request the server cannot read is refused.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path
from typing import Any

SOCKETS = Path("/run/dockdojo/limits")
"""Root's folder of the plugins' sockets."""
_CREATE = re.compile(r"(/v[0-9.]+)?/containers/create(\?|\Z)")
MAX_BODY = 4 << 20
"""Bytes of a call's body (dockerd passes a request's own body only below 1 MiB, in
base64 inside the call's JSON)."""
MAX_LINE = 8192
"""Bytes of the request line and of each header line."""
MAX_HEADERS = 100
"""Header lines of a call."""
READ_TIMEOUT = 10.0
"""Seconds a connection has to send its whole call."""
MAX_CONNECTIONS = 32
"""Calls served at once (a thread each)."""
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


def port_refusal(address: str, named: str) -> str:
    """What a learner reads when a create names an address that is not theirs."""
    return (
        f"In this room your published ports listen on your own address {address}, which "
        f"only you can reach; {named or 'that address'} would share the port with every "
        "user of the server. Publish without an address (-p 0:6379 or -p 6379) or on "
        f"yours (-p {address}:0:6379)."
    )


def unreadable() -> str:
    return (
        "dockdojo could not read this container's settings (the engine passes them on "
        "only below 1 MiB), so it cannot tell which ports it publishes. Make its settings "
        "smaller (fewer or shorter labels, environment variables or commands)."
    )


def foreign_address(create: dict[str, Any], address: str) -> str | None:
    """The first host address a create's port bindings name that is not ``address`` or
    empty (the engine's ``ip``), or None when every binding is the learner's own."""
    host = create.get("HostConfig")
    bindings = host.get("PortBindings") if isinstance(host, dict) else None
    if not isinstance(bindings, dict):
        return None
    for spec in bindings.values():
        for binding in spec if isinstance(spec, list) else [spec]:
            named = binding.get("HostIp", "") if isinstance(binding, dict) else None
            if not isinstance(named, str):
                return repr(named)[:60]
            if named not in ("", address):
                return named[:60]
    return None


def _create_body(body: dict[str, Any]) -> dict[str, Any] | None:
    """The create request's own JSON (``RequestBody``, base64), None when absent or bad."""
    raw = body.get("RequestBody")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        create = json.loads(base64.b64decode(raw, validate=True))
    except (ValueError, RecursionError):
        return None
    return create if isinstance(create, dict) else None


class Gate:
    """Counts an engine's containers and decides on each create."""

    def __init__(self, containers: Path, limit: int, address: str | None = None) -> None:
        self.containers = containers
        self.limit = limit
        self.address = address
        """The learner's own address for published ports; None: any address."""
        self._pending: list[float] = []
        self._lock = threading.Lock()

    def count(self) -> int:
        """Containers in the data root (a folder each, from create until removal)."""
        try:
            return sum(1 for entry in os.scandir(self.containers) if entry.is_dir())
        except OSError:
            return 0

    def request(
        self, method: str, uri: str, body: dict[str, Any] | None = None
    ) -> tuple[bool, str]:
        """(allowed, message) for one API request (``body``: dockerd's call)."""
        if method != "POST" or not _CREATE.match(uri):
            return True, ""
        if self.address is not None:
            create = _create_body(body or {})
            if create is None:
                return False, unreadable()
            named = foreign_address(create, self.address)
            if named is not None:
                return False, port_refusal(self.address, named)
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


class _TooLarge(ValueError):
    """A request over :data:`MAX_LINE`, :data:`MAX_HEADERS` or :data:`MAX_BODY`."""


class _Reader:
    """Reads one request from a socket, all of it within one deadline: a client that
    sends a byte at a time cannot hold a connection (and a thread) longer than that."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.sock = sock
        self.deadline = time.monotonic() + seconds
        self.buffer = b""

    def _more(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise ValueError("the client closed the connection")
        self.buffer += data

    def line(self) -> bytes:
        """One line without its end; :class:`_TooLarge` past :data:`MAX_LINE`."""
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > MAX_LINE:
                raise _TooLarge("a line is too long")
            self._more()
        if end > MAX_LINE:
            raise _TooLarge("a line is too long")
        line, self.buffer = self.buffer[:end], self.buffer[end + 1 :]
        return line.rstrip(b"\r")

    def exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _size(text: bytes, base: int) -> int:
    """A length field: digits only (no sign, no spaces inside), at most :data:`MAX_BODY`."""
    digits = text.strip()
    allowed = b"0123456789abcdefABCDEF" if base == 16 else b"0123456789"
    if not digits or len(digits) > 16 or digits.strip(allowed):
        raise ValueError(f"bad length {digits[:20]!r}")
    size = int(digits, base)
    if size > MAX_BODY:
        raise _TooLarge("the body is too large")
    return size


def read_request(reader: _Reader) -> tuple[str, bytes]:
    """The request's path and raw body; :class:`ValueError` (or :class:`_TooLarge`) for
    anything that is not a small, well-formed HTTP/1.x request."""
    parts = reader.line().split()
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise ValueError("not an HTTP request")
    headers: dict[str, str] = {}
    while line := reader.line():
        if len(headers) >= MAX_HEADERS:
            raise _TooLarge("too many headers")
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise ValueError("a header without a colon")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raw = b""
        while size := _size(reader.line().partition(b";")[0], 16):
            if len(raw) + size > MAX_BODY:
                raise _TooLarge("the body is too large")
            raw += reader.exact(size)
            if reader.line():
                raise ValueError("a chunk longer than its size")
        return parts[1].decode("latin-1"), raw
    length = headers.get("content-length")
    size = _size(length.encode("latin-1"), 10) if length is not None else 0
    return parts[1].decode("latin-1"), reader.exact(size)


class _Handler(socketserver.BaseRequestHandler):
    """One plugin call per connection, in plain HTTP/1.0 (``http.server`` would double
    the process's memory for nothing this needs). Anything else is answered with an
    error or the connection is closed; nothing a client sends raises out of here."""

    server: _Server
    request: socket.socket

    def handle(self) -> None:
        status = "200 OK"
        try:
            path, raw = read_request(_Reader(self.request, READ_TIMEOUT))
        except _TooLarge as exc:
            status, answer = "413 Request Entity Too Large", {"Err": str(exc)}
        except (OSError, ValueError, UnicodeError):
            return
        else:
            answer = self.server.answer(path, _json(raw))
        data = json.dumps(answer).encode()
        with contextlib.suppress(OSError):
            self.request.settimeout(READ_TIMEOUT)
            self.request.sendall(
                f"HTTP/1.0 {status}\r\n".encode()
                + b"Content-Type: application/vnd.docker.plugins.v1+json\r\n"
                + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )


def _json(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object: ``{}`` when there is none, None when it is not one."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """At most :data:`MAX_CONNECTIONS` calls at once; one more is closed at once (dockerd
    then refuses that request: the plugin fails closed)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, path: Path, gate: Gate) -> None:
        self.gate = gate
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(str(path), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        print(f"a call failed: {sys.exc_info()[1]!r}", file=sys.stderr, flush=True)

    def answer(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """The plugin's answer to one call of dockerd's; a request whose body is no JSON
        object is refused (dockerd always sends one)."""
        if path == "/Plugin.Activate":
            return {"Implements": ["authz"]}
        if body is None:
            if path == "/AuthZPlugin.AuthZReq":
                return {"Allow": False, "Msg": "dockdojo's containers limit could not read it"}
            return {"Err": "the call's body is no JSON object"}
        method = str(body.get("RequestMethod") or "")
        uri = str(body.get("RequestUri") or "")
        if path == "/AuthZPlugin.AuthZReq":
            allowed, message = self.gate.request(method, uri, body)
            if not allowed:
                print(f"refused {method} {uri}: {message}", file=sys.stderr, flush=True)
            return {"Allow": allowed, "Msg": message}
        if path == "/AuthZPlugin.AuthZRes":
            self.gate.response(method, uri)
            return {"Allow": True}
        return {"Err": f"unknown call {path[:100]}"}


def make_server(path: Path, gate: Gate) -> _Server:
    """A server of ``gate`` listening on ``path`` (not serving yet)."""
    path.unlink(missing_ok=True)
    return _Server(path, gate)


def serve(path: Path, owner: int, containers: Path, limit: int, address: str | None) -> None:
    """Listen on ``path`` (then owned by ``owner``, mode 600) until killed."""
    server = make_server(path, Gate(containers, limit, address))
    os.chown(path, owner, -1)
    path.chmod(0o600)
    print(f"containers limit {limit} for {containers} on {path}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(
        Path(sys.argv[1]),
        int(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5] if len(sys.argv) > 5 else None,
    )
