from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from dockdojo.runner import (
    LABEL_LEARNER,
    LABEL_LESSON,
    LABEL_STEP,
    ContainerNotRunning,
    Engine,
    ExecResult,
    ImageNotFound,
    NameInUse,
    PortInUse,
)

Namer = Callable[[str], str]
INSERT = 'db.test.insertOne({ active: true, email: "moby@docker.com" })'
FIND = 'db.test.findOne({ email: "moby@docker.com" })'


def test_nginx_on_host_port_zero_serves_the_welcome_page_on_its_link(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    container = images.run("nginx", name=name("web"), ports={80: 0}, step="run-nginx")
    cleanup.append(container.id)
    assert container.running
    (link,) = container.ports
    assert link.container_port == "80/tcp"
    assert link.host_ip == "127.0.0.1"
    assert link.host_port > 0
    assert container.links == (f"http://localhost:{link.host_port}/",)
    status, body = _get(f"http://127.0.0.1:{link.host_port}/")
    assert status == 200
    assert "Welcome to nginx!" in body
    assert container.labels[LABEL_LESSON] == "engine-tests"
    assert container.labels[LABEL_LEARNER] == "pytest"
    assert container.labels[LABEL_STEP] == "run-nginx"


def _get(url: str) -> tuple[int, str]:
    """GET, retrying while the server in a just-started container is not listening yet."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_environment_variables_reach_the_container(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    container = images.run("redis", name=name("env"), env={"GREETING": "hello dojo"})
    cleanup.append(container.id)
    result = images.exec(container.name, ["sh", "-c", 'echo "$GREETING"'])
    assert result.output.strip() == "hello dojo"


def test_redis_set_and_get_one_shot(images: Engine, cleanup: list[str], name: Namer) -> None:
    container = images.run("redis", name=name("redis"))
    cleanup.append(container.id)
    set_ = images.exec(container.name, ["redis-cli", "SET", "test", "1"])
    get = images.exec(container.name, ["redis-cli", "GET", "test"])
    assert (set_.exit_code, set_.output.strip()) == (0, "OK")
    assert (get.exit_code, get.output.strip()) == (0, "1")


def test_redis_cli_keeps_its_prompt_and_state_interactively(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    container = images.run("redis", name=name("redis"))
    cleanup.append(container.id)
    with images.session(container.name, ["redis-cli"]) as session:
        session.expect(r"127\.0\.0\.1:6379> $")
        assert session.run("SET test 1", r"6379> $") == "OK"
        assert session.run("GET test", r"6379> $") == '"1"'
        assert "127.0.0.1:6379> GET test" in session.text
    # the value is in the server, not in the session
    assert images.exec(container.name, ["redis-cli", "GET", "test"]).output.strip() == "1"


def test_mongosh_insert_and_find_one_shot(images: Engine, cleanup: list[str], name: Namer) -> None:
    container = images.run("mongo", name=name("mongo"))
    cleanup.append(container.id)
    inserted = _mongosh_eval(images, container.name, INSERT)
    assert "acknowledged: true" in inserted.output
    found = _mongosh_eval(images, container.name, FIND)
    assert found.exit_code == 0
    assert "email: 'moby@docker.com'" in found.output
    assert "active: true" in found.output


def _mongosh_eval(engine: Engine, container: str, code: str) -> ExecResult:
    # the server may need a moment after the container starts
    for _ in range(50):
        result = engine.exec(container, ["mongosh", "--quiet", "--eval", code])
        if "ECONNREFUSED" not in result.output:
            return result
    raise AssertionError(result.output)


def test_mongosh_interactive_insert_then_find(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    container = images.run("mongo", name=name("mongo"))
    cleanup.append(container.id)
    _mongosh_eval(images, container.name, "1")  # wait until the server listens
    with images.session(container.name, ["mongosh"]) as session:
        session.expect(r"test> $", timeout=30)
        inserted = session.run(INSERT + ";", r"test> $", timeout=20)
        assert "acknowledged: true" in inserted
        assert "insertedId: ObjectId(" in inserted
        found = session.run(FIND, r"test> $", timeout=20)
        assert "email: 'moby@docker.com'" in found
        assert "\x1b" not in session.text


def test_host_port_already_taken_is_reported_and_nothing_is_left(
    images: Engine, name: Namer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        wanted = name("clash")
        with pytest.raises(PortInUse) as err:
            images.run("nginx", name=wanted, ports={"80/tcp": port})
    assert f"Host port {port} is already in use" in err.value.what
    assert "0 (or leave it empty) for a random free port" in err.value.hint
    assert all(c.name != wanted for c in images.containers())


def test_a_taken_name_is_reported(images: Engine, cleanup: list[str], name: Namer) -> None:
    taken = name("taken")
    cleanup.append(images.run("redis", name=taken).id)
    with pytest.raises(NameInUse, match=f"The name '{taken}' is already used"):
        images.run("redis", name=taken)


def test_running_an_image_that_is_not_pulled_says_to_pull_it(engine: Engine) -> None:
    with pytest.raises(ImageNotFound) as err:
        engine.run("dockdojo-never-pulled")
    assert "not on this engine yet" in err.value.what
    assert "Pull it first" in err.value.hint


def test_exec_in_a_stopped_container_is_reported(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    container = images.run("redis", name=name("stopped"))
    cleanup.append(container.id)
    images.stop_container(container.name, timeout=1)
    with pytest.raises(ContainerNotRunning) as err:
        images.exec(container.name, ["redis-cli", "PING"])
    assert "is not running (it is exited)" in err.value.what
    assert "docker start" in err.value.hint
    with pytest.raises(ContainerNotRunning):
        images.session(container.name, ["redis-cli"])


def test_exit_codes_and_stderr_come_back(images: Engine, cleanup: list[str], name: Namer) -> None:
    container = images.run("redis", name=name("codes"))
    cleanup.append(container.id)
    result = images.exec(container.name, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.exit_code == 3
    assert "out" in result.output
    assert "err" in result.output
