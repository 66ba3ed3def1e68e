"""A lesson in a notebook: a progress bar on top, and each step's widget with its checks.

The notebook's cells stay one short call each::

    lesson = LessonView("what-is-an-image")
    lesson.progress()
    lesson.step("pull-images")

Everything shown is recomputed from the live engine, so it is right after a kernel
restart, and when the work was done outside the notebook (CLI, Docker Desktop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w

from dockdojo.runner import (
    ACTIONS,
    CheckResult,
    DockdojoError,
    Engine,
    Step,
    check_lesson,
    load_lesson,
    personalize,
    plural,
    run_step_checks,
    uses_parameters,
)

from .common import STYLE, Worker, button, esc, note
from .console import ExecConsole
from .containers import RunWidget
from .images import DeleteWidget, ImagesWidget
from .pull import PullWidget


def results_html(results: Sequence[CheckResult]) -> str:
    rows = []
    for r in results:
        if r.passed:
            evidence = ", ".join(
                f"{esc(k)}: {esc(v)}"
                for k, v in r.evidence.items()
                if not isinstance(v, dict | list)
            )
            detail = f'<div class="dojo-hint">{evidence}</div>' if evidence else ""
            rows.append(f'<div class="dojo-note dojo-ok">✅ {esc(r.message)}{detail}</div>')
        else:
            rows.append(
                f'<div class="dojo-note dojo-error">❌ {esc(r.message)}'
                f'<div class="dojo-hint">💡 {esc(r.hint)}</div></div>'
            )
    return STYLE + "".join(rows)


class CheckPanel(w.VBox):
    """A step's checks: run after its action succeeds, and on the Check button."""

    def __init__(self, lesson: LessonView, step: Step) -> None:
        self.lesson = lesson
        self.step = step
        self.check_button = button("Check", "success", "check")
        self.mark = w.HTML()
        self.results = w.HTML()
        self.worker = Worker(self.results, [self.check_button])
        self.check_button.on_click(lambda _: self.run())
        points = plural(step.points, "point")
        super().__init__(
            [
                w.HBox(
                    [
                        self.check_button,
                        self.mark,
                        w.HTML(f'<span class="dojo-hint">{esc(points)}</span>'),
                    ]
                ),
                self.results,
            ]
        )
        self.passed: bool | None = None

    def run(self) -> bool:
        def job() -> None:
            results = run_step_checks(self.lesson.engine, self.lesson.model, self.step)
            self.passed = all(r.passed for r in results)
            self.mark.value = "<b>✅ Done</b>" if self.passed else "<b>❌ Not yet</b>"
            self.results.value = results_html(results)
            self.lesson.record(self.step.id, self.passed)

        return self.worker.start(job, "Checking…")


class ProgressPanel(w.VBox):
    """Steps done out of all, recomputed from the live engine."""

    def __init__(self, lesson: LessonView) -> None:
        self.lesson = lesson
        steps = len(lesson.model.steps)
        self.bar = w.IntProgress(
            value=0, min=0, max=steps, description="Progress", bar_style="success"
        )
        self.label = w.HTML()
        self.refresh_button = button("Recheck all", icon="refresh")
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.refresh_button])
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([w.HBox([self.bar, self.label, self.refresh_button]), self.status])
        self.add_class("dojo-progress")
        self.show()

    def show(self) -> None:
        done = sum(1 for ok in self.lesson.done.values() if ok)
        self.bar.value = done
        self.label.value = esc(f"{done} of {self.bar.max} steps done")

    def refresh(self) -> bool:
        def job() -> None:
            report = check_lesson(self.lesson.engine, self.lesson.model)
            for step in report.steps:
                self.lesson.done[step.step] = step.passed
            self.show()
            self.status.value = (
                ""
                if report.steps_passed or report.points
                else note(
                    "info",
                    report.steps[0].results[0].message
                    if report.steps and report.steps[0].results
                    else "Nothing checked yet.",
                )
            )

        return self.worker.start(job, "Checking every step against the engine…")


class LessonView:
    """The widgets of one lesson, sharing one engine connection."""

    def __init__(self, name: str, *, engine: Engine | None = None) -> None:
        model = load_lesson(name)
        self.engine = engine or Engine(lesson=model.id)
        self.raw = model
        self.model = personalize(model, self.engine.learner)
        self.done: dict[str, bool] = {}
        self._progress: ProgressPanel | None = None
        self.panels: dict[str, CheckPanel] = {}

    def record(self, step_id: str, passed: bool) -> None:
        self.done[step_id] = passed
        if self._progress is not None:
            self._progress.show()

    def progress(self) -> ProgressPanel:
        """The bar at the top of the lesson (computed in the background)."""
        self._progress = ProgressPanel(self)
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
        children = [header] + ([action] if action is not None else []) + [panel]
        box = w.VBox(children, layout=w.Layout(border="1px solid #ddd", padding="6px"))
        box.add_class("dojo-step")
        box.add_class(f"dojo-step-{step.id}")
        panel.run()
        return box

    def action_widget(self, step: Step, panel: CheckPanel) -> w.Widget | None:
        if step.action is None:
            task = (
                f"<b>Your task</b> (learner {esc(self.engine.learner)}): {esc(step.task)}"
                if uses_parameters(self.raw.step(step.id))
                else ""
            )
            return w.HTML(
                note(
                    "info",
                    "Solve this one on your own (terminal, Docker Desktop, "
                    "or code in the cell above), then select Check.",
                )
                + (f'<div class="dojo-note dojo-info">{task}</div>' if task else "")
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
    ),
    "exec": lambda engine, _step, args, _done: ExecConsole(
        engine,
        image=args.get("image"),
        name=args.get("name"),
        suggest=[" ".join(args["command"]), *args.get("suggest", [])],
    ),
    "remove-image": lambda engine, _step, args, done: DeleteWidget(
        engine, str(args["image"]), on_deleted=lambda _: done()
    ),
    "remove-container": _remove_container_note,
}
"""The widget of each action kind, by the name its entry in ``ACTIONS`` gives."""
