"""Compose against this engine: the installed Compose, found in one place, and the
projects it leaves.

dockdojo does not implement Compose: it runs the one that is installed, the
``docker compose`` plugin (Compose v2) or the standalone ``docker-compose`` (Debian 12
has 1.29.2), always against the engine dockdojo uses (``DOCKER_HOST`` set to it, in an
environment of its own: a learner's ``DOCKER_HOST``, ``DOCKER_CONTEXT`` or
``COMPOSE_*`` variables never redirect it).

Containers that dockdojo's Compose up starts also carry dockdojo's labels (lesson, step,
learner), added by a small override file of labels only, so that Start over, a fresh
solve and a shared engine's ownership treat them as any container dockdojo made.

What Compose made is read back from the labels both versions put on every container
(``com.docker.compose.project``, ``com.docker.compose.service``), so a project counts
whichever Compose the learner used, in a terminal or here (:func:`compose_projects`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ComposeError
from .models import ContainerInfo

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
WORKDIR_LABEL = "com.docker.compose.project.working_dir"
COMPOSE_TIMEOUT = 900.0
"""Seconds one ``compose up`` (builds included) or ``down`` may take."""
OUTPUT_LINES = 30
"""Lines of a failing Compose's output kept for its error message."""
FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
"""The file names Compose looks for in a folder, in its order."""
INSTALL_HINT = (
    "Install Docker Compose: the docker compose plugin (Docker Desktop has it; on Debian "
    "or Ubuntu with Docker's packages: apt-get install docker-compose-plugin), or the "
    "standalone docker-compose (apt-get install docker-compose), then try again."
)

_found: dict[str, tuple[str, ...]] = {}
_lock = threading.Lock()


