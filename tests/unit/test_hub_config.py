"""The JupyterHub configuration ``dockdojo room hub-config`` writes, read as JupyterHub
reads it (run with its ``get_config``). The hub itself is tested in tests/room/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from traitlets.config import Config

from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.hub.hub import (
    LEARNER_ENV,
    ROOM_CONFIG,
    hub_config,
    landing,
    post_stop,
    pre_spawn,
)
from dockdojo.runner.room import RoomConfig
from dockdojo.runner.room.config import load_config


def _load(text: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    for name in (ROOM_CONFIG, LEARNER_ENV):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    config = Config()
    exec(compile(text, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    added = {name: os.environ.pop(name) for name in set(os.environ) - set(before)}
    for name, value in added.items():
        monkeypatch.setenv(name, value)  # so that it is undone after the test
    return config


def test_the_hub_spawns_each_learner_as_themselves_with_the_engine_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = RoomConfig(state=tmp_path / "room", mirror_port=5100)
    text = hub_config(
        tmp_path / "room.toml",
        room,
        port=8123,
        learners=("ada", "bob"),
        admins=("teacher",),
        learner_env=Path("/opt/learner"),
    )
    c = _load(text, monkeypatch)
    assert c.JupyterHub.spawner_class == "localprocess"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8123"
    assert c.Spawner.cmd == ["/opt/learner/bin/jupyterhub-singleuser"]
    assert c.Spawner.pre_spawn_hook is pre_spawn
    assert c.Spawner.post_stop_hook is post_stop
    assert c.JupyterHub.default_url is landing
    # a learner's JupyterLab opens on the first lesson, not on the Launcher
    # the course's first lesson
    assert c.Spawner.default_url == "/lab/tree/dockdojo-lessons/what-is-a-container.ipynb"
    assert c.Authenticator.allowed_users == {"ada", "bob"}
    assert c.Authenticator.admin_users == {"teacher"}
    assert str(room.state / "hub") in c.JupyterHub.db_url
    assert "authenticator_class" not in c.JupyterHub  # the instructor's to choose
    assert os.environ[ROOM_CONFIG] == str(tmp_path / "room.toml")
    assert os.environ[LEARNER_ENV] == "/opt/learner"


def test_a_trial_gives_learners_and_instructors_each_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teach = "t" * 32
    text = hub_config(
        None, RoomConfig(state=tmp_path), password="learners", instructor_password=teach
    )
    c = _load(text, monkeypatch)
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.SharedPasswordAuthenticator.user_password == "learners"
    assert c.SharedPasswordAuthenticator.admin_password == teach


def test_the_trial_keeps_the_instructors_password_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    teach = "t" * 32
    text = hub_config(
        None,
        RoomConfig(state=tmp_path),
        admins=("teacher",),
        password="learners",
        instructor_password=teach,
    )
    auth = SharedPasswordAuthenticator(config=_load(text, monkeypatch))

    def who(name: str, password: str) -> object:
        got = asyncio.run(auth.authenticate(None, {"username": name, "password": password}))
        return None if got is None else (got["name"], got["admin"])

    assert who("teacher", "learners") is None  # a learner's password is no instructor's
    assert who("teacher", teach) == ("teacher", True)
    assert who("ada", teach) is None
    assert who("ada", "learners") == ("ada", False)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--password", "learners", "--admin", "teacher"], "have no password of their own"),
        (
            ["--password", "learners", "--instructor-password", "learners", "--admin", "teacher"],
            "is the learners' password",
        ),
        (["--instructor-password", "teach"], "is for a trial hub"),
        (["--password", "short"], "JupyterHub wants at least 8"),
        (
            ["--password", "learners", "--instructor-password", "teach", "--admin", "t"],
            "needs at least 32",
        ),
    ],
)
def test_trial_passwords_that_would_let_a_learner_in_as_an_instructor_are_refused(
    argv: list[str], said: str
) -> None:
    import argparse

    from dockdojo.runner.cli.room_hub import _check_passwords

    parser = argparse.ArgumentParser()
    parser.add_argument("--password")
    parser.add_argument("--instructor-password")
    parser.add_argument("--admin", action="append", default=[])
    args = parser.parse_args(argv)
    with pytest.raises(DockdojoError) as caught:
        _check_passwords(args, tuple(args.admin))
    assert said in caught.value.what
    assert caught.value.hint


def test_the_rooms_hub_settings_give_port_people_and_idle_culling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.room.config import load_config

    file = tmp_path / "room.toml"
    file.write_text(
        f'state = "{tmp_path}"\n[hub]\nport = 8111\nlearners = ["ada"]\n'
        'instructors = ["teacher"]\nidle_minutes = 30\n'
    )
    room = load_config(file)
    assert (room.hub.port, room.hub.learners, room.hub.instructors) == (
        8111,
        ("ada",),
        ("teacher",),
    )
    c = _load(hub_config(file, room, learners=("bob",)), monkeypatch)
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8111"
    assert c.Authenticator.allowed_users == {"ada", "bob"}
    assert c.Authenticator.admin_users == {"teacher"}
    assert "load_groups" not in c.JupyterHub  # no instructor group named
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["idle-culler"]["command"][-2:] == ["jupyterhub_idle_culler", "--timeout=1800"]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"]


def test_the_instructors_view_is_a_service_every_user_and_server_token_may_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.room.config import load_config

    file = tmp_path / "room.toml"
    file.write_text(
        f'state = "{tmp_path}"\n[hub]\ninstructors = ["teacher"]\nidle_minutes = 0\n'
        "[instructor]\nport = 8777\nstuck_minutes = 5\n"
    )
    room = load_config(file)
    assert (room.instructor.port, room.instructor.stuck_minutes) == (8777, 5)
    c = _load(hub_config(file, room, admins=("lead",)), monkeypatch)
    (view,) = c.JupyterHub.services  # no culler when idle_minutes = 0
    assert view["name"] == "dockdojo"
    assert view["url"] == "http://127.0.0.1:8777"
    assert view["command"][1:] == [
        "-m",
        "dockdojo.runner.hub.instructor",
        "--config",
        str(file),
        "--instructor=teacher",
        "--instructor=lead",
    ]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["user"]["scopes"] == ["self", "access:services!service=dockdojo"]
    assert roles["dockdojo-view"]["services"] == ["dockdojo"]
    assert set(roles["dockdojo-view"]["scopes"]) == {"list:users", "read:users", "read:servers"}
    assert "access:services!service=dockdojo" in c.Spawner.server_token_scopes
    assert not any(
        "admin" in s or (s.startswith("access:servers") and "!" not in s)
        for s in c.Spawner.server_token_scopes
    )


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("[hub]\nport = -1\n", "hub.port = -1"),
        ('[hub]\nlearners = "ada"\n', "hub.learners must be a list"),
        ("[hub]\nteachers = []\n", "[hub] keys dockdojo does not know: teachers"),
        ('[hub]\ninstructor_group = "a b"\n', "hub.instructor_group = 'a b' is not a group"),
        ("[hub]\ninstructor_group = 1\n", "hub.instructor_group = 1 is not a group name"),
        ("[instructor]\nport = 0\n", "instructor.port = 0"),
        ("[instructor]\ndatabase = 5\n", "instructor.database must be a text"),
        ("[instructor]\ngrid = 1\n", "[instructor] keys dockdojo does not know: grid"),
    ],
)
def test_a_wrong_hub_setting_is_named(tmp_path: Path, table: str, words: str) -> None:
    from dockdojo.runner.errors import DockdojoError
    from dockdojo.runner.room.config import load_config

    file = tmp_path / "room.toml"
    file.write_text(table)
    with pytest.raises(DockdojoError) as caught:
        load_config(file)
    assert words in caught.value.what


def test_instructors_land_on_the_view_and_learners_on_their_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fakes of the hub's request handler and user, with the attributes landing reads."""
    from types import SimpleNamespace

    file = tmp_path / "room.toml"
    file.write_text(f'state = "{tmp_path}"\n[hub]\ninstructor_group = "helpers"\n')
    monkeypatch.setenv(ROOM_CONFIG, str(file))

    def handler(admin: bool, *groups: str) -> SimpleNamespace:
        member = [SimpleNamespace(name=g) for g in groups]
        return SimpleNamespace(
            base_url="/", current_user=SimpleNamespace(admin=admin, groups=member)
        )

    assert landing(handler(True)) == "/services/dockdojo/"
    assert landing(handler(False, "helpers")) == "/services/dockdojo/"
    assert landing(handler(False, "learners")) == "/hub/spawn"
    assert landing(handler(False)) == "/hub/spawn"
    assert landing(SimpleNamespace(base_url="/hub-base/", current_user=None)) == (
        "/hub-base/hub/spawn"
    )


