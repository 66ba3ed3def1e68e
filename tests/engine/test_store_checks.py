"""The volume and network checks and actions on the real engine: the guide's PostgreSQL
data kept in a volume, containers reaching each other by alias, and what each failure
tells the learner to do."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from lesson_kit import action, check, lesson, step

from dockdojo.runner import ACTIONS, CheckResult, Engine
from dockdojo.runner.authoring import Lesson
from dockdojo.runner.kinds import run_step_checks

Namer = Callable[[str], str]
SQL = (
    "CREATE TABLE tasks (id SERIAL PRIMARY KEY, description VARCHAR(100)); "
    "INSERT INTO tasks (description) VALUES ('Finish work'), ('Have fun');"
)
SELECT = ["psql", "-U", "postgres", "-c", "SELECT * FROM tasks"]


@pytest.fixture(scope="module")
def pulled(engine: Engine) -> Engine:
    for image in ("postgres:18", "busybox", "redis"):
        if engine.image(image) is None:
            engine.pull(image)
    return engine


def _start(engine: Engine, image: str, name: str, **options: Any) -> str:
    """``docker run -d`` with raw options, as a learner's terminal would."""
    api = engine.api_client()
    host = {k: options.pop(k) for k in ("binds", "network_mode") if k in options}
    created = api.create_container(
        image, name=name, host_config=api.create_host_config(**host), **options
    )
    api.start(created["Id"])
    return name


def _results(engine: Engine, *checks: Any) -> list[CheckResult]:
    the_lesson = lesson(f"store-{uuid.uuid4().hex[:6]}", step("s", *checks))
    return run_step_checks(engine, the_lesson, the_lesson.steps[0], timeout=30)


def _ready(engine: Engine, container: str) -> None:
    deadline = time.monotonic() + 60
    while engine.exec(container, ["pg_isready", "-U", "postgres"]).exit_code != 0:
        assert time.monotonic() < deadline, engine.logs(container)
        time.sleep(0.3)


def test_postgres_data_kept_in_a_volume_is_seen_and_checked(
    pulled: Engine, made: dict[str, list[str]], name: Namer
) -> None:
    engine = pulled
    vol, db, gone = name("vol-pgdata"), name("vol-db"), name("vol-none")
    made["volumes"].append(vol)
    made["containers"].append(db)
    holds_rows = check("volume_holds", volume=vol, command=SELECT, contains="Finish work")
    (missing,) = _results(engine, check("volume_exists", volume=gone))
    assert not missing.passed
    assert missing.message == (
        f"There is no volume {gone}: create it (docker volume create {gone}), or run a "
        f"container with -v {gone}:/path, which creates it."
    )

    _start(
        engine,
        "postgres:18",
        db,
        environment=["POSTGRES_PASSWORD=secret"],
        binds={vol: {"bind": "/var/lib/postgresql", "mode": "rw"}},
    )
    _ready(engine, db)
    exists, empty = _results(engine, check("volume_exists", volume=vol), holds_rows)
    assert exists.passed
    assert exists.message == f"The volume {vol} exists, mounted by {db} at /var/lib/postgresql."
    assert not empty.passed
    assert f"`{' '.join(SELECT)}` in {db}, which mounts {vol}, printed" in empty.message
    assert "the data is not in the volume yet" in empty.message

    assert engine.exec(db, ["psql", "-U", "postgres", "-c", SQL]).exit_code == 0
    rows, files, nothing = _results(
        engine,
        holds_rows,
        check("volume_holds", volume=vol, path="/data/PG_VERSION"),
        check("volume_holds", volume=vol, path="/data/nothing-here"),
    )
    assert rows.passed, rows.message
    assert "Finish work" in rows.message
    assert files.passed
    assert files.message == f"The volume {vol} holds /data/PG_VERSION."
    assert not nothing.passed
    assert nothing.message.startswith(f"The volume {vol} has no /data/nothing-here:")

    (mounted,) = _results(engine, check("volume_absent", volume=vol))
    assert not mounted.passed
    assert mounted.message.startswith(f"The volume {vol} still exists, mounted by {db}: remove")
    engine.remove_container(db, force=True)
    stopped, kept, still = _results(
        engine,
        holds_rows,
        check("volume_holds", volume=vol, path="data/PG_VERSION"),
        check("volume_absent", volume=vol),
    )
    assert not stopped.passed
    assert stopped.message == (
        f"No running container mounts the volume {vol}, so `{' '.join(SELECT)}` could not "
        f"run: run one with -v {vol}:PATH, then check again."
    )
    assert kept.passed  # the data outlives the container
    assert not still.passed
    assert f"docker volume rm {vol}" in still.message
    engine.volume_manager().remove(vol)
    (gone_now,) = _results(engine, check("volume_absent", volume=vol))
    assert gone_now.passed


