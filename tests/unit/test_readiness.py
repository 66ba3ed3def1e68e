"""``dockdojo doctor``'s checks that need no engine: each finding and how it is shown."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner import EngineInfo, load_lesson, parse_ref
from dockdojo.runner.cli import main
from dockdojo.runner.readiness import (
    Finding,
    engine_kind,
    lesson_images,
    mirror_has,
    render,
    room_findings,
    subordinate_ids,
    to_json,
)


def info(
    host: str = "unix:///var/run/docker.sock", operating_system: str = "", rootless: bool = False
) -> EngineInfo:
    return EngineInfo(
        host,
        "27.1.1",
        "1.46",
        "linux",
        "amd64",
        operating_system=operating_system,
        rootless=rootless,
    )


def test_the_kind_of_engine_is_named(tmp_path: Path) -> None:
    assert engine_kind(info(operating_system="Docker Desktop")) == "Docker Desktop"
    assert engine_kind(info()) == "a Docker Engine"
    assert engine_kind(info(rootless=True, host="unix:///run/user/1001/docker.sock")) == (
        "a room engine (rootless, this learner's own)"
    )
    (tmp_path / "registry.yml").write_text("version: 0.1\n")
    (tmp_path / "dockerd.pid").write_text("1\n")
    assert engine_kind(info(host=f"unix://{tmp_path}/docker.sock")) == ("dockdojo's sandbox engine")


def test_the_seed_lesson_needs_four_images() -> None:
    assert lesson_images([load_lesson("what-is-an-image")]) == [
        "nginx:latest",
        "redis:latest",
        "mongo:latest",
        "busybox:latest",
    ]


@pytest.fixture
def registry() -> Iterator[str]:
    """A tiny HTTP server (a FAKE registry) that holds library/nginx:latest only."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200 if self.path == "/v2/library/nginx/manifests/latest" else 404)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_mirror_is_asked_for_the_manifest(registry: str) -> None:
    assert mirror_has(registry, parse_ref("nginx"))
    assert not mirror_has(registry, parse_ref("redis"))
    assert not mirror_has(registry, parse_ref("ghcr.io/x/nginx"))
    assert not mirror_has("http://127.0.0.1:9", parse_ref("nginx"))


def test_room_checks_name_the_missing_package_and_image(registry: str) -> None:
    found = room_findings(
        registry,
        [load_lesson("what-is-an-image")],
        which=lambda p: None if p == "slirp4netns" else f"/usr/bin/{p}",
    )
    by_check = {f.check: f for f in found}
    assert not by_check["program slirp4netns"].ok
    assert by_check["program slirp4netns"].fix == "apt-get install slirp4netns"
    assert by_check["program rootlesskit"].ok
    mirror = by_check["room mirror"]
    assert not mirror.ok
    assert "holds 1 image of the lessons'" in mirror.detail
    assert "missing: redis:latest, mongo:latest, busybox:latest" in mirror.detail


def test_the_report_shows_fixes_and_a_verdict() -> None:
    findings = [
        Finding("engine", True, "a Docker Engine at x"),
        Finding("port 8088", False, "taken", "Stop it."),
    ]
    assert render(findings, marks=("+", "x")) == (
        "+ engine     a Docker Engine at x\n"
        "x port 8088  taken\n"
        "             fix: Stop it.\n"
        "not ready: 1 check failed\n"
    )
    data = json.loads(to_json(findings))
    assert data["schema"] == "dockdojo.doctor/v1"
    assert data["ready"] is False
    assert data["findings"][1] == {
        "check": "port 8088",
        "ok": False,
        "detail": "taken",
        "fix": "Stop it.",
    }


def test_no_engine_is_a_failing_finding_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    assert main(["doctor", "--lesson", "what-is-an-image", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ready"] is False
    (engine,) = data["findings"]
    assert engine["check"] == "engine"
    assert "No Docker Engine answered" in engine["detail"]
    assert "Start Docker Desktop" in engine["fix"]


def test_subordinate_ids_come_from_useradd_unless_login_defs_turns_them_off(
    tmp_path: Path,
) -> None:
    defs, subuid = tmp_path / "login.defs", tmp_path / "subuid"
    subuid.write_text("ada:100000:65536\n")
    defs.write_text("SUB_UID_COUNT 65536\n")
    found = subordinate_ids(defs, subuid)
    assert found.ok
    assert found.detail == (
        f"useradd gives each new learner 65536 subordinate ids ({subuid} holds ranges for 1 user)"
    )
    defs.write_text("SUB_UID_COUNT 0\n")
    off = subordinate_ids(defs, subuid)
    assert not off.ok
    assert "SUB_UID_COUNT" in off.fix


def test_a_port_is_taken_by_a_listener_not_by_a_closing_connection() -> None:
    """After a page was opened and its server closed the connection first, the server's
    side waits (TIME_WAIT) for a minute; docker could publish the port, so it is free."""
    import socket

    from dockdojo.runner.readiness import _port_free

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not _port_free(port)  # a listener holds it
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server's side closes first: it is the one left in TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    assert _port_free(port)
