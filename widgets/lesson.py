"""A lesson in a notebook: a progress bar on top, and each step's widget with its checks.

The notebook's cells stay one short call each::

    lesson = LessonView("what-is-an-image")
    lesson.progress()
    lesson.step("pull-images")

There is one evaluation of the lesson (:meth:`LessonView.evaluate`): every step's checks
against the live engine, at once. A step's Check, Recheck all and the progress bar all
show that one report, so they always agree. It is made again by itself whenever the
engine changes (the live model follows its events: widgets, the docker CLI, Docker
Desktop); checks that take seconds (mongosh) are then marked "changed since checked"
instead, until Check runs them. Everything shown is computed from the engine, so it is
right after a kernel restart, and when the work was done outside the notebook.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import ipywidgets as w
from markdown_it import MarkdownIt

from dockdojo.runner import (
    ACTIONS,
    CHECKS,
    CheckResult,
    DockdojoError,
    Engine,
    LessonReport,
    LiveState,
    Removed,
    Step,
    StepReport,
    check_lesson,
    learner_context,
    load_lesson,
    plural,
    request_recheck,
)

from .build import ProjectWidget
from .common import STYLE, Worker, button, esc, heartbeat, live, note, synchronous, touch
from .console import ExecConsole
from .containers import RunWidget
from .course import CourseStrip
from .files import FileWidget
from .images import DeleteWidget, ImagesWidget
from .needs import NeedsBox
from .panel import ContainersWidget
from .pull import PullWidget
from .stores import NetworksWidget, VolumesWidget

_MARKDOWN = MarkdownIt("commonmark", {"html": False})  # a lesson's Markdown, HTML escaped


def markdown(text: str) -> str:
    """A task's Markdown as HTML; raw HTML in it is shown as text, never run."""
    rendered: str = _MARKDOWN.render(text)
    return rendered


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.parts: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)

    def handle_endtag(self, _tag: str) -> None:
        if self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        where = self._in[-1] if self._in else ""
        if where == "title":
            self.title += data
        elif where not in ("script", "style", "head") and data.strip():
            self.parts.append(data.strip())


def plain(value: object, limit: int = 160) -> str:
    """Evidence as text: a web page becomes its title and the start of its text."""
    text = str(value)
    if re.search(r"<(!doctype|html|head|body|div|p|h\d)\b", text, re.IGNORECASE):
        page = _Text()
        page.feed(text)
        words = " ".join(" ".join(page.parts).split())
        title = " ".join(page.title.split())
        text = f"page “{title}”" + (f": {words}" if words else "") if title else words
    return text if len(text) <= limit else text[: limit - 1] + "…"


def results_html(results: Sequence[CheckResult], *, hints: bool = True) -> str:
    rows = []
    for r in results:
        if r.passed:
            evidence = ", ".join(
                f"{esc(k)}: {esc(plain(v))}"
                for k, v in r.evidence.items()
                if not isinstance(v, dict | list) and k != "undone_by"
            )
            detail = f'<div class="dojo-hint">{evidence}</div>' if evidence else ""
            rows.append(f'<div class="dojo-note dojo-ok">✅ {esc(r.message)}{detail}</div>')
        else:
            hint = f'<div class="dojo-hint">💡 {esc(r.hint)}</div>' if hints and r.hint else ""
            rows.append(f'<div class="dojo-note dojo-error">❌ {esc(r.message)}{hint}</div>')
    return STYLE + "".join(rows)


def costly(step: Step) -> bool:
    """Whether a step's checks take seconds (they are then run on Check only)."""
    return any(CHECKS[c.kind].costly for c in step.checks if c.kind in CHECKS)


