"""Every attack of :mod:`grading.attacks` graded in one real batch (``dockdojo grade
--jobs 2``), beside a victim and an honest learner: each gets exactly what it deserves,
and nothing outside the submissions' own boxes changes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grading.attacks import ATTACKS, EXPECTED_OTHERS, HONEST, PREAMBLE, VICTIM, Attack
from grading.kit import PROJECT, GradingRoom, answers, grade_argv, submission

from dockdojo.runner.cli import main
from dockdojo.runner.grading.reports import safe_name
from dockdojo.runner.grading.stages import learner_of
from dockdojo.runner.room.pyenv import DEFAULT_KERNEL_ENV, prepare
from dockdojo.runner.room.salt import room_salt

SHADOW = Path("/etc/shadow")
"""A file only root may read."""
MANIFESTS = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _fill(cell: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        cell = cell.replace(f"@{key}@", value)
    return cell


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _manifest_digest(registry: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": MANIFESTS},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers["Docker-Content-Digest"])


@pytest.fixture
def reachable_out() -> Iterator[Path]:
    """A reports folder as a grader may keep one: 755, in a folder any user passes
    through, with an earlier batch's feedback notebook in it (644)."""
    out = Path(tempfile.mkdtemp(prefix="dockdojo-grades-", dir="/var/tmp"))
    try:
        out.chmod(0o755)
        earlier = out / "earlier.feedback.ipynb"
        earlier.write_text('{"cells": [], "the": "solutions"}\n')
        earlier.chmod(0o644)
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _private(folder: Path) -> bool:
    """``folder`` is 0700, and everything in it 0600 (its files) or 0700."""
    modes = [stat.S_IMODE(p.lstat().st_mode) for p in folder.iterdir()]
    return stat.S_IMODE(folder.stat().st_mode) == 0o700 and set(modes) <= {0o600, 0o700}


def _submit_as(path: Path, file: str) -> None:
    """Replace the notebook at ``path`` by what :attr:`Attack.file` names."""
    if file == "notebook":
        return
    path.unlink()
    if file == "link":
        path.symlink_to(SHADOW)
    elif file == "fifo":
        os.mkfifo(path)
    else:
        raise ValueError(f"no such kind of submitted file: {file!r}")


def _holds_shadow(folder: Path) -> bool:
    """Whether any file in ``folder`` holds a line of :data:`SHADOW`."""
    secrets = [line for line in SHADOW.read_text().splitlines() if ":" in line]
    texts = [p.read_text(errors="replace") for p in folder.iterdir() if p.is_file()]
    return any(line in text for line in secrets for text in texts)


def _outcome(attack: Attack, got: dict[str, object]) -> str | None:
    """Why ``got`` (the learner's JSON report) is not what ``attack`` deserves, or None."""
    execution = got["execution"]
    assert isinstance(execution, dict)
    wrong = []
    if got["points"] != attack.points:
        wrong.append(
            f"{got['points']} points, not {attack.points} ({str(execution['message'])[:300]!r})"
        )
    if execution["status"] != attack.status:
        wrong.append(f"ended {execution['status']}, not {attack.status}")
    if attack.message and not re.search(attack.message, str(execution["message"])):
        wrong.append(f"message {execution['message']!r} lacks /{attack.message}/")
    if execution["isolation"] != "isolated":
        wrong.append(f"ran {execution['isolation']}")
    return "; ".join(wrong) or None


LEAKS = ("dd-leak", "dd-ctr-*", "dd-ns-*")
"""What the leaking rows try to leave in the host's shared folders."""


def _leaked() -> list[Path]:
    """Files the leaking rows left in the folders every user may write."""
    return [
        found
        for folder in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/etc"))
        for pattern in LEAKS
        for found in folder.glob(pattern)
    ]


def _untouched(server: socket.socket) -> bool:
    """Whether nobody connected to ``server`` (then closed)."""
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    finally:
        server.close()
    return False


