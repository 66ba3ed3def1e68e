"""Checks, reports and the run/check commands without an engine.

Checks that only read the engine's images and containers run here over a hand-made
:class:`Snapshot` (plain data, the same type a real engine fills). The Engine they are
given points at a socket that does not exist, so any attempt to reach an engine would
show up as a failed check.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from lesson_kit import action, check, lesson, seed_lesson, step

from dockdojo.runner import ACTIONS, ContainerInfo, DockdojoError, Engine, ImageInfo, PortLink
from dockdojo.runner.authoring import Lesson
from dockdojo.runner.cli.lessons import add_commands
from dockdojo.runner.cli.tables import plan_json, render_plan, render_report
from dockdojo.runner.engine import Snapshot, prefer_lesson
from dockdojo.runner.errors import InvalidReference
from dockdojo.runner.kinds import (
    REPORT_SCHEMA,
    CheckResult,
    LessonReport,
    StepReport,
    run_checks,
    run_step_checks,
)
from dockdojo.runner.kinds.checking import select_steps
from dockdojo.runner.kinds.checks import (
    EPHEMERAL_PORT_MIN,
    mongo_script,
    parse_mongo_output,
    port_link_host,
)

NOWHERE = "unix:///nonexistent/dockdojo-unit/docker.sock"
NGINX_ID = "sha256:" + "a1" * 32
OLD_NGINX_ID = "sha256:" + "0f" * 32
REDIS_ID = "sha256:" + "b2" * 32
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


PULLED_AS = {
    NGINX_ID: ("nginx@sha256:" + "c3" * 32,),
    REDIS_ID: ("redis@sha256:" + "d4" * 32, "127.0.0.1:5000/team/app@sha256:" + "e5" * 32),
}
"""Each image's repository digests: the manifests it was pulled as."""


def _image(repository: str, image_id: str, tag: str = "latest") -> ImageInfo:
    digests = PULLED_AS.get(image_id, ())
    return ImageInfo(repository, tag, image_id, WHEN, 1000, in_use=False, digests=digests)


def _container(
    name: str,
    image: str,
    image_id: str,
    state: str = "running",
    ports: tuple[PortLink, ...] = (),
    lesson_id: str | None = None,
    step_id: str | None = None,
) -> ContainerInfo:
    labels = {"dockdojo.lesson": lesson_id} if lesson_id else {}
    if step_id:
        labels["dockdojo.step"] = step_id
    return ContainerInfo(
        id=name.encode().hex().ljust(64, "0"),
        name=name,
        image=image,
        image_id=image_id,
        state=state,
        status=state,
        ports=ports,
        labels=labels,
    )


def _snapshot(*containers: ContainerInfo) -> Snapshot:
    images = (
        _image("nginx", NGINX_ID),
        _image("redis", REDIS_ID),
        _image("127.0.0.1:5000/team/app", REDIS_ID, "v1"),
    )
    return Snapshot(images, containers, NOWHERE)


@pytest.fixture
def nowhere() -> Any:
    with Engine(NOWHERE, lesson="unit") as engine:
        yield engine


def _results(engine: Engine, snapshot: Snapshot, *checks: Any) -> list[CheckResult]:
    the_lesson = lesson("unit", step("s", *checks))
    return run_step_checks(engine, the_lesson, the_lesson.steps[0], snapshot=snapshot)


# snapshot matching ------------------------------------------------------------------
@pytest.mark.parametrize(
    "ref",
    [
        "nginx",
        "nginx:latest",
        "library/nginx",
        "docker.io/library/nginx:latest",
        "a1a1a1a1a1a1",
        NGINX_ID,
    ],
)
def test_one_image_has_many_spellings(ref: str) -> None:
    found = _snapshot().image(ref)
    assert found is not None
    assert found.id == NGINX_ID


def test_other_registries_and_missing_tags() -> None:
    snapshot = _snapshot()
    assert snapshot.image("127.0.0.1:5000/team/app:v1") is not None
    assert snapshot.image("team/app:v1") is None
    assert snapshot.image("nginx:1.27") is None
    with pytest.raises(InvalidReference, match="must be lowercase"):
        snapshot.image("Nginx")


