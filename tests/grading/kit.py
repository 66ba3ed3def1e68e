"""Helpers of the grading tests: submissions written as learners write them, and what a
grading batch may have left behind."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions, SubmissionResult, grade_all
from dockdojo.runner.grading.isolation import POOL, WORK_ROOT
from dockdojo.runner.privileged import firewall
from dockdojo.runner.privileged.cgroups import GROUP, ROOT
from dockdojo.runner.room import RoomConfig

PROJECT = Path(__file__).resolve().parents[2]
LESSON = "what-is-an-image"
FULL = 9
"""The exercises' points."""
CACHE = 3
"""Points of the first exercise (redis-cache) alone."""


@dataclass(frozen=True)
class GradingRoom:
    config: RoomConfig
    file: Path
    """Its ``room.toml``, for the command line."""


def answers(learner: str) -> dict[str, str]:
    """A complete solution for ``learner``, with the values the widgets show them."""
    tag = learner_tag(LESSON, learner)
    return {
        "redis-cache": cache_answer(tag),
        "redis-public": (
            f"!docker run -d --name public-{tag} -p 0:6379 redis\n!docker port public-{tag}\n"
        ),
        "stopped-container": (
            f"!docker run --name old-{tag} busybox echo hello\n"
            "!docker rmi busybox || echo 'in use, as expected'\n"
            f"!docker rm old-{tag}\n"
        ),
    }


def cache_answer(tag: str) -> str:
    return (
        "import time\nimport docker\n\n"
        "client = docker.from_env()\n"
        f"cache = client.containers.run('redis', name='cache-{tag}', detach=True)\n"
        "for _ in range(100):\n"
        "    if cache.exec_run(['redis-cli', 'PING']).output.strip() == b'PONG':\n"
        "        break\n"
        "    time.sleep(0.1)\n"
        f"print(cache.exec_run(['redis-cli', 'SET', 'dojo-{tag}', 'rocks']).output)\n"
    )


def submission(
    folder: Path,
    learner: str,
    filled: dict[str, str],
    tweak: Callable[[nbformat.NotebookNode], None] | None = None,
    lesson: str = LESSON,
) -> Path:
    """The lesson notebook with ``filled`` answer cells, as ``folder/LEARNER.ipynb``."""
    nb = nbformat.read(PROJECT / "lessons" / f"{lesson}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("dockdojo", {})
        if meta.get("role") == "answer" and meta.get("step") in filled:
            cell.source = filled[meta["step"]]
    if tweak is not None:
        tweak(nb)
    path = folder / f"{learner}.ipynb"
    nbformat.write(nb, path)
    return path


def grade_argv(
    paths: list[Path], out: Path, room: GradingRoom, jobs: int = 1, **options: object
) -> list[str]:
    """``dockdojo grade`` arguments for ``paths`` of the seed lesson into ``out``, in
    ``room``; ``options`` as ``cell_timeout=20`` for ``--cell-timeout 20``."""
    argv = ["grade", *map(str, paths), "--lesson", LESSON, "--out", str(out)]
    argv += ["--jobs", str(jobs), "--config", str(room.file)]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def grade(paths: list[Path], options: GradeOptions, jobs: int = 1) -> dict[str, SubmissionResult]:
    return {r.learner: r for r in grade_all(paths, replace(options, jobs=jobs))}


def pool_users() -> list[str]:
    return [
        line.split(":")[0]
        for line in Path("/etc/passwd").read_text().splitlines()
        if POOL.match(line.split(":")[0])
    ]


def leftovers() -> list[str]:
    """What of any grading batch is still there: pool users, their processes, work
    folders, mounts, cgroups."""
    left = [f"user {name}" for name in pool_users()]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in (entry / "mountinfo").read_text().splitlines():
                if line.split()[4].startswith(f"{WORK_ROOT}/"):
                    left.append(f"mount {line.split()[4]} (pid {entry.name})")
                    break
    if WORK_ROOT.exists():
        left.append(f"folder {WORK_ROOT}")
    for controller in ("pids", "memory", "freezer", "cpuacct"):
        group = ROOT / controller / GROUP
        if group.is_dir():
            left += [f"cgroup {p}" for p in group.iterdir() if p.is_dir() and "dd-grade" in p.name]
    left += [f"firewall rule {rule}" for rule in firewall.rules()]
    return left
