"""Learner engines: one rootless engine per learner, as the learner's Unix user.

Three learners work at once with the same container names and never see each other's
work; a reset of one leaves the others alone; the host's root is only what a learner
may read; no learner reaches another's socket; the limits hold while the server stays
responsive; start and stop leave nothing behind; a missing user is a clear error.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
from docker.errors import ContainerError
from room.seats import Room, Seat, add_user, engine_of, leftovers, new_name, new_room, seats

from dockdojo.runner import DockdojoError, Engine, load_lesson, solve_lesson
from dockdojo.runner.errors import RoomError
from dockdojo.runner.kinds import check_lesson
from dockdojo.runner.privileged import firewall
from dockdojo.runner.privileged.cgroups import room_caps
from dockdojo.runner.privileged.users import prepare_runtime_dir
from dockdojo.runner.room.config import Limits
from dockdojo.runner.room.learners import Learner, lookup

pytestmark = pytest.mark.engine

SEED = "what-is-an-image"
STEPS = ["run-nginx", "run-redis", "redis-cli"]


@pytest.fixture(scope="module")
def room(mirror_port: int) -> Iterator[Room]:
    with new_room(mirror_port) as room:
        yield room


@pytest.fixture(scope="module")
def trio(room: Room) -> Iterator[list[Seat]]:
    """Three learners whose engines run at once, each with nginx, redis and busybox."""
    with seats(room, 3) as taken:

        def pull(seat: Seat) -> None:
            with Engine(seat.docker_host) as engine:
                for image in ("nginx", "redis", "busybox"):
                    engine.pull(image)

        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(pull, taken))
        yield taken


def _engine(seat: Seat, lesson: str = SEED) -> Engine:
    return Engine(
        seat.docker_host,
        lesson=lesson,
        learner=seat.who.name,
        host_ip=firewall.address(seat.who.uid),  # as the room hands it to the widgets
    )


def _fresh_cache(engine: Engine, value: str) -> None:
    """A redis named ``cache`` holding ``who = value`` (the same name on every engine)."""
    with contextlib.suppress(DockdojoError):
        engine.remove_container("cache")
    engine.run("redis", name="cache")
    deadline = time.monotonic() + 10
    while engine.exec("cache", ["redis-cli", "SET", "who", value]).output.strip() != "OK":
        assert time.monotonic() < deadline, "redis in cache did not answer"
        time.sleep(0.1)


def _dockerd(seat: Seat) -> int:
    """The process id of the learner's dockerd (in the engine's cgroup)."""
    for pid in seat.engine.cgroup.pids():
        if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd":
            return pid
    raise AssertionError(f"no dockerd in {seat.who.name}'s cgroup")


def _as_user(seat: Seat, code: str) -> subprocess.CompletedProcess[str]:
    """Run Python as the learner's Unix user, with the system's interpreter."""
    return subprocess.run(
        ["/usr/bin/python3", "-c", code],
        user=seat.who.uid,
        group=seat.who.gid,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin", "HOME": str(seat.who.home)},
        capture_output=True,
        text=True,
        timeout=30,
    )


# -- identity and errors ------------------------------------------------------------------
def test_a_missing_user_is_named_with_the_fix(
    room: Room, capsys: pytest.CaptureFixture[str]
) -> None:
    name = new_name()
    assert room.cli("start", name) == 1
    err = capsys.readouterr().err
    assert f"There is no Unix user {name}" in err
    assert f"useradd -m {name}" in err
    assert "--create-user" in err
    assert not (room.config.state / "engines" / name).exists()


def test_start_creates_the_user_is_idempotent_and_stop_leaves_nothing(
    room: Room, capsys: pytest.CaptureFixture[str]
) -> None:
    name = new_name()
    with engine_of(room, name) as engine:
        started = time.monotonic()
        assert room.cli("start", name, "--create-user") == 0
        answered = time.monotonic() - started
        out = capsys.readouterr().out
        first = engine.status()
        assert first.uid is not None
        assert out == f"export DOCKER_HOST=unix:///run/user/{first.uid}/docker.sock\n"
        assert first.running, first.describe()
        assert first.limits_running
        assert answered < 10, f"the API answered after {answered:.1f} s"
        assert room.cli("start", name) == 0  # idempotent: the same engine
        assert engine.status().pid == first.pid
        capsys.readouterr()
        assert room.cli("status", "--json") == 0
        listed = json.loads(capsys.readouterr().out)
        assert listed["schema"] == "dockdojo.room-engines/v1"
        (mine,) = [e for e in listed["engines"] if e["learner"] == name]
        assert mine["running"]
        assert mine["memory_bytes"] > 50_000_000  # dockerd, containerd, rootlesskit...
        limits = int((room.config.state / "engines" / name / "limits.pid").read_text())
        os.kill(limits, 9)  # without its containers limit, the engine refuses everything
        time.sleep(0.2)
        assert "containers limit is down" in engine.status().describe()
        assert room.cli("start", name) == 0  # starts the limit again, not the engine
        assert engine.status().running
        assert engine.status().pid == first.pid
        with Engine(first.docker_host, host_ip=firewall.address(first.uid)) as client:
            info = client.ping()
            assert info.rootless
            assert info.root_dir == str(room.config.state / "engines" / name / "data")
            assert info.mirrors == (f"{room.config.mirror_url}/",)
            client.pull("nginx")
            web = client.run("nginx", ports={80: 0})  # a shim and a port driver must go too
            assert web.running
        assert Path(f"/proc/{first.pid}/status").read_text().count(f"\t{first.uid}\t") >= 1
        assert room.cli("stop", name) == 0
        assert room.cli("status", name) == 3  # not running
        stopped = engine.status()
        assert not stopped.running
        assert stopped.containers == 1  # a stop keeps the learner's work
        who = _lookup(name)
        assert leftovers(engine, who) == []


def _lookup(name: str) -> Learner:
    who = lookup(name)
    assert who is not None
    return who


# -- three learners at once -----------------------------------------------------------------
def test_three_learners_same_names_no_interference_no_shared_credit(trio: list[Seat]) -> None:
    lesson = load_lesson(SEED)
    cyd = trio[2]

    def work(seat: Seat) -> None:
        with _engine(seat) as engine:
            for name in ("cache", "web"):
                with contextlib.suppress(DockdojoError):
                    engine.remove_container(name)
            _fresh_cache(engine, seat.who.name)
            if seat is not cyd:  # cyd only runs her cache
                report = solve_lesson(engine, lesson, step_ids=STEPS, settle=2)
                assert all(s.passed for s in report.steps), report

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(work, trio))

    ports: set[tuple[str, int]] = set()
    for seat in trio:
        with _engine(seat) as engine:
            got = engine.exec("cache", ["redis-cli", "GET", "who"]).output.strip()
            assert got == seat.who.name  # the same name, each learner's own container
            report = check_lesson(engine, lesson, STEPS)
            passed = {s.step: s.passed for s in report.steps}
            if seat is cyd:  # her own redis counts; the others' nginx and key do not
                expected = {"run-nginx": False, "run-redis": True, "redis-cli": False}
                assert passed == expected, report
            else:
                assert passed == dict.fromkeys(STEPS, True), report
                web = engine.containers(image="nginx")
                assert len(web) == 1
                ports.update((link.host_ip, link.host_port) for link in web[0].ports)
    assert len(ports) == 2  # ada's and bob's nginx each on an address and port of its own
    namespaces = {os.readlink(f"/proc/{_dockerd(seat)}/ns/net") for seat in trio}
    namespaces.add(os.readlink("/proc/self/ns/net"))
    assert len(namespaces) == 4  # its own network namespace each, none the host's


def test_a_reset_empties_one_learner_and_leaves_the_others_untouched(
    room: Room, trio: list[Seat]
) -> None:
    ada, bob, cyd = trio
    for seat in trio:
        with _engine(seat) as engine:
            _fresh_cache(engine, seat.who.name)
    with _engine(ada, lesson="other-lesson") as engine:
        engine.run("busybox", name="lesson-box", command=["sleep", "600"])
        before = {i.id for i in engine.images()}
    client = docker.DockerClient(base_url=ada.docker_host)
    try:
        client.networks.create("lesson-net", labels={"dockdojo.lesson": "other-lesson"})
        client.networks.create("own-net")
        client.volumes.create("own-data")
    finally:
        client.close()

    assert room.cli("reset", ada.who.name, "--lesson", "other-lesson") == 0
    with _engine(ada) as engine:
        names = {c.name for c in engine.containers()}
        assert "lesson-box" not in names
        assert "cache" in names  # another lesson's container stays
        assert engine.network_manager().names() == ["own-net"]
        assert engine.volume_manager().names() == ["own-data"]

    assert room.cli("reset", ada.who.name) == 0
    with _engine(ada) as engine:
        assert engine.containers() == []
        assert engine.network_manager().names() == []
        assert engine.volume_manager().names() == []
        assert {i.id for i in engine.images()} == before  # every image stays
    for seat in (bob, cyd):
        with _engine(seat) as engine:
            assert engine.exec("cache", ["redis-cli", "GET", "who"]).output.strip() == (
                seat.who.name
            )


def test_reset_images_keeps_only_the_images_the_room_serves(room: Room, trio: list[Seat]) -> None:
    ada = trio[0]
    client = docker.DockerClient(base_url=ada.docker_host)
    try:
        box = client.containers.run("busybox", ["sh", "-c", "echo x > /made-here"], detach=True)
        box.wait()
        box.commit("homemade", "1")  # built here: no repository digest
        box.remove()
        client.images.get("busybox").tag("redis", "fake")  # a foreign tag on a served image
    finally:
        client.close()
    assert room.cli("reset", ada.who.name, "--images") == 0
    with _engine(ada) as engine:
        tags = {f"{i.repository}:{i.tag}" for i in engine.images()}
    assert "homemade:1" not in tags
    assert "redis:fake" not in tags
    assert {"nginx:latest", "redis:latest", "busybox:latest"} <= tags


# -- confinement ---------------------------------------------------------------------------
def test_mounting_the_hosts_root_shows_only_what_the_learner_may_read(trio: list[Seat]) -> None:
    secret = Path("/root") / f"dd-secret-{uuid.uuid4().hex[:8]}"
    secret.write_text("root only\n")
    secret.chmod(0o600)
    client = docker.DockerClient(base_url=trio[0].docker_host)
    try:
        with pytest.raises(ContainerError) as refused:
            client.containers.run(
                "busybox", ["cat", f"/host/root/{secret.name}"], volumes=["/:/host:ro"], remove=True
            )
        assert b"Permission denied" in (refused.value.stderr or b"")
        listed = client.containers.run(
            "busybox", ["cat", "/host/etc/hostname"], volumes=["/:/host:ro"], remove=True
        )
        assert listed.strip()  # what any user may read, the learner may read
    finally:
        client.close()
        secret.unlink()


def test_no_learner_reaches_another_learners_engine(trio: list[Seat]) -> None:
    ada, bob, _ = trio
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(bob.who.socket)!r})\n"
        "except PermissionError:\n"
        "    print('EACCES')\n"
        "else:\n"
        "    print('connected')\n"
    )
    assert _as_user(ada, probe).stdout.strip() == "EACCES"
    assert _as_user(bob, probe).stdout.strip() == "connected"  # the probe works
    client = docker.DockerClient(base_url=ada.docker_host)
    try:
        seen = client.containers.run(
            "busybox",
            ["sh", "-c", f"ls /hostrun/{bob.who.uid} 2>&1; true"],
            volumes=["/run/user:/hostrun:ro"],
            remove=True,
        )
        assert b"Permission denied" in seen
    finally:
        client.close()


# -- limits -------------------------------------------------------------------------------
def test_limits_refuse_clearly_and_the_server_stays_responsive(mirror_port: int) -> None:
    limits = Limits(containers=3, memory_mb=512, pids=300)
    with new_room(mirror_port, limits) as room, seats(room, 1) as (seat,):
        folders = {f.parts[-3]: f for f in seat.engine.cgroup.folders}
        assert (folders["pids"] / "pids.max").read_text().strip() == "300"
        assert int((folders["memory"] / "memory.limit_in_bytes").read_text()) == 512 << 20
        room_pids, room_memory = room_caps()  # all learners together leave the server room
        assert (folders["pids"].parent / "pids.max").read_text().strip() == str(room_pids)
        assert int((folders["memory"].parent / "memory.limit_in_bytes").read_text()) == room_memory
        with _engine(seat) as engine:
            engine.pull("busybox")
            for n in range(3):
                engine.run("busybox", name=f"box{n}", command=["sleep", "600"])
            with pytest.raises(DockdojoError) as refused:
                engine.run("busybox", name="box3", command=["sleep", "600"])
            assert "This room allows 3 containers per learner" in refused.value.what
            assert "docker rm" in refused.value.what
            engine.remove_container("box0")
            engine.remove_container("box1")
            bomb = engine.run(
                "busybox",
                name="bomb",
                command=["sh", "-c", "while true; do sleep 600 & done"],
            )
            deadline = time.monotonic() + 30
            while "can't fork" not in engine.logs(bomb.name) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "can't fork" in engine.logs(bomb.name)  # the limit, met inside
            assert int((folders["pids"] / "pids.current").read_text()) <= 300
            started = time.monotonic()
            subprocess.run(["true"], check=True)  # the server forks as usual
            engine.ping()  # and the learner's engine still answers
            assert time.monotonic() - started < 5
            engine.remove_container("bomb")
            assert engine.container("box2").running
            engine.remove_container("box2")
            hog = engine.run(
                "busybox", name="hog", command=["sh", "-c", 'a=x; while true; do a="$a$a"; done']
            )
            deadline = time.monotonic() + 60
            while engine.container(hog.name).running and time.monotonic() < deadline:
                time.sleep(0.2)
            api = engine.api_client()
            assert api.inspect_container(hog.name)["State"]["ExitCode"] == 137  # OOM-killed
            peak = int((folders["memory"] / "memory.max_usage_in_bytes").read_text())
            assert peak <= 512 << 20
            engine.ping()
        assert seat.engine.status().running


def test_stop_of_a_crashed_engine_leaves_nothing(mirror_port: int) -> None:
    with new_room(mirror_port) as room, engine_of(room, add_user(new_name()).name) as engine:
        who = _lookup(engine.name)
        status = engine.start()
        assert status.pid is not None
        os.kill(status.pid, 9)  # rootlesskit dies; dockerd and the rest are orphaned
        time.sleep(0.5)
        assert engine.stop().running is False
        assert leftovers(engine, who) == []


def test_an_engine_that_cannot_start_shows_its_log_and_leaves_nothing(mirror_port: int) -> None:
    with new_room(mirror_port) as room, engine_of(room, add_user(new_name()).name) as engine:
        who = _lookup(engine.name)
        prepare_runtime_dir(who)
        who.socket.mkdir()  # something else where the engine's socket goes
        os.chown(who.socket, who.uid, who.gid)
        with pytest.raises(RoomError) as failed:
            engine.start()
        assert f"{who.name}'s engine stopped while starting" in failed.value.what
        assert "docker.sock" in failed.value.what  # the log's tail says why
        assert failed.value.hint.startswith("Fix what the log says")
        who.socket.rmdir()
        assert leftovers(engine, who) == []
