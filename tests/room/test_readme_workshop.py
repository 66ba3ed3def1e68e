"""The README's "Running a workshop", followed line by line: every command of its console
blocks, in order, as an instructor would type it, from the day before (a packed
archive) to a learner's server running on the room's hub.

The commands are read from README.md, not copied here, so a line that changes there is
the line run here. What this machine makes different is rewritten, each rewrite in
``REWRITES`` with its reason; every other line runs as written and must succeed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from common_kit import free_port
from room.hubkit import hub_process
from room.seats import add_user, new_name, new_room, processes_of, remove_user

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def workshop_lines(readme: Path = ROOT / "README.md") -> list[tuple[str, str]]:
    """Each command of the workshop section's console blocks, with the paragraph title
    (``**The day before**``, ``### On JupyterHub``...) it stands under."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("\n## Running a workshop\n", 1)[1].split("\n### The instructor's view", 1)[
        0
    ]
    lines: list[tuple[str, str]] = []
    heading = ""
    in_block = False
    command = ""
    for raw in section.splitlines():
        if raw.startswith("```"):
            in_block = raw.strip() == "```console"
            continue
        if not in_block:
            if raw.startswith(("**", "###")):
                heading = raw.split("**")[1] if raw.startswith("**") else raw.lstrip("# ")
            continue
        line = raw if command else raw.removeprefix("# ")
        command += re.split(r"\s{2,}# ", line.strip())[0]  # drop the comments
        if command.endswith("\\"):
            command = command[:-1].rstrip() + " "
            continue
        lines.append((heading, command))
        command = ""
    return lines


@dataclass
class Walk:
    """What the rewrites need to know of this run."""

    registry: str
    folder: Path
    names: dict[str, str]
    env: dict[str, str]


REWRITES: list[tuple[str, str, str]] = [
    # (pattern, replacement, why)
    (
        r" --pull-through$",
        "",
        "offline: no Docker Hub to pull through; pack reads the test registry instead",
    ),
    (
        r"^dockdojo room mirror pack (.*)$",
        r"dockdojo room mirror pack \1 --from {registry}",
        "offline: the fixture images come from the test registry (README: --from HOST:PORT)",
    ),
    (
        r"^npm install -g configurable-http-proxy$",
        "command -v configurable-http-proxy",
        "installed by the test world (tests/world/install.sh); the npm registry may be away",
    ),
    (
        r"^python3 -m venv /opt/dockdojo$",
        "test -x {bin}/python",
        "dockdojo's environment is the repository's .venv, installed by make test",
    ),
    (
        r"^/opt/dockdojo/bin/pip install 'dockdojo\[lab,hub\]'$",
        "{bin}/python -c 'import dockdojo.runner, jupyterlab, jupyterhub, jupyterhub_idle_culler'",
        "the same extras, installed from this clone (the wheel: tests/install/test_wheel.py)",
    ),
    (r"/opt/dockdojo/bin", "{bin}", "the repository's .venv stands for /opt/dockdojo"),
    (r"/etc/dockdojo/", "{folder}/", "nothing is written to this machine's /etc"),
]
"""Rewrites of README lines for this machine, in order: (regex, replacement, reason)."""


def rewrite(command: str, walk: Walk) -> str:
    for pattern, replacement, _why in REWRITES:
        command = re.sub(pattern, replacement, command)
    if command.startswith("apt-get install") and shutil.which("npm"):
        # a Node.js that brings its own npm (NodeSource's) conflicts with Debian's npm
        command = command.replace(" npm", "")
    for readme_name, name in walk.names.items():
        command = re.sub(rf"\b{readme_name}\b", name, command)
    return command.format(registry=walk.registry, folder=walk.folder, bin=BIN)


def run(command: str, walk: Walk, timeout: float = 300) -> str:
    """One README line in bash, as root, in the walk's folder; its output. It must
    succeed."""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=walk.folder,
        env=walk.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    shown = f"$ {command}\n{done.stdout}{done.stderr}"
    print(shown, file=sys.stderr)
    assert done.returncode == 0, shown
    return done.stdout + done.stderr


def logged_in(url: str, name: str, password: str) -> tuple[requests.Session, int]:
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=10)
    answer = session.post(
        f"{url}/hub/login",
        data={"username": name, "password": password, "_xsrf": session.cookies.get("_xsrf")},
        timeout=30,
        allow_redirects=False,
    )
    return session, answer.status_code


def learner_server_starts(url: str, name: str, password: str) -> None:
    session, status = logged_in(url, name, password)
    assert status == 302, status
    admin = session.get(f"{url}/hub/admin", timeout=30)
    assert admin.status_code == 403, admin.status_code  # a learner is no admin
    xsrf = session.cookies.get("_xsrf") or ""
    headers = {"X-XSRFToken": xsrf}
    started = session.post(f"{url}/hub/api/users/{name}/server", headers=headers, timeout=180)
    assert started.status_code in (201, 202), started.text[:500]
    deadline = time.monotonic() + 180
    while True:
        model = session.get(f"{url}/hub/api/users/{name}", headers=headers, timeout=10).json()
        if ((model.get("servers") or {}).get("") or {}).get("ready"):
            break
        assert time.monotonic() < deadline, f"{name}'s server did not start"
        time.sleep(0.5)
    lab = session.get(f"{url}/user/{name}/lab", timeout=60)  # through the hub's OAuth
    assert lab.status_code == 200, lab.text[:300]
    lesson = session.get(f"{url}/user/{name}/api/contents/dockdojo-lessons", timeout=30)
    assert lesson.status_code == 200, lesson.text[:300]
    assert "what-is-an-image.ipynb" in {item["name"] for item in lesson.json()["content"]}