def test_containers_reach_each_other_by_alias_on_a_network(
    pulled: Engine, made: dict[str, list[str]], name: Namer
) -> None:
    engine = pulled
    net, cache, web, alone = name("vol-app"), name("vol-redis"), name("vol-web"), name("vol-lone")
    made["networks"].append(net)
    made["containers"] += [cache, web, alone]
    the_lesson = lesson("store-actions", step("make-net", act=action("network-create", name=net)))
    make = the_lesson.steps[0]
    assert ACTIONS["network-create"].perform(engine, the_lesson, make, {"name": net}) == (
        f"Created the network {net}."
    )
    again = ACTIONS["network-create"].perform(engine, the_lesson, make, {"name": net})
    assert again == f"The network {net} exists already; it was kept as it is."
    assert engine.network_manager().get(net).labels["dockdojo.step"] == "make-net"

    _start(engine, "redis", cache, network_mode=net)
    engine.network_manager().disconnect(net, cache)
    engine.network_manager().connect(net, cache, aliases=["cache"])
    _start(engine, "busybox", web, command=["sleep", "600"], network_mode=net)
    _start(engine, "busybox", alone, command=["sleep", "600"])
    results = _results(
        engine,
        check("network_exists", network=net),
        check("on_network", network=net, name=cache, alias="cache"),
        check("on_network", network=net, name=cache, alias="redis"),
        check("on_network", network=net, name=alone),
        check("containers_reach", name=web, target="cache", port=6379),
        check("containers_reach", name=web, target=cache),
        check("containers_reach", name=web, target="nosuch", port=6379),
        check("containers_reach", name=web, target="cache", port=6380),
        check("containers_reach", name=alone, target="cache", port=6379),
        check("network_exists", network=name("vol-nonet")),
    )
    by = [(r.passed, r.message) for r in results]
    assert by[0][0]
    assert by[1] == (True, f"{cache} is attached to the network {net} as cache.")
    assert not by[2][0]
    assert f"--network {net} --network-alias redis" in by[2][1]
    assert not by[3][0]
    assert f"docker network connect {net} {alone}" in by[3][1]
    assert by[4] == (True, f"{web} reaches cache:6379 by name.")
    assert by[5] == (True, f"{web} reaches {cache} by name.")
    assert not by[6][0]
    assert by[6][1].startswith(f"From {web}, the name nosuch does not resolve: put both")
    assert not by[7][0]
    assert "nothing answers on cache:6380" in by[7][1]
    assert not by[8][0]
    assert "does not resolve" in by[8][1]
    assert not by[9][0]
    assert "docker network create" in by[9][1]


def _perform(engine: Engine, the_lesson: Lesson, kind: str, **args: Any) -> str:
    return ACTIONS[kind].perform(engine, the_lesson, the_lesson.steps[0], args)


@pytest.mark.usefixtures("pulled")
def test_volume_actions_create_remove_in_use_and_prune(
    docker_host: str, made: dict[str, list[str]], name: Namer
) -> None:
    learner = f"vol-{uuid.uuid4().hex[:6]}"
    vol, spare, box = name("vol-logs"), name("vol-spare"), name("vol-writer")
    made["volumes"] += [vol, spare]
    made["containers"].append(box)
    the_lesson = lesson("store-volumes", step("volumes", act=action("volumes")))
    with Engine(docker_host, lesson=the_lesson.id, learner=learner, shared=True) as engine:
        assert _perform(engine, the_lesson, "volume-create", name=vol) == (
            f"Created the volume {vol}."
        )
        _perform(engine, the_lesson, "volume-create", name=spare)
        assert engine.volume_manager().get(vol).labels["dockdojo.learner"] == learner
        _start(
            engine,
            "busybox",
            box,
            command=["sleep", "600"],
            labels=engine.labels_for("volumes"),
            binds={vol: {"bind": "/logs", "mode": "rw"}},
        )
        listed = _perform(engine, the_lesson, "volumes")
        assert f"{vol} (used by {box})" in listed
        assert _perform(engine, the_lesson, "volume-prune") == (
            f"Removed 1 unused volume: {spare}."
        )
        assert _perform(engine, the_lesson, "volume-remove", name=vol) == (
            f"The volume {vol} was mounted by {box}; removed them, then the volume."
        )
        assert vol not in engine.volume_manager().names()
        assert _perform(engine, the_lesson, "volume-remove", name=vol) == (
            f"There was no volume {vol}; nothing to remove."
        )
