"""SDK failures as dockdojo's errors: each rule of ``engine/translate.py``, on docker-py's
own exception classes built by hand (no engine)."""

from __future__ import annotations

import pytest
import requests
from docker.errors import APIError, NotFound

from dockdojo.runner import (
    ContainerNotFound,
    ContainerNotRunning,
    ContainerUse,
    EngineError,
    EngineUnavailable,
    ImageInUse,
    ImageNotFound,
    NameInUse,
    PortInUse,
    PullFailed,
)
from dockdojo.runner.engine.translate import Op, removal_in_progress, translate

HOST = "unix:///run/docker.sock"


def api_error(status: int, explanation: str) -> APIError:
    response = requests.Response()
    response.status_code = status
    cls = NotFound if status == 404 else APIError
    return cls(f"{status} Client Error", response=response, explanation=explanation)


def test_no_engine_and_a_slow_engine() -> None:
    down = translate(requests.ConnectionError("Connection refused"), Op("listing images"), HOST)
    assert isinstance(down, EngineUnavailable)
    assert down.what == f"No Docker Engine answered at {HOST} (Connection refused)."
    assert "dockdojo sandbox start" in down.hint
    slow = translate(requests.ReadTimeout("read timed out"), Op("listing images"), HOST)
    assert type(slow) is EngineError
    assert slow.what == "The Docker Engine did not answer in time while listing images."


@pytest.mark.parametrize(
    ("target", "kind", "what"),
    [
        ("image", ImageNotFound, "The image nginx:latest is not on this engine yet."),
        ("run", ImageNotFound, "The image nginx:latest is not on this engine yet."),
        ("remove-image", ImageNotFound, "There is no image nginx:latest on this engine to remove."),
        (
            "container",
            ContainerNotFound,
            "There is no container 'nginx:latest': it may have been deleted.",
        ),
        ("remove-container", ContainerNotFound, "There is no container 'nginx:latest' to remove."),
    ],
)
def test_not_found_depends_on_what_was_looked_for(target: str, kind: type, what: str) -> None:
    error = translate(api_error(404, "no such thing"), Op("doing", target, "nginx:latest"), HOST)
    assert type(error) is kind
    assert error.what == what
    assert error.hint


def test_an_image_in_use_lists_its_containers_only_when_asked() -> None:
    asked: list[int] = []

    def users() -> list[ContainerUse]:
        asked.append(1)
        return [ContainerUse("a" * 64, "web", "running"), ContainerUse("b" * 64, "old", "exited")]

    op = Op("removing nginx:latest", "remove-image", "nginx:latest", users=users)
    error = translate(api_error(409, "conflict: image is being used"), op, HOST)
    assert isinstance(error, ImageInUse)
    assert [c.name for c in error.containers] == ["web", "old"]
    assert error.what.startswith(
        "nginx:latest is in use by 2 containers: web (running), old (exited)."
    )
    assert asked == [1]


def test_run_refusals() -> None:
    op = Op("running nginx:latest", "run", "nginx:latest", name="web")
    port = translate(
        api_error(
            500,
            "driver failed programming external connectivity: Bind for "
            "127.0.0.1:8080 failed: port is already allocated",
        ),
        op,
        HOST,
    )
    assert isinstance(port, PortInUse)
    assert port.what.startswith("Host port 8080 is already in use")
    named = translate(
        api_error(409, 'Conflict. The container name "/web" is already in use'), op, HOST
    )
    assert isinstance(named, NameInUse)
    other = translate(api_error(500, "something else"), op, HOST)
    assert type(other) is EngineError
    assert other.what == "The Docker Engine refused running nginx:latest: something else"


def test_exec_in_a_stopped_container_and_removing_a_running_one() -> None:
    stopped = translate(
        api_error(409, "Container abc is not running"),
        Op("running redis-cli in kv", "exec", "kv", argv=["redis-cli"]),
        HOST,
    )
    assert isinstance(stopped, ContainerNotRunning)
    assert stopped.what == "kv is not running, so redis-cli cannot run in it."
    running = translate(
        api_error(409, "You cannot remove a running container"),
        Op("removing kv", "remove-container", "kv"),
        HOST,
    )
    assert isinstance(running, ContainerNotRunning)
    assert removal_in_progress(api_error(409, "removal of container kv is already in progress"))
    assert not removal_in_progress(api_error(409, "You cannot remove a running container"))
    assert not removal_in_progress(None)


@pytest.mark.parametrize(
    ("message", "mirrors", "kind", "start"),
    [
        (
            "manifest for nginx:nope not found: manifest unknown",
            (),
            ImageNotFound,
            "Could not pull nginx:nope: Docker Hub has no such image",
        ),
        (
            "Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: "
            "no such host",
            ("http://127.0.0.1:5000",),
            ImageNotFound,
            "Could not pull nginx:nope: the registry mirror (http://127.0.0.1:5000) does not "
            "have it",
        ),
        ("dial tcp: i/o timeout", (), PullFailed, "Could not reach Docker Hub to pull nginx:nope"),
        (
            "write /var/lib/docker/tmp: no space left on device",
            (),
            PullFailed,
            "Pulling nginx:nope failed: write",
        ),
    ],
)
def test_pull_failures_from_the_event_stream(
    message: str, mirrors: tuple[str, ...], kind: type, start: str
) -> None:
    op = Op("pulling nginx:nope", "pull", "nginx:nope", mirrors=lambda: mirrors)
    error = translate(message, op, HOST)
    assert type(error) is kind
    assert error.what.startswith(start)


def test_a_programming_error_is_not_disguised() -> None:
    with pytest.raises(ZeroDivisionError):
        raise translate(ZeroDivisionError("bug"), Op("doing"), HOST)