def test_the_instructor_group_is_made_by_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.room.config import load_config

    file = tmp_path / "room.toml"
    file.write_text(f'state = "{tmp_path}"\n[hub]\ninstructor_group = "helpers"\n')
    room = load_config(file)
    assert room.hub.instructor_group == "helpers"
    c = _load(hub_config(file, room), monkeypatch)
    assert c.JupyterHub.load_groups == {"helpers": {}}  # made; its members stay the hub's


def test_a_second_room_sets_the_hubs_internal_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.room.config import load_config

    c = _load(hub_config(None, RoomConfig(state=tmp_path)), monkeypatch)
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8001"
    file = tmp_path / "room.toml"
    file.write_text(
        f'state = "{tmp_path}"\n[hub]\nport = 8100\napi_port = 8181\nproxy_api_port = 8101\n'
    )
    c = _load(hub_config(file, load_config(file)), monkeypatch)
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8100"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8181"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8101"


def test_hub_ports_that_collide_are_refused(tmp_path: Path) -> None:
    from dockdojo.runner.room.config import load_config

    file = tmp_path / "room.toml"
    file.write_text(f'state = "{tmp_path}"\n[hub]\nport = 8081\n')
    with pytest.raises(DockdojoError) as caught:
        load_config(file)
    assert "hub.port and hub.api_port are both 8081" in caught.value.what
    assert "different port" in caught.value.hint


def test_the_room_settings_variable_names_the_file_when_no_config_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "room.toml"
    file.write_text(f'state = "{tmp_path / "state"}"\nmirror_port = 5999\n')
    monkeypatch.setenv(ROOM_CONFIG, str(file))
    assert load_config().mirror_port == 5999
    assert load_config(None).state == tmp_path / "state"
    other = tmp_path / "other.toml"
    other.write_text("mirror_port = 5998\n")
    assert load_config(other).mirror_port == 5998  # --config wins
    monkeypatch.setenv(ROOM_CONFIG, str(tmp_path / "missing.toml"))
    with pytest.raises(DockdojoError, match=r"missing\.toml cannot be read"):
        load_config()
