"""A real JupyterHub for a test room: started with the configuration ``dockdojo room
hub-config`` writes (its trial authenticator: one password for the learners, another for
the instructors), and the requests a learner's or an instructor's browser makes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import requests
from room.seats import Room

from dockdojo.runner.cli import main
from dockdojo.runner.room.learners import Learner

PASSWORD = "dojo-trial"
"""The learners' password."""
INSTRUCTOR_PASSWORD = "dojo-instructors-own-password-0123456789"
"""The instructors' (the hub's admins') password."""
_ADMINS: set[str] = set()
"""The admins of the hubs started here (they log in with the instructors' password)."""


def password_of(name: str) -> str:
    """The password ``name`` logs in with on a hub started here."""
    return INSTRUCTOR_PASSWORD if name in _ADMINS else PASSWORD


@contextlib.contextmanager
def running_hub(
    room: Room,
    learners: Sequence[Learner | str],
    port: int,
    admins: tuple[str, ...] = (),
    more: str = "",
    quiet: bool = False,
) -> Iterator[str]:
    """A hub for ``room`` (its configuration plus ``more`` lines); its URL. The hub's log
    is printed afterwards unless ``quiet``."""
    config = room.config.state / "jupyterhub_config.py"
    argv = ["room", "--config", str(room.file), "hub-config", "--out", str(config)]
    argv += ["--port", str(port), "--password", PASSWORD]
    argv += ["--instructor-password", INSTRUCTOR_PASSWORD]
    _ADMINS.update(admins)
    for who in learners:
        argv += ["--learner", who if isinstance(who, str) else who.name]
    for name in admins:
        argv += ["--admin", name]
    assert main(argv) == 0
    if more:
        config.write_text(config.read_text() + more)
    bin_dir = Path(sys.executable).parent
    log = room.config.state / "hub.log"
    try:
        with hub_process(
            [str(bin_dir / "jupyterhub"), "-f", str(config)],
            cwd=room.config.state / "hub",
            env={**os.environ, "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"},
            log=log,
            port=port,
            state=room.config.state,
        ) as url:
            yield url
    finally:
        if not quiet:
            print(log.read_text()[-4000:], file=sys.stderr)


@contextlib.contextmanager
def hub_process(
    argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, port: int, state: Path
) -> Iterator[str]:
    """The hub ``argv`` starts (for the room whose state is ``state``), its output in
    ``log``; its URL once it answers. Afterwards it is ended, and its proxy with it."""
    with log.open("wb") as out:
        hub = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_hub(url, hub, log)
            yield url
        finally:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(30)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait()
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((state / "hub" / "proxy.pid").read_text()), signal.SIGTERM)


def wait_for_hub(url: str, hub: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    """Until the hub at ``url`` answers its API; fails with its log if it ends first."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/hub/api", timeout=2).status_code == 200:
                return
        assert hub.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"the hub did not answer within {seconds:.0f} s"
        time.sleep(0.3)


def log_in(url: str, who: Learner | str) -> tuple[requests.Session, str]:
    name = str(getattr(who, "name", who))
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=10)
    xsrf = session.cookies.get("_xsrf") or ""
    answer = session.post(
        f"{url}/hub/login",
        data={"username": name, "password": password_of(name), "_xsrf": xsrf},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session, session.cookies.get("_xsrf") or xsrf


def ready(session: requests.Session, xsrf: str, url: str, who: Learner) -> bool:
    model = session.get(
        f"{url}/hub/api/users/{who.name}", headers={"X-XSRFToken": xsrf}, timeout=10
    ).json()
    server = (model.get("servers") or {}).get("") or {}
    return bool(server.get("ready"))


def server_process(who: Learner) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if b"jupyterhub-singleuser" in (entry / "cmdline").read_bytes() and (
                entry.stat().st_uid == who.uid
            ):
                return int(entry.name)
    raise AssertionError(f"no jupyterhub-singleuser runs as {who.name}")


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def start_servers(url: str, people: list[Learner]) -> list[tuple[requests.Session, str]]:
    """Each learner logs in and starts their server; returns their sessions once all run."""
    sessions = [log_in(url, who) for who in people]
    for (session, xsrf), who in zip(sessions, people, strict=True):
        started = session.post(
            f"{url}/hub/api/users/{who.name}/server",
            headers={"X-XSRFToken": xsrf},
            timeout=180,
        )
        assert started.status_code in (201, 202), started.text[:500]
    for (session, xsrf), who in zip(sessions, people, strict=True):
        deadline = time.monotonic() + 180
        while not ready(session, xsrf, url, who):
            assert time.monotonic() < deadline, f"{who.name}'s server did not start"
            time.sleep(0.5)
    return sessions


def service_pid() -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if b"dockdojo.runner.hub.instructor" in (entry / "cmdline").read_bytes():
                    return int(entry.name)
    raise AssertionError("the instructor's view does not run")


def events(answer: requests.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """The server-sent events of a streamed answer, as ``(event, data)``, until it ends."""
    kind, data = "", ""
    with contextlib.suppress(requests.RequestException, AttributeError):
        for line in answer.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and kind:
                yield kind, json.loads(data)
                kind, data = "", ""


__all__ = [
    "PASSWORD",
    "environ",
    "events",
    "log_in",
    "ready",
    "running_hub",
    "server_process",
    "start_servers",
]
