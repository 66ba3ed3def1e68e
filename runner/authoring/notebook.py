"""Lesson -> notebook (nbformat 4.5), deterministic so ``build --check`` can compare.

The notebook has a title cell, a setup cell that creates the lesson's widgets (when it
has steps: a page for reading has none), the
guide's prose as Markdown cells (a new cell at each heading), and one short code cell
per step. Every dockdojo cell carries ``metadata.dockdojo`` in the versioned schema
``dockdojo.lesson/v1`` (``schemas/lesson-notebook-v1.json``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..text import plural
from .model import SCHEMA, Lesson, Prose, Step

KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def schema() -> dict[str, Any]:
    """The JSON Schema of ``metadata.dockdojo`` in notebooks and cells."""
    text = resources.files("dockdojo.runner").joinpath("schemas/lesson-notebook-v1.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def step_metadata(lesson: Lesson, step: Step, role: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "lesson": lesson.id,
        "step": step.id,
        "role": role,
        "exercise": step.exercise,
        "points": step.points,
        "checks": [
            {"check": c.kind, "args": dict(c.args), "points": c.points} for c in step.checks
        ],
    }


def to_notebook(lesson: Lesson, source: str, reference: str | None = None) -> NotebookNode:
    """The lesson as a notebook; ``source`` is the lesson file as the metadata names it,
    ``reference`` how the setup cell finds the lesson (its id by default). A page without
    steps is for reading: it has no setup cell."""
    cells = []
    counter = 0

    def cell_id(kind: str) -> str:
        nonlocal counter
        counter += 1
        return f"{kind}-{counter:03d}"

    title = f"# {lesson.title}"
    if lesson.description:
        title += f"\n\n*{lesson.description}*"
    cells.append(
        new_markdown_cell(
            title,
            id=cell_id("title"),
            metadata={"dockdojo": {"schema": SCHEMA, "lesson": lesson.id, "role": "title"}},
        )
    )
    setup = (
        "from dockdojo.widgets import LessonView\n\n"
        f"lesson = LessonView({reference or lesson.id!r})\n"
        "lesson.progress()"
    )
    if lesson.steps:
        cells.append(
            new_code_cell(
                setup,
                id=cell_id("setup"),
                metadata={"dockdojo": {"schema": SCHEMA, "lesson": lesson.id, "role": "setup"}},
            )
        )
    for block in lesson.blocks():
        if isinstance(block, Prose):
            cells.append(new_markdown_cell(block.markdown, id=cell_id("guide")))
            continue
        step = block
        if step.exercise:
            task = (
                f"### ✍️ Exercise: {step.title}\n\n{step.task}\n\n*{plural(step.points, 'point')}.*"
            )
            cells.append(
                new_markdown_cell(
                    task,
                    id=cell_id("task"),
                    metadata={"dockdojo": step_metadata(lesson, step, "task")},
                )
            )
            cells.append(
                new_code_cell(
                    "# Your solution: docker SDK calls, !docker commands, or dockdojo widgets.\n",
                    id=cell_id("answer"),
                    metadata={"dockdojo": step_metadata(lesson, step, "answer")},
                )
            )
        cells.append(
            new_code_cell(
                f"lesson.step({step.id!r})",
                id=cell_id("step"),
                metadata={"dockdojo": step_metadata(lesson, step, "step")},
            )
        )
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": KERNEL,
            "language_info": {"name": "python"},
            "dockdojo": {
                "schema": SCHEMA,
                "lesson": lesson.id,
                "title": lesson.title,
                "description": lesson.description,
                "keywords": list(lesson.keywords),
                "source": source,
                "points": lesson.points,
                "steps": [s.id for s in lesson.steps],
            },
        },
    )
    nbformat.validate(nb)
    node: NotebookNode = nb
    return node


def render(lesson: Lesson, source: str, reference: str | None = None) -> str:
    """The notebook file's exact text."""
    text: str = nbformat.writes(to_notebook(lesson, source, reference))
    return text + "\n"
