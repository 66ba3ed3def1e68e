"""A private Docker Engine and a local registry for machines without a usable Docker.

The sandbox runs ``dockerd`` with its own data root, exec root, pidfile and socket under
one state folder, and a Distribution registry on ``127.0.0.1:PORT`` that the engine
uses as its registry mirror, so a plain ``docker pull nginx`` is served from it. It
never touches the system engine's ``/var/run/docker.sock``. It installs nothing: when a
binary is missing it says which package provides it. Starting, ending and unmounting go
through :mod:`dockdojo.runner.privileged` (whose errors it lets through).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .errors import SandboxError
from .privileged.mounts import unmount_under
from .privileged.processes import alive, processes_using, read_pid, spawn, terminate, write_pid

DEFAULT_REGISTRY_PORT = 5000
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


def default_state_dir() -> Path:
    """Where the sandbox keeps its engine and registry when no ``--state`` is given."""
    return Path(platformdirs.user_cache_dir("dockdojo")) / "sandbox"


@dataclass(frozen=True)
class SandboxStatus:
    """What runs in a sandbox and where."""

    state_dir: Path
    """The folder holding the engine's data, sockets, logs and the registry's storage."""
    docker_host: str
    """The ``DOCKER_HOST`` value that reaches the sandbox engine."""
    registry_url: str
    """Base URL of the registry mirror."""
    engine_pid: int | None
    """Process id of ``dockerd`` when it runs."""
    engine_ready: bool
    """Whether the engine answers on its socket."""
    registry_pid: int | None
    """Process id of the registry when it runs."""
    registry_ready: bool
    """Whether the registry answers HTTP."""
    journal: Path | None = None
    """dockdojo's journal of the engine's past (:mod:`.engine.journal`)."""
    journal_pid: int | None = None
    """Process id of the journal's recorder when it runs."""

    @property
    def running(self) -> bool:
        return self.engine_ready and self.registry_ready

    def describe(self) -> str:
        def line(name: str, pid: int | None, ready: bool, where: str, doing: str) -> str:
            if pid is None:
                return f"{name}: stopped"
            state = doing if ready else "started but not answering"
            return f"{name}: {state} (pid {pid}) at {where}"

        engine = line("engine", self.engine_pid, self.engine_ready, self.docker_host, "running")
        registry = line(
            "registry mirror", self.registry_pid, self.registry_ready, self.registry_url, "running"
        )
        journal = line("journal", self.journal_pid, True, str(self.journal), "recording")
        return "\n".join([f"sandbox state: {self.state_dir}", engine, registry, journal])


