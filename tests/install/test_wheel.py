"""dockdojo as a learner installs it: a wheel built from the project, installed into a
fresh virtual environment, run in a folder that is not the repository.

Installing every dependency from the package index into the fresh environment would take
minutes, so only the wheel is installed there (``--no-deps``); the dependencies come
from the project's own ``.venv``, whose site-packages folder the fresh environment lists
in a ``.pth`` file. Python does not read the ``.pth`` files of a folder listed that way,
so the project's editable install is not seen: the dockdojo that runs is the wheel's
(the first test checks this).

JupyterLab is not started: ``jupyter-lab`` in the fresh environment is a fake that
records its arguments. The Docker Engine is a fake too, answering the three requests
``dockdojo lab`` makes to see which engine it is.
"""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import subprocess
import sys
import sysconfig
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSON = "what-is-an-image"
COURSE = len([p for p in (REPO / "content").glob("*.md") if not p.name.startswith("_")])
"""How many lessons the wheel packages."""
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    ".*_cache",
    "__pycache__",
    ".typecheck",
    ".ipynb_checkpoints",
)

FAKE_JUPYTER_LAB = """#!/bin/sh
# A fake jupyter-lab for tests/install/test_wheel.py: it records its arguments, one a
# line, in $DOCKDOJO_TEST_JUPYTER_RECORD and starts nothing.
printf '%s\\n' "$@" > "$DOCKDOJO_TEST_JUPYTER_RECORD"
"""


def _run(
    what: str, argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step of the install; a failure fails the test and says which step it was."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=180, cwd=cwd, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{what} could not run: {exc}")
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return done


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel, built from a copy of the project (so that the build leaves nothing in
    the repository), installed into a fresh virtual environment."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES, symlinks=True)
    _run(
        "Building the wheel",
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(root / "dist"),
            str(source),
        ],
    )
    wheels = sorted((root / "dist").glob("dockdojo-*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"Building the wheel made {[w.name for w in wheels]}, not one dockdojo wheel.")

    venv = root / "fresh"
    _run("Creating a fresh virtual environment", [sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run(
        "Installing the wheel",
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            str(wheels[0]),
        ],
    )
    site = Path(
        _run(
            "Asking the fresh environment for its site-packages",
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        ).stdout.strip()
    )
    (site / "dockdojo-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    jupyter_lab = venv / "bin" / "jupyter-lab"
    jupyter_lab.write_text(FAKE_JUPYTER_LAB)
    jupyter_lab.chmod(0o755)
    return Installed(wheel=wheels[0], venv=venv, site_packages=site)


class _FakeEngineHandler(BaseHTTPRequestHandler):
    """Answers what ``Engine.ping`` asks (``_ping``, ``version``, ``info``), nothing else."""

    protocol_version = "HTTP/1.1"
    answers: dict[str, object] = {  # noqa: RUF012 - read only
        "/_ping": "OK",
        "/version": {"Version": "99.0-fake", "ApiVersion": "1.44", "Os": "linux", "Arch": "amd64"},
        "/info": {"RegistryConfig": {"Mirrors": []}},
    }

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        key = next((k for k in self.answers if path.endswith(k)), None)
        answer = self.answers.get(key) if key else None
        body = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        self.send_response(200 if key else 404)
        self.send_header(
            "Content-Type", "text/plain" if isinstance(answer, str) else "application/json"
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake_engine(short_dir: Path) -> Iterator[str]:
    """A fake Docker Engine's address: enough of the API to be found, nothing more."""
    socket_path = short_dir / "docker.sock"
    server = _UnixServer(str(socket_path), _FakeEngineHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{socket_path}"
    server.shutdown()
    server.server_close()


def test_the_wheel_ships_the_lesson_sources_and_no_notebooks(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert f"dockdojo/content/{LESSON}.md" in names
    assert "dockdojo/content/_includes/guides-get-docker.md" in names
    assert not [n for n in names if n.startswith("lessons/") or n.endswith(".ipynb")]


def test_the_fresh_environment_runs_the_wheels_dockdojo(
    installed: Installed, tmp_path: Path
) -> None:
    done = _run(
        "Importing dockdojo in the fresh environment",
        [
            str(installed.bin / "python"),
            "-c",
            "import dockdojo.runner, dockdojo.content, docker; "
            "print(dockdojo.runner.__file__); print(dockdojo.content.__file__)",
        ],
        cwd=tmp_path,
    )
    for line in done.stdout.split():
        assert Path(line).is_relative_to(installed.site_packages), line


def test_lab_outside_a_clone_builds_the_lessons_and_keeps_the_learners_edit(
    installed: Installed, fake_engine: str, tmp_path: Path
) -> None:
    home = tmp_path / "learner"
    home.mkdir()
    record = tmp_path / "jupyter-lab.argv"
    env = {**os.environ, "DOCKER_HOST": fake_engine, "DOCKDOJO_TEST_JUPYTER_RECORD": str(record)}
    dockdojo = str(installed.bin / "dockdojo")
    workspace = home / "dockdojo-lessons"
    notebook = workspace / f"{LESSON}.ipynb"

    first = _run(
        "dockdojo lab (first run)",
        [dockdojo, "lab", "--", "--port", "8899", "--no-browser"],
        cwd=home,
        env=env,
    )
    assert first.stderr.splitlines()[:2] == [
        f"built {COURSE} lessons into ./dockdojo-lessons",
        f"Using the Docker Engine at {fake_engine} (Docker 99.0-fake).",
    ]
    assert json.loads(notebook.read_text())["metadata"]["dockdojo"]["lesson"] == LESSON
    expected = [f"--notebook-dir={workspace}", "--port", "8899", "--no-browser"]
    if os.geteuid() == 0:
        expected.append("--allow-root")
    assert record.read_text().splitlines() == expected
    assert sorted(p.name for p in home.iterdir()) == ["dockdojo-lessons"]

    mine = notebook.read_text().replace('"cells": [', '"cells": [\n  ', 1) + "\n"
    notebook.write_text(mine)
    record.unlink()
    second = _run("dockdojo lab (second run)", [dockdojo, "lab"], cwd=home, env=env)
    assert second.stderr.splitlines()[0] == f"./dockdojo-lessons: {COURSE} lessons, up to date"
    assert notebook.read_text() == mine
    assert record.read_text().splitlines()[0] == f"--notebook-dir={workspace}"

    # A newer dockdojo with a changed lesson: the learner's notebook is still kept.
    source = installed.site_packages / "dockdojo" / "content" / f"{LESSON}.md"
    packaged = source.read_text()
    source.write_text(packaged + "\nOne more paragraph.\n")
    try:
        third = _run("dockdojo lab (after an upgrade)", [dockdojo, "lab"], cwd=home, env=env)
    finally:
        source.write_text(packaged)
    assert third.stderr.splitlines()[1].startswith(
        f"kept {LESSON}.ipynb in ./dockdojo-lessons: you changed it"
    )
    assert notebook.read_text() == mine
