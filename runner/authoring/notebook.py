"""Lesson -> notebook (nbformat 4.5), deterministic so ``build --check`` can compare.

The notebook has a title cell, a setup cell that creates the lesson's widgets (when it
has steps: a page for reading has none), the
guide's prose as Markdown cells (a new cell at each heading), and one short code cell
per step. Every dockdojo cell carries ``metadata.dockdojo`` in the versioned schema
``dockdojo.lesson/v1`` (``schemas/lesson-notebook-v1.json``).

:func:`render` writes the file's text as nbformat does (sorted keys, one-space indent,
sources split into lines) without importing nbformat, whose import alone (jsonschema
and its format checkers) takes longer than building a site; :func:`to_notebook` gives
the validated ``NotebookNode`` and the tests check that both agree.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..text import plural
from .model import SCHEMA, Lesson, Prose, Step

if TYPE_CHECKING:
    from nbformat import NotebookNode

Cell = dict[str, Any]

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


def new_markdown_cell(source: str, *, id: str, metadata: dict[str, Any] | None = None) -> Cell:
    return {"cell_type": "markdown", "id": id, "metadata": metadata or {}, "source": source}


def new_code_cell(source: str, *, id: str, metadata: dict[str, Any] | None = None) -> Cell:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": id,
        "metadata": metadata or {},
        "outputs": [],
        "source": source,
    }


def new_notebook(*, cells: list[Cell], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def to_notebook(lesson: Lesson, source: str, reference: str | None = None) -> NotebookNode:
    """The lesson as a validated notebook (see :func:`notebook_data`)."""
    import nbformat

    node: NotebookNode = nbformat.from_dict(notebook_data(lesson, source, reference))
    nbformat.validate(node)
    return node


def notebook_data(lesson: Lesson, source: str, reference: str | None = None) -> dict[str, Any]:
    """The lesson as a notebook's JSON data; ``source`` is the lesson file as the metadata
    names it, ``reference`` how the setup cell finds the lesson (its id by default). A
    page without steps is for reading: it has no setup cell."""
    cells: list[Cell] = []
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
    return nb


def render(lesson: Lesson, source: str, reference: str | None = None) -> str:
    """The notebook file's exact text, as ``nbformat.writes`` gives it."""
    data = notebook_data(lesson, source, reference)
    for cell in data["cells"]:
        cell["source"] = cell["source"].splitlines(True)
    text = json.dumps(data, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    return text + "\n"
