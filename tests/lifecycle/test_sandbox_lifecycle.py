"""The sandbox itself: idempotent start, and a stop that leaves nothing behind.

This module stops and restarts the test sandbox, so ``make test`` runs it on its own,
after the engine tests. It needs the sandbox state folder in DOCKDOJO_TEST_SANDBOX_STATE.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from common_kit import eventually

from dockdojo.runner import Engine, EngineUnavailable, Sandbox
from dockdojo.runner.cli import main
from dockdojo.runner.privileged.processes import processes_using

BEFORE_STOP: set[str] = set()  # image names seen before the stop, compared after the restart


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    state = os.environ.get("DOCKDOJO_TEST_SANDBOX_STATE")
    if not state:
        pytest.fail("DOCKDOJO_TEST_SANDBOX_STATE is not set: run this through make test.")
    box = Sandbox(Path(state))
    assert box.status().running, "make test starts the sandbox before these tests"
    return box


def _running(pid: int) -> bool:
    """Whether the process exists and has not exited (a zombie has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    return [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith(prefix)
    ]


def test_start_again_is_idempotent_and_prints_docker_host(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sandbox.status()
    assert main(["sandbox", "start", "--state", str(sandbox.state_dir)]) == 0
    out = capsys.readouterr().out
    assert out == f"export DOCKER_HOST=unix://{sandbox.state_dir}/docker.sock\n"
    after = sandbox.status()
    assert (after.engine_pid, after.registry_pid) == (before.engine_pid, before.registry_pid)


def test_engine_is_private_and_pulls_through_its_mirror(sandbox: Sandbox) -> None:
    with Engine(sandbox.docker_host) as engine:
        info = engine.ping()
    assert info.host == f"unix://{sandbox.state_dir}/docker.sock"
    assert info.mirrors == (f"{sandbox.registry_url}/",)


def test_stop_leaves_no_process_and_no_mount_then_engine_down_is_clear(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    running = sandbox.status()
    with Engine(sandbox.docker_host) as engine:
        engine.pull("nginx")  # as pulled: a lesson walked before may have built one as nginx
        web = engine.run("nginx", name="lifecycle-web", ports={80: 0})  # a shim must go too
        assert web.running
        BEFORE_STOP.update(i.name for i in engine.images())
    assert len(processes_using(sandbox.state_dir)) >= 3
    containerd = sandbox.state_dir / "exec/containerd/containerd.pid"
    containerd_pid = int(containerd.read_text()) if containerd.exists() else None
    assert _mounts_under(sandbox.state_dir), "a running engine has mounts (at least its netns)"
    assert main(["sandbox", "stop", "--state", str(sandbox.state_dir)]) == 0
    assert running.journal_pid is not None, "the engine's journal is not being recorded"
    for pid in (running.engine_pid, running.registry_pid, containerd_pid, running.journal_pid):
        if pid is not None:
            assert not _running(pid), f"process {pid} survived the stop"
    assert processes_using(sandbox.state_dir) == []
    assert _mounts_under(sandbox.state_dir) == []
    assert main(["sandbox", "status", "--state", str(sandbox.state_dir)]) == 3
    out = capsys.readouterr().out
    assert "engine: stopped" in out
    assert "journal: stopped" in out

    started = time.monotonic()
    with Engine(sandbox.docker_host) as engine, pytest.raises(EngineUnavailable) as err:
        engine.images()
    assert time.monotonic() - started < 5
    assert f"No Docker Engine answered at unix://{sandbox.state_dir}/docker.sock" in str(err.value)
    assert "dockdojo sandbox start" in err.value.hint


def test_start_after_stop_brings_back_engine_images_and_mirror(sandbox: Sandbox) -> None:
    status = sandbox.start()
    assert status.running
    assert status.journal_pid is not None
    with Engine(sandbox.docker_host) as engine:
        _check_restart(engine)
        # the journal goes on across the restart: what came before it is still known
        journal = engine.journal()
        assert journal is not None
        assert sum(e.action == "follow" for e in journal.entries()) >= 2
        assert eventually(lambda: any(n == "redis:latest" for _, n in engine.history().arrivals))
        assert eventually(lambda: "lifecycle-web" in {n for _, n in engine.history().removals})


def _check_restart(engine: Engine) -> None:
    # the engine's data and the registry's storage survive a restart
    assert BEFORE_STOP
    assert {i.name for i in engine.images()} == BEFORE_STOP
    if engine.image("redis") is not None:
        engine.remove_image("redis", force=True)
    assert engine.pull("redis").name == "redis:latest"
    # the container stopped with the engine; dockerd does not restart it by itself
    assert engine.container("lifecycle-web").state == "exited"
    engine.remove_container("lifecycle-web")


def test_the_live_model_says_when_the_engine_stops_and_reads_it_anew_when_it_is_back(
    sandbox: Sandbox,
) -> None:
    from dockdojo.runner import LiveModel, LiveState

    engine = Engine(sandbox.docker_host)
    model = LiveModel(engine).start()
    seen: list[LiveState] = []
    model.subscribe(seen.append, now=False)
    try:
        assert model.state.connected
        sandbox.stop()
        deadline = time.monotonic() + 30
        while model.state.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not model.state.connected, "the drop was never noticed"
        assert model.state.problem, "a dropped stream says why"
        sandbox.start()
        made = engine.run("redis", name="lifecycle-live")  # made as the engine came back
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = model.state
            ids = {c.id for c in state.snapshot.containers} if state.snapshot else set()
            if state.connected and made.id in ids:
                break
            time.sleep(0.05)
        assert model.state.connected, "the stream was not followed again"
        assert any(not s.connected for s in seen), "subscribers were not told of the drop"
        assert seen[-1].connected
        engine.remove_container(made.id, force=True)
    finally:
        model.stop()
        engine.close()
