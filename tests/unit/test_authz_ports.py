"""The containers limit's port rule: a learner's published ports listen on their own
address only. The real server on a temporary UNIX socket, sent the calls dockerd sends
(``AuthZReq`` with the create's JSON in ``RequestBody``, base64)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockdojo.runner.privileged import authz

MINE = "127.77.3.233"


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="dd-ports-"))
    sock = folder / "limits.sock"
    (tmp_path / "containers").mkdir()
    server = authz.make_server(sock, authz.Gate(tmp_path / "containers", 30, MINE))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield sock
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)


def _ask(sock: Path, create: dict[str, Any] | None, uri: str = "/v1.41/containers/create") -> Any:
    call: dict[str, Any] = {"RequestMethod": "POST", "RequestUri": uri, "User": ""}
    if create is not None:
        call["RequestBody"] = base64.b64encode(json.dumps(create).encode()).decode()
    data = json.dumps(call).encode()
    request = (
        b"POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        client.connect(str(sock))
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def _ports(*host_ips: str) -> dict[str, Any]:
    return {
        "Image": "redis",
        "HostConfig": {
            "PortBindings": {
                f"{6379 + n}/tcp": [{"HostIp": ip, "HostPort": "0"}]
                for n, ip in enumerate(host_ips)
            }
        },
    }


@pytest.mark.parametrize("named", ["127.0.0.1", "0.0.0.0", "::", "127.77.0.5", "10.0.0.8"])
def test_a_port_on_an_address_that_is_not_the_learners_is_refused_with_the_way_out(
    plugin: Path, named: str
) -> None:
    answer = _ask(plugin, _ports("", named))
    assert answer["Allow"] is False
    assert f"your own address {MINE}" in answer["Msg"]
    assert named in answer["Msg"]
    assert f"-p {MINE}:0:6379" in answer["Msg"]
    assert "-p 0:6379" in answer["Msg"]


@pytest.mark.parametrize("ips", [(), ("",), (MINE,), ("", MINE)])
def test_ports_on_the_learners_own_address_or_none_are_allowed(
    plugin: Path, ips: tuple[str, ...]
) -> None:
    assert _ask(plugin, _ports(*ips))["Allow"] is True
    assert _ask(plugin, {"Image": "busybox"})["Allow"] is True  # no HostConfig at all


def test_a_create_whose_settings_were_not_passed_on_is_refused(plugin: Path) -> None:
    answer = _ask(plugin, None)  # dockerd passes no body over 1 MiB
    assert answer["Allow"] is False
    assert "could not read this container's settings" in answer["Msg"]


@pytest.mark.parametrize(
    "bindings",
    [
        {"6379/tcp": [{"HostIp": 7}]},
        {"6379/tcp": {"HostIp": "127.0.0.1"}},  # one binding, not a list
        {"6379/tcp": [["127.0.0.1"]]},
    ],
)
def test_malformed_bindings_are_refused_or_read_as_what_they_say(
    plugin: Path, bindings: dict[str, Any]
) -> None:
    answer = _ask(plugin, {"Image": "redis", "HostConfig": {"PortBindings": bindings}})
    assert answer["Allow"] is False


def test_other_requests_are_not_read(plugin: Path) -> None:
    assert _ask(plugin, None, uri="/v1.41/containers/json")["Allow"] is True
    assert _ask(plugin, None, uri="/v1.41/containers/abc/start")["Allow"] is True


def test_without_an_address_any_binding_is_allowed(tmp_path: Path) -> None:
    gate = authz.Gate(tmp_path, 30)
    assert gate.request("POST", "/containers/create", {}) == (True, "")
