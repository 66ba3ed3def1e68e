"""The labelling proxy without an engine: HTTP parsing, rewriting and piping, byte by byte.

Upstream of the proxy sits :class:`FakeEngine`, a FAKE Docker Engine (a few scripted
routes on a unix socket, nothing like dockerd) that records every byte it receives and
sends, so that the tests can compare both sides of the proxy exactly. The real engine is
exercised in tests/engine/test_labelproxy_engine.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dockdojo.runner.grading.labelproxy import (
    LABEL_GRADE,
    LabelProxy,
    ProxyError,
    add_labels,
    guard_rule,
    parse_request,
)

LABELS = {"dockdojo.learner": "ada", "dockdojo.lesson": "what-is-an-image", LABEL_GRADE: "run-1"}
OTHER = {**LABELS, LABEL_GRADE: "run-2"}


# the fake engine ------------------------------------------------------------------------
@dataclass
class FakeRequest:
    """One request as the fake engine received it."""

    method: str
    target: str
    headers: dict[str, str]
    head: bytes
    body: bytes
    raw_body: bytes


@dataclass
class FakeConnection:
    """What went over one connection to the fake engine."""

    received: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)


class FakeEngine:
    """A FAKE Docker Engine for unit tests: a small threaded HTTP/1.1 server on a unix socket.

    It is not dockerd. It knows a few routes (``/_ping``, container and exec inspect from
    :attr:`containers` and :attr:`execs`, create, delete, ``/events`` that holds its second
    chunk until :attr:`release` is set, an exec start that upgrades to an upper-casing echo,
    an HTTP/1.0-style body that ends when the connection closes) and records everything.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connections: list[FakeConnection] = []
        self.requests: list[FakeRequest] = []
        self.containers: dict[str, dict[str, str]] = {}
        self.execs: dict[str, str] = {}
        self.release = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        accept = threading.Thread(target=self._accept, name="fake-engine", daemon=True)
        self._threads.append(accept)
        accept.start()

    def close(self) -> None:
        self._stopping.set()
        self.release.set()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(10)
        self._listener.close()

    @property
    def creates(self) -> list[FakeRequest]:
        return [
            r
            for r in self.requests
            if r.target.partition("?")[0].endswith("/create") and "containers" in r.target
        ]

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self._sockets.append(conn)
            record = FakeConnection()
            self.connections.append(record)
            thread = threading.Thread(target=self._serve, args=(conn, record), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, record: FakeConnection) -> None:
        stream = _FakeStream(conn, record)
        try:
            while stream.serve_one(self):
                pass
        except OSError:
            pass
        finally:
            conn.close()


