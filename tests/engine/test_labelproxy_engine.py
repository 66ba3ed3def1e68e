"""The labelling proxy in front of the real (sandbox) engine, driven by the docker SDK and CLI.

Everything a submission does goes through the proxy; what the engine then holds is read
directly from the engine (the ``engine`` fixture), never through the proxy.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
import requests
from docker.errors import APIError

from dockdojo.runner import Engine
from dockdojo.runner.grading.labelproxy import LABEL_GRADE, LabelProxy

Namer = Callable[[str], str]


@dataclass(frozen=True)
class Cli:
    """The docker CLI, run through the proxy with a config folder of its own."""

    binary: str
    env: dict[str, str]

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def run_id() -> str:
    return f"pytest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def labels(run_id: str) -> dict[str, str]:
    return {"dockdojo.learner": "ada", "dockdojo.lesson": "what-is-an-image", LABEL_GRADE: run_id}


@pytest.fixture
def proxy(
    images: Engine, docker_host: str, short_dir: Path, labels: dict[str, str], run_id: str
) -> Iterator[LabelProxy]:
    """A guarding proxy; afterwards every container it labelled is removed (directly)."""
    with LabelProxy(docker_host, short_dir / "proxy.sock", labels) as started:
        try:
            yield started
        finally:
            images.remove_labelled({LABEL_GRADE: run_id})


@pytest.fixture
def sdk(proxy: LabelProxy) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=proxy.docker_host, version="auto", timeout=60)
    yield client
    client.close()


@pytest.fixture
def cli(proxy: LabelProxy, short_dir: Path) -> Cli:
    """Run the docker CLI through the proxy (with a config folder of its own)."""
    binary = shutil.which("docker")
    assert binary, "the docker CLI is not installed (tests/world/install.sh installs it)"
    config = short_dir / "docker-config"
    config.mkdir()
    return Cli(
        binary, {**os.environ, "DOCKER_HOST": proxy.docker_host, "DOCKER_CONFIG": str(config)}
    )


def test_sdk_containers_carry_the_labels_and_keep_their_own(
    images: Engine, sdk: docker.DockerClient, labels: dict[str, str], name: Namer
) -> None:
    container = sdk.containers.run(
        "redis", name=name("sdk"), detach=True, labels={"mine": "yes", LABEL_GRADE: "forged"}
    )
    seen = images.container(container.name)
    assert seen.labels["mine"] == "yes"
    assert {k: seen.labels[k] for k in labels} == labels  # the grade label cannot be forged
    assert container.exec_run(["redis-cli", "PING"]).output.strip() == b"PONG"
    deadline = time.monotonic() + 10
    while b"Ready to accept connections" not in container.logs():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    container.remove(force=True)  # its own container: allowed
    assert all(c.name != container.name for c in images.containers())


def test_cli_run_ps_exec_logs_and_rm(
    images: Engine, cli: Cli, labels: dict[str, str], run_id: str, name: Namer
) -> None:
    web = name("cli-web")
    run = cli("run", "-d", "--name", web, "--label", "mine=1", "-p", "127.0.0.1::80", "nginx")
    assert run.returncode == 0, run.stderr
    seen = images.container(web)
    assert seen.labels["mine"] == "1"
    assert {k: seen.labels[k] for k in labels} == labels
    listed = cli("ps", "--filter", f"label={LABEL_GRADE}={run_id}", "--format", "{{.Names}}")
    assert listed.stdout.split() == [web]
    version = cli("exec", web, "nginx", "-v")
    assert version.returncode == 0
    assert "nginx version" in version.stdout + version.stderr
    assert cli("logs", web).returncode == 0
    removed = cli("rm", "-f", web)
    assert removed.returncode == 0, removed.stderr
    assert all(c.name != web for c in images.containers())


@pytest.mark.usefixtures("images")
def test_cli_exec_with_piped_stdin_round_trips(cli: Cli, name: Namer) -> None:
    cache = name("cli-redis")
    assert cli("run", "-d", "--name", cache, "redis").returncode == 0
    result = cli("exec", "-i", cache, "redis-cli", stdin="SET test 1\nGET test\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OK", "1"]


def test_sdk_tty_exec_session_round_trips(
    proxy: LabelProxy, sdk: docker.DockerClient, name: Namer
) -> None:
    cache = sdk.containers.run("redis", name=name("tty-redis"), detach=True)
    with (
        Engine(proxy.docker_host) as through,
        through.session(cache.name, ["redis-cli"]) as session,
    ):
        session.expect(r"6379> $")
        assert session.run("SET test 1", r"6379> $") == "OK"
        assert session.run("GET test", r"6379> $") == '"1"'
    assert cache.exec_run(["redis-cli", "GET", "test"]).output.strip() == b"1"


def test_pull_progress_streams_through(sdk: docker.DockerClient, cli: Cli) -> None:
    events = list(sdk.api.pull("nginx", tag="latest", stream=True, decode=True))
    statuses = [str(e.get("status", "")) for e in events]
    assert not [e for e in events if "error" in e]
    assert statuses[0] == "Pulling from library/nginx"
    assert any(s.startswith("Digest: sha256:") for s in statuses)
    assert statuses[-1].startswith("Status: ")
    pulled = cli("pull", "nginx")
    assert pulled.returncode == 0, pulled.stderr
    assert "docker.io/library/nginx:latest" in pulled.stdout


def test_events_stream_promptly(cli: Cli, sdk: docker.DockerClient, name: Namer) -> None:
    watched = name("events")
    events = subprocess.Popen(
        [
            cli.binary,
            "events",
            "--filter",
            f"container={watched}",
            "--format",
            "{{.Action}}",
        ],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)  # let `docker events` subscribe
        sdk.containers.run("redis", name=watched, detach=True)
        seen = _lines_until(events, "start", timeout=10)
        assert "create" in seen
        assert events.poll() is None  # the stream has not ended: events came as they happened
    finally:
        events.terminate()
        events.communicate(timeout=10)


def _lines_until(process: subprocess.Popen[bytes], wanted: str, timeout: float) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while wanted not in lines:
            left = deadline - time.monotonic()
            assert left > 0, f"no {wanted!r} event within {timeout} s; saw {lines}"
            if selector.select(left):
                chunk = os.read(process.stdout.fileno(), 4096)
                assert chunk, f"docker events ended; saw {lines}"
                buffer += chunk
                *done, buffer = buffer.split(b"\n")
                lines += [line.decode().strip() for line in done]
    return lines


def test_guard_refuses_privileged_and_socket_mounts_in_the_cli(
    images: Engine, cli: Cli, run_id: str, name: Namer
) -> None:
    privileged = cli("run", "-d", "--name", name("priv"), "--privileged", "nginx")
    assert privileged.returncode != 0
    assert (
        "Error response from daemon: dockdojo's grader refused to create this container: "
        "graded work may not run privileged containers (--privileged)"
    ) in privileged.stderr
    mounted = cli("run", "-d", "-v", "/var/run/docker.sock:/var/run/docker.sock", "nginx")
    assert mounted.returncode != 0
    assert "it would mount the host path /var/run/docker.sock" in mounted.stderr
    root = cli("run", "-d", "--mount", "type=bind,source=/,target=/host", "nginx")
    assert "it would mount the host path /" in root.stderr
    assert images.containers(labels={LABEL_GRADE: run_id}) == []  # nothing was created


def test_guard_refuses_touching_a_container_the_submission_did_not_make(
    images: Engine,
    proxy: LabelProxy,
    cli: Cli,
    sdk: docker.DockerClient,
    cleanup: list[str],
    name: Namer,
) -> None:
    other = images.run("redis", name=name("not-theirs"))  # made directly, not through the proxy
    cleanup.append(other.id)
    removed = cli("rm", "-f", other.name)
    assert removed.returncode != 0
    assert (
        f"Error response from daemon: dockdojo's grader refused to remove container "
        f"{other.name}: this submission did not create it"
    ) in removed.stderr
    assert cli("stop", other.name).returncode != 0
    assert "refused to stop" in cli("stop", other.name).stderr
    assert "refused to run a command in" in cli("exec", other.name, "true").stderr
    assert "refused to remove" in cli("rm", "-f", other.id[:12]).stderr  # by id prefix too
    with pytest.raises(APIError) as err:
        sdk.containers.get(other.name).remove(force=True)
    assert err.value.status_code == 403
    assert "this submission did not create it" in str(err.value.explanation)
    assert images.container(other.id).running  # untouched
    assert cli("inspect", other.name).returncode == 0  # reading it is fine
    assert [r.path.rsplit("/", 1)[-1] for r in proxy.refusals].count("stop") == 2


def test_sdk_sees_the_refusal_as_an_api_error(sdk: docker.DockerClient) -> None:
    with pytest.raises(APIError) as err:
        sdk.containers.run("nginx", detach=True, privileged=True)
    assert err.value.status_code == 403
    assert "graded work may not run privileged containers" in str(err.value.explanation)


def test_stop_leaves_no_socket_file_and_no_thread(
    docker_host: str, short_dir: Path, labels: dict[str, str]
) -> None:
    proxy = LabelProxy(docker_host, short_dir / "gone.sock", labels).start()
    client = docker.DockerClient(base_url=proxy.docker_host, version="auto", timeout=10)
    try:
        assert client.ping()
        events = client.events(decode=True)  # a stream left open when the proxy stops
        proxy.stop()
        started = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            assert list(events) == []  # it ends (cut off), it does not hang
        assert time.monotonic() - started < 5
        events.close()
    finally:
        client.close()
        proxy.stop()
    assert not (short_dir / "gone.sock").exists()
    assert not proxy.running
    assert not [t for t in threading.enumerate() if t.name.startswith("dockdojo-labelproxy")]