def test_containers_match_by_image_id_or_by_the_name_they_were_created_with() -> None:
    by_id = _container("by-id", NGINX_ID, NGINX_ID)  # the engine shows an id when retagged
    by_name = _container("by-name", "docker.io/library/nginx", OLD_NGINX_ID, "exited")
    other = _container("other", "redis", REDIS_ID)
    snapshot = _snapshot(by_id, by_name, other)
    assert [c.name for c in snapshot.users("nginx:latest")] == ["by-id", "by-name"]
    assert [c.name for c in snapshot.matching(image="nginx", running=True)] == ["by-id"]
    assert [c.name for c in snapshot.matching(image="nginx", name="/by-name")] == ["by-name"]
    assert snapshot.matching(image="redis", name="by-name") == []
    assert snapshot.named("other") is other


def test_containers_of_the_lesson_come_first() -> None:
    a = _container("a", "nginx", NGINX_ID)
    b = _container("b", "nginx", NGINX_ID, lesson_id="mine")
    c = _container("c", "nginx", NGINX_ID, lesson_id="other")
    assert [x.name for x in prefer_lesson([a, b, c], "mine")] == ["b", "a", "c"]


def test_containers_an_earlier_step_made_come_before_later_steps_ones() -> None:
    # newest first, as the engine lists them
    later = _container("later", "redis", REDIS_ID, lesson_id="mine", step_id="exercise")
    own = _container("own", "redis", REDIS_ID)
    run = _container("run", "redis", REDIS_ID, lesson_id="mine", step_id="run-redis")
    first = _container("first", "redis", REDIS_ID, lesson_id="mine", step_id="pull")
    ranked = prefer_lesson([later, own, run, first], "mine", ["pull", "run-redis", "cli"])
    assert [x.name for x in ranked] == ["run", "first", "later", "own"]


# checks over a snapshot -------------------------------------------------------------
def test_image_checks(nowhere: Engine) -> None:
    user = _container("web", "nginx", NGINX_ID, "exited")
    results = _results(
        nowhere,
        _snapshot(user),
        check("image_present", image="docker.io/library/nginx"),
        check("image_present", image="mongo", hint="Pull mongo."),
        check("image_absent", image="mongo"),
        check("image_absent", image="nginx"),
    )
    assert [(r.passed, r.message) for r in results] == [
        (True, "nginx:latest is on the engine (image a1a1a1a1a1a1)."),
        (
            False,
            "mongo:latest is not on the engine (it has: 127.0.0.1:5000/team/app:v1, "
            "nginx:latest, redis:latest).",
        ),
        (True, "mongo:latest is not on the engine."),
        (
            False,
            "nginx:latest is still on the engine (image a1a1a1a1a1a1, used by 1 "
            "container: web (exited)).",
        ),
    ]
    assert results[1].hint == "Pull mongo."
    assert [(r.points, r.max_points) for r in results] == [(1, 1), (0, 1), (1, 1), (0, 1)]
    assert results[3].evidence["containers"][0]["state"] == "exited"


def test_container_state_checks(nowhere: Engine) -> None:
    up = _container("up", "nginx", NGINX_ID)
    down = _container("down", "redis:latest", REDIS_ID, "exited")
    results = _results(
        nowhere,
        _snapshot(up, down),
        check("container_running", image="nginx"),
        check("container_running", image="redis"),
        check("container_running", name="nobody"),
        check("container_stopped", image="redis"),
        check("container_stopped", name="up"),
        check("container_stopped", image="mongo"),
        check("container_absent", name="nobody"),
        check("container_absent", name="down"),
        check("no_container_uses", image="redis"),
        check("no_container_uses", image="mongo"),
    )
    assert [(r.passed, r.message) for r in results] == [
        (True, "up (nginx:latest) is running."),
        (False, "No container from redis:latest is running (down (exited))."),
        (False, "There is no container named nobody."),
        (True, "No container from redis:latest is running (down (exited))."),
        (False, "up (nginx:latest) is still running."),
        (True, "No container from mongo:latest is running (there is none)."),
        (True, "There is no container named nobody."),
        (False, "A container named down still exists (it is exited)."),
        (False, "1 container still uses redis:latest: down (exited)."),
        (True, "No container uses mongo:latest."),
    ]