class Sandbox:
    """One private engine plus registry, identified by its state folder."""

    def __init__(self, state_dir: Path | None = None, registry_port: int | None = None) -> None:
        self.state_dir = (state_dir or default_state_dir()).resolve()
        self._port_file = self.state_dir / "registry.port"
        if registry_port is None and self._port_file.exists():
            registry_port = int(self._port_file.read_text().strip())
        self.registry_port = registry_port or DEFAULT_REGISTRY_PORT

    # paths -------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.state_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def journal(self) -> Path:
        """dockdojo's journal of the engine's past (:mod:`.engine.journal`)."""
        return self.state_dir / "journal.jsonl"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    @property
    def registry_address(self) -> str:
        """``host:port`` under which images are pushed to the mirror."""
        return f"127.0.0.1:{self.registry_port}"

    def _path(self, name: str) -> Path:
        return self.state_dir / name

    # lifecycle ---------------------------------------------------------------------
    def status(self) -> SandboxStatus:
        engine_pid = alive(read_pid(self._path("dockerd.pid")))
        registry_pid = alive(read_pid(self._path("registry.pid")))
        return SandboxStatus(
            state_dir=self.state_dir,
            docker_host=self.docker_host,
            registry_url=self.registry_url,
            engine_pid=engine_pid,
            engine_ready=engine_pid is not None and engine_answers(self.socket_path),
            registry_pid=registry_pid,
            registry_ready=registry_pid is not None and _registry_answers(self.registry_url),
            journal=self.journal,
            journal_pid=alive(read_pid(self._path("journal.pid"))),
        )

    def start(self) -> SandboxStatus:
        """Start whatever is not running yet; safe to call when all of it runs."""
        dockerd, registry = check_can_run()
        current = self.status()
        if current.running:
            return current
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if current.registry_pid is None:
            self._start_registry(registry)
        _wait_for(
            lambda: _registry_answers(self.registry_url),
            "the registry mirror",
            self._path("registry.log"),
        )
        since = 0.0
        if current.engine_pid is None:
            since = time.time()
            self._start_engine(dockerd)
        _wait_for(
            lambda: engine_answers(self.socket_path),
            "the Docker Engine",
            self._path("dockerd.log"),
        )
        if alive(read_pid(self._path("journal.pid"))) is None:
            from .engine.journal import following  # the engine layer, when it starts

            recorder = journal_recorder(self.docker_host, self.journal, since)
            spawned = time.time()
            pid = spawn(recorder, self._path("journal.log"))
            self._path("journal.pid").write_text(f"{pid}\n")
            _wait_for(
                lambda: following(self.journal, spawned) or alive(pid) is None,
                "the engine's journal",
                self._path("journal.log"),
            )
            if alive(pid) is None:
                raise SandboxError(
                    "The engine's journal stopped while starting. Last lines of "
                    f"{self._path('journal.log')}:\n{_log_tail(self._path('journal.log'))}",
                    "Fix what the log says, then run dockdojo sandbox start again.",
                )
        return self.status()

    def stop(self) -> SandboxStatus:
        """Stop the engine (and its containers) and the registry; unmount what they left."""
        terminate(read_pid(self._path("dockerd.pid")), "dockerd")
        terminate(read_pid(self._path("journal.pid")), "the engine's journal")
        # dockerd stops its containerd itself; a crashed engine can leave it behind.
        terminate(read_pid(self._path("exec/containerd/containerd.pid")), "containerd")
        registry = alive(read_pid(self._path("registry.pid")))
        terminate(registry, "registry")
        # Whatever else still names the state folder (container shims) goes too.
        for pid in processes_using(self.state_dir):
            terminate(pid, f"process {pid}")
        for name in ("dockerd.pid", "registry.pid", "journal.pid", "docker.sock"):
            self._path(name).unlink(missing_ok=True)
        # A start right after a stop must find the registry's port free again.
        deadline = time.monotonic() + _STOP_TIMEOUT
        while registry and port_taken(self.registry_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        unmount_under(self.state_dir)
        return self.status()

    def _start_registry(self, binary: str) -> None:
        if port_taken(self.registry_port):
            raise SandboxError(
                f"Port {self.registry_port} on 127.0.0.1 is taken by another program, "
                "so the sandbox registry cannot listen there.",
                "Stop that program or choose another port: "
                "dockdojo sandbox start --registry-port PORT",
            )
        config = self._path("registry.yml")
        storage = self._path("registry")
        storage.mkdir(exist_ok=True)
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {storage}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.registry_port}\n"
        )
        self._port_file.write_text(f"{self.registry_port}\n")
        pid = spawn([binary, "serve", str(config)], self._path("registry.log"))
        write_pid(self._path("registry.pid"), pid)

    def _start_engine(self, binary: str) -> None:
        from .engine.journal import LABEL as JOURNAL_LABEL  # the engine layer, when it starts

        self._path("data").mkdir(exist_ok=True)
        self._path("exec").mkdir(exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        spawn(
            [
                binary,
                "--data-root",
                str(self._path("data")),
                "--exec-root",
                str(self._path("exec")),
                "--pidfile",
                str(self._path("dockerd.pid")),
                "--host",
                self.docker_host,
                "--registry-mirror",
                self.registry_url,
                "--shutdown-timeout",
                "5",
                "--label",
                f"{JOURNAL_LABEL}={self.journal}",
            ],
            self._path("dockerd.log"),
        )


def check_can_run() -> tuple[str, str]:
    """Return the paths of dockerd and the registry, or say why the sandbox cannot run."""
    if platform.system() != "Linux":
        raise SandboxError(
            f"The sandbox needs Linux; this is {platform.system()}.",
            "Use Docker Desktop here: dockdojo finds it on its own once it is running.",
        )
    if os.geteuid() != 0:
        raise SandboxError(
            "The sandbox engine needs root (dockerd manages mounts and networks).",
            "Run it as root (sudo dockdojo sandbox start), or use Docker Engine / Docker Desktop.",
        )
    dockerd = shutil.which("dockerd")
    registry = shutil.which("docker-registry") or shutil.which("registry")
    missing = []
    if dockerd is None:
        missing.append("dockerd (Debian/Ubuntu package docker.io)")
    if registry is None:
        missing.append("docker-registry (Debian/Ubuntu package docker-registry)")
    if shutil.which("iptables") is None:
        missing.append("iptables (Debian/Ubuntu package iptables)")
    if missing:
        raise SandboxError(
            "The sandbox cannot start: not installed: " + ", ".join(missing) + ".",
            "Install them, e.g. apt-get install -y docker.io docker-registry iptables, "
            "then run dockdojo sandbox start again.",
        )
    assert dockerd is not None
    assert registry is not None
    return dockerd, registry


def journal_recorder(docker_host: str, journal: Path, since: float) -> list[str]:
    """The command that records ``journal`` of the engine at ``docker_host`` from ``since``
    (:func:`~dockdojo.runner.engine.recorder.record`); its starter runs it as a daemon."""
    return [
        sys.executable,
        "-m",
        "dockdojo.runner.engine.recorder",
        "--host",
        docker_host,
        "--journal",
        str(journal),
        "--since",
        f"{since:.6f}",
    ]


def answers_ok(sock: Path, request: bytes) -> bool:
    """Whether an HTTP/1.0 ``request`` sent to the UNIX socket ``sock`` gets a 200."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(str(sock))
            s.sendall(request)
            return s.recv(64).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def engine_answers(sock: Path) -> bool:
    """Whether a Docker Engine answers ``/_ping`` on the UNIX socket ``sock``."""
    return answers_ok(sock, b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")


def _registry_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/", timeout=2.0) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def port_taken(port: int) -> bool:
    """Whether something listens on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(log: Path) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-8:])


def _wait_for(ready: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise SandboxError(
        f"{what} did not come up within {_START_TIMEOUT:.0f} s. "
        f"Last lines of {log}:\n{_log_tail(log)}",
        "Fix what the log says, then run dockdojo sandbox stop and dockdojo sandbox start.",
    )
