"""`dockdojo grade` on submissions written for these tests: each has its expected score.

The submissions are the lesson notebook with answer cells filled in the ways learners
fill them (docker SDK, `!docker` commands), or broken in the ways graders must survive.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from dockdojo.runner import Engine, load_lesson
from dockdojo.runner.authoring import learner_tag
from dockdojo.runner.cli import main
from dockdojo.runner.grading import GradeOptions, SubmissionResult, grade_all

ROOT = Path(__file__).resolve().parents[2]
LESSON = "what-is-an-image"
FULL = 9  # the exercises' points


def answers(learner: str) -> dict[str, str]:
    """A complete solution for ``learner``, with the values the widgets show them."""
    tag = learner_tag(LESSON, learner)
    return {
        "redis-cache": (
            "import time\nimport docker\n\n"
            "client = docker.from_env()\n"
            f"cache = client.containers.run('redis', name='cache-{tag}', detach=True)\n"
            "for _ in range(100):\n"
            "    if cache.exec_run(['redis-cli', 'PING']).output.strip() == b'PONG':\n"
            "        break\n"
            "    time.sleep(0.1)\n"
            f"print(cache.exec_run(['redis-cli', 'SET', 'dojo-{tag}', 'rocks']).output)\n"
        ),
        "redis-public": (
            f"!docker run -d --name public-{tag} -p 127.0.0.1:0:6379 redis\n"
            f"!docker port public-{tag}\n"
        ),
        "stopped-container": (
            f"!docker run --name old-{tag} busybox echo hello\n"
            "!docker rmi busybox || echo 'in use, as expected'\n"
            f"!docker rm old-{tag}\n"
        ),
    }


def submission(
    folder: Path,
    learner: str,
    filled: dict[str, str],
    tweak: Callable[[nbformat.NotebookNode], None] | None = None,
) -> Path:
    nb = nbformat.read(ROOT / "lessons" / f"{LESSON}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("dockdojo", {})
        if meta.get("role") == "answer" and meta.get("step") in filled:
            cell.source = filled[meta["step"]]
    if tweak is not None:
        tweak(nb)
    path = folder / f"{learner}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def options(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    monkeypatch.chdir(ROOT)
    return GradeOptions(
        lesson=load_lesson(LESSON), docker_host=docker_host, cell_timeout=20, submission_timeout=120
    )


def grade(paths: list[Path], options: GradeOptions, jobs: int = 1) -> dict[str, SubmissionResult]:
    return {r.learner: r for r in grade_all(paths, options, jobs=jobs)}


def test_complete_empty_and_partial(tmp_path: Path, options: GradeOptions, images: Engine) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada")),
        submission(tmp_path, "eve", {}),
        submission(tmp_path, "pat", {"redis-cache": answers("pat")["redis-cache"]}),
    ]
    got = grade(paths, options)
    assert (got["ada"].status, got["ada"].points, got["ada"].max_points) == ("graded", FULL, FULL)
    assert got["eve"].points == 0
    assert got["pat"].points == 3
    failed = [c for s in got["pat"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == {"redis-public", "stopped-container"}
    assert all(c.hint for c in failed)
    tag = learner_tag(LESSON, "ada")
    assert got["ada"].parameters["redis-cache.name"] == f"cache-{tag}"
    # nothing the submissions made is left behind
    assert not [
        c for c in images.containers() if c.labels.get("dockdojo.learner") in {"ada", "eve", "pat"}
    ]


@pytest.mark.usefixtures("images")
def test_fake_marks_fake_metadata_and_monkeypatching_earn_nothing(
    tmp_path: Path, options: GradeOptions
) -> None:
    def fake_outputs(nb: nbformat.NotebookNode) -> None:
        nb.metadata["dockdojo"]["points"] = 999
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text="✅ Done 9/9 points\n")
                ]
                cell.metadata.setdefault("dockdojo", {})["passed"] = True

    printer = {"redis-cache": "print('✅ Done: every check passed, 9/9 points')\n"}
    patcher = {
        "redis-cache": (
            "import dockdojo.runner.kinds.checking as checks\n"
            "from dockdojo.runner.kinds import CheckResult\n"
            "checks.run_checks = lambda engine, lesson, items, **kw: [\n"
            "    CheckResult(s.id, c.kind, True, 'ok', '', points=c.points, max_points=c.points)\n"
            "    for s, c in items]\n"
        )
    }
    got = grade(
        [
            submission(tmp_path, "faker", printer, fake_outputs),
            submission(tmp_path, "patcher", patcher),
        ],
        options,
    )
    assert got["faker"].points == 0
    assert got["patcher"].points == 0
    assert got["patcher"].status == "graded"


@pytest.mark.usefixtures("images")
def test_a_crashing_kernel_and_an_endless_loop_end_their_own_run_only(
    tmp_path: Path, options: GradeOptions
) -> None:
    crash = {"redis-cache": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"}
    loop = {"redis-cache": "while True:\n    pass\n"}
    good = answers("ada")
    got = grade(
        [
            submission(tmp_path, "crash", crash),
            submission(tmp_path, "loop", loop),
            submission(tmp_path, "ada", good),
        ],
        options,
    )
    assert got["crash"].status == "kernel-died"
    assert "The kernel died while cell" in got["crash"].execution_message
    assert got["crash"].points == 0
    assert got["loop"].status == "timeout"
    assert "ran longer than 20 s" in got["loop"].execution_message
    assert got["loop"].points == 0
    assert got["ada"].points == FULL


@pytest.mark.usefixtures("images")
def test_another_learners_values_do_not_pass(tmp_path: Path, options: GradeOptions) -> None:
    copied = submission(tmp_path, "bob", answers("ada"))  # bob hands in ada's notebook
    got = grade([copied], options)
    assert got["bob"].points == 0
    bob = learner_tag(LESSON, "bob")
    messages = " ".join(c.message for s in got["bob"].report.steps for c in s.results)
    assert f"cache-{bob}" in messages


@pytest.mark.usefixtures("images")
def test_concurrent_submissions_both_running_redis_as_asked(
    tmp_path: Path, options: GradeOptions
) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada")),
        submission(tmp_path, "bob", answers("bob")),
    ]
    got = grade(paths, options, jobs=2)
    assert got["ada"].points == got["bob"].points == FULL


@pytest.mark.usefixtures("images")
def test_grade_command_writes_every_format(
    tmp_path: Path,
    docker_host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    ada = submission(tmp_path, "ada", answers("ada"))
    eve = submission(tmp_path, "eve", {})
    out = tmp_path / "grades"
    assert (
        main(
            [
                "grade",
                str(ada),
                str(eve),
                "--lesson",
                LESSON,
                "--out",
                str(out),
                "--jobs",
                "2",
                "--cell-timeout",
                "30",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "ada" in table
    assert f"{FULL:>3}/{FULL:<4}" in table
    result = json.loads((out / "ada.json").read_text())
    assert result["points"] == FULL
    assert result["schema"] == "dockdojo.grade/v1"
    junit = ET.parse(out / "junit.xml").getroot()
    assert len(junit.findall(".//testsuite")) == 2
    assert junit.findall(".//failure")
    gradescope = json.loads((out / "eve.results.json").read_text())
    assert gradescope["score"] == 0
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert {r["learner"]: r["points"] for r in rows} == {"ada": str(FULL), "eve": "0"}
    feedback = nbformat.read(out / "eve.feedback.ipynb", as_version=4)
    assert any(c.metadata.get("dockdojo", {}).get("role") == "feedback" for c in feedback.cells)


@pytest.mark.usefixtures("images")
def test_a_cell_that_floods_its_output_is_cut_and_other_learners_are_unaffected(
    tmp_path: Path, options: GradeOptions
) -> None:
    flood = {
        "redis-cache": (
            "import sys\nfor _ in range(30_000):\n    sys.stdout.write('x' * 999 + '\\n')\n"
        )
    }
    got = grade(
        [submission(tmp_path, "loud", flood), submission(tmp_path, "ada", answers("ada"))],
        options,
    )
    assert got["loud"].status == "graded"
    assert got["loud"].points == 0
    assert re.search(
        r"The output of code cell \d+ was cut at 100 kB; the rest was not kept\.$",
        got["loud"].execution_message,
    ), got["loud"].execution_message
    assert got["ada"].points == FULL
    assert got["ada"].execution_message == "Every cell ran."


@pytest.mark.usefixtures("images", "options")  # options: run from the project's root
def test_a_submission_that_rewrites_another_learners_file_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_host: str
) -> None:
    victim = submission(tmp_path, "bob", answers("bob"))
    original = victim.read_text()
    vandal = submission(  # graded first: it runs before bob's notebook would be read
        tmp_path,
        "aaa",
        {"redis-cache": f"open({str(victim)!r}, 'w').write('{{\"cells\": []}}')\n"},
    )
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    out = tmp_path / "grades"
    code = main(
        [
            "grade",
            str(vandal),
            str(victim),
            "--lesson",
            LESSON,
            "--out",
            str(out),
            "--jobs",
            "1",
            "--cell-timeout",
            "20",
        ]
    )
    assert code == 0
    assert victim.read_text() != original, "the vandal's cell did run"
    bob = json.loads((out / "bob.json").read_text())
    assert bob["points"] == FULL
    feedback = nbformat.read(out / "bob.feedback.ipynb", as_version=4)
    sources = "\n".join(c.source for c in feedback.cells)
    assert f"cache-{learner_tag(LESSON, 'bob')}" in sources, "feedback not from bob's own copy"