def test_random_host_ports_are_ephemeral_ones(nowhere: Engine) -> None:
    chosen = _container("chosen", "nginx", NGINX_ID, ports=(PortLink("80/tcp", "127.0.0.1", 8080),))
    random = _container(
        "random",
        "nginx",
        NGINX_ID,
        ports=(PortLink("80/tcp", "127.0.0.1", EPHEMERAL_PORT_MIN + 3),),
    )
    results = _results(
        nowhere,
        _snapshot(chosen, random),
        check("port_published", name="chosen", random=True),
        check("port_published", name="chosen"),
        check("port_published", name="random", port=80, random=True),
        check("port_published", image="nginx", random=True),
        check("port_published", name="chosen", port="443/tcp"),
    )
    assert [r.passed for r in results] == [False, True, True, True, False]
    assert results[0].message == (
        "chosen publishes 80/tcp on host port 8080, which is not a random one (Docker picks "
        f"random host ports from {EPHEMERAL_PORT_MIN} up, when the host port is 0 or empty)."
    )
    assert results[3].evidence["links"][1]["host_port"] == EPHEMERAL_PORT_MIN + 3
    assert results[4].message == (
        "chosen runs but does not publish 443/tcp on the host (it publishes 80/tcp on 8080)."
    )


def test_step_done(nowhere: Engine) -> None:
    the_lesson = lesson(
        "unit",
        step(
            "pulled", check("image_present", image="nginx"), check("image_present", image="redis")
        ),
        step(
            "missing", check("image_present", image="nginx"), check("image_present", image="mongo")
        ),
        step("after-pulled", check("step_done", step="pulled")),
        step("after-missing", check("step_done", step="missing")),
        step("unknown", check("step_done", step="nope")),
        step("self", check("image_present", image="nginx"), check("step_done", step="self")),
        step("loop-a", check("image_present", image="nginx"), check("step_done", step="loop-b")),
        step("loop-b", check("step_done", step="loop-a")),
    )
    items = [(s, c) for s in the_lesson.steps[2:] for c in s.checks if c.kind == "step_done"]
    results = run_checks(nowhere, the_lesson, items, snapshot=_snapshot())
    assert [(r.step, r.passed, r.message) for r in results] == [
        ("after-pulled", True, "Every check of step pulled passes (2 of 2)."),
        (
            "after-missing",
            False,
            "Step missing is not done: 1 of 2 checks fail "
            "(image_present: mongo:latest is not on the engine (it has: "
            "127.0.0.1:5000/team/app:v1, nginx:latest, redis:latest).)",
        ),
        ("unknown", False, "Lesson unit has no step 'nope' to check."),
        ("self", True, "Every check of step self passes (1 of 1)."),
        (
            "loop-a",
            False,
            "Step loop-b is not done: 1 of 1 checks fail (step_done: Step "
            "loop-a is not done: 1 of 2 checks fail (step_done: step_done "
            "checks loop (loop-b -> loop-a -> loop-b), so step loop-b cannot "
            "be decided.))",
        ),
        (
            "loop-b",
            False,
            "Step loop-a is not done: 1 of 2 checks fail (step_done: Step "
            "loop-b is not done: 1 of 1 checks fail (step_done: step_done "
            "checks loop (loop-a -> loop-b -> loop-a), so step loop-a cannot "
            "be decided.))",
        ),
    ]


def test_checks_declared_wrongly_fail_with_what_is_wrong(nowhere: Engine) -> None:
    results = _results(
        nowhere,
        _snapshot(),
        check("container_running", hint="x"),
        check("http_ok", image="nginx", port="eighty"),
        check("image_presnet", image="nginx"),
    )
    assert [r.passed for r in results] == [False, False, False]
    assert results[0].message == (
        "The check is declared wrongly: container_running needs one of 'image', 'name'."
    )
    assert "'port' must be a port number such as 80 or 80/tcp" in results[1].message
    assert results[2].message.startswith(
        "dockdojo has no check named 'image_presnet' (it knows command_output, compose_removed, "
        "compose_running, container_absent, "
    )


def test_engine_down_makes_every_check_fail_with_the_engines_sentence(nowhere: Engine) -> None:
    seed = seed_lesson("unit")
    results = run_checks(nowhere, seed, [(s, c) for s in seed.steps for c in s.checks])
    assert len(results) == 15
    assert {r.message for r in results} == {
        f"No Docker Engine answered at {NOWHERE} (there is no socket file there)."
    }
    assert all("Start Docker Desktop" in r.hint for r in results)
    assert sum(r.points for r in results) == 0


