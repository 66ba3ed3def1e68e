"""The lesson model: what a guide becomes once its steps are declared.

A :class:`Lesson` is the guide's prose in order, cut into :class:`Section` s at its
headings; among the prose stand :class:`Step` s, each with the :class:`Action` its
widget offers (and that ``run --solve`` performs) and the :class:`CheckSpec` s that
decide whether it is done. Everything carries the source line it came from, so any
later error can say ``file:line``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "dockdojo.lesson/v1"
"""Version of the notebook metadata the builder writes (see ``schemas/``)."""


@dataclass(frozen=True)
class Action:
    """What a step's widget offers, and what ``run --solve`` performs."""

    kind: str
    """Registered action name: ``pull``, ``images``, ``run``, ``exec``, ``remove-image``..."""
    args: Mapping[str, Any]
    """The action's arguments as declared (validated against the action's schema)."""
    line: int
    """1-based source line of the declaration."""


@dataclass(frozen=True)
class CheckSpec:
    """One declared check of a step."""

    kind: str
    """Registered check name: ``image_present``, ``http_ok``, ``command_output``..."""
    args: Mapping[str, Any]
    """The check's arguments (validated against the check's schema)."""
    hint: str
    """What to tell a learner whose check fails."""
    points: int
    """Points this check is worth when it passes."""
    line: int
    """1-based source line of the declaration."""


@dataclass(frozen=True)
class Step:
    """One thing a learner does, with the checks that prove it was done."""

    id: str
    """Unique within the lesson, e.g. ``pull-images``; also the ``dockdojo.step`` label."""
    title: str
    """Short title shown above the step's widget."""
    action: Action | None
    """The widget's action; None for an exercise the learner solves on their own."""
    checks: tuple[CheckSpec, ...]
    """Checks that decide whether the step is done; at least one."""
    solve: tuple[Action, ...] = ()
    """What ``run --solve`` performs instead of ``action`` (required for exercises)."""
    exercise: bool = False
    """Whether the step is a graded exercise (no widget does it for the learner)."""
    task: str = ""
    """For an exercise: what the learner must do, in Markdown."""
    line: int = 0
    """1-based source line of the step's declaration."""
    undone_by: str = ""
    """A later step that, as the guide asks, undoes what this one made (removing the image
    this step pulled). Once that step passes, this one counts as done."""
    needs: tuple[str, ...] = ()
    """Images the step's action needs on the engine that an earlier lesson pulls
    (``needs: {images: [...], lesson: NAME}``): when one is missing, the widget says so
    and offers to pull it, and ``run --solve`` pulls it first."""
    needs_lesson: str = ""
    """The earlier lesson that pulls them, when the lesson names it."""

    @property
    def points(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def solution(self) -> tuple[Action, ...]:
        """The actions that complete this step programmatically."""
        if self.solve:
            return self.solve
        return (self.action,) if self.action is not None else ()


@dataclass(frozen=True)
class Prose:
    """Guide text kept as written (after Hugo constructs were translated)."""

    markdown: str
    """Markdown as a notebook cell shows it."""
    line: int
    """1-based source line where it starts."""


Block = Prose | Step


@dataclass(frozen=True)
class Section:
    """The content under one heading (or before the first)."""

    title: str
    """Heading text; empty for the content before the first heading."""
    level: int
    """Heading level (2 for ``##``); 0 before the first heading."""
    blocks: tuple[Block, ...]
    """Prose and steps in source order, the heading itself included as prose."""


@dataclass(frozen=True)
class BuildWarning:
    """Something the builder translated approximately or could not translate."""

    line: int
    """1-based source line."""
    message: str
    """What happened, in a sentence."""


@dataclass(frozen=True)
class Translation:
    """A Docker-docs construct the builder translated for the notebook, or kept as it is
    (``build --report``)."""

    line: int
    """1-based source line."""
    construct: str
    """What it was, e.g. ``callout``, ``button to a lesson built with this one``."""
    kept: bool = False
    """True when it was kept as the guide has it (a code block, a table, HTML)."""


@dataclass(frozen=True)
class Lesson:
    """A guide made executable."""

    id: str
    """The file's stem, e.g. ``what-is-an-image``; also the ``dockdojo.lesson`` label."""
    title: str
    """From the front matter's ``title`` (else the first heading, else the id)."""
    description: str
    """From the front matter's ``description``."""
    keywords: tuple[str, ...]
    """From the front matter's ``keywords`` (a comma-separated string or a list)."""
    source: Path
    """The Markdown file the lesson was built from."""
    sections: tuple[Section, ...]
    """The guide in order."""
    warnings: tuple[BuildWarning, ...] = ()
    """What the builder could only approximate, with lines."""
    translations: tuple[Translation, ...] = ()
    """What the builder translated or kept, with lines (for ``build --report``)."""
    front_matter: Mapping[str, Any] = field(default_factory=dict)
    """The whole front matter, for anything else a tool wants from it."""
    heading_ids: Mapping[str, str] = field(default_factory=dict)
    """Ids the source gave headings (``## Run it {#run}``): id -> the heading's text."""

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(b for s in self.sections for b in s.blocks if isinstance(b, Step))

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        known = ", ".join(s.id for s in self.steps)
        raise KeyError(f"lesson {self.id!r} has no step {step_id!r} (steps: {known})")

    @property
    def points(self) -> int:
        return sum(s.points for s in self.steps)

    @property
    def images(self) -> tuple[str, ...]:
        """Every image the lesson declares (``image`` and ``images`` of its actions,
        solutions and checks, what steps need from earlier lessons, and the images its
        builds start from, a check's ``base``) as written, in the order they first
        appear; images the lesson builds itself (a ``build`` action's ``tag``) and
        per-learner values (``{learner_tag}``) are left out."""
        seen: dict[str, None] = {}
        built = {
            _untagged(str(a.args.get("tag")))
            for s in self.steps
            for a in (s.action, *s.solve)
            if a is not None and a.kind == "build"
        }
        for step in self.steps:
            seen.update(dict.fromkeys(step.needs))
            actions = [a for a in (step.action, *step.solve) if a is not None]
            for args in [*(a.args for a in actions), *(c.args for c in step.checks)]:
                for name in [args.get("image"), *(args.get("images") or ()), args.get("base")]:
                    if isinstance(name, str) and name and "{" not in name:
                        if args.get("base") != name and _untagged(name) in built:
                            continue
                        seen.setdefault(name, None)
        return tuple(seen)

    def steps_until(self, step_id: str) -> list[str]:
        """Ids of the lesson's steps up to and including ``step_id``, in order."""
        ids = [s.id for s in self.steps]
        return ids[: ids.index(step_id) + 1] if step_id in ids else [step_id]

    def blocks(self) -> Iterator[Block]:
        for section in self.sections:
            yield from section.blocks


def _untagged(name: str) -> str:
    """``web`` for ``web`` and ``web:latest``: how a built tag is compared."""
    return name.removesuffix(":latest")