class _FakeStream:
    def __init__(self, conn: socket.socket, record: FakeConnection) -> None:
        self.conn = conn
        self.record = record
        self.buffer = bytearray()

    def more(self) -> bool:
        data = self.conn.recv(65536)
        self.record.received += data
        self.buffer += data
        return bool(data)

    def take_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self.more():
                return None
        index = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:index])
        del self.buffer[:index]
        return data

    def take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self.more():
                raise OSError("short body")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def send(self, data: bytes) -> None:
        self.record.sent += data
        self.conn.sendall(data)

    def respond(
        self, status: str, body: bytes = b"", *, length: bool = True, extra: str = ""
    ) -> None:
        head = f"HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
        head += extra
        if length:
            head += f"Content-Length: {len(body)}\r\n"
        self.send(head.encode() + b"\r\n" + body)

    def serve_one(self, fake: FakeEngine) -> bool:
        head = self.take_until(b"\r\n\r\n")
        if head is None:
            return False
        lines = head.decode("latin-1")[:-4].split("\r\n")
        method, target, version = lines[0].split(" ")
        headers = {
            k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])
        }
        body = raw_body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = self.take_until(b"\r\n") or b""
                raw_body += line
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while (trailer := self.take_until(b"\r\n") or b"\r\n") != b"\r\n":
                        raw_body += trailer
                    raw_body += b"\r\n"
                    break
                data = self.take(size + 2)
                raw_body += data
                body += data[:-2]
        elif "content-length" in headers:
            body = raw_body = self.take(int(headers["content-length"]))
        fake.requests.append(FakeRequest(method, target, headers, head, body, raw_body))
        path = re.sub(r"^/v[0-9.]+", "", target.partition("?")[0])
        return self.route(fake, method, path, version, headers)

    def route(
        self, fake: FakeEngine, method: str, path: str, version: str, headers: dict[str, str]
    ) -> bool:
        """Answer one request; whether the connection stays open for the next one."""
        if method == "POST" and re.fullmatch(r"/exec/.+/start", path):
            self.upper_echo()
            return False
        if path == "/raw":  # a body that ends when the connection closes
            self.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            return False
        if path == "/events":
            self.events(fake)
        elif method == "GET" and (m := re.fullmatch(r"/containers/(.+)/json", path)):
            self.inspect_container(fake, m[1])
        elif method == "GET" and (m := re.fullmatch(r"/exec/(.+)/json", path)):
            self.inspect_exec(fake, m[1])
        else:
            self.answer(method, path)
        return version == "HTTP/1.1" and headers.get("connection") != "close"

    def answer(self, method: str, path: str) -> None:
        """The routes whose answer is always the same."""
        if path == "/_ping" and method == "HEAD":  # the length GET would send, no body
            self.send(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\n")
        elif path == "/_ping":
            self.respond("200 OK", b"OK", extra="Content-Type: text/plain\r\n")
        elif method == "POST" and path == "/containers/create":
            self.respond("201 Created", b'{"Id":"c0ffee","Warnings":[]}')
        elif method == "DELETE" and path.startswith("/containers/"):
            self.respond("204 No Content", length=False)
        elif method == "POST" and path == "/build":
            self.respond("200 OK", b'{"stream":"built"}\n')
        else:
            self.respond("404 Not Found", b'{"message":"page not found"}')

    def inspect_container(self, fake: FakeEngine, name: str) -> None:
        labels = fake.containers.get(name)
        if labels is None:
            self.respond("404 Not Found", b'{"message":"No such container: %s"}' % name.encode())
        else:
            self.respond(
                "200 OK", json.dumps({"Name": "/" + name, "Config": {"Labels": labels}}).encode()
            )

    def inspect_exec(self, fake: FakeEngine, exec_id: str) -> None:
        container = fake.execs.get(exec_id)
        if container is None:
            self.respond("404 Not Found", b'{"message":"No such exec instance"}')
        else:
            self.respond("200 OK", json.dumps({"ContainerID": container}).encode())

    def events(self, fake: FakeEngine) -> None:
        """Two chunked events; the second only once :attr:`FakeEngine.release` is set."""
        self.respond("200 OK", length=False, extra="Transfer-Encoding: chunked\r\n")
        self.send(b'14\r\n{"status":"create"}\n\r\n')
        fake.release.wait(10)
        self.send(b'13\r\n{"status":"start"}\n\r\n0\r\n\r\n')

    def upper_echo(self) -> None:
        """An exec start: upgrade, then an upper-casing echo until the client has finished
        sending, then ``bye``."""
        self.send(
            b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream"
            b"\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        )
        while True:
            if self.buffer:
                self.send(bytes(self.buffer).upper())
                self.buffer.clear()
            if not self.more():
                break
        self.send(b"bye")


# a raw client ---------------------------------------------------------------------------
class Client:
    """A client that speaks raw bytes to the proxy and reads responses by their framing."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise
        self.buffer = bytearray()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            if not self._more():
                raise EOFError(bytes(self.buffer))
        index = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:index])
        del self.buffer[:index]
        return data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise EOFError(bytes(self.buffer))
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def head(self) -> bytes:
        return self._until(b"\r\n\r\n")

    def response(self, method: str = "GET") -> bytes:
        """One whole response, exactly as received."""
        head = self.head()
        status = int(head.split(b" ")[1])
        lower = head.lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return head
        if b"transfer-encoding: chunked" in lower:
            raw = b""
            while True:
                line = self._until(b"\r\n")
                raw += line
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    return head + raw + self._until(b"\r\n")
                raw += self._take(size + 2)
        match = re.search(rb"content-length: *(\d+)", lower)
        assert match, head
        return head + self._take(int(match[1]))

    def rest(self) -> bytes:
        """Everything until the proxy closes the connection."""
        while self._more():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def body_of(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[2]


# fixtures -------------------------------------------------------------------------------
@pytest.fixture
def fake(short_dir: Path) -> Iterator[FakeEngine]:
    engine = FakeEngine(short_dir / "engine.sock")
    engine.containers.update({"mine": dict(LABELS), "other": dict(OTHER), "bare": {}})
    engine.execs.update({"e-mine": "mine", "e-other": "other"})
    yield engine
    engine.close()


@pytest.fixture
def proxy(fake: FakeEngine, short_dir: Path) -> Iterator[LabelProxy]:
    with LabelProxy(str(fake.path), short_dir / "proxy.sock", LABELS) as started:
        yield started


@pytest.fixture
def client(proxy: LabelProxy) -> Iterator[Client]:
    connection = Client(proxy.socket_path)
    yield connection
    connection.close()


@pytest.fixture
def connect(proxy: LabelProxy) -> Iterator[Callable[[], Client]]:
    made: list[Client] = []

    def new() -> Client:
        made.append(Client(proxy.socket_path))
        return made[-1]

    yield new
    for connection in made:
        connection.close()


def post(target: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nHost: api.moby.localhost\r\n"
        f"Content-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def create(
    body: bytes, target: str = "/v1.41/containers/create?name=web", extra: str = ""
) -> bytes:
    return post(target, body, extra)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# forwarding -------------------------------------------------------------------------------
def test_requests_and_responses_pass_byte_for_byte_on_one_kept_alive_connection(
    fake: FakeEngine, client: Client
) -> None:
    requests = [
        b"HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28\r\n\r\n",
        b"GET /v1.41/containers/mine/json HTTP/1.1\r\nhost: x\r\nX-Odd:  spaced \t\r\n\r\n",
        b"DELETE /v1.41/images/nginx?force=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"GET /nothing/here?a=%20b HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    client.send(b"".join(requests))  # pipelined: answered in order
    got = [client.response("HEAD"), client.response(), client.response(), client.response()]
    assert len(fake.connections) == 1  # one engine connection per client connection
    assert bytes(fake.connections[0].received) == b"".join(requests)
    assert b"".join(got) == bytes(fake.connections[0].sent)
    assert [r.method for r in fake.requests] == ["HEAD", "GET", "DELETE", "GET"]
    assert got[0].startswith(b"HTTP/1.1 200 OK")
    assert got[0].endswith(b"\r\n\r\n")
    assert b'"dockdojo.grade": "run-1"' in got[1]
    assert got[3].startswith(b"HTTP/1.1 404")


@pytest.mark.parametrize(
    ("body", "caller"),
    [
        (b'{"Image":"nginx","Cmd":[1e3, 0.10]}', {}),
        (b'{"Image":"nginx","Labels":null}', {}),
        (b'{"Image":"nginx","Labels":{"mine":"1","dockdojo.grade":"forged"}}', {"mine": "1"}),
        (b'{"Image":"nginx", "labels":{"a":"b"}, "Labels" : {"c":"d"} }', {"a": "b", "c": "d"}),
        (b'  {"Image": "nginx",\n "Env": ["\\u00e9t\\u00e9=1"]\n}\n', {}),
        (b"{}", {}),
        (b"", {}),
    ],
)
def test_create_gets_the_labels_and_a_fixed_length_the_rest_unchanged(
    fake: FakeEngine, client: Client, body: bytes, caller: dict[str, str]
) -> None:
    client.send(create(body))
    response = client.response()
    assert response.startswith(b"HTTP/1.1 201 Created")
    (sent,) = fake.creates
    assert int(sent.headers["content-length"]) == len(sent.body)
    assert sent.body == add_labels(body, LABELS)  # only the labels change: see below
    data = json.loads(sent.body, object_pairs_hook=list)
    assert [dict(value) for key, value in data if key.lower() == "labels"] in (
        [{**caller, **LABELS}],
        [{"a": "b", **LABELS}, {"c": "d", **LABELS}],
    )
    assert sent.head.startswith(b"POST /v1.41/containers/create?name=web HTTP/1.1\r\n")
    assert b"Host: api.moby.localhost\r\nContent-Type: application/json\r\n" in sent.head


def test_numbers_and_escapes_outside_the_labels_keep_their_exact_bytes() -> None:
    body = b'{"Image":"nginx","Cmd":[1e3,0.10,-0],"Env":["A=\\u00e9"],"Labels":{"x":"y"}}'
    out = add_labels(body, {"k": "v"})
    assert (
        out == b'{"Image":"nginx","Cmd":[1e3,0.10,-0],"Env":["A=\\u00e9"],'
        b'"Labels":{"x":"y","k":"v"}}'
    )
    assert add_labels(b'{"Image":"x"}', {"k": "v"}) == b'{"Image":"x","Labels":{"k":"v"}}'
    assert add_labels(b"{ }", {"k": "v"}) == b'{ "Labels":{"k":"v"}}'
    invalid = b'{"Image":"\xff"}'  # bytes that are not UTF-8 pass through as they are
    assert add_labels(invalid, {"k": "v"}) == b'{"Image":"\xff","Labels":{"k":"v"}}'


@pytest.mark.parametrize(
    "body", [b"[]", b'{"Labels":"x"}', b'{"Image":}', b'{"a":1}{"b":2}', b'{"a":1', b"null"]
)
def test_container_settings_that_cannot_be_labelled_are_refused(
    fake: FakeEngine, client: Client, body: bytes
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked below
        add_labels(body, LABELS)
    client.send(create(body))
    response = client.response()
    assert response.startswith(b"HTTP/1.1 400")
    assert b"could not label the container" in response
    assert client.rest() == b""  # and the connection is closed
    assert fake.creates == []


def test_deeply_nested_settings_are_refused_not_crashed_on(
    fake: FakeEngine, client: Client
) -> None:
    client.send(create(b'{"Image":"x","Cmd":' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    assert client.rest().startswith(b"HTTP/1.1 400 ")
    assert fake.creates == []


def test_chunked_create_is_labelled_and_sent_with_a_length(
    fake: FakeEngine, client: Client
) -> None:
    client.send(
        b"POST /containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\n"
        b'8\r\n{"Image"\r\n8;ext=1\r\n:"redis"\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n'
    )
    assert client.response().startswith(b"HTTP/1.1 201")
    (sent,) = fake.creates
    assert "transfer-encoding" not in sent.headers
    assert json.loads(sent.body) == {"Image": "redis", "Labels": LABELS}
    assert int(sent.headers["content-length"]) == len(sent.body)


@pytest.mark.parametrize(
    "target",
    [
        "/v1.41/containers/%63reate",
        "//containers/create",
        "/v1.41/containers/./create",
        "http://docker/v1.41/containers/create?name=x",
    ],
)
def test_create_is_recognised_however_its_path_is_spelled(
    fake: FakeEngine, client: Client, target: str
) -> None:
    client.send(create(b'{"Image":"nginx"}', target))
    client.response()
    (sent,) = fake.requests
    assert json.loads(sent.body)["Labels"] == LABELS


def test_expect_100_continue_on_a_create(fake: FakeEngine, client: Client) -> None:
    body = b'{"Image":"nginx"}'
    client.send(
        create(b"", extra="Expect: 100-continue\r\n").replace(
            b"Content-Length: 0", f"Content-Length: {len(body)}".encode()
        )
    )
    assert client.head() == b"HTTP/1.1 100 Continue\r\n\r\n"
    client.send(body)
    assert client.response().startswith(b"HTTP/1.1 201")
    (sent,) = fake.creates
    assert "expect" not in sent.headers
    assert json.loads(sent.body)["Labels"] == LABELS


def test_chunked_request_body_passes_unchanged(fake: FakeEngine, client: Client) -> None:
    request = (
        b"POST /v1.41/build?t=app HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
        b"Content-Type: application/x-tar\r\n\r\n"
        b"5;name=value\r\nhello\r\nB\r\n\x00\x01\x02\r\n\r\n\xff\xfe\xfd\xfc\r\n"
        b"0\r\nChecksum: abc\r\n\r\n"
    )
    client.send(request)
    response = client.response()
    assert response == bytes(fake.connections[0].sent)
    assert bytes(fake.connections[0].received) == request
    assert fake.requests[0].body == b"hello\x00\x01\x02\r\n\r\n\xff\xfe\xfd\xfc"


def test_a_large_body_streams_through(fake: FakeEngine, client: Client) -> None:
    payload = bytes(range(256)) * 20_000  # 5 MB, more than the proxy would ever buffer
    request = (
        f"POST /build HTTP/1.1\r\nHost: x\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    client.send(request)
    assert client.response().startswith(b"HTTP/1.1 200")
    assert fake.requests[0].body == payload


def test_streamed_response_pieces_arrive_before_the_stream_ends(
    fake: FakeEngine, client: Client
) -> None:
    client.send(b"GET /v1.41/events HTTP/1.1\r\nHost: x\r\n\r\n")
    head = client.head()
    assert b"Transfer-Encoding: chunked" in head
    first = client._until(b'{"status":"create"}\n\r\n')  # the engine still holds the rest
    assert not fake.release.is_set()
    fake.release.set()
    rest = client._until(b"0\r\n\r\n")
    assert head + first + rest == bytes(fake.connections[0].sent)
    client.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")  # and the connection goes on
    assert client.response().endswith(b"OK")


def test_client_hanging_up_ends_the_engine_connection(
    fake: FakeEngine, proxy: LabelProxy, client: Client
) -> None:
    client.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    client.head()
    client.sock.shutdown(socket.SHUT_WR)  # the engine is told (a half-close)...
    fake.release.set()
    client.rest()  # ...and the proxy closes once the engine has finished
    wait_for(lambda: proxy.connections == 0)


def test_upgrade_pipes_raw_bytes_both_ways_and_passes_on_a_half_close(
    fake: FakeEngine, client: Client
) -> None:
    body = b'{"Detach":false,"Tty":true}'
    request = (
        b"POST /v1.41/exec/e-mine/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
        b"Upgrade: tcp\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    client.send(request)
    assert client.head().startswith(b"HTTP/1.1 101 UPGRADED\r\n")
    client.send(b"set test 1\r\n")
    assert client._until(b"SET TEST 1\r\n") == b"SET TEST 1\r\n"
    client.send(b"\x00\xff not http at all\r\n\r\n")
    client._until(b"NOT HTTP AT ALL\r\n\r\n")
    client.sock.shutdown(socket.SHUT_WR)
    assert client.rest() == b"bye"
    upstream = [c for c in fake.connections if b"/exec/e-mine/start" in c.received]
    assert bytes(upstream[0].received) == (
        request + b"set test 1\r\n" + b"\x00\xff not http at all\r\n\r\n"
    )


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /raw HTTP/1.0\r\nHost: x\r\n\r\n",
        b"GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ],
)
def test_closing_requests_switch_to_raw_piping_until_the_engine_closes(
    fake: FakeEngine, client: Client, request_line: bytes
) -> None:
    client.send(request_line)
    assert client.rest() == b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    assert bytes(fake.connections[0].received) == request_line


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /_ping HTTP/1.1\nHost: x\n\n\r\n\r\n",  # bare line feeds
        b"GET /_ping HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\nHost : x\r\n\r\n",
        b"POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n",
        b"POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"POST /containers/create HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
        b"POST /containers/create HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /containers/create HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"POST /containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2 \r\n{}\r\n0\r\n\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
        b"GET /_ping HTTP/2.0\r\n\r\n",
    ],
)
def test_requests_the_engine_might_read_differently_get_a_400_and_go_no_further(
    fake: FakeEngine, client: Client, request_bytes: bytes
) -> None:
    client.send(request_bytes)
    response = client.rest()
    assert re.match(rb"HTTP/1.1 (400|505) ", response), response
    assert b"Connection: close" in response
    assert json.loads(body_of(response))["message"]
    assert fake.requests == []


def test_a_head_too_long_is_refused(fake: FakeEngine, client: Client) -> None:
    client.send(b"GET /_ping HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert client.rest().startswith(b"HTTP/1.1 431 ")
    assert fake.requests == []


# the guard ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host_config", "words"),
    [
        ({"Privileged": True}, "privileged containers"),
        ({"privileged": True}, "privileged containers"),
        (
            {"Binds": ["/var/run/docker.sock:/var/run/docker.sock"]},
            "host path /var/run/docker.sock",
        ),
        ({"Binds": ["/:/host:ro"]}, "host path /"),
        ({"Binds": ["./here:/app"]}, "host path ./here"),
        ({"Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/x"}]}, "host path /etc"),
        (
            {
                "Mounts": [
                    {
                        "Type": "volume",
                        "Source": "v",
                        "Target": "/x",
                        "VolumeOptions": {
                            "DriverConfig": {
                                "Name": "local",
                                "Options": {"type": "none", "o": "bind", "device": "/"},
                            }
                        },
                    }
                ]
            },
            "device option",
        ),
        ({"CapAdd": ["SYS_ADMIN"]}, "--cap-add SYS_ADMIN"),
        ({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda"}]}, "--device"),
        ({"PidMode": "host"}, "--pid=host"),
        ({"SecurityOpt": ["seccomp=unconfined"]}, "security profile"),
    ],
)
def test_guard_refuses_containers_with_power_over_the_host(
    fake: FakeEngine, proxy: LabelProxy, client: Client, host_config: dict[str, object], words: str
) -> None:
    client.send(create(json.dumps({"Image": "nginx", "HostConfig": host_config}).encode()))
    response = client.response()
    assert response.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    message = json.loads(body_of(response))["message"]
    assert message.startswith("dockdojo's grader refused to create this container: ")
    assert words in message
    assert fake.creates == []
    assert proxy.refusals[-1].message == message
    client.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection carries on
    assert client.response().endswith(b"OK")


def test_guard_cannot_be_dodged_with_duplicate_or_recased_keys(
    fake: FakeEngine, client: Client
) -> None:
    # The engine's decoder merges both HostConfig objects, so Privileged stays true.
    body = b'{"Image":"nginx","HostConfig":{"Privileged":true},"hostconfig":{"Memory":0}}'
    client.send(create(body))
    assert client.response().startswith(b"HTTP/1.1 403")
    body = b'{"Image":"nginx","HOSTCONFIG":{"Bind\xc5\xbf":["/:/h"]}}'  # long s folds to s
    client.send(create(body))
    assert client.response().startswith(b"HTTP/1.1 403")
    assert fake.creates == []


def test_named_and_anonymous_volumes_and_tmpfs_are_allowed(
    fake: FakeEngine, client: Client
) -> None:
    host_config = {
        "Binds": ["data:/data", "/anonymous"],
        "Mounts": [
            {"Type": "volume", "Source": "cache", "Target": "/c"},
            {"Type": "tmpfs", "Target": "/t"},
        ],
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
    }
    client.send(create(json.dumps({"Image": "nginx", "HostConfig": host_config}).encode()))
    assert client.response().startswith(b"HTTP/1.1 201")
    assert json.loads(fake.creates[0].body)["HostConfig"] == host_config


@pytest.mark.parametrize(
    ("request_bytes", "words"),
    [
        (
            b"DELETE /v1.41/containers/other?force=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            "refused to remove container other",
        ),
        (
            b"DELETE /containers/bare HTTP/1.1\r\nHost: x\r\n\r\n",
            "refused to remove container bare",
        ),
        (
            b"POST /v1.41/containers/other/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            "refused to stop container other",
        ),
        (
            b"POST /v1.41/containers/other/rename?name=x HTTP/1.1\r\nHost: x\r\n\r\n",
            "refused to rename container other",
        ),
        (
            post("/v1.41/containers/other/exec", b'{"Cmd":["sh"]}'),
            "refused to run a command in container other",
        ),
        (
            b"POST /v1.41/exec/e-other/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
            b"Upgrade: tcp\r\nContent-Length: 2\r\n\r\n{}",
            "refused to run a command in container",
        ),
        (
            b"GET /v1.41/containers/other/attach/ws?stdin=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            "refused to attach to container other",
        ),
        (b"POST /v1.41/containers/prune HTTP/1.1\r\nHost: x\r\n\r\n", "prune"),
        (
            post("/v1.41/containers/mine/exec", b'{"Cmd":["sh"],"Privileged":true}'),
            "privileged commands",
        ),
        (
            post("/volumes/create", b'{"Name":"v","DriverOpts":{"device":"/","o":"bind"}}  '),
            "refused to create this volume",
        ),
    ],
)
def test_guard_refuses_what_the_submission_does_not_own(
    fake: FakeEngine, client: Client, request_bytes: bytes, words: str
) -> None:
    client.send(request_bytes)
    response = client.response()
    assert response.startswith(b"HTTP/1.1 403 ")
    message = json.loads(body_of(response))["message"]
    assert words in message
    if "container other" in words:
        assert "it lacks the label dockdojo.grade=run-1" in message
    assert all(r.target.endswith("/json") for r in fake.requests)  # only lookups
    client.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.response().endswith(b"OK")


def test_guard_lets_through_what_the_submission_owns_or_the_engine_does_not_know(
    fake: FakeEngine, client: Client
) -> None:
    client.send(b"DELETE /v1.41/containers/mine?force=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.response().startswith(b"HTTP/1.1 204")
    client.send(b"DELETE /v1.41/containers/ghost HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.response().startswith(b"HTTP/1.1 204")  # the fake deletes anything
    client.send(b"GET /v1.41/containers/other/json HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.response().startswith(b"HTTP/1.1 200")  # reading is fine
    forwarded = [(r.method, r.target) for r in fake.requests if not r.target.endswith("/json")]
    assert forwarded == [
        ("DELETE", "/v1.41/containers/mine?force=1"),
        ("DELETE", "/v1.41/containers/ghost"),
    ]


def test_without_the_guard_everything_passes_and_creates_are_still_labelled(
    fake: FakeEngine, short_dir: Path
) -> None:
    with LabelProxy(str(fake.path), short_dir / "open.sock", LABELS, guard=False) as proxy:
        client = Client(proxy.socket_path)
        try:
            client.send(create(b'{"Image":"nginx","HostConfig":{"Privileged":true}}'))
            assert client.response().startswith(b"HTTP/1.1 201")
            client.send(b"DELETE /containers/other HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.response().startswith(b"HTTP/1.1 204")
        finally:
            client.close()
    assert json.loads(fake.creates[0].body)["Labels"] == LABELS
    assert not any(r.target.endswith("/json") for r in fake.requests)


def test_the_policy_table() -> None:
    assert guard_rule("GET", "/v1.41/containers/json") == guard_rule("GET", "/events")
    assert guard_rule("GET", "/v1.41/containers/x/logs").owner is None
    assert guard_rule("HEAD", "/containers/x/archive").owner is None
    assert guard_rule("PUT", "/containers/x/archive").owner == ("container", "x")
    assert guard_rule("DELETE", "/v1.24/containers/a1b2").owner == ("container", "a1b2")
    assert guard_rule("POST", "/containers/x/kill").verb == "kill"
    assert guard_rule("POST", "/exec/e1/resize").owner == ("exec", "e1")
    assert guard_rule("POST", "/containers/create").body_check is not None
    assert guard_rule("POST", "/containers/create").owner is None
    assert guard_rule("DELETE", "/images/nginx") == guard_rule("POST", "/images/create")
    assert guard_rule("POST", "/containers/prune").refuse


def test_parse_request_reads_the_path_as_the_engine_routes_it() -> None:
    raw = b"GET /v1.41//containers/%2e/x/../y%2Fz/json?all=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    assert parse_request(raw).path == "/v1.41/containers/y/z/json"
    assert parse_request(b"GET /_ping HTTP/1.0\r\n\r\n").closes
    assert not parse_request(b"GET /_ping HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").closes


# life cycle -----------------------------------------------------------------------------
def test_engine_unreachable_gets_a_502_that_says_so(short_dir: Path) -> None:
    dead = short_dir / "dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(dead))  # a socket file nobody listens on
    with LabelProxy(str(dead), short_dir / "p.sock", LABELS) as proxy:
        client = Client(proxy.socket_path)
        try:
            client.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            response = client.rest()
        finally:
            client.close()
    assert response.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert (
        f"could not reach the Docker Engine at {dead}" in json.loads(body_of(response))["message"]
    )


def test_stop_closes_every_connection_and_leaves_no_socket_and_no_thread(
    fake: FakeEngine, short_dir: Path
) -> None:
    proxy = LabelProxy(f"unix://{fake.path}", short_dir / "p.sock", LABELS).start()
    assert proxy.docker_host == f"unix://{short_dir}/p.sock"
    assert proxy.running
    streaming, idle = Client(proxy.socket_path), Client(proxy.socket_path)
    try:
        streaming.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        streaming.head()
        idle.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.response()
        proxy.stop()
        assert idle.rest() == b""
        streaming.rest()  # ends: the proxy closed it while the engine still held the stream
    finally:
        streaming.close()
        idle.close()
    assert not (short_dir / "p.sock").exists()
    assert not proxy.running
    assert not [t for t in threading.enumerate() if t.name.startswith("dockdojo-labelproxy")]
    proxy.stop()  # twice is fine
    with pytest.raises(OSError):  # noqa: PT011 - refused or not found: either means gone
        Client(short_dir / "p.sock")


def test_start_says_what_is_wrong_with_the_socket_path(fake: FakeEngine, short_dir: Path) -> None:
    with pytest.raises(ProxyError, match="at most 107"):
        LabelProxy(str(fake.path), short_dir / ("x" * 120), LABELS).start()
    with pytest.raises(ProxyError, match="does not exist"):
        LabelProxy(str(fake.path), short_dir / "no" / "p.sock", LABELS).start()
    (short_dir / "file").write_text("")
    with pytest.raises(ProxyError, match="is not a socket"):
        LabelProxy(str(fake.path), short_dir / "file", LABELS).start()
    with pytest.raises(ProxyError, match="already listens"):
        LabelProxy(str(fake.path), fake.path, LABELS).start()
    with pytest.raises(ProxyError, match="no Docker Engine socket"):
        LabelProxy(str(short_dir / "none.sock"), short_dir / "p.sock", LABELS).start()
    with pytest.raises(ProxyError, match="not one"):
        LabelProxy("tcp://127.0.0.1:2375", short_dir / "p.sock", LABELS)
    with pytest.raises(ProxyError, match="at least one label"):
        LabelProxy(str(fake.path), short_dir / "p.sock", {})
    assert not [t for t in threading.enumerate() if t.name.startswith("dockdojo-labelproxy")]


def test_a_stale_socket_file_is_replaced_and_a_proxy_restarts(
    fake: FakeEngine, short_dir: Path
) -> None:
    path = short_dir / "p.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    proxy = LabelProxy(str(fake.path), path, LABELS)
    for _ in range(2):
        with proxy:
            client = Client(path)
            client.send(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.response().endswith(b"OK")
            client.close()
        assert not path.exists()