def test_select_steps_names_unknown_steps() -> None:
    seed = seed_lesson("unit")
    assert [s.id for s in select_steps(seed, ["mongosh", "pull-images"])] == [
        "pull-images",
        "mongosh",
    ]
    with pytest.raises(DockdojoError, match="Lesson unit has no step 'nope'") as err:
        select_steps(seed, ["nope"])
    assert err.value.hint.startswith("Its steps are: pull-images, view-images, run-nginx")


# mongosh ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "filter_",
    [
        {"email": "moby@docker.com"},
        {"x": '"); db.dropDatabase(); ("'},
        {"a": {"$gt": 2}, "b": [1, None, True], "c": "line\nbreak \u2028 é"},
    ],
)
def test_the_mongosh_program_embeds_values_as_json_literals(filter_: dict[str, Any]) -> None:
    script = mongo_script("my coll", filter_, db='we"ird')
    match = re.fullmatch(
        r'const found = db\.getSiblingDB\((".*")\)\.getCollection\((".*")\)\.findOne\((.*)\);'
        r' print\(found === null \? "dockdojo:none" : "dockdojo:found " \+ '
        r"EJSON\.stringify\(found\)\);",
        script,
        flags=re.S,
    )
    assert match is not None
    assert json.loads(match.group(1)) == 'we"ird'
    assert json.loads(match.group(2)) == "my coll"
    assert json.loads(match.group(3)) == filter_
    assert "\n" not in script


def test_mongosh_output_is_read_as_found_none_or_failed() -> None:
    assert parse_mongo_output('dockdojo:found {"_id":1}\n') == ('{"_id":1}', None)
    assert parse_mongo_output("dockdojo:none\n") == (None, None)
    assert parse_mongo_output(
        "Current Mongosh Log ID: x\nMongoNetworkError: connect ECONNREFUSED 127.0.0.1:27017\n"
    ) == (None, "MongoNetworkError: connect ECONNREFUSED 127.0.0.1:27017")
    assert parse_mongo_output("") == (None, "it printed nothing")


def test_port_links_of_a_remote_engine_use_its_host() -> None:
    link = PortLink("80/tcp", "0.0.0.0", 32768)
    assert port_link_host("tcp://10.1.2.3:2375", link) == "10.1.2.3"
    assert port_link_host("ssh://me@build.example", link) == "build.example"
    assert port_link_host("unix:///var/run/docker.sock", link) == "127.0.0.1"
    assert (
        port_link_host("unix:///var/run/docker.sock", PortLink("80/tcp", "127.0.0.1", 32768))
        == "127.0.0.1"
    )


# reports ----------------------------------------------------------------------------
def _report() -> LessonReport:
    ok = CheckResult(
        "a",
        "image_present",
        True,
        "nginx:latest is on the engine.",
        "Pull it.",
        {"id": "a1"},
        1,
        1,
        0.01,
        3,
    )
    bad = CheckResult(
        "b",
        "http_ok",
        False,
        "http://127.0.0.1:1/ (web) answered 404, not 200.",
        "Open the link.",
        {"status": 404},
        0,
        2,
        0.02,
        9,
    )
    return LessonReport(
        "unit",
        "Unit",
        (StepReport("a", "A", (ok,)), StepReport("b", "B", (bad,), ("run: it broke.",))),
        mode="solve",
        engine=NOWHERE,
        seconds=1.5,
    )


def test_report_totals_and_json() -> None:
    report = _report()
    assert (report.points, report.max_points) == (1, 3)
    assert (report.steps_passed, report.steps_total, report.passed) == (1, 2, False)
    data = json.loads(json.dumps(report.to_json()))
    assert data["schema"] == REPORT_SCHEMA
    assert {
        k: data[k]
        for k in ("lesson", "mode", "passed", "points", "max_points", "steps_passed", "steps_total")
    } == {
        "lesson": "unit",
        "mode": "solve",
        "passed": False,
        "points": 1,
        "max_points": 3,
        "steps_passed": 1,
        "steps_total": 2,
    }
    assert data["steps"][1]["errors"] == ["run: it broke."]
    assert data["steps"][1]["checks"][0] == {
        "step": "b",
        "kind": "http_ok",
        "line": 9,
        "passed": False,
        "message": "http://127.0.0.1:1/ (web) answered 404, not 200.",
        "hint": "Open the link.",
        "evidence": {"status": 404},
        "points": 0,
        "max_points": 2,
        "seconds": 0.02,
    }


