"""Every attack of :mod:`grading.attacks` graded in one real batch (``dockdojo grade
--jobs 2``), beside a victim and an honest learner: each gets exactly what it deserves,
and nothing outside the submissions' own boxes changes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from grading.attacks import ATTACKS, EXPECTED_OTHERS, HONEST, PREAMBLE, VICTIM, Attack
from grading.kit import PROJECT, GradingRoom, answers, grade_argv, submission

from dockdojo.runner.cli import main
from dockdojo.runner.room.pyenv import DEFAULT_KERNEL_ENV, prepare
from dockdojo.runner.room.salt import room_salt

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


def _outcome(attack: Attack, got: dict[str, object]) -> str | None:
    """Why ``got`` (the learner's JSON report) is not what ``attack`` deserves, or None."""
    execution = got["execution"]
    assert isinstance(execution, dict)
    wrong = []
    if got["points"] != attack.points:
        wrong.append(f"{got['points']} points, not {attack.points}")
    if execution["status"] != attack.status:
        wrong.append(f"ended {execution['status']}, not {attack.status}")
    if attack.message and not re.search(attack.message, str(execution["message"])):
        wrong.append(f"message {execution['message']!r} lacks /{attack.message}/")
    if execution["isolation"] != "isolated":
        wrong.append(f"ran {execution['isolation']}")
    return "; ".join(wrong) or None


def test_every_attack_gets_what_it_deserves_and_harms_no_one(
    tmp_path: Path,
    grading_room: GradingRoom,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT)
    # the room's secret, as the grader knows it: kernels never see it
    monkeypatch.setenv("DOCKDOJO_TAG_SALT", room_salt(grading_room.config))
    registry = os.environ["DOCKDOJO_TEST_REGISTRY"]
    subs = tmp_path / "submissions"
    subs.mkdir(mode=0o700)
    out = tmp_path / "grades"
    out.mkdir()
    values = {
        "OUT": str(out),
        "SUBS": str(subs),
        "MIRROR": str(grading_room.config.mirror_port),
        "SANDBOX": str(Path(os.environ["DOCKDOJO_TEST_SANDBOX_STATE"]) / "docker.sock"),
        "VICTIM": VICTIM,
        "STATE": str(grading_room.config.state),
    }
    paths = [
        submission(subs, a.name, {"redis-cache": PREAMBLE + _fill(a.cell, values)}) for a in ATTACKS
    ]
    paths += [submission(subs, VICTIM, {}), submission(subs, HONEST, answers(HONEST))]
    notebooks = {p: p.read_bytes() for p in paths}
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
    assert code == 0
    time.sleep(3)  # a late writer that outlived its submission would have written by now

    reports = {}
    for path in paths:
        text = (out / f"{path.stem}.json").read_text()
        reports[path.stem] = json.loads(text)  # "reports intact": every one still parses
    wrong = {a.name: _outcome(a, reports[a.name]) for a in ATTACKS}
    table = "\n".join(f"  {name}: {why}" for name, why in wrong.items() if why)
    assert not table, f"attacks that did not get what they deserve ({took:.0f} s):\n{table}"
    others = {name: reports[name]["points"] for name in EXPECTED_OTHERS}
    assert others == EXPECTED_OTHERS, "the attacks changed other learners' scores"

    outside: dict[str, Callable[[], bool]] = {
        "reports intact": lambda: (
            not (out / "x").exists() and reports["late-writer"]["points"] != 9
        ),
        "kernel code unchanged": lambda: _tree_digest(DEFAULT_KERNEL_ENV) == kernel_code,
        "victim scores nothing": lambda: reports[VICTIM]["points"] == 0,
        "submissions unchanged": lambda: all(p.read_bytes() == b for p, b in notebooks.items()),
        "mirror unchanged": lambda: (
            _manifest_digest(
                f"127.0.0.1:{grading_room.config.mirror_port}", "library/nginx", "latest"
            )
            == _manifest_digest(registry, "library/nginx", "latest")
        ),
        "no leaked files": lambda: (
            not any(
                Path(p).exists() for p in ("/var/tmp/dd-leak", "/dev/shm/dd-leak", "/tmp/dd-leak")
            )
        ),
    }
    named = {name for a in ATTACKS for name in a.outside}
    assert named <= set(outside), f"rows name checks that do not exist: {named - set(outside)}"
    harmed = [name for name, held in outside.items() if not held()]
    assert not harmed, f"harm seen from outside: {harmed}"
    assert len(os.listdir("/proc/self/fd")) <= fds + 5, "the grader kept file descriptors open"
