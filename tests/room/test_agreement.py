"""One learner, four judges: the notebook's report, ``dockdojo check --json``, the grader on
her notebook and the instructor's view on a real JupyterHub give the same result per step.

The learner does the lesson's first personal exercise in a terminal, as the task says
(``docker run -d --name cache-<tag> redis``, then ``redis-cli SET dojo-<tag> rocks``),
on her own room engine. Every judge reads that engine, each with her context: her tag
filled in, her labels, her engine.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from common_kit import free_port
from grading.kit import submission
from room.hubkit import environ, log_in, running_hub, server_process, start_servers
from room.seats import add_user, new_name, new_room, remove_user

from dockdojo.runner import Engine
from dockdojo.runner.cli import main
from dockdojo.runner.context import learner_tag
from dockdojo.runner.environ import LEARNER, LEARNER_TAG, TAG_SALT, WIDGETS_SYNC
from dockdojo.runner.grading import GradeOptions, grade_all
from dockdojo.runner.lessons import load_lesson
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner
from dockdojo.runner.room.salt import room_salt

pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]
VIEW = "/services/dockdojo/"
LESSON = "what-is-an-image"
ROOT = Path(__file__).resolve().parents[2]
DONE = ("done", "undone")
"""The view's statuses of a passed step."""


def _docker(who: Learner, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "-H", who.docker_host, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _do_the_exercise(who: Learner) -> str:
    """``docker run -d --name cache-<tag> redis`` and ``SET dojo-<tag> rocks``, as the
    learner would in a terminal; her tag."""
    tag = learner_tag(LESSON, who.name)
    with Engine(who.docker_host) as engine:
        engine.pull("redis")
    ran = _docker(who, "run", "-d", "--name", f"cache-{tag}", "redis")
    assert ran.returncode == 0, ran.stderr
    deadline = time.monotonic() + 60
    while True:
        done = _docker(who, "exec", f"cache-{tag}", "redis-cli", "SET", f"dojo-{tag}", "rocks")
        if done.returncode == 0 and done.stdout.strip() == "OK":
            return tag
        assert time.monotonic() < deadline, done.stderr or done.stdout
        time.sleep(0.5)


def _notebook(who: Learner, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """What her notebook's widgets report, as her kernel would make it."""
    from dockdojo.widgets import LessonView

    monkeypatch.setenv("DOCKER_HOST", who.docker_host)
    monkeypatch.setenv(LEARNER, who.name)
    monkeypatch.setenv(WIDGETS_SYNC, "1")
    monkeypatch.chdir(ROOT)
    view = LessonView(LESSON)
    try:
        report = view.evaluate(slow=True)
    finally:
        view.engine.close()
    return {s.step: s.passed for s in report.steps}


def _check_json(
    who: Learner, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, bool]:
    monkeypatch.setenv("DOCKER_HOST", who.docker_host)
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    main(["check", LESSON, "--json", "--learner", who.name])
    report = json.loads(capsys.readouterr().out)
    return {s["id"]: bool(s["passed"]) for s in report["steps"]}


def _graded(who: Learner, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """The grader on her notebook (as she has it: she worked in a terminal), checking her
    engine (trusted: the grader's engine is hers here)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv(LEARNER, raising=False)
    options = GradeOptions(
        lesson=load_lesson(LESSON),
        docker_host=who.docker_host,
        trusted=True,
        cell_timeout=60,
        submission_timeout=300,
    )
    (result,) = grade_all([submission(folder, who.name, {})], options)
    assert result.learner == who.name
    return {s.step: s.passed for s in result.report.steps}


def _viewed(
    url: str, token: str, instructor: requests.Session, who: Learner, steps: set[str]
) -> dict[str, str]:
    """The instructor's view's cells for her, once it has checked her after her Check."""
    asked = requests.post(
        f"{url}{VIEW}api/recheck",
        data=json.dumps({"lesson": LESSON, "step": "redis-cache"}),
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    assert asked.status_code == 202, asked.text
    deadline = time.monotonic() + 120
    row: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, ValueError):
            grid = instructor.get(f"{url}{VIEW}api/grid?lesson={LESSON}", timeout=30).json()
            row = next((r for r in grid["learners"] if r["name"] == who.name), {})
            if row and row["steps"]["redis-cache"]["status"] in DONE:
                break
        time.sleep(0.5)
    assert row, "the view never checked the learner"
    assert set(row["steps"]) >= steps
    return {step: str(row["steps"][step]["status"]) for step in steps}


def test_notebook_check_grader_and_view_agree_on_a_personal_exercise(
    mirror_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    teacher = f"t{new_name()}"
    with new_room(mirror_port, extra=f"[instructor]\nport = {free_port()}\n") as room:
        ada = add_user(new_name())
        try:
            with running_hub(room, [ada], free_port(), admins=(teacher,)) as url:
                start_servers(url, [ada])
                server = environ(server_process(ada))
                token = server["JUPYTERHUB_API_TOKEN"]
                salt = room_salt(room.config)
                assert not [k for k, v in server.items() if salt in v], "her server has the salt"
                # this process is her terminal (her id and tags, as the hub gave them) and,
                # for the trusted grader, root with the room's salt
                monkeypatch.setenv(LEARNER, ada.name)
                monkeypatch.setenv(LEARNER_TAG, server[LEARNER_TAG])
                monkeypatch.setenv(TAG_SALT, salt)
                tag = _do_the_exercise(ada)
                assert tag == learner_tag(LESSON, ada.name, salt)

                notebook = _notebook(ada, monkeypatch)
                checked = _check_json(ada, monkeypatch, capsys)
                instructor, _ = log_in(url, teacher)
                viewed = _viewed(url, token, instructor, ada, set(notebook))
                graded = _graded(ada, tmp_path, monkeypatch)

                assert notebook["redis-cache"], f"cache-{tag} did not pass in the notebook"
                assert checked == notebook
                assert {s: v in DONE for s, v in viewed.items()} == notebook, viewed
                assert graded == {s: notebook[s] for s in graded}
                assert set(graded) >= {"redis-cache", "redis-public", "stopped-container"}
                assert not notebook["redis-public"]
        finally:
            with contextlib.suppress(Exception):
                LearnerEngine(ada.name, room.config).stop()
            remove_user(ada)
