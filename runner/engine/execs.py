"""A one-shot command in a container, and its output read from the engine's exec stream.

Without a terminal, the engine sends a command's stdout and stderr as frames, each after
an 8-byte header; :func:`read_frames` reads them up to a size and a deadline, so a
command that prints without end, or never ends, cannot hold the caller.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Mapping

import requests

from ..errors import EngineError, ExecTimeout
from .connection import Connection
from .models import ExecResult
from .translate import Op


def read_frames(sock: socket.socket, limit: int, deadline: float) -> tuple[bytes, bool]:
    """The output of a non-TTY exec stream (8-byte headers before each frame of stdout or
    stderr), at most ``limit`` bytes, and whether it was cut there.

    Raises :class:`TimeoutError` when the stream has not ended by ``deadline``
    (``time.monotonic()``).
    """
    pending = bytearray()
    output = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError("the command's output did not end in time")
        data = sock.recv(65536)
        if not data:
            return bytes(output[:limit]), False
        pending += data
        while len(pending) >= 8:
            size = int.from_bytes(pending[4:8], "big")
            if len(pending) < 8 + size:
                break
            output += pending[8 : 8 + size]
            del pending[: 8 + size]
        if len(output) > limit:
            return bytes(output[:limit]), True


def run_once(
    conn: Connection,
    container: str,
    argv: list[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None,
    limit: int,
) -> ExecResult:
    """Run ``argv`` in the running ``container`` and read at most ``limit`` bytes of its
    output; :class:`ExecTimeout` when it has not ended within ``timeout`` seconds."""
    api = conn.api(timeout)
    op = Op(f"running {argv[0]} in {container}", "exec", container, argv=argv)
    started = time.monotonic()
    cut = [False]

    def too_slow() -> ExecTimeout:
        return ExecTimeout(
            f"{' '.join(argv)} did not finish within {timeout:g} s in {container}.",
            "It may be waiting for input or stuck; it may still run in the container.",
        )

    def read(exec_id: str) -> bytes:
        stream = api.exec_start(exec_id, socket=True)
        sock: socket.socket = getattr(stream, "_sock", stream)
        try:
            output, cut[0] = read_frames(sock, limit, started + timeout)
        except TimeoutError as exc:  # an OSError: raised as ours, past conn.call
            raise too_slow() from exc
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            stream.close()  # both: the socket stays open while its SocketIO is
            sock.close()
        return output

    try:
        exec_id = conn.json(
            lambda: api.exec_create(container, argv, environment=dict(env) if env else None), op
        )["Id"]
        raw = conn.call(lambda: read(exec_id), op)
        code = conn.json(lambda: api.exec_inspect(exec_id), op)
    except (EngineError, TimeoutError) as exc:
        if not isinstance(exc, TimeoutError) and not isinstance(exc.__cause__, requests.Timeout):
            raise
        raise too_slow() from exc
    exit_code = code.get("ExitCode")
    return ExecResult(
        argv=tuple(argv),
        exit_code=int(exit_code) if exit_code is not None else -1,
        output=raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw),
        seconds=time.monotonic() - started,
        truncated=cut[0],
    )


__all__ = ["read_frames", "run_once"]