class CheckPanel(w.VBox):
    """A step's mark and check results, as the lesson's one evaluation has them."""

    def __init__(self, lesson: LessonView, step: Step) -> None:
        self.lesson = lesson
        self.step = step
        self.check_button = button("Check", "success", "check")
        self.mark = w.HTML()
        self.results = w.HTML()
        self.answer_button = w.ToggleButton(
            description="Show the answer", icon="eye", layout=w.Layout(width="auto")
        )
        self.answer_button.add_class("dojo-show-answer")
        self.answer = w.HTML(layout=w.Layout(display="none"))
        self.answer_button.observe(self._toggle_answer, names="value")
        self.worker = Worker(self.results, [self.check_button])
        self.check_button.on_click(lambda _: self.run(clicked=True))
        points = plural(step.points, "point")
        row: list[w.Widget] = [
            self.check_button,
            self.mark,
            w.HTML(f'<span class="dojo-hint">{esc(points)}</span>'),
        ]
        if step.exercise and step.solve:  # the solution stays hidden until asked for
            row.append(self.answer_button)
        self.over_button = button("Start this step over", icon="undo")
        self.over_button.add_class("dojo-step-over")
        self.sure_button = button("Remove them", "danger", "trash")
        self.keep_button = button("Keep them", icon="times")
        self.question = w.HTML()
        self.confirm = w.VBox(
            [self.question, w.HBox([self.sure_button, self.keep_button])],
            layout=w.Layout(display="none"),
        )
        self.over_button.on_click(lambda _: self.ask_start_over())
        self.sure_button.on_click(lambda _: self.start_over())
        self.keep_button.on_click(lambda _: setattr(self.confirm.layout, "display", "none"))
        if step.action is not None and step.action.kind == "run":  # steps that make containers
            row.append(self.over_button)
        super().__init__([w.HBox(row), self.confirm, self.answer, self.results])
        self.add_class("dojo-check")
        self.passed: bool | None = None

    def ask_start_over(self) -> bool:
        """List the containers this step made for this learner, and ask."""

        def job() -> None:
            made = self.lesson.made(self.step.id)
            self.question.value = note(
                "info",
                "Start this step over removes the containers it made for you: "
                + (", ".join(made) if made else "none")
                + ".",
            )
            self.confirm.layout.display = ""

        return self.worker.start(job)

    def start_over(self) -> bool:
        def job() -> None:
            self.confirm.layout.display = "none"
            self.lesson.start_over(self.step.id)

        return self.worker.start(job, "Starting this step over…")

    def _toggle_answer(self, change: dict[str, object]) -> None:
        if change["new"]:
            does = [ACTIONS[a.kind].describe(a.args) for a in self.step.solve if a.kind in ACTIONS]
            self.answer.value = note("info", "One way to do it: " + "; then ".join(does) + ".")
        self.answer.layout.display = "" if change["new"] else "none"

    def run(self, *, clicked: bool = False) -> bool:
        """Evaluate the lesson now (every step, the slow checks too) and show it."""
        if clicked:
            self.lesson.attempted.add(self.step.id)
            request_recheck(
                self.lesson.model.id, self.step.id
            )  # a room's instructor view checks too
        return self.worker.start(
            lambda: self.lesson.evaluate(slow=True),
            "Checking…",
            queue="Checking again as soon as the current check ends…",
        )

    def show(self, report: StepReport | None, *, stale: bool) -> None:
        if report is None:
            self.passed = None
            self.mark.value = "<b>… not checked yet</b>"
            self.results.value = ""
            return
        self.passed = report.passed
        undone = next(
            (str(r.evidence["undone_by"]) for r in report.results if "undone_by" in r.evidence),
            "",
        )
        if report.passed and undone:
            by = self.lesson.title_of(undone)
            mark = f"<b>✅ Done</b>, then undone by {esc(by)} as the guide asks"
        elif report.passed:
            mark = "<b>✅ Done</b>"
        else:
            mark = "<b>❌ Not yet</b>"
        if stale:
            mark += ' <span class="dojo-stale">· changed since checked: select Check</span>'
        self.mark.value = mark
        self.results.value = results_html(
            report.results, hints=self.step.id in self.lesson.attempted
        )


