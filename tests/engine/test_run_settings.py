"""``docker run``'s settings the guides use, on the real engine, read back from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from lesson_kit import lesson, step

from dockdojo.runner import ACTIONS, DockdojoError, Engine, RunSettings, parse_mount
from dockdojo.runner.engine.running import bindings, parse_cpus, parse_env_lines, parse_memory
from dockdojo.runner.kinds import actions

Namer = Callable[[str], str]


@pytest.fixture(scope="module", autouse=True)
def _busybox(images: Engine) -> None:
    images.pull("busybox")


@pytest.fixture
def network(docker_host: str, name: Namer) -> Iterator[str]:
    """A user-defined network (made with the SDK: this file tests run, not networks)."""
    client = docker.DockerClient(base_url=docker_host)
    net = client.networks.create(name("net"))
    yield str(net.name)
    net.reload()
    for container in net.containers:
        container.remove(force=True)
    net.remove()
    client.close()


def test_publish_all_puts_every_exposed_port_on_a_random_host_port(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    info = images.run("nginx", name=name("all"), settings=RunSettings(publish_all=True))
    cleanup.append(info.id)
    (link,) = info.ports
    assert link.container_port == "80/tcp"
    assert link.host_port >= 1024


def test_a_port_bound_to_an_address_is_read_back_with_it(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    info = images.run("nginx", name=name("addr"), ports={80: "0.0.0.0:0"})
    cleanup.append(info.id)
    seen = images.settings(info.id)
    ((port, address, host_port),) = seen.bound
    assert (port, address) == ("80/tcp", "0.0.0.0")
    assert host_port > 0
    local = images.run("nginx", name=name("local"), ports={80: "127.0.0.1:"})
    cleanup.append(local.id)
    assert [b[1] for b in images.settings(local.id).bound] == ["127.0.0.1"]


def test_environment_limits_and_command_are_what_the_engine_reports(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    settings = RunSettings(
        env={"foo": "bar", "POSTGRES_PASSWORD": "secret"},
        memory="512m",
        cpus=0.5,
        entrypoint=["sh", "-c"],
        command=["echo $foo; sleep 30"],
        hostname="web1",
    )
    info = images.run("busybox", name=name("env"), settings=settings)
    cleanup.append(info.id)
    seen = images.settings(info.id)
    assert seen.env["foo"] == "bar"
    assert seen.memory == 512 * 1024 * 1024
    assert seen.nano_cpus == 500_000_000
    assert seen.entrypoint == ("sh", "-c")
    assert seen.hostname == "web1"
    assert "bar" in images.logs(info.id, tail=5)


def test_a_volume_outlives_its_container_and_a_bind_mount_is_read_only_when_asked(
    images: Engine, cleanup: list[str], name: Namer, tmp_path: Path, docker_host: str
) -> None:
    volume = name("data")
    first = images.run(
        "busybox",
        name=name("writer"),
        settings=RunSettings(
            command=["sh", "-c", "echo kept > /data/row && sleep 30"],
            mounts=(parse_mount(f"{volume}:/data"),),
        ),
    )
    images.remove_container(first.id)
    (tmp_path / "index.html").write_text("from the host\n")
    second = images.run(
        "busybox",
        name=name("reader"),
        settings=RunSettings(
            command=["sleep", "30"],
            mounts=(parse_mount(f"{volume}:/data"), parse_mount(f"{tmp_path}:/site:ro")),
        ),
    )
    cleanup.append(second.id)
    assert images.exec(second.id, ["cat", "/data/row"]).output.strip() == "kept"
    assert images.exec(second.id, ["cat", "/site/index.html"]).output == "from the host\n"
    refused = images.exec(second.id, ["sh", "-c", "echo x > /site/new"])
    assert refused.exit_code != 0
    assert "Read-only" in refused.output
    kinds = {m.kind: m for m in images.settings(second.id).mounts}
    assert kinds["volume"].source == volume
    assert not kinds["volume"].read_only
    assert kinds["bind"].source == str(tmp_path)
    assert kinds["bind"].read_only
    images.remove_container(second.id)
    client = docker.DockerClient(base_url=docker_host)
    client.volumes.get(volume).remove()
    client.close()


def test_containers_on_a_network_reach_each_other_by_alias(
    images: Engine, network: str, name: Namer
) -> None:
    server = images.run(
        "busybox",
        name=name("redis"),
        settings=RunSettings(
            command=["sleep", "30"], network=network, aliases=("cache",), hostname="cache1"
        ),
    )
    client = images.run(
        "busybox",
        name=name("client"),
        settings=RunSettings(command=["sleep", "30"], network=network),
    )
    result = images.exec(client.id, ["busybox", "ping", "-c", "1", "-W", "2", "cache"])
    assert result.exit_code == 0, result.output
    assert "cache" in images.settings(server.id).networks[network]


# bad input: a message that says how to write it (no engine needed) ---------------------
@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: parse_memory("lots"), "512m"),
        (lambda: parse_memory("1k"), "6m"),
        (lambda: parse_cpus("-1"), "0.5"),
        (lambda: parse_cpus("half"), "0.5"),
        (lambda: parse_mount("data"), "NAME:/path"),
        (lambda: parse_mount("data:relative"), "absolute"),
        (lambda: parse_mount("bad name!:/x"), "volume name"),
        (lambda: parse_mount("./no-such-folder-here:/x"), "mkdir"),
        (lambda: parse_env_lines("1BAD=x"), "KEY=value"),
    ],
)
def test_bad_settings_say_how_to_write_them(call: Callable[[], object], says: str) -> None:
    with pytest.raises(DockdojoError) as caught:
        call()
    assert says in str(caught.value) + caught.value.hint


def test_good_settings_parse_as_docker_reads_them(tmp_path: Path) -> None:
    assert parse_memory("512m") == 512 * 1024**2
    assert parse_memory("1g") == 1024**3
    assert parse_cpus(".5") == 500_000_000
    assert parse_env_lines("# c\nA=1\n\nB=x=y\nHOME\n") == {"A": "1", "B": "x=y"}
    bind = parse_mount("./:/usr/local/apache2/htdocs/", base=tmp_path)
    assert (bind.kind, bind.source, bind.target) == (
        "bind",
        str(tmp_path),
        "/usr/local/apache2/htdocs",
    )
    assert parse_mount("postgres_data:/var/lib/postgresql:ro").read_only
    # in a room, "this machine only" is the learner's own loopback address
    room = bindings({80: "127.0.0.1:8080", 443: "0.0.0.0:"}, "127.77.0.5")
    assert room == {"80/tcp": ("127.77.0.5", 8080), "443/tcp": ("0.0.0.0", None)}
    assert bindings({80: "127.0.0.1:"}, "127.0.0.1") == {"80/tcp": ("127.0.0.1", None)}


def test_a_run_that_waits_returns_once_its_container_ended_or_says_it_still_runs(
    engine: Engine, name: Namer, cleanup: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    the_lesson = lesson("waiting", step("run-it"))

    def run(container: str, command: list[str]) -> str:
        cleanup.append(container)
        args = {"image": "busybox", "name": container, "command": command, "wait": True}
        return ACTIONS["run"].perform(engine, the_lesson, the_lesson.steps[0], args)

    short = name("short")
    said = run(short, ["sh", "-c", "sleep 1; exit 3"])
    assert said.startswith(f"Ran {short} from busybox:latest to its end: Exited (3)"), said
    assert engine.container(short).state == "exited"  # no poll of the caller's needed

    monkeypatch.setattr(actions, "RUN_WAIT_TIMEOUT", 1.0)
    endless = name("endless")
    with pytest.raises(DockdojoError) as err:
        run(endless, ["sleep", "60"])
    assert f"{endless} still runs after 1 s" in str(err.value)
    assert f"docker stop {endless}" in str(err.value)
