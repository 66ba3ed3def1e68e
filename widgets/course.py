"""The course at the top of each lesson: every lesson in order, each with this learner's
progress read from the engine as every check is (the other lessons are checked in the
background once, and again on Recheck course), and a link to its notebook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as w

from dockdojo.runner import (
    DockdojoError,
    LessonReport,
    check_lesson,
    course,
    learner_context,
    load_lesson,
    widgets_headless,
)

from .common import Worker, button, esc

if TYPE_CHECKING:
    from .lesson import LessonView


def progress_text(report: LessonReport | None) -> str:
    if report is None:
        return "not checked yet"
    mark = "✅ " if report.steps_passed == report.steps_total else ""
    return f"{mark}{report.steps_passed} of {report.steps_total} steps"


class CourseStrip(w.VBox):
    """One line per lesson of the course: its place, title (a link to its notebook) and
    this learner's progress in it."""

    def __init__(self, lesson: LessonView) -> None:
        self.lesson = lesson
        self.lessons = course()
        self.titles: dict[str, str] = {lesson.model.id: lesson.model.title}
        self.reports: dict[str, LessonReport | None] = {}
        self.problems: dict[str, str] = {}
        self.html = w.HTML()
        self.status = w.HTML()
        self.recheck = button("Recheck course", icon="refresh", tooltip="Check every lesson")
        self.worker = Worker(self.status, [self.recheck])
        self.recheck.on_click(lambda _: self.check_others())
        super().__init__([self.html, w.HBox([self.recheck]), self.status])
        self.add_class("dojo-course")
        if len(self.lessons) < 2:  # one lesson is no course
            self.layout.display = "none"
            return
        self.render()
        if not widgets_headless():  # nobody sees a graded kernel's widgets
            self.check_others()

    def render(self) -> None:
        rows = []
        for place, name in enumerate(self.lessons, start=1):
            title = esc(self.titles.get(name, name))
            if name == self.lesson.model.id:
                shown = f"<b>{title}</b> (this lesson): {progress_text(self.lesson.report)}"
            else:
                state = self.problems.get(name) or progress_text(self.reports.get(name))
                shown = (
                    f'<a href="{esc(name)}.ipynb" target="_self" class="dojo-lesson-link" '
                    'style="color: #1a73e8; text-decoration: underline">'
                    f"{title}</a>: {esc(state)}"
                )
            rows.append(f'<li data-lesson="{esc(name)}">{place}. {shown}</li>')
        self.html.value = (
            '<div class="dojo-note dojo-info"><b>The course</b>'
            f'<ul style="list-style: none; margin: 4px 0; padding-left: 4px">{"".join(rows)}'
            "</ul></div>"
        )

    def check_others(self) -> bool:
        """Check each other lesson of the course for this learner, on this engine."""

        def job() -> None:
            for name in self.lessons:
                if name == self.lesson.model.id:
                    continue
                try:
                    context = learner_context(load_lesson(name), engine=self.lesson.engine)
                    self.titles[name] = context.lesson.title
                    self.reports[name] = check_lesson(
                        context.engine, context.lesson, images=context.images
                    )
                    self.problems.pop(name, None)
                except DockdojoError as exc:
                    self.problems[name] = f"cannot be checked: {exc.what}"
                self.render()

        return self.worker.start(job, "Checking the course's other lessons…")
