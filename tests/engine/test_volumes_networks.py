"""Volumes and networks on the real engine: created, listed with the containers that use
them, read, removed (with the refusal that names who uses them), pruned, connected."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from dockdojo.runner import (
    ContainerNotFound,
    DockdojoError,
    Engine,
    NameInUse,
    NetworkInUse,
    NetworkNotFound,
    VolumeInUse,
    VolumeNotFound,
)
from dockdojo.runner.engine.volumes import LABEL_HELPER


@pytest.fixture(scope="module")
def busybox(engine: Engine) -> Engine:
    if engine.image("busybox") is None:
        engine.pull("busybox")
    return engine


def _container(
    engine: Engine,
    name: str,
    *,
    binds: dict[str, dict[str, str]] | None = None,
    network: str | None = None,
    command: list[str] | None = None,
) -> str:
    """A busybox container started with raw settings (mounts, a network)."""
    api = engine.api_client()
    created = api.create_container(
        "busybox",
        command=command or ["sleep", "600"],
        name=name,
        labels=engine.labels_for("volumes"),
        host_config=api.create_host_config(binds=binds, network_mode=network),
    )
    api.start(created["Id"])
    return str(created["Id"])


def test_a_volume_lists_its_containers_shows_its_files_and_refuses_removal_in_use(
    busybox: Engine, made: dict[str, list[str]], name: Callable[[str], str]
) -> None:
    engine = busybox
    volumes = engine.volume_manager()
    vol, box = name("vol-data"), name("vol-writer")
    made["volumes"].append(vol)
    made["containers"].append(box)
    created = volumes.create(vol, step="make-volume")
    assert created.labels["dockdojo.step"] == "make-volume"
    assert not created.in_use
    _container(
        engine,
        box,
        binds={vol: {"bind": "/logs", "mode": "rw"}},
        command=["sh", "-c", "mkdir -p /logs/app && echo hello > /logs/app/a.txt && sleep 600"],
    )
    listed = {v.name: v for v in volumes.listing()}
    assert [(m.name, m.destination) for m in listed[vol].mounts] == [(box, "/logs")]

    folder = volumes.folder(vol, "/")
    assert folder.path == "/"
    for _ in range(50):  # the container writes as it starts
        if volumes.holds(vol, "/app/a.txt"):
            break
    assert [e.name for e in volumes.folder(vol, "/app").entries] == ["a.txt"]
    text = volumes.read_file(vol, "app/a.txt")
    assert (text.path, text.text) == ("/app/a.txt", "hello\n")
    assert not volumes.holds(vol, "/app/missing.txt")
    with pytest.raises(DockdojoError, match="There is no /nope in the volume"):
        volumes.folder(vol, "/nope")
    assert volumes.folder(vol, "/../..").path == "/"  # never leaves the volume
    helpers = engine.containers(labels={LABEL_HELPER: "volume-files"})
    assert helpers == []  # each helper is removed after reading

    with pytest.raises(VolumeInUse) as refused:
        volumes.remove(vol)
    assert [u.name for u in refused.value.containers] == [box]
    assert box in refused.value.what
    assert f"docker rm -f {box}" in refused.value.hint

    engine.remove_container(box, force=True)
    volumes.remove(vol)
    assert vol not in volumes.names()
    with pytest.raises(VolumeNotFound, match=f"no volume '{vol}'"):
        volumes.get(vol)
    with pytest.raises(VolumeNotFound):
        volumes.folder(vol)


def test_prune_removes_only_the_learners_unused_volumes(
    busybox: Engine, docker_host: str, made: dict[str, list[str]], name: Callable[[str], str]
) -> None:
    learner = f"vol-{uuid.uuid4().hex[:6]}"
    with Engine(docker_host, lesson="engine-tests", learner=learner, shared=True) as mine:
        unused, mounted, foreign = name("vol-unused"), name("vol-mounted"), name("vol-foreign")
        made["volumes"] += [unused, mounted, foreign]
        mine.volume_manager().create(unused)
        mine.volume_manager().create(mounted)
        busybox.volume_manager().create(foreign)  # another learner's
        box = name("vol-user")
        made["containers"].append(box)
        _container(busybox, box, binds={mounted: {"bind": "/data", "mode": "rw"}})
        listed = [v.name for v in mine.volume_manager().listing()]
        assert unused in listed
        assert mounted in listed
        assert foreign not in listed

        assert mine.volume_manager().prune() == [unused]
        names = busybox.volume_manager().names()
        assert unused not in names
        assert mounted in names
        assert foreign in names


def test_a_network_shows_its_containers_with_their_aliases(
    busybox: Engine, made: dict[str, list[str]], name: Callable[[str], str]
) -> None:
    engine = busybox
    networks = engine.network_manager()
    net, box, other = name("vol-net"), name("vol-cache"), name("vol-web")
    made["networks"].append(net)
    made["containers"] += [box, other]
    created = networks.create(net, step="make-network")
    assert created.labels["dockdojo.step"] == "make-network"
    assert created.members == ()
    with pytest.raises(NameInUse, match="already exists"):
        networks.create(net)
    _container(engine, box, network=net)
    _container(engine, other)
    networks.connect(net, other, aliases=["web", "front"])

    found = networks.get(net)
    members = {m.name: m for m in found.members}
    assert set(members) == {box, other}
    assert members[other].aliases == ("web", "front")
    assert members[box].aliases == ()
    assert members[other].names == (other, "web", "front")
    assert found.member(other) is members[other]
    assert net in [n.name for n in networks.listing()]

    with pytest.raises(NetworkInUse) as refused:
        networks.remove(net)
    assert {u.name for u in refused.value.containers} == {box, other}
    assert "docker network disconnect" in refused.value.hint

    with pytest.raises(ContainerNotFound, match="no such container"):
        networks.connect(net, name("vol-nobody"))
    networks.disconnect(net, other)
    engine.remove_container(box, force=True)
    networks.remove(net)
    with pytest.raises(NetworkNotFound, match=f"no network '{net}'"):
        networks.get(net)
    with pytest.raises(DockdojoError, match="Docker's own networks"):
        networks.remove("bridge")
    with pytest.raises(DockdojoError, match="not a valid network name"):
        networks.create("no spaces")
