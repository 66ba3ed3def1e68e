"""Sharing local files with containers, on the real engine: the lesson solved end to end
in a notebook's folder (files written beside it, bind mounts found from there, httpd
serving them), and the bind_file check's failures, each saying what it saw."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lesson_kit import check, lesson, step

from dockdojo.runner import ContainerNotFound, Engine, load_lesson
from dockdojo.runner.authoring import Action, Lesson, Section, Step
from dockdojo.runner.context import learner_tag, personalize
from dockdojo.runner.kinds import check_lesson, run_check, solve_lesson

LESSON = "sharing-local-files"
LEARNER = "shr-e2e"


def on_random_ports(model: Lesson) -> Lesson:
    """The lesson with the guide's host port 8080 replaced by a random one (0): the test
    engine is shared, and the checks accept any host port."""

    def free(s: Step) -> Step:
        def port(a: Action) -> Action:
            ports = a.args.get("ports")
            if not ports:
                return a
            return replace(a, args={**a.args, "ports": {k: 0 for k in ports}})

        return replace(
            s,
            action=port(s.action) if s.action is not None else None,
            solve=tuple(port(a) for a in s.solve),
        )

    sections = tuple(
        Section(x.title, x.level, tuple(free(b) if isinstance(b, Step) else b for b in x.blocks))
        for x in model.sections
    )
    return replace(model, sections=sections)


@pytest.fixture
def site(docker_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An engine for LEARNER in the lesson, the current folder a notebook's (tmp_path);
    the containers it made are removed afterwards."""
    monkeypatch.chdir(tmp_path)
    with Engine(docker_host, lesson=LESSON, learner=LEARNER) as engine:
        try:
            yield engine
        finally:
            for container in engine.containers(labels={"dockdojo.learner": LEARNER}):
                with contextlib.suppress(ContainerNotFound):
                    engine.remove_container(container.id)


def test_the_lesson_solves_in_the_notebooks_folder_then_checks_clean(
    site: Engine, tmp_path: Path
) -> None:
    model = on_random_ports(personalize(load_lesson(LESSON), LEARNER))
    solved = solve_lesson(site, model, fresh=True)
    failed = [(s.step, r.message) for s in solved.steps for r in s.results if not r.passed]
    assert solved.passed, (failed, [s.errors for s in solved.steps])
    # the files are beside the notebook, where the relative bind mounts found them
    page = (tmp_path / "public_html" / "index.html").read_text()
    assert "Hello from my own folder!" in page
    assert "Whalecome!!" not in page
    tag = learner_tag(LESSON, LEARNER)
    assert f"Hello from {tag}" in (tmp_path / f"site-{tag}" / "index.html").read_text()
    assert (tmp_path / f"out-{tag}" / "note.txt").read_text().strip() == f"written by {tag}"

    # the guide's steps undone on purpose (my_site deleted) still count; all is clean
    report = check_lesson(site, model, folder=tmp_path)
    failed = [(s.step, r.message) for s in report.steps for r in s.results if not r.passed]
    assert report.passed, failed

    # my_site again; the page edited on the host changes what it serves, no restart
    assert solve_lesson(site, model, step_ids=["run-with-bind"]).passed
    guide = page.replace("Hello from my own folder!", "Whalecome!!")
    (tmp_path / "public_html" / "index.html").write_text(guide)
    edit = check_lesson(site, model, ["edit-page"], folder=tmp_path).steps[0]
    assert not edit.passed
    assert "still contains 'Whalecome!!'" in edit.results[0].message
    (tmp_path / "public_html" / "index.html").write_text(guide.replace("Whalecome!!", "Ahoy!"))
    edit = check_lesson(site, model, ["edit-page"], folder=tmp_path).steps[0]
    assert edit.passed, edit.results[0].message
    assert "and serves it" in edit.results[0].message

    # the file gone from the host is gone from the container (the guide's Files tab)
    (tmp_path / "public_html" / "index.html").unlink()
    files = check_lesson(site, model, ["view-files", "make-site"], folder=tmp_path)
    by_step = {s.step: s for s in files.steps}
    assert "There is no public_html/index.html beside the notebook" in (
        by_step["make-site"].results[0].message
    )
    assert (
        f"my_site sees no /usr/local/apache2/htdocs/index.html: there is no index.html in "
        f"the host folder {tmp_path / 'public_html'} it shares"
    ) in by_step["view-files"].results[0].message