def test_every_attack_gets_what_it_deserves_and_harms_no_one(
    tmp_path: Path,
    grading_room: GradingRoom,
    monkeypatch: pytest.MonkeyPatch,
    reachable_out: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(PROJECT)
    # the room's secret, as the grader knows it: kernels never see it
    monkeypatch.setenv("DOCKDOJO_TAG_SALT", room_salt(grading_room.config))
    registry = os.environ["DOCKDOJO_TEST_REGISTRY"]
    subs = tmp_path / "submissions"
    subs.mkdir(mode=0o700)
    out = reachable_out
    loopback = socket.create_server(("127.0.0.1", 0))  # a service of the grader's host
    loopback.settimeout(0)
    values = {
        "LOOPBACK": str(loopback.getsockname()[1]),
        "OUT": str(out),
        "SUBS": str(subs),
        "MIRROR": str(grading_room.config.mirror_port),
        "SANDBOX": str(Path(os.environ["DOCKDOJO_TEST_SANDBOX_STATE"]) / "docker.sock"),
        "VICTIM": VICTIM,
        "STATE": str(grading_room.config.state),
    }
    paths = [
        submission(subs, _fill(a.name, values), {"redis-cache": PREAMBLE + _fill(a.cell, values)})
        for a in ATTACKS
    ]
    paths += [submission(subs, VICTIM, {}), submission(subs, HONEST, answers(HONEST))]
    for attack, path in zip(ATTACKS, paths, strict=False):
        _submit_as(path, attack.file)
    notebooks = {p: p.read_bytes() for p in paths if p.is_file() and not p.is_symlink()}
    prepare(DEFAULT_KERNEL_ENV)  # as the batch will find it
    kernel_code = _tree_digest(DEFAULT_KERNEL_ENV)
    fds = len(os.listdir("/proc/self/fd"))

    started = time.monotonic()
    code = main(
        grade_argv(
            paths,
            out,
            grading_room,
            jobs=2,
            cell_timeout=40,
            timeout=150,
            memory_mb=512,
            cpu_seconds=15,
        )
    )
    took = time.monotonic() - started
    printed = capsys.readouterr()
    assert code == 0, printed.err
    time.sleep(3)  # a late writer that outlived its submission would have written by now

    reports = {}
    for path in paths:
        text = (out / f"{safe_name(learner_of(path))}.json").read_text()
        reports[path.stem] = json.loads(text)  # "reports intact": every one still parses
    wrong = {a.name: _outcome(a, reports[_fill(a.name, values)]) for a in ATTACKS}
    table = "\n".join(f"  {name}: {why}" for name, why in wrong.items() if why)
    assert not table, f"attacks that did not get what they deserve ({took:.0f} s):\n{table}"
    others = {name: reports[name]["points"] for name in EXPECTED_OTHERS}
    assert others == EXPECTED_OTHERS, "the attacks changed other learners' scores"

    outside: dict[str, Callable[[], bool]] = {
        "reports private": lambda: _private(out),
        "escapes shown, not sent": lambda: (
            "\x1b" not in printed.out
            and "\x1b]0;owned" not in printed.err
            and "\\x1b]0;owned\\x07" in printed.out
        ),
        "no root-only content in reports": lambda: not _holds_shadow(out),
        "reports intact": lambda: (
            not (out / "x").exists() and reports["late-writer"]["points"] != 9
        ),
        "kernel code unchanged": lambda: _tree_digest(DEFAULT_KERNEL_ENV) == kernel_code,
        "victim scores nothing": lambda: reports[VICTIM]["points"] == 0,
        "victim's files are the victim's": lambda: (
            reports[VICTIM]["learner"] == VICTIM
            and json.loads((out / f"{VICTIM}.results.json").read_text())["score"] == 0
            and "schema" not in json.loads((out / f"{VICTIM}.results.json").read_text())
        ),
        "submissions unchanged": lambda: all(p.read_bytes() == b for p, b in notebooks.items()),
        "mirror unchanged": lambda: (
            _manifest_digest(
                f"127.0.0.1:{grading_room.config.mirror_port}", "library/nginx", "latest"
            )
            == _manifest_digest(registry, "library/nginx", "latest")
        ),
        "loopback untouched": lambda: _untouched(loopback),
        "no leaked files": lambda: not _leaked(),
    }
    named = {name for a in ATTACKS for name in a.outside}
    assert named <= set(outside), f"rows name checks that do not exist: {named - set(outside)}"
    harmed = [name for name, held in outside.items() if not held()]
    assert not harmed, f"harm seen from outside: {harmed}"
    assert len(os.listdir("/proc/self/fd")) <= fds + 5, "the grader kept file descriptors open"
