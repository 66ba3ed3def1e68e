"""Which containers, images, volumes and networks on an engine are a learner's: the one
place that says.

Ownership is by engine first: on a learner's own engine, everything is theirs (work done
in a terminal counts), and the lesson's own containers are preferred as targets
(:func:`~dockdojo.runner.engine.snapshot.prefer_lesson`). On a shared engine
(``DOCKDOJO_SHARED_ENGINE=1``) only what dockdojo labelled for this learner is theirs:
listing, counting, removing and solving touch nothing else. The labels
(``dockdojo.lesson``, ``dockdojo.step``, ``dockdojo.learner``) say which lesson and step
made what; every label dict dockdojo puts on a resource or filters by is made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import LABEL_LEARNER, LABEL_LESSON, LABEL_STEP, ContainerInfo


@dataclass(frozen=True)
class Ownership:
    """One learner's claim on one engine, for one lesson."""

    lesson: str
    """The lesson id put on what is created (``none`` outside a lesson)."""
    learner: str
    """The learner id put on what is created, and the owner on a shared engine."""
    shared: bool = False
    """Whether other learners use the engine too: then only what is labelled with
    :attr:`learner` is theirs."""

    def labels(self, step: str | None = None, *, lesson: str | None = None) -> dict[str, str]:
        """The labels dockdojo puts on what it creates for ``step`` of the lesson (or of
        ``lesson``, when given); as a filter, what dockdojo made for this learner there
        (what Start over and a grader's cleanup remove)."""
        labels = {LABEL_LESSON: lesson or self.lesson, LABEL_LEARNER: self.learner}
        if step:
            labels[LABEL_STEP] = step
        return labels

    def lesson_filter(self, lesson: str | None = None) -> dict[str, str]:
        """The label filter for everything of the lesson that is this learner's to remove:
        on their own engine, whatever any run of the lesson made; on a shared engine, only
        what was made for them."""
        return self._owned({LABEL_LESSON: lesson or self.lesson})

    def scoped(self, labels: Mapping[str, str] | None) -> dict[str, str] | None:
        """``labels`` as a filter of this learner's resources: on a shared engine the
        learner's label is added (a filter of None, meaning everything, becomes theirs
        alone); on an own engine it is kept as given."""
        if not self.shared and not labels:
            return None
        return self._owned(labels or {})

    def _owned(self, labels: Mapping[str, str]) -> dict[str, str]:
        return {**labels, LABEL_LEARNER: self.learner} if self.shared else dict(labels)

    def mine(self, container: ContainerInfo) -> bool:
        """Whether ``container`` is this learner's: any on their own engine; on a shared
        engine, one labelled for them."""
        return not self.shared or container.labels.get(LABEL_LEARNER) == self.learner

    def holds(self, labels: Mapping[str, str], users: Iterable[Mapping[str, str]] = ()) -> bool:
        """Whether a volume or network with ``labels`` is this learner's: any on their own
        engine; on a shared engine, one labelled for them or used by one of their
        containers (``users``: the labels of the containers that mount or join it)."""
        return (
            not self.shared
            or labels.get(LABEL_LEARNER) == self.learner
            or any(u.get(LABEL_LEARNER) == self.learner for u in users)
        )

    def made_for(
        self, container: ContainerInfo, step: str | None = None, *, lesson: str | None = None
    ) -> bool:
        """Whether dockdojo made ``container`` for the lesson (or ``lesson``) and ``step``
        (when given), for this learner where the engine is shared."""
        wanted = {LABEL_LESSON: lesson or self.lesson} | ({LABEL_STEP: step} if step else {})
        return self.mine(container) and all(container.labels.get(k) == v for k, v in wanted.items())


__all__ = ["Ownership"]