class ProgressPanel(w.VBox):
    """Steps done out of all, from the lesson's one evaluation."""

    def __init__(self, lesson: LessonView) -> None:
        self.lesson = lesson
        steps = len(lesson.model.steps)
        self.bar = w.IntProgress(
            value=0, min=0, max=steps, description="Progress", bar_style="success"
        )
        self.label = w.HTML()
        self.refresh_button = button("Recheck all", icon="refresh")
        self.over_button = button("Start over", icon="undo")
        self.over_button.add_class("dojo-start-over")
        self.sure_button = button("Remove them and start over", "danger", "trash")
        self.keep_button = button("Keep them", icon="times")
        self.question = w.HTML()
        self.confirm = w.VBox(
            [self.question, w.HBox([self.sure_button, self.keep_button])],
            layout=w.Layout(display="none"),
        )
        self.confirm.add_class("dojo-confirm")
        self.status = w.HTML()
        self.live_note = w.HTML()
        self.worker = Worker(self.status, [self.refresh_button, self.over_button])
        self.refresh_button.on_click(lambda _: self.refresh())
        self.over_button.on_click(lambda _: self.ask_start_over())
        self.sure_button.on_click(lambda _: self.start_over())
        self.keep_button.on_click(lambda _: self._close())
        self.course = CourseStrip(lesson)
        super().__init__(
            [
                self.course,
                w.HBox([self.bar, self.label, self.refresh_button, self.over_button]),
                self.confirm,
                self.live_note,
                self.status,
                *heartbeat(),
            ]
        )
        self.add_class("dojo-progress")
        self.show(lesson.report)
        live(lesson.engine).subscribe(self._connection)

    def _connection(self, state: LiveState) -> None:
        """Say when changes are not followed (the engine stopped); quiet when they are."""
        self.live_note.value = (
            ""
            if state.connected or synchronous()
            else note(
                "error",
                f"Not following the engine: {state.problem}",
                "Marks may be out of date; they are checked again when it is back.",
            )
        )

    def ask_start_over(self) -> bool:
        """List what Start over would remove (this lesson's containers of this learner)."""

        def job() -> None:
            made = self.lesson.made()
            listed = ", ".join(made) if made else "no container"
            self.question.value = note(
                "info",
                f"Start over removes what this lesson made for you: {listed}, with the "
                "volumes and networks it made; and sets every step back to not checked.",
                "Images stay (pull them again or not, as you like).",
            )
            self.confirm.layout.display = ""
            self.status.value = ""

        return self.worker.start(job)

    def start_over(self) -> bool:
        def job() -> None:
            self._close()
            removed = self.lesson.start_over()
            gone = [plural(len(removed.containers), "container")]
            gone += [plural(len(removed.volumes), "volume")] if removed.volumes else []
            gone += [plural(len(removed.networks), "network")] if removed.networks else []
            self.status.value = note("ok", f"Started over: removed {', '.join(gone)}.")

        return self.worker.start(job, "Starting over…")

    def _close(self) -> None:
        self.confirm.layout.display = "none"

    def show(self, report: LessonReport | None) -> None:
        done = report.steps_passed if report is not None else 0
        self.bar.value = done
        self.label.value = esc(f"{done} of {self.bar.max} steps done")
        self.course.render()

    def refresh(self) -> bool:
        return self.worker.start(
            lambda: self.lesson.evaluate(slow=True),
            "Checking every step against the engine…",
            queue="Checking again as soon as the current check ends…",
        )