def test_bind_file_says_what_the_container_has_instead(site: Engine, tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<h1>mine</h1>\n")
    own = lesson(LESSON, step("s", check("bind_file", name="x", path="/a")))
    the_step = own.steps[0]
    engine = site
    engine.run("httpd:2.4", name="shr-baked", ports={80: 0})
    from dockdojo.runner.engine import RunSettings, parse_mount

    shared = RunSettings(mounts=(parse_mount("./web:/usr/local/apache2/htdocs:ro"),))
    engine.run("httpd:2.4", name="shr-shared", ports={80: 0}, settings=shared)

    def seen(**args: Any) -> tuple[bool, str]:
        spec = check("bind_file", **args)
        result = run_check(engine, own, the_step, spec, folder=tmp_path)
        return result.passed, result.message

    htdocs = "/usr/local/apache2/htdocs/index.html"
    passed, message = seen(name="shr-baked", path=htdocs, port=80)
    assert not passed
    assert "shr-baked has nothing mounted over /usr/local/apache2/htdocs/index.html" in message
    assert "-v ./folder:/usr/local/apache2/htdocs" in message

    passed, message = seen(name="shr-shared", path=htdocs, port=80, contains="mine")
    assert passed, message
    assert f"from the host folder {tmp_path / 'web'}" in message

    passed, message = seen(name="shr-shared", path=htdocs, contains="yours")
    assert (passed, "does not contain 'yours'" in message) == (False, True), message

    passed, message = seen(name="shr-shared", path=htdocs, lacks="mine")
    assert (passed, "still contains 'mine'" in message) == (False, True), message

    passed, message = seen(name="shr-shared", path=htdocs, port=80, url="/other.html")
    assert (passed, "answered 404, not the file" in message) == (False, True), message

    passed, message = seen(name="shr-shared", path="/usr/local/apache2/htdocs/gone.html")
    assert not passed
    assert f"there is no gone.html in the host folder {tmp_path / 'web'}" in message

    # a file changed on the host is, at once, what the container sees and serves
    (tmp_path / "web" / "index.html").write_text("<h1>changed</h1>\n")
    passed, message = seen(name="shr-shared", path=htdocs, port=80, contains="changed")
    assert passed, message


def test_the_lessons_widgets_save_the_file_and_run_with_the_folder(
    site: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a learner in JupyterLab: Save writes public_html beside the notebook (the
    kernel's folder), the step's check sees it; Run (its Volumes filled in from the
    lesson, the host port made random here) serves it."""
    from dockdojo.widgets import LessonView, RunWidget
    from dockdojo.widgets.files import FileWidget

    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    view = LessonView(LESSON, engine=site)
    box = view.step("make-site")
    file_widget = box.children[1]
    assert isinstance(file_widget, FileWidget)
    assert "Whalecome!!" in file_widget.text.value  # the guide's text, nothing on disk yet
    assert view.panels["make-site"].passed is False
    file_widget.save_button.click()
    assert "Whalecome!!" in (tmp_path / "public_html" / "index.html").read_text()
    assert view.panels["make-site"].passed is True

    box = view.step("run-with-bind")
    run = box.children[1]
    assert isinstance(run, RunWidget)
    assert run.volumes.value == "./public_html:/usr/local/apache2/htdocs/"
    for field in run._port_fields.values():
        field.value = "0"
    run.run_button.click()
    assert "Started my_site" in run.status.value, run.status.value
    view.panels["run-with-bind"].check_button.click()
    assert view.panels["run-with-bind"].passed is True, view.panels["run-with-bind"].results.value

    run.volumes.value = "./missing:/usr/local/apache2/htdocs"  # a folder that is not there
    run.run(again=True)
    assert "does not exist" in run.status.value
    assert "mkdir ./missing" in run.status.value
