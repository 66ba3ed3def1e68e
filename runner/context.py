"""One learner context: the lesson, the learner, their tag, the personalized lesson, the
ownership labels and the engine, as one value made in one place.

A lesson writes ``{learner_tag}`` where a value must differ between learners (a
container name, a key, a value). Each learner gets a short tag derived from the lesson
and the learner's id, the same in the learner's notebook (where the widgets show it), in
``dockdojo check``, in the grader and in the instructor's view (which check it). The
tag is made with a secret, in a room the room's own salt (:mod:`~.room.salt`), which
only the grader, the hub and the instructor's view read: learners' servers and graded
kernels are handed their own tags (``DOCKDOJO_LEARNER_TAG``), so nobody works out
another's. On a laptop there is no secret unless one is set.

:func:`learner_context` reads the environment once (a notebook, the CLI);
:func:`context_for` is for callers that know the learner (the grader, the instructor's
view, the rehearsal). Nothing else fills ``{learner_tag}`` or builds label filters: what
is a learner's on an engine is the engine layer's rule (:class:`~.engine.Ownership`),
which the context carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .authoring.model import Action, CheckSpec, Lesson, Section, Step
from .engine import ContainerInfo, Engine, Ownership, TrustedImages
from .environ import given_tag, shared_engine, tag_salt
from .environ import host_ip as given_host_ip
from .environ import learner as given_learner

PLACEHOLDER = "{learner_tag}"


def learner_tag(lesson_id: str, learner: str, salt: str | None = None) -> str:
    """Six hex characters, stable for one learner in one lesson. ``salt``: the room's
    secret, given by a process that acts for a room (:mod:`~.room.salt`); None: the tag
    handed to this process, else one made with the environment's secret (a laptop's,
    usually none)."""
    if salt is None:
        given = given_tag(lesson_id, learner)
        if given:
            return given
    secret = tag_salt() if salt is None else salt
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


def personalize(lesson: Lesson, learner: str, salt: str | None = None) -> Lesson:
    """The lesson as ``learner`` sees it: every ``{learner_tag}`` replaced by their tag
    (``salt`` as :func:`learner_tag` takes it)."""
    tag = learner_tag(lesson.id, learner, salt)
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


def parameters(declared: Lesson, mine: Lesson, step_ids: Iterable[str]) -> dict[str, str]:
    """Per-learner values of the steps' checks, as ``step.argument`` -> value."""
    out: dict[str, str] = {}
    for step_id in step_ids:
        before, after = declared.step(step_id), mine.step(step_id)
        for c_before, c_after in zip(before.checks, after.checks, strict=True):
            for key, value in c_before.args.items():
                if isinstance(value, str) and PLACEHOLDER in value:
                    out[f"{step_id}.{key}"] = str(c_after.args[key])
    return out


