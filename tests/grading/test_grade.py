"""`dockdojo grade` on submissions written for these tests: each has its expected score.

The submissions are the lesson notebook with answer cells filled in the ways learners
fill them (docker SDK, `!docker` commands), or broken in the ways graders must survive.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from grading.kit import (
    CACHE,
    FULL,
    LESSON,
    PROJECT,
    GradingRoom,
    answers,
    grade,
    grade_argv,
    leftovers,
    pool_users,
    submission,
)

from dockdojo.runner import Engine, load_lesson
from dockdojo.runner.cli import main
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions

ROOT = PROJECT


@pytest.fixture
def options(grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    monkeypatch.chdir(ROOT)
    return GradeOptions(
        lesson=load_lesson(LESSON),
        room=grading_room.config,
        cell_timeout=20,
        submission_timeout=120,
    )


def test_complete_empty_and_partial(tmp_path: Path, options: GradeOptions) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada")),
        submission(tmp_path, "eve", {}),
        submission(tmp_path, "pat", {"redis-cache": answers("pat")["redis-cache"]}),
    ]
    got = grade(paths, options)
    assert (got["ada"].status, got["ada"].points, got["ada"].max_points) == ("graded", FULL, FULL)
    assert got["eve"].points == 0
    assert got["pat"].points == CACHE
    failed = [c for s in got["pat"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == {"redis-public", "stopped-container"}
    assert all(c.hint for c in failed)
    tag = learner_tag(LESSON, "ada")
    assert got["ada"].parameters["redis-cache.name"] == f"cache-{tag}"
    assert {r.isolation for r in got.values()} == {"isolated"}


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


def test_another_learners_values_do_not_pass(tmp_path: Path, options: GradeOptions) -> None:
    copied = submission(tmp_path, "bob", answers("ada"))  # bob hands in ada's notebook
    got = grade([copied], options)
    assert got["bob"].points == 0
    bob = learner_tag(LESSON, "bob")
    messages = " ".join(c.message for s in got["bob"].report.steps for c in s.results)
    assert f"cache-{bob}" in messages


def test_concurrent_submissions_both_running_redis_as_asked(
    tmp_path: Path, options: GradeOptions
) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada")),
        submission(tmp_path, "bob", answers("bob")),
    ]
    got = grade(paths, options, jobs=2)
    failing = {
        name: [
            (c.step, c.kind, c.message) for s in r.report.steps for c in s.results if not c.passed
        ]
        for name, r in got.items()
    }
    assert got["ada"].points == got["bob"].points == FULL, (failing, got["ada"].execution_message)


def test_grade_command_writes_every_format(
    tmp_path: Path,
    grading_room: GradingRoom,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(ROOT)
    ada = submission(tmp_path, "ada", answers("ada"))
    eve = submission(tmp_path, "eve", {})
    out = tmp_path / "grades"
    assert main(grade_argv([ada, eve], out, grading_room, jobs=2, cell_timeout=30)) == 0
    table = capsys.readouterr().out
    assert "ada" in table
    assert f"{FULL:>3}/{FULL:<4}" in table
    result = json.loads((out / "ada.json").read_text())
    assert result["points"] == FULL
    assert result["schema"] == "dockdojo.grade/v1"
    assert result["execution"]["isolation"] == "isolated"
    junit = ET.parse(out / "junit.xml").getroot()
    assert len(junit.findall(".//testsuite")) == 2
    assert junit.findall(".//failure")
    gradescope = json.loads((out / "eve.results.json").read_text())
    assert gradescope["score"] == 0
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert {r["learner"]: r["points"] for r in rows} == {"ada": str(FULL), "eve": "0"}
    feedback = nbformat.read(out / "eve.feedback.ipynb", as_version=4)
    assert any(c.metadata.get("dockdojo", {}).get("role") == "feedback" for c in feedback.cells)


def test_grade_command_shows_each_submission_as_graded_and_writes_each_report_once(
    tmp_path: Path,
    grading_room: GradingRoom,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(ROOT)
    paths = [submission(tmp_path, "ada", answers("ada")), submission(tmp_path, "eve", {})]
    out = tmp_path / "grades"
    assert main(grade_argv(paths, out, grading_room, jobs=2, cell_timeout=30)) == 0
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == 2, err  # one line per submission, from the stages' end hook
    assert {line.split("  ")[1].split(":")[0] for line in progress} == {"ada", "eve"}
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 8, files  # 3 per learner, junit.xml and gradebook.csv
    assert f"wrote {len(files)} file(s) to {out}" in err, "a report was written twice"


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


@pytest.mark.usefixtures("options")  # options: run from the project's root
def test_a_submission_that_rewrites_another_learners_file_changes_nothing(
    tmp_path: Path, grading_room: GradingRoom
) -> None:
    victim = submission(tmp_path, "bob", answers("bob"))
    original = victim.read_text()
    vandal = submission(  # graded first: it runs before bob's notebook would be read
        tmp_path,
        "aaa",
        {"redis-cache": f"open({str(victim)!r}, 'w').write('{{\"cells\": []}}')\n"},
    )
    out = tmp_path / "grades"
    code = main(grade_argv([vandal, victim], out, grading_room, cell_timeout=20))
    assert code == 0
    assert victim.read_text() == original, "the vandal's kernel could write bob's notebook"
    bob = json.loads((out / "bob.json").read_text())
    assert bob["points"] == FULL
    feedback = nbformat.read(out / "bob.feedback.ipynb", as_version=4)
    sources = "\n".join(c.source for c in feedback.cells)
    assert f"cache-{learner_tag(LESSON, 'bob')}" in sources, "feedback not from bob's own copy"


def test_trusted_mode_runs_on_the_graders_engine_says_so_and_removes_what_it_made(
    tmp_path: Path, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    options = GradeOptions(
        lesson=load_lesson(LESSON),
        docker_host=docker_host,
        trusted=True,
        cell_timeout=30,
        submission_timeout=120,
    )
    unlabelled = {  # made outside the widgets: no dockdojo labels at all
        **answers("tia"),
        "stopped-container": "!docker run --name trusted-extra-$(hostname) busybox true\n",
    }
    with Engine(docker_host) as engine:
        before = {c.id for c in engine.containers()}
        got = grade([submission(tmp_path, "tia", unlabelled)], options)
        after = {c.id for c in engine.containers()}
    assert got["tia"].isolation == "trusted"
    assert got["tia"].points == 2 * CACHE
    assert after == before, "the trusted run left containers on the grader's engine"


def test_a_grader_killed_halfway_keeps_finished_reports_and_the_next_batch_clears_up(
    tmp_path: Path, grading_room: GradingRoom
) -> None:
    ada = submission(tmp_path, "ada", answers("ada"))
    slow = submission(tmp_path, "slow", {"redis-cache": "import time\ntime.sleep(120)\n"})
    out = tmp_path / "grades"
    grader = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dockdojo"),
            *grade_argv([ada, slow], out, grading_room),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "ada.json").exists():
            assert grader.poll() is None, "the grader ended before ada was graded"
            assert time.monotonic() < deadline, "ada was not graded within 120 s"
            time.sleep(0.2)
        time.sleep(4)  # slow's kernel is now sleeping in its box
        assert pool_users(), "slow's box should be open"
    finally:
        grader.kill()
        grader.wait()
    assert json.loads((out / "ada.json").read_text())["points"] == FULL
    assert leftovers(), "a grader killed with SIGKILL cannot clear up; the next batch does"

    quick = submission(tmp_path, "quick", {})
    got = main(
        [
            "grade",
            str(quick),
            "--lesson",
            LESSON,
            "--out",
            str(out),
            "--config",
            str(grading_room.file),
        ]
    )
    assert got == 0
    assert json.loads((out / "quick.json").read_text())["points"] == 0
    # the autouse check then finds nothing of either batch left


def test_nothing_a_submission_leaves_in_its_slot_reaches_the_next_one(
    tmp_path: Path, options: GradeOptions
) -> None:
    startup = (  # would do the next learner's first exercise as that learner's kernel starts
        "import os, docker\n"
        "from dockdojo.runner.context import learner_tag\n"
        "tag = learner_tag('what-is-an-image', os.environ['DOCKDOJO_LEARNER'])\n"
        "docker.from_env().containers.run('redis', name=f'cache-{tag}', detach=True)\n"
    )
    planter = (
        "import os, pathlib\n"
        "for folder in ('~/.ipython/profile_default/startup', '/tmp', '/var/tmp', '/dev/shm'):\n"
        "    path = pathlib.Path(os.path.expanduser(folder))\n"
        "    path.mkdir(parents=True, exist_ok=True)\n"
        f"    (path / '00-plant.py').write_text({startup!r})\n"
        "!docker run -d --restart always --name planted redis\n"
    )
    got = grade(  # one slot: "next" runs as the same pool user, right after "aaa"
        [submission(tmp_path, "aaa", {"redis-cache": planter}), submission(tmp_path, "next", {})],
        options,
        jobs=1,
    )
    assert got["aaa"].status == "graded"
    assert got["next"].points == 0
    assert got["next"].status == "graded"
