"""The parts of isolated grading that need no engine: refusals, limits, the kernel's
environment and what its mount namespace hides. (Isolation itself is tested for real in
tests/grading/.) The refusal tests pretend to be another user with a monkeypatched
``os.geteuid``: a fake, said here."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockdojo.runner.cli import main
from dockdojo.runner.context import learner_tag
from dockdojo.runner.environ import LEARNER_TAG as TAG_VARIABLE
from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.grading import Confinement
from dockdojo.runner.grading.isolation import Box, Pool
from dockdojo.runner.privileged.users import UserName
from dockdojo.runner.room import RoomConfig
from dockdojo.runner.room.learners import Learner
from dockdojo.runner.room.pyenv import KernelEnv, requirements
from dockdojo.runner.room.salt import room_salt

KERNEL = KernelEnv(
    Path("/var/lib/dockdojo/kernel/bin/python"), Path("/var/lib/dockdojo/kernel/code/x")
)


def test_untrusted_grading_is_refused_without_root_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)  # a fake: not root
    with pytest.raises(DockdojoError) as caught, Pool(RoomConfig(state=tmp_path), 1, KERNEL):
        pass
    assert "needs Linux and root" in caught.value.what
    assert "--trusted" in caught.value.hint


def test_grade_refuses_when_the_rooms_mirror_is_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room = tmp_path / "room.toml"
    room.write_text(f'state = "{tmp_path / "state"}"\nmirror_port = 5999\n')
    notebook = tmp_path / "ada.ipynb"
    notebook.write_text("{}")
    code = main(["grade", str(notebook), "--lesson", "what-is-an-image", "--config", str(room)])
    assert code == 1
    err = capsys.readouterr().err
    assert "mirror is not running" in err
    assert "dockdojo room mirror start" in err


@pytest.mark.parametrize("name", ["memory_mb", "pids", "cpu_seconds", "disk_mb"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(DockdojoError, match=name):
        Confinement(**{name: 0}).check()  # type: ignore[arg-type]


def test_a_negative_limit_on_the_command_line_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "ada.ipynb"
    notebook.write_text("{}")
    code = main(["grade", str(notebook), "--lesson", "what-is-an-image", "--pids", "-1"])
    assert code == 1
    assert "pids must be positive" in capsys.readouterr().err


def _box(tmp_path: Path) -> Box:
    who = Learner(UserName.pool(1), 1500, 1500, Path("/home/dd-grade-1"))
    return Box(
        who, RoomConfig(state=tmp_path), KERNEL, Confinement(), "what-is-an-image", learner_id="ada"
    )


def test_the_kernels_environment_holds_its_own_tag_and_never_the_salt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKDOJO_TAG_SALT", "secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "grader's")
    env = _box(tmp_path).environment()
    salt = room_salt(RoomConfig(state=tmp_path))  # the room's, made by the box's first use
    assert env["DOCKER_HOST"] == "unix:///run/user/1500/docker.sock"
    assert env["DOCKDOJO_LEARNER"] == "ada"
    assert env[TAG_VARIABLE] == f"what-is-an-image={learner_tag('what-is-an-image', 'ada', salt)}"
    assert not [k for k, v in env.items() if "secret" in v or "grader" in v or salt in v]
    assert "DOCKDOJO_TAG_SALT" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env


def test_a_given_tag_counts_only_for_its_lesson_and_learner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKDOJO_TAG_SALT", "secret")
    salted = learner_tag("what-is-an-image", "ada")
    monkeypatch.delenv("DOCKDOJO_TAG_SALT")
    monkeypatch.setenv("DOCKDOJO_LEARNER", "ada")
    monkeypatch.setenv(TAG_VARIABLE, f"what-is-an-image={salted}")
    assert learner_tag("what-is-an-image", "ada") == salted
    assert learner_tag("what-is-an-image", "bob") != salted
    assert learner_tag("another-lesson", "ada") != salted


def test_the_mount_namespace_hides_what_it_is_told_but_never_what_the_kernel_needs(
    tmp_path: Path,
) -> None:
    box = _box(tmp_path)
    spec = box.confine_spec(
        [Path("/srv/submissions"), Path("/"), Path("/var/lib/dockdojo"), Path("/run/user/1500")]
    )
    assert spec["hide"] == ["/srv/submissions"]  # / and the kernel's own places are kept
    assert spec["binds"]["/tmp"] == str(box.work / "tmp")
    assert spec["binds"]["/home/dd-grade-1"] == str(box.work / "home")
    assert (spec["uid"], spec["gid"]) == (1500, 1500)
    assert spec["cwd"] == str(box.work / "notebook")


def test_the_kernels_python_is_pinned_to_the_graders_own_versions() -> None:
    pinned = requirements()
    names = [p.split("==")[0] for p in pinned]
    assert "ipykernel" in names
    assert "docker" in names
    assert all("==" in p for p in pinned), pinned
    assert not [p for p in pinned if p.startswith(("pytest", "jupyterlab", "ruff"))]