class LessonView:
    """The widgets of one lesson, sharing one engine connection and one evaluation."""

    def __init__(self, name: str, *, engine: Engine | None = None) -> None:
        self.context = learner_context(load_lesson(name), engine=engine)
        """This learner, their lesson and their engine (:class:`LearnerContext`)."""
        self.engine = self.context.engine
        self.raw = self.context.declared
        self.model = self.context.lesson
        self.report: LessonReport | None = None
        """The lesson's one evaluation (None before the first)."""
        self.version = -1
        """The live model's version the report read."""
        self.stale: set[str] = set()
        """Steps with slow checks whose result read an older engine state."""
        self.attempted: set[str] = set()
        """Steps whose Check the learner selected (their hints show once they fail)."""
        self._progress: ProgressPanel | None = None
        self.panels: dict[str, CheckPanel] = {}
        self._lock = threading.Lock()
        self._evaluator = Worker(w.HTML())
        self._live_unsubscribe: Callable[[], None] | None = None

    @property
    def done(self) -> dict[str, bool]:
        """Each step's mark, from the one evaluation."""
        if self.report is None:
            return {}
        return {s.step: s.passed for s in self.report.steps}

    def title_of(self, step_id: str) -> str:
        try:
            return self.model.step(step_id).title
        except KeyError:
            return step_id

    # the one evaluation ---------------------------------------------------------------
    def evaluate(self, *, slow: bool = True) -> LessonReport:
        """Check every step against the engine and show the result on every panel.

        With ``slow`` False (a change seen by the live model), steps whose checks take
        seconds keep their last result, marked "changed since checked"."""
        state = self._follow_engine()
        with self._lock:
            previous = {s.step: s for s in self.report.steps} if self.report else {}
            steps = self.model.steps
            quick = [s.id for s in steps if slow or not costly(s) or s.id not in previous]
            # after a change the live model saw, its read of the engine is current: the
            # checks share it; a Check reads the engine once, now (run_checks)
            seen = state.snapshot if not slow and state is not None and state.connected else None
            checked = (
                check_lesson(
                    self.engine,
                    self.model,
                    quick,
                    snapshot=seen,
                    images=self.context.images,
                    folder=Path.cwd(),  # the kernel runs in the notebook's folder
                ).steps
                if quick
                else ()
            )
            fresh = {s.step: s for s in checked}
            stale = {s.id for s in steps if s.id not in fresh} | (self.stale - set(fresh))
            ordered = tuple(fresh.get(s.id) or previous[s.id] for s in steps)
            report = LessonReport(
                self.model.id,
                self.model.title,
                ordered,
                mode="check",
                engine=self.engine.host,
            )
            self.report, self.stale = report, stale
            self.version = state.version if state is not None else self.version
        self.render()
        return report

    def render(self) -> None:
        """Show the one evaluation on every panel."""
        report = self.report
        by_step = {s.step: s for s in report.steps} if report else {}
        for step_id, panel in self.panels.items():
            panel.show(by_step.get(step_id), stale=step_id in self.stale)
        if self._progress is not None:
            self._progress.show(report)

    def _follow_engine(self) -> LiveState | None:
        """Start following the live model (once); its state now."""
        model = live(self.engine)
        if self._live_unsubscribe is None:
            self._live_unsubscribe = model.subscribe(self._changed, now=False)
        return model.state

    def _changed(self, state: LiveState) -> None:
        if state.version <= self.version or synchronous():
            return
        self._evaluator.start(
            lambda: self.evaluate(slow=False), queue="re-checking after the engine changed"
        )

    # starting over --------------------------------------------------------------------
    def made(self, step_id: str | None = None) -> list[str]:
        """Names of the containers this lesson (or one step of it) made for this learner."""
        return [c.name for c in self.engine.containers(labels=self.context.labels(step_id))]

    def start_over(self, step_id: str | None = None) -> Removed:
        """Remove exactly what :meth:`made` lists, set the step (or every step) back to
        not tried, and show the lesson as the engine has it now."""
        removed = self.engine.remove_labelled(self.context.labels(step_id))
        if step_id:
            self.attempted.discard(step_id)
        else:
            self.attempted.clear()
            # the lesson begins again: a removal seen before (Start over's own among
            # them) is not one of this try's steps
            self.engine.history_since = time.time()
        request_recheck(self.model.id, step_id, start_over=True)  # the room's view too
        touch(self.engine)
        self.evaluate(slow=True)
        return removed

    # panels ---------------------------------------------------------------------------
    def progress(self) -> ProgressPanel:
        """The bar at the top of the lesson."""
        self._progress = ProgressPanel(self)
        if self.report is None:
            self._progress.refresh()
        return self._progress

    def step(self, step_id: str) -> w.VBox:
        """The widget of one step: its action (as in Docker Desktop) and its checks."""
        try:
            step = self.model.step(step_id)
        except KeyError as exc:
            raise DockdojoError(str(exc.args[0]), "Rebuild the lesson notebook.") from None
        panel = CheckPanel(self, step)
        self.panels[step_id] = panel
        header = w.HTML(f"{STYLE}<h4>{'✍️ ' if step.exercise else '▶ '}{esc(step.title)}</h4>")
        action = self.action_widget(step, panel)
        needs = [NeedsBox(self.engine, step)] if step.needs else []
        children = [header, *needs, *([action] if action is not None else []), panel, *heartbeat()]
        box = w.VBox(children, layout=w.Layout(border="1px solid #ddd", padding="6px"))
        box.add_class("dojo-step")
        box.add_class(f"dojo-step-{step.id}")
        if self.report is not None and self.version == live(self.engine).state.version:
            self.render()  # nothing changed since the last evaluation: show it
        else:
            panel.run()
        return box

    def action_widget(self, step: Step, panel: CheckPanel) -> w.Widget | None:
        if step.action is None:
            task = (
                f"<b>Your task</b> (learner {esc(self.engine.learner)}):{markdown(step.task)}"
                if self.context.personal(step.id)
                else ""
            )
            return w.HTML(
                note(
                    "info",
                    "Solve this one on your own (terminal, Docker Desktop, "
                    "or code in the cell above), then select Check.",
                )
                + (f'<div class="dojo-note dojo-info dojo-task">{task}</div>' if task else "")
            )
        make = (
            WIDGETS.get(ACTIONS[step.action.kind].widget) if step.action.kind in ACTIONS else None
        )
        if make is None:
            return w.HTML(
                note(
                    "error",
                    f"This lesson uses an action ({step.action.kind}) this "
                    "version of dockdojo cannot show.",
                    "Update dockdojo.",
                )
            )
        return make(self.engine, step, step.action.args, panel.run)


