"""The containers limit's server (run as root, reached by the learner's own processes)
against hostile input: the real server on a temporary UNIX socket, each attack sent
raw. Each must be answered or closed within a bound, print no traceback, and leave the
server serving good calls afterwards."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.privileged import authz

BOUND = 3.0
"""Seconds an attack may hold a connection in these tests (the server's read timeout is
shortened to 0.5 s for them)."""
ACTIVATE = b"POST /Plugin.Activate HTTP/1.0\r\nContent-Length: 0\r\n\r\n"


@pytest.fixture
def plugin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> Iterator[Path]:
    monkeypatch.setattr(authz, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(authz, "MAX_CONNECTIONS", 4)
    folder = Path(tempfile.mkdtemp(prefix="dd-authz-"))  # a UNIX socket's path is short
    sock = folder / "limits.sock"
    (tmp_path / "containers").mkdir()
    server = authz.make_server(sock, authz.Gate(tmp_path / "containers", limit=1))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sock
        assert _call(sock, ACTIVATE).startswith(b"HTTP/1.0 200"), "the server stopped serving"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)
    assert "Traceback" not in capfd.readouterr().err


def _call(sock: Path, data: bytes, *, pause: float = 0.0) -> bytes:
    """Send ``data`` (a byte at a time with ``pause`` between, when given) and read the
    answer until the server closes; fails if that takes longer than :data:`BOUND`."""
    started = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(BOUND)
        client.connect(str(sock))
        with contextlib.suppress(OSError):  # the server may close before all is sent
            if pause:
                for byte in data:
                    client.sendall(bytes([byte]))
                    time.sleep(pause)
            else:
                client.sendall(data)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := client.recv(65536):
                answer += chunk
    assert time.monotonic() - started < BOUND + 1, "the server held the connection"
    return answer


def _authz(call: str, body: dict[str, str]) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST /AuthZPlugin.{call} HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def _answer(raw: bytes) -> dict[str, object]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), raw[:80]
    parsed = json.loads(body)
    assert isinstance(parsed, dict)
    return parsed


def test_a_good_call_is_answered(plugin: Path) -> None:
    create = {"RequestMethod": "POST", "RequestUri": "/v1.41/containers/create"}
    assert _answer(_call(plugin, _authz("AuthZReq", create)))["Allow"] is True
    assert _answer(_call(plugin, _authz("AuthZReq", create)))["Allow"] is False  # limit 1


def test_a_chunked_call_is_read(plugin: Path) -> None:
    body = json.dumps({"RequestMethod": "GET", "RequestUri": "/_ping"}).encode()
    raw = (
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    assert _answer(_call(plugin, raw))["Allow"] is True


@pytest.mark.parametrize(
    "attack",
    [
        b"",  # connects and says nothing
        b"\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"POST /Plugin.Activate\r\n\r\n",  # no version
        b"\x00\xff\xfe" * 1000 + b"\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk size
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n",  # 4 GiB
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",  # negative
        b"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",  # huge
        b"POST /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort",  # then silence
        b"POST /x HTTP/1.1\r\n" + b"X: y\r\n" * 1000 + b"\r\n",  # too many headers
        b"POST /x HTTP/1.1\r\nX: " + b"y" * 100_000 + b"\r\n\r\n",  # a long line
        b"POST /" + b"a" * 100_000,  # a long request line, never ended
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nNoColonHere\r\n\r\n",
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]",
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Length: 4\r\n\r\nnull",
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Length: 6000\r\n\r\n" + b"[" * 6000,
    ],
    ids=lambda a: repr(a[:40]),
)
def test_hostile_input_is_answered_or_closed_in_time(plugin: Path, attack: bytes) -> None:
    answer = _call(plugin, attack)
    assert answer == b"" or answer.startswith(b"HTTP/1.0 "), answer[:80]


def test_a_body_it_cannot_read_is_refused_not_allowed(plugin: Path) -> None:
    raw = b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Length: 9\r\n\r\n{not json"
    assert _answer(_call(plugin, raw))["Allow"] is False


def test_a_body_over_the_bound_is_refused(plugin: Path) -> None:
    raw = b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (
        authz.MAX_BODY + 1
    )
    answer = _call(plugin, raw)
    assert answer.startswith(b"HTTP/1.0 413"), answer[:80]


def test_a_slow_client_is_cut_off_at_the_read_timeout(plugin: Path) -> None:
    started = time.monotonic()
    _call(plugin, ACTIVATE, pause=0.2)  # a byte every 0.2 s: 11 s if let finish
    assert time.monotonic() - started < BOUND


def test_connections_beyond_the_bound_are_closed_and_serving_goes_on(
    plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authz, "READ_TIMEOUT", 5.0)  # the held ones stay held meanwhile
    held = []
    for _ in range(authz.MAX_CONNECTIONS):  # each holds a thread, saying nothing
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(plugin))
        held.append(client)
    try:
        time.sleep(0.2)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as extra:
            extra.settimeout(1.0)  # served, it would wait 5 s for the call
            extra.connect(str(plugin))
            assert extra.recv(10) == b""  # closed at once
    finally:
        for client in held:
            client.close()
    time.sleep(0.2)  # the held threads see their clients go and end