@dataclass(frozen=True)
class LearnerContext:
    """One learner doing one lesson on one engine."""

    declared: Lesson
    """The lesson as its source declares it, ``{learner_tag}`` and all."""
    learner: str
    """The learner's id (a room's user name, a submission's file name)."""
    tag: str
    """The learner's tag in this lesson (what ``{learner_tag}`` becomes)."""
    lesson: Lesson
    """The lesson as this learner sees it: :attr:`declared` with their tag filled in."""
    engine: Engine
    """The learner's engine, scoped to the lesson and the learner (its labels, and on a
    shared engine what is theirs)."""
    images: TrustedImages = field(default_factory=TrustedImages)
    """Which manifests count as the lesson's images in the checks: the digests the room's
    mirror serves (a room, grading), else any pulled as the declared repository."""

    @property
    def ownership(self) -> Ownership:
        """What on the engine is this learner's, and the labels that say so."""
        return self.engine.ownership

    @property
    def shared(self) -> bool:
        """Whether other learners use the engine too."""
        return self.engine.shared

    def labels(self, step: str | None = None) -> dict[str, str]:
        """The labels dockdojo puts on what it makes for this learner (in ``step``); as a
        filter, what it made for them in the lesson (Start over, a grader's cleanup)."""
        return self.ownership.labels(step)

    def mine(self, containers: Iterable[ContainerInfo]) -> list[ContainerInfo]:
        """The learner's among ``containers``: all on their own engine, those labelled
        for them on a shared one."""
        return [c for c in containers if self.ownership.mine(c)]

    def personal(self, step_id: str) -> bool:
        """Whether the step has values of this learner's own (``{learner_tag}``)."""
        return uses_parameters(self.declared.step(step_id))

    def parameters(self, step_ids: Iterable[str]) -> dict[str, str]:
        """This learner's values in the steps' checks, as ``step.argument`` -> value."""
        return parameters(self.declared, self.lesson, step_ids)

    def close(self) -> None:
        """Close the engine's connections of this thread."""
        self.engine.close()

    def __enter__(self) -> LearnerContext:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _made(
    lesson: Lesson,
    learner: str,
    engine: Engine,
    salt: str | None = None,
    images: TrustedImages | None = None,
) -> LearnerContext:
    return LearnerContext(
        declared=lesson,
        learner=learner,
        tag=learner_tag(lesson.id, learner, salt),
        lesson=personalize(lesson, learner, salt),
        engine=engine,
        images=images or TrustedImages(),
    )


def learner_context(
    lesson: Lesson,
    *,
    learner: str | None = None,
    engine: Engine | None = None,
    base_url: str | None = None,
) -> LearnerContext:
    """The context of whoever runs this process (a notebook's kernel, ``dockdojo
    check``/``run``), read from the environment once: ``learner`` or
    ``$DOCKDOJO_LEARNER``/``$JUPYTERHUB_USER``/the user name, the engine found as
    Docker's tools find it (or ``engine``, whose learner then wins), shared when
    ``DOCKDOJO_SHARED_ENGINE=1``."""
    if engine is None:
        engine = environment_engine(base_url, lesson=lesson.id, learner=learner)
    return _made(lesson, engine.learner, engine)


def environment_engine(
    base_url: str | None = None, *, lesson: str | None = None, learner: str | None = None
) -> Engine:
    """The engine as whoever runs this process has it (a notebook, a command), with the
    settings a room or workshop hands it in the environment: the learner, whether the
    engine is shared (``DOCKDOJO_SHARED_ENGINE=1``) and the address ports bind to
    (``DOCKDOJO_HOST_IP``). The one place these are read; the engine layer is given them."""
    return Engine(
        base_url,
        lesson=lesson,
        learner=learner or given_learner(),
        shared=shared_engine(),
        host_ip=given_host_ip(),
    )


def context_for(
    lesson: Lesson,
    learner: str,
    docker_host: str,
    *,
    shared: bool = False,
    journal: Path | bool = True,
    host_ip: str | None = None,
    salt: str | None = None,
    images: TrustedImages | None = None,
) -> LearnerContext:
    """The context of a learner named by the caller (the grader, the instructor's view,
    the rehearsal), on the engine at ``docker_host`` whose journal is ``journal`` (as
    :class:`~dockdojo.runner.engine.Engine` takes it), their tag made with ``salt`` (the
    room's; None: as :func:`learner_tag` finds it, from the environment). ``host_ip``:
    where its published ports bind (a room learner's own address), as for
    :class:`~dockdojo.runner.engine.Engine`. Its checks count ``images`` (the room
    mirror's digests) as the lesson's images."""
    engine = Engine(
        docker_host,
        lesson=lesson.id,
        learner=learner,
        shared=shared,
        journal=journal,
        host_ip=host_ip,
    )
    return _made(lesson, learner, engine, salt, images)


__all__ = [
    "PLACEHOLDER",
    "LearnerContext",
    "TrustedImages",
    "context_for",
    "environment_engine",
    "learner_context",
    "learner_tag",
    "parameters",
    "personalize",
    "uses_parameters",
]