WidgetMaker = Callable[[Engine, Step, Mapping[str, Any], Callable[[], bool]], w.Widget]
"""Makes the widget of one step's action: from the engine, the step, the action's
arguments, and what to call when the action is done (the step's checks)."""


def _remove_container_note(
    _engine: Engine, _step: Step, args: Mapping[str, Any], _done: Callable[[], bool]
) -> w.Widget:
    return w.HTML(
        note(
            "info",
            f"Delete the container {args['name']} (docker rm {args['name']}, "
            "or Delete in the Containers list), then select Check.",
        )
    )


def _to_create(step: Step, kind: str, args: Mapping[str, Any]) -> str:
    """The name a view's Create field offers: the step's, when the step creates it."""
    made = step.action is not None and step.action.kind == kind
    return str(args.get("name") or "") if made else ""


WIDGETS: dict[str, WidgetMaker] = {
    "pull": lambda engine, _step, args, done: PullWidget(
        engine, list(args["images"]), on_pulled=lambda _: done()
    ),
    "images": lambda engine, _step, _args, _done: ImagesWidget(engine),
    "run": lambda engine, step, args, done: RunWidget(
        engine,
        str(args["image"]),
        name=str(args.get("name") or ""),
        ports=args.get("ports"),
        env=args.get("env"),
        command=args.get("command"),
        step=step.id,
        on_run=lambda _: done(),
        more=args,
    ),
    "file": lambda _engine, _step, args, done: FileWidget(
        str(args["path"]), str(args["content"]), on_saved=lambda _: done()
    ),
    "exec": lambda engine, _step, args, done: ExecConsole(
        engine,
        image=args.get("image"),
        name=args.get("name"),
        suggest=[" ".join(args["command"]), *args.get("suggest", [])],
        on_answered=lambda: (request_recheck(engine.lesson), done()),
    ),
    "remove-image": lambda engine, _step, args, done: DeleteWidget(
        engine, str(args["image"]), on_deleted=lambda _: done()
    ),
    "remove-container": _remove_container_note,
    "containers": lambda engine, _step, _args, done: ContainersWidget(
        engine, on_change=lambda: done()
    ),
    "build": lambda engine, step, args, done: ProjectWidget(
        engine, step, "build", args, on_done=done
    ),
    "compose": lambda engine, step, args, done: ProjectWidget(
        engine, step, step.action.kind if step.action else "compose-up", args, on_done=done
    ),
    "volumes": lambda engine, step, args, done: VolumesWidget(
        engine, name=_to_create(step, "volume-create", args), on_change=lambda: done()
    ),
    "networks": lambda engine, step, args, done: NetworksWidget(
        engine, name=_to_create(step, "network-create", args), on_change=lambda: done()
    ),
}
"""The widget of each action kind, by the name its entry in ``ACTIONS`` gives."""