def test_the_readme_workshop_section_line_by_line(tmp_path_factory: pytest.TempPathFactory) -> None:
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    assert registry, "DOCKDOJO_TEST_REGISTRY is not set: run this through make test."
    lines = workshop_lines()
    assert [h for h, _ in lines][:1] == ["The day before"], lines
    folder = tmp_path_factory.mktemp("readme-workshop")
    folder.chmod(0o755)
    ada, bob = add_user(new_name()), add_user(new_name())
    learners_password, instructors_password = secrets.token_hex(8), secrets.token_hex(20)
    hub_port = free_port()
    extra = (
        f"[hub]\nport = {hub_port}\napi_port = {free_port()}\nproxy_api_port = {free_port()}\n"
        f"[instructor]\nport = {free_port()}\n"
    )
    ran: list[str] = []
    try:
        with new_room(free_port()) as before, new_room(free_port(), extra=extra) as room:
            walk = Walk(
                registry,
                folder,
                {"ada": ada.name, "bob": bob.name, "teacher": f"t{new_name()}"},
                {
                    "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin",
                    "HOME": "/root",
                    "LEARNERS_PASSWORD": learners_password,
                    "INSTRUCTORS_PASSWORD": instructors_password,
                },
            )
            try:
                for heading, line in lines:
                    # the day before is another machine: a room of its own
                    room_file = before.file if heading == "The day before" else room.file
                    walk.env["DOCKDOJO_ROOM_CONFIG"] = str(room_file)
                    command = rewrite(line, walk)
                    ran.append(command)
                    if command.startswith("export "):
                        key, _, value = command.removeprefix("export ").partition("=")
                        walk.env[key] = os.path.expandvars(
                            value.replace(f"${key}", walk.env.get(key, ""))
                        )
                        continue
                    if command.startswith("jupyterhub "):
                        with hub_process(
                            ["bash", "-c", f"exec {command}"],
                            cwd=walk.folder,
                            env=walk.env,
                            log=walk.folder / "hub.log",
                            port=hub_port,
                            state=room.config.state,
                        ) as url:
                            teacher = walk.names["teacher"]
                            # a learner who knows the learners' password is no instructor
                            _, status = logged_in(url, teacher, learners_password)
                            assert status != 302, "the learners' password opened the hub's admin"
                            _, status = logged_in(url, teacher, instructors_password)
                            assert status == 302, status
                            learner_server_starts(url, ada.name, learners_password)
                        continue
                    check_output(line, run(command, walk), walk)
            finally:
                walk.env["DOCKDOJO_ROOM_CONFIG"] = str(room.file)
                with contextlib.suppress(AssertionError):
                    run("dockdojo room engine stop --all", walk)
                for file in (before.file, room.file):
                    subprocess.run(
                        ["bash", "-c", "dockdojo room mirror stop"],
                        env={**walk.env, "DOCKDOJO_ROOM_CONFIG": str(file)},
                        capture_output=True,
                        check=False,
                    )
            assert not processes_of(ada), "ada's engine outlived stop --all"
    finally:
        for who in (ada, bob):
            remove_user(who)
    print("\n".join(["README lines run:", *ran]), file=sys.stderr)


def check_output(line: str, output: str, walk: Walk) -> None:
    """What the README's comment on ``line`` promises, where it can be checked."""
    words = shlex.split(line)
    if words[:4] == ["dockdojo", "room", "mirror", "pack"]:
        archive = walk.folder / words[words.index("-o") + 1]
        promised = float(re.search(r"#\s*(\d+) MB", readme_line(line)).group(1))  # type: ignore[union-attr]
        size = archive.stat().st_size / 1e6
        assert 0.75 * promised < size < 1.25 * promised, f"{size:.0f} MB, README says {promised}"
    elif words[:4] == ["dockdojo", "room", "mirror", "start"]:
        assert re.search(r"http://127\.0\.0\.1:\d+", output), output
    elif words[:4] == ["dockdojo", "room", "mirror", "status"]:
        for lesson in ("what-is-a-container", "what-is-an-image"):
            assert re.search(rf"lesson {lesson}: ready", output), output
    elif words[:2] == ["dockdojo", "doctor"]:
        assert "ready" in output, output
        assert "not ready" not in output, output
    elif words[:4] == ["dockdojo", "room", "engine", "start"]:
        assert re.search(r"export DOCKER_HOST=unix:///run/user/\d+/docker\.sock", output), output


def readme_line(command: str) -> str:
    """The README's whole line (with its comment) for ``command``."""
    for raw in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if raw.startswith("# ") and raw[2:].startswith(command):
            return raw
    raise AssertionError(f"{command!r} is not a line of README.md")