def _answers(argv: Sequence[str]) -> bool:
    try:
        done = subprocess.run(
            [*argv, "version"], capture_output=True, timeout=20, env=_base_env(), check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_compose() -> tuple[str, ...]:
    """The command that runs Compose here: ``docker compose`` when the plugin answers,
    else ``docker-compose``; :class:`ComposeError` when neither is installed."""
    with _lock:
        if "argv" in _found:
            return _found["argv"]
        candidates: list[tuple[str, ...]] = []
        docker = shutil.which("docker")
        if docker:
            candidates.append((docker, "compose"))
        standalone = shutil.which("docker-compose")
        if standalone:
            candidates.append((standalone,))
        for argv in candidates:
            if _answers(argv):
                _found["argv"] = argv
                return argv
    raise ComposeError(
        "No Compose is installed here (neither docker compose nor docker-compose).", INSTALL_HINT
    )


def compose_file(folder: Path) -> Path:
    """The Compose file of ``folder``; :class:`ComposeError` when it has none."""
    if not folder.is_dir():
        raise ComposeError(
            f"There is no folder {folder} to run Compose in.",
            "Check the folder's name (it is relative to the lesson's workspace).",
        )
    for name in FILES:
        if (folder / name).is_file():
            return folder / name
    raise ComposeError(
        f"There is no Compose file in {folder} ({' or '.join(FILES[:2])}).",
        "Compose reads the services from compose.yaml in the folder: create it, or run "
        "Compose in the folder that has one.",
    )


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def run_compose(
    host: str,
    folder: Path | str,
    args: Sequence[str],
    *,
    project: str | None = None,
    labels: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout: float = COMPOSE_TIMEOUT,
) -> str:
    """Run Compose with ``args`` (``up -d --build``, ``down``) on the engine at ``host``
    for the Compose file in ``folder``; its output. ``labels`` go on every service's
    containers. ``on_line`` sees each line as it comes. :class:`ComposeError` when
    Compose fails, with its last lines."""
    where = Path(folder).resolve()
    file = compose_file(where)
    argv = [*find_compose(), "--file", str(file), "--project-directory", str(where)]
    if project:
        argv += ["--project-name", project]
    if not labels:
        return _run(host, where, [*argv, *args], args, on_line, timeout)
    with tempfile.TemporaryDirectory(prefix="dockdojo-compose-") as scratch:
        override = Path(scratch) / "labels.yaml"  # JSON is YAML: labels only
        override.write_text(json.dumps(_labelled(host, where, argv, labels, timeout)))
        argv += ["--file", str(override)]
        return _run(host, where, [*argv, *args], args, on_line, timeout)


def _labelled(
    host: str, where: Path, argv: Sequence[str], labels: Mapping[str, str], timeout: float
) -> dict[str, Any]:
    """A Compose file of ``labels`` only, for every service's containers and for the
    images of those that are built (as Compose itself resolves the project's files)."""
    config = _run(host, where, [*argv, "config"], ["config"], None, timeout)
    try:
        services = (yaml.safe_load(config) or {}).get("services") or {}
    except yaml.YAMLError as exc:
        raise ComposeError(f"Compose's view of {where} could not be read ({exc}).") from exc
    out: dict[str, Any] = {}
    for name, service in services.items():
        out[name] = {"labels": dict(labels)}
        if isinstance(service, dict) and service.get("build"):
            out[name]["build"] = {"labels": dict(labels)}
    return {"services": out}


def _run(
    host: str,
    where: Path,
    argv: Sequence[str],
    args: Sequence[str],
    on_line: Callable[[str], None] | None,
    timeout: float,
) -> str:
    """Run Compose's ``argv`` (whose own arguments, for messages, are ``args``)."""
    env = {**_base_env(), "DOCKER_HOST": host, "COMPOSE_ANSI": "never", "NO_COLOR": "1"}
    lines: list[str] = []
    try:
        with subprocess.Popen(
            list(argv),
            cwd=where,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process:
            timer = threading.Timer(timeout, process.kill)
            timer.start()
            try:
                assert process.stdout is not None
                for raw in process.stdout:
                    line = raw.rstrip()
                    lines.append(line)
                    if on_line is not None and line:
                        on_line(line)
            finally:
                timer.cancel()
            code = process.wait()
    except OSError as exc:
        raise ComposeError(f"Compose could not be started ({exc}).", INSTALL_HINT) from exc
    output = "\n".join(lines)
    if code != 0:
        last = "\n".join(line for line in lines if line.strip())
        last = "\n".join(last.splitlines()[-OUTPUT_LINES:]) or "(it printed nothing)"
        raise ComposeError(
            f"compose {' '.join(args)} failed in {where} (exit code {code}). Its last lines:\n"
            f"{last}",
            "Read Compose's output above: fix the Compose file or the Dockerfiles it "
            "builds, then run it again.",
        )
    return output


@dataclass(frozen=True)
class ComposeProject:
    """One Compose project as its containers' labels say it."""

    name: str
    """The project's name (by default the folder's name)."""
    services: dict[str, tuple[ContainerInfo, ...]] = field(default_factory=dict)
    """Each service's containers, running or not."""
    folder: str = ""
    """The folder Compose ran in, when its labels say it."""

    def running(self) -> set[str]:
        """The services that have a running container."""
        return {s for s, found in self.services.items() if any(c.running for c in found)}


def compose_projects(containers: Iterable[ContainerInfo]) -> list[ComposeProject]:
    """The Compose projects the containers belong to, by name."""
    by_project: dict[str, dict[str, list[ContainerInfo]]] = {}
    folders: dict[str, str] = {}
    for container in containers:
        project = container.labels.get(PROJECT_LABEL)
        service = container.labels.get(SERVICE_LABEL)
        if not project or not service:
            continue
        by_project.setdefault(project, {}).setdefault(service, []).append(container)
        folders.setdefault(project, container.labels.get(WORKDIR_LABEL, ""))
    return [
        ComposeProject(name, {s: tuple(c) for s, c in sorted(services.items())}, folders[name])
        for name, services in sorted(by_project.items())
    ]


__all__ = [
    "PROJECT_LABEL",
    "SERVICE_LABEL",
    "ComposeProject",
    "compose_file",
    "compose_projects",
    "find_compose",
    "run_compose",
]
