from __future__ import annotations

from collections.abc import Callable

import pytest

from dockdojo.runner import (
    ContainerNotFound,
    DockdojoError,
    Engine,
    ImageInUse,
    ImageNotFound,
    RunSettings,
    parse_mount,
)

Namer = Callable[[str], str]


def test_remove_nginx_in_use_then_its_containers_then_the_image(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    running = images.run("nginx", name=name("web"), ports={80: 0})
    stopped = images.run("nginx", name=name("old"))
    cleanup += [running.id, stopped.id]
    images.stop_container(stopped.name, timeout=1)
    with pytest.raises(ImageInUse) as err:
        images.remove_image("nginx")
    users = {c.name: c.status for c in err.value.containers}
    assert users == {running.name: "running", stopped.name: "exited"}
    assert "nginx:latest is in use by 2 containers" in err.value.what
    assert running.name in err.value.what
    assert "Delete those containers first" in err.value.hint
    assert images.image("nginx") is not None
    for user in err.value.containers:
        images.remove_container(user.name)
    images.remove_image("docker.io/library/nginx:latest")
    assert images.image("nginx") is None
    images.pull("nginx")  # leave the world as the other tests expect it


def test_removing_a_missing_image_is_reported(engine: Engine) -> None:
    with pytest.raises(ImageNotFound, match="There is no image dockdojo-gone:latest"):
        engine.remove_image("dockdojo-gone")


def test_removing_a_missing_container_is_reported(engine: Engine) -> None:
    with pytest.raises(ContainerNotFound, match="no container 'dockdojo-gone'"):
        engine.remove_container("dockdojo-gone")


def test_remove_labelled_touches_only_labelled_containers(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    mine = images.run("redis", name=name("mine"), labels={"dockdojo.lesson": "cleanup-test"})
    other_lesson = images.run("redis", name=name("other"))
    unlabelled = _docker_cli_style_container(images, name("learners-own"))
    cleanup += [other_lesson.id, unlabelled]
    removed = images.remove_labelled({"dockdojo.lesson": "cleanup-test"})
    assert removed.containers == (mine.name,)
    remaining = {c.name for c in images.containers()}
    assert mine.name not in remaining
    assert {other_lesson.name, unlabelled} <= remaining


def _docker_cli_style_container(engine: Engine, container_name: str) -> str:
    """A container made without dockdojo (as `docker run` would), so with no labels."""
    api = engine.api_client()
    created = api.create_container("redis", name=container_name)
    api.start(created["Id"])
    return container_name


def test_remove_labelled_refuses_to_run_without_dockdojo_labels(engine: Engine) -> None:
    with pytest.raises(DockdojoError, match="only dockdojo"):
        engine.remove_labelled({})
    with pytest.raises(DockdojoError, match="only dockdojo"):
        engine.remove_labelled({"com.example": "x"})


def test_remove_labelled_takes_the_volumes_and_networks_it_made_and_leaves_one_in_use(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    lesson = {"dockdojo.lesson": "cleanup-stores"}
    made, kept, net = name("made"), name("kept"), name("net")
    # a run with -v NAME: makes the missing volume labelled like its container
    images.run(
        "redis",
        name=name("db"),
        labels=lesson,
        settings=RunSettings(mounts=(parse_mount(f"{made}:/data"),)),
    )
    assert images.volume_manager().get(made).labels["dockdojo.lesson"] == "cleanup-stores"
    images.network_manager().create(net, labels=lesson)
    # a volume of the lesson's that a container of the learner's own still mounts stays
    images.volume_manager().create(kept, labels=lesson)
    api = images.api_client()
    own = api.create_container(
        "redis", name=name("own"), host_config=api.create_host_config(binds=[f"{kept}:/data"])
    )
    cleanup.append(own["Id"])
    removed = images.remove_labelled(lesson)
    assert removed.volumes == (made,)
    assert removed.networks == (net,)
    assert not images.volume_manager().exists(made)
    assert not images.network_manager().exists(net)
    assert images.volume_manager().exists(kept)
    images.remove_container(own["Id"])
    images.volume_manager().remove(kept)
