"""Per-learner exercise values, so one learner's notebook does not pass for another's.

A lesson writes ``{learner_tag}`` where a value must differ between learners (a
container name, a key, a value). Each learner gets a short tag derived from the lesson
and the learner's id, the same in the learner's notebook (where the widgets show it) and
in the grader (which checks it). Learners learn their value; nobody can guess another's
without their id.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import Any

from .model import Action, CheckSpec, Lesson, Section, Step

PLACEHOLDER = "{learner_tag}"
TAG_VARIABLE = "DOCKDOJO_LEARNER_TAG"
"""``LESSON=TAG``: the tag, as given by a grader that keeps its secret to itself (a
submission's kernel gets its own tag this way, never the salt)."""


def learner_tag(lesson_id: str, learner: str) -> str:
    """Six hex characters, stable for one learner in one lesson."""
    given_lesson, _, given = os.environ.get(TAG_VARIABLE, "").partition("=")
    if given and given_lesson == lesson_id and os.environ.get("DOCKDOJO_LEARNER") == learner:
        return given
    secret = os.environ.get("DOCKDOJO_TAG_SALT", "")
    digest = hashlib.sha256(f"{secret}\0{lesson_id}\0{learner}".encode()).hexdigest()
    return digest[:6]


def _fill(value: Any, tag: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, tag)
    if isinstance(value, list):
        return [_fill(v, tag) for v in value]
    if isinstance(value, dict):
        return {_fill(k, tag): _fill(v, tag) for k, v in value.items()}
    return value


def _step(step: Step, tag: str) -> Step:
    def action(a: Action) -> Action:
        return replace(a, args=_fill(dict(a.args), tag))

    def check(c: CheckSpec) -> CheckSpec:
        return replace(c, args=_fill(dict(c.args), tag), hint=_fill(c.hint, tag))

    return replace(
        step,
        title=_fill(step.title, tag),
        task=_fill(step.task, tag),
        action=action(step.action) if step.action is not None else None,
        checks=tuple(check(c) for c in step.checks),
        solve=tuple(action(a) for a in step.solve),
    )


def personalize(lesson: Lesson, learner: str) -> Lesson:
    """The lesson as ``learner`` sees it: every ``{learner_tag}`` replaced by their tag."""
    tag = learner_tag(lesson.id, learner)
    sections = tuple(
        Section(
            s.title, s.level, tuple(_step(b, tag) if isinstance(b, Step) else b for b in s.blocks)
        )
        for s in lesson.sections
    )
    return replace(lesson, sections=sections)


def uses_parameters(step: Step) -> bool:
    """Whether a step's declaration has per-learner values."""
    return PLACEHOLDER in repr((step.title, step.task, step.action, step.checks, step.solve))
