"""The shared-engine rule of the engine layer, and the learner context that carries it.

The engine here is a fake SDK client (:mod:`unit.fake_docker`), not Docker: it shows
what the engine layer asks for and removes. tests/engine/test_solve.py holds the same
rule against a real engine shared by two learners.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from unit.fake_docker import FakeAPI, install

from dockdojo.runner.context import context_for, learner_context, learner_tag
from dockdojo.runner.engine import LABEL_LEARNER, LABEL_LESSON, LABEL_STEP, Engine, Ownership
from dockdojo.runner.engine.models import ContainerInfo
from dockdojo.runner.engine.snapshot import Snapshot
from dockdojo.runner.environ import LEARNER, SHARED_ENGINE
from dockdojo.runner.kinds import solve_lesson
from dockdojo.runner.lessons import load_lesson

LESSON = "what-is-an-image"


def _two_learners(api: FakeAPI) -> None:
    for who in ("ada", "bob"):
        api.add_container(
            f"nginx-{who}", {LABEL_LESSON: LESSON, LABEL_STEP: "run-nginx", LABEL_LEARNER: who}
        )
    api.add_container("terminal-made", {})  # docker run in a terminal: no labels


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeAPI:
    made = install(monkeypatch, FakeAPI())
    _two_learners(made)
    return made


def test_on_a_shared_engine_a_learner_lists_and_counts_only_their_own(api: FakeAPI) -> None:
    with Engine("unix:///fake.sock", lesson=LESSON, learner="ada", shared=True) as engine:
        assert [c.name for c in engine.containers()] == ["nginx-ada"]
        assert [c.name for c in engine.containers(labels={LABEL_LESSON: LESSON})] == ["nginx-ada"]
        assert [c.name for c in Snapshot.take(engine).containers] == ["nginx-ada"]
    assert len(api.containers_) == 3


def test_on_an_own_engine_everything_is_the_learners(api: FakeAPI) -> None:
    with Engine("unix:///fake.sock", lesson=LESSON, learner="ada", shared=False) as engine:
        assert sorted(c.name for c in engine.containers()) == api.names()


def test_on_a_shared_engine_removing_the_lessons_resources_leaves_the_other_learners(
    api: FakeAPI,
) -> None:
    with Engine("unix:///fake.sock", lesson=LESSON, learner="bob", shared=True) as engine:
        removed = engine.remove_labelled({LABEL_LESSON: LESSON})
    assert removed.containers == ("nginx-bob",)
    assert api.names() == ["nginx-ada", "terminal-made"]


def test_on_an_own_engine_removing_the_lessons_resources_removes_every_run_of_it(
    api: FakeAPI,
) -> None:
    with Engine("unix:///fake.sock", lesson=LESSON, learner="bob", shared=False) as engine:
        engine.remove_labelled({LABEL_LESSON: LESSON})
    assert api.names() == ["terminal-made"], "unlabelled work is never removed"


def test_solving_afresh_on_a_shared_engine_removes_only_this_learners_containers(
    api: FakeAPI,
) -> None:
    nothing_to_do = replace(load_lesson(LESSON), sections=())  # only the fresh start
    with Engine("unix:///fake.sock", lesson=LESSON, learner="bob", shared=True) as engine:
        report = solve_lesson(engine, nothing_to_do, fresh=True)
    assert report.steps == ()
    assert api.names() == ["nginx-ada", "terminal-made"]


def test_the_ownership_rule_in_one_value() -> None:
    shared = Ownership(LESSON, "ada", shared=True)
    own = Ownership(LESSON, "ada", shared=False)
    labels = {LABEL_LESSON: LESSON, LABEL_LEARNER: "ada", LABEL_STEP: "run-nginx"}
    assert shared.labels("run-nginx") == own.labels("run-nginx") == labels
    assert shared.scoped(None) == {LABEL_LEARNER: "ada"}
    assert own.scoped(None) is None
    assert shared.lesson_filter() == {LABEL_LESSON: LESSON, LABEL_LEARNER: "ada"}
    assert own.lesson_filter() == {LABEL_LESSON: LESSON}
    theirs = ContainerInfo(
        "1", "x", "redis", "sha256:r", "running", "", labels={**labels, LABEL_LEARNER: "bob"}
    )
    assert not shared.mine(theirs)
    assert own.mine(theirs)
    assert own.made_for(theirs, "run-nginx")
    assert not own.made_for(theirs, "run-redis")
    assert not shared.made_for(theirs, "run-nginx")


def test_a_context_is_the_personalized_lesson_its_tag_and_its_labels() -> None:
    declared = load_lesson(LESSON)
    context = context_for(declared, "ada", "unix:///fake.sock")
    tag = learner_tag(LESSON, "ada")
    assert context.tag == tag
    assert context.declared is declared
    exercise = context.lesson.step("redis-cache")
    assert exercise.checks[0].args["name"] == f"cache-{tag}"
    assert "{learner_tag}" in repr(declared.step("redis-cache"))
    assert "{learner_tag}" not in repr(context.lesson.steps)
    assert context.personal("redis-cache")
    assert not context.personal("pull-images")
    assert context.parameters(["redis-cache"]) == {"redis-cache.name": f"cache-{tag}"}
    assert context.labels("run-nginx")[LABEL_LEARNER] == "ada"
    assert not context.shared
    assert context.engine.learner == "ada"


def test_the_environment_is_read_once_into_the_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEARNER, "grace")
    monkeypatch.setenv(SHARED_ENGINE, "1")
    context = learner_context(load_lesson(LESSON))
    monkeypatch.setenv(LEARNER, "someone-else")
    monkeypatch.delenv(SHARED_ENGINE)
    assert context.learner == context.engine.learner == "grace"
    assert context.shared
    assert context.tag == learner_tag(LESSON, "grace")
    assert learner_context(load_lesson(LESSON), learner="hopper").learner == "hopper"


def test_a_volume_or_network_is_a_learners_when_labelled_for_them_or_used_by_theirs() -> None:
    own = Ownership("l", "ada")
    shared = Ownership("l", "ada", shared=True)
    ada, bob = {LABEL_LEARNER: "ada"}, {LABEL_LEARNER: "bob"}
    assert own.holds({})  # on their own engine, everything
    assert own.holds(bob)
    assert shared.holds(ada)
    assert shared.holds({}, [bob, ada])  # mounted or joined by one of theirs
    assert not shared.holds(bob, [bob])
    assert not shared.holds({})