def test_a_step_with_a_failed_action_has_not_passed_even_if_its_checks_pass() -> None:
    ok = CheckResult("a", "image_present", True, "m", "h", {}, 1, 1)
    assert not StepReport("a", "A", (ok,), ("pull: offline.",)).passed
    assert StepReport("a", "A", (ok,)).passed


def test_the_table_shows_hints_only_under_failures() -> None:
    text = render_report(_report(), marks=("+", "x"))
    assert text.splitlines() == [
        f"unit: Unit (solving on {NOWHERE})",
        "STEP     POINTS  MESSAGE",
        "a     +     1/1  image_present: nginx:latest is on the engine.",
        "b     x     0/2  http_ok: http://127.0.0.1:1/ (web) answered 404, not 200.",
        "                 hint: Open the link.",
        "      x          action failed: run: it broke.",
        "Total: 1/3 points, 1/2 steps passed, some checks failed (1.5 s).",
    ]
    assert "✓" in render_report(_report())


def test_the_plan_says_what_each_step_would_do() -> None:
    seed = seed_lesson("unit", cache="cache")
    text = render_plan(seed)
    assert text.startswith("unit: Lesson unit (9 steps, 16 points)\nNothing was changed")
    assert (
        " 3. run-nginx: Title of run-nginx (3 points)\n"
        "    does:   run nginx, port 80 on a random host port\n"
        "    checks: container_running image=nginx\n" in text
    )
    assert (
        " 9. redis-cache [exercise]: Title of redis-cache (3 points)\n"
        "    does:   run redis named cache\n"
        "            open redis-cli in container cache, type: SET dojo rocks\n" in text
    )
    data = json.loads(json.dumps(plan_json(seed)))
    assert data["points"] == 16
    assert data["steps"][2]["actions"] == [
        {
            "kind": "run",
            "args": {"image": "nginx", "ports": {"80": 0}},
            "does": "run nginx, port 80 on a random host port",
        }
    ]
    assert (
        ACTIONS["remove-image"]
        .describe(action("remove-image", image="nginx").args)
        .startswith("remove the nginx image (when it is in use")
    )


# the commands -----------------------------------------------------------------------
def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dockdojo")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def handmade(monkeypatch: pytest.MonkeyPatch) -> Lesson:
    """``load_lesson`` returns this lesson (the builder is tested elsewhere)."""
    the_lesson = seed_lesson("unit", cache="cache")
    monkeypatch.setattr("dockdojo.runner.lessons.load_lesson", lambda _ref: the_lesson)
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    return the_lesson


@pytest.mark.usefixtures("handmade")
def test_check_command_on_an_engine_that_is_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["check", "unit", "--step", "run-nginx", "--step", "mongosh"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"unit: Lesson unit (checking on {NOWHERE})"
    assert out[2] == (
        "run-nginx  ✗     0/1  container_running: No Docker Engine answered at "
        f"{NOWHERE} (there is no socket file there)."
    )
    assert out[3].strip().startswith("hint: Start Docker Desktop")
    assert out[-1].startswith("Total: 0/4 points, 0/2 steps passed, some checks failed")


@pytest.mark.usefixtures("handmade")
def test_check_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["check", "unit", "--step", "pull-images", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["lesson"], data["mode"], data["passed"]) == ("unit", "check", False)
    assert [s["id"] for s in data["steps"]] == ["pull-images"]
    assert len(data["steps"][0]["checks"]) == 3


def test_run_without_solve_only_prints_the_plan(
    handmade: Lesson, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["run", "unit"]) == 0
    assert capsys.readouterr().out == render_plan(handmade)
    assert _main(["run", "unit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == plan_json(handmade)
    with pytest.raises(DockdojoError, match="needs --solve"):
        _main(["run", "unit", "--fresh"])


@pytest.mark.usefixtures("handmade")
def test_run_solve_on_an_engine_that_is_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["run", "unit", "--solve", "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["mode"] == "solve"
    assert all("No Docker Engine answered" in s["errors"][0] for s in data["steps"])
    assert "pull-images" in captured.err  # the table went to stderr


@pytest.mark.usefixtures("handmade")
def test_check_command_rejects_unknown_steps() -> None:
    with pytest.raises(DockdojoError, match="Lesson unit has no step 'nope'"):
        _main(["check", "unit", "--step", "nope"])
