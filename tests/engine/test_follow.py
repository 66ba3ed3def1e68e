"""The instructor's view follows a learner's engine by its events (dockdojo.runner.hub.follow),
on a real engine: a change made in a terminal (the docker CLI) asks for a check by itself;
a command typed in a container counts, the view's own checks' commands do not; an
engine that goes away and comes back is noticed both times."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

from common_kit import eventually

from dockdojo.runner import Engine
from dockdojo.runner.hub.follow import Followers, is_change


def _docker(docker_host: str, *argv: str) -> None:
    env = {"DOCKER_HOST": docker_host, "PATH": "/usr/bin:/bin"}
    subprocess.run(["docker", *argv], env=env, check=True, capture_output=True, timeout=60)


def test_a_learners_change_in_a_terminal_asks_for_a_check_and_the_views_own_commands_do_not(
    images: Engine, docker_host: str, name: Callable[[str], str], cleanup: list[str]
) -> None:
    asked: list[tuple[str, float]] = []
    windows: list[tuple[float, float]] = []
    host = {"ada": docker_host}
    followers = Followers(
        lambda who: host.get(who),
        lambda who: asked.append((who, time.monotonic())),
        ours=lambda _who, at: any(a <= at <= b for a, b in windows),
        retry=0.3,
    )
    container = name("follow")
    cleanup.append(container)
    try:
        followers.follow(["ada", "ada"])  # following twice is following once
        assert eventually(lambda: followers.followed == ["ada"]), "the stream never opened"
        time.sleep(0.5)
        asked.clear()

        made = time.monotonic()
        _docker(docker_host, "run", "-d", "--name", container, "redis")
        assert eventually(lambda: any(at >= made for _, at in asked)), "no check was asked"
        first = min(at for _, at in asked if at >= made)
        print(f"docker run -> check asked: {first - made:.3f} s")
        time.sleep(0.6)
        bursts = len(asked)
        assert bursts <= 2, f"one docker run asked {bursts} times"  # create+start: one burst

        # the view's own check runs a command: not a change
        windows.append((time.time(), float("inf")))  # as the view marks a check it runs
        images.exec(container, ["redis-cli", "PING"])
        windows[-1] = (windows[-1][0], time.time())
        time.sleep(0.8)
        assert len(asked) == bursts, "the view's own command asked for a check"

        # the learner types a command in the container: a change
        typed = time.monotonic()
        _docker(docker_host, "exec", container, "redis-cli", "SET", "test", "1")
        assert eventually(lambda: any(at >= typed for _, at in asked)), "docker exec went unseen"

        # the engine goes away (for the view) and comes back: asked both times
        gone = time.monotonic()
        host.pop("ada")
        followers._streams["ada"].close()  # as when the engine stops
        assert eventually(lambda: any(at >= gone for _, at in asked)), "the stop went unseen"
        assert eventually(lambda: followers.followed == [])
        back = time.monotonic()
        host["ada"] = docker_host
        assert eventually(lambda: any(at >= back for _, at in asked)), "the start went unseen"
        assert eventually(lambda: followers.followed == ["ada"])
    finally:
        followers.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("follow-")]


def test_what_counts_as_a_change() -> None:
    never = lambda _at: False  # noqa: E731
    always = lambda _at: True  # noqa: E731
    for action in ("create", "start", "die", "destroy", "pull", "delete", "untag", "connect"):
        assert is_change({"Action": action}, never), action
    for action in ("top", "exec_create: redis-cli GET k", "exec_start: redis-cli GET k"):
        assert not is_change({"Action": action}, never), action
    assert is_change({"Action": "exec_die", "timeNano": 5 * 10**9}, never)
    assert not is_change({"Action": "exec_die", "timeNano": 5 * 10**9}, always)
