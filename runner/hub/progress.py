"""The instructor's record of a room: each learner's engine, readiness and steps, and
the history of their attempts, in a SQL database (SQLAlchemy).

A SQLite file by default (``STATE/instructor/progress.sqlite``, root's alone), or any
database SQLAlchemy reaches (``postgresql+psycopg://...``) when the room's
``[instructor] database`` names one. Three tables:

- ``dockdojo_learners``: one row per learner: their engine's state, their readiness
  (the doctor's findings), the lesson they work on, when they were last checked;
- ``dockdojo_steps``: one row per learner, lesson and step: its status (``done``,
  ``undone``, ``failing``, ``not_tried``), the check's message, since when;
- ``dockdojo_attempts``: every change of a step's status and every learner's request, with
  its time: the history the instructor reads.

Writes come in :class:`Batch` es; a batch the database refuses (it is unreachable, say)
is kept by the caller and written again later (:class:`~.watch.Watch`), so nothing
is lost while the database is away.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

STATUSES = ("done", "undone", "failing", "not_tried")
"""A step's status on the grid: done; done and then undone by a later step as the guide
asks; failing (the learner tried it, and its check fails, with the check's reason); not
tried."""

_meta = sa.MetaData()
learners_table = sa.Table(
    "dockdojo_learners",
    _meta,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("lesson", sa.String(128), nullable=False, default=""),
    sa.Column("engine", sa.String(16), nullable=False, default="unknown"),
    sa.Column("engine_message", sa.Text, nullable=False, default=""),
    sa.Column("ready", sa.Boolean, nullable=True),
    sa.Column("doctor", sa.Text, nullable=False, default=""),
    sa.Column("seen_at", sa.Float, nullable=False, default=0.0),
    sa.Column("checked_at", sa.Float, nullable=False, default=0.0),
)
steps_table = sa.Table(
    "dockdojo_steps",
    _meta,
    sa.Column("learner", sa.String(64), primary_key=True),
    sa.Column("lesson", sa.String(128), primary_key=True),
    sa.Column("step", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("checked_at", sa.Float, nullable=False),
    sa.Column("tried", sa.Boolean, nullable=False, default=False),
)
attempts_table = sa.Table(
    "dockdojo_attempts",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner", sa.String(64), nullable=False, index=True),
    sa.Column("lesson", sa.String(128), nullable=False),
    sa.Column("step", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)


@dataclass
class LearnerRow:
    """What the instructor knows of one learner."""

    name: str
    lesson: str = ""
    """The lesson they work on (the one their last request named)."""
    engine: str = "unknown"
    """``running``, ``stopped`` (no engine answers), ``unreachable`` (it failed a check),
    or ``unknown`` (not looked at yet)."""
    engine_message: str = ""
    ready: bool | None = None
    """The doctor's verdict on their engine; None until it ran."""
    doctor: str = ""
    """The doctor's failing findings, one per line (empty when ready)."""
    seen_at: float = 0.0
    """Epoch seconds of their first request or check."""
    checked_at: float = 0.0


@dataclass
class StepRow:
    """One learner's status on one step."""

    learner: str
    lesson: str
    step: str
    status: str
    message: str = ""
    since: float = 0.0
    """Epoch seconds since the status holds."""
    checked_at: float = 0.0
    tried: bool = False
    """Whether the learner asked for this step's check (or it was done once)."""


@dataclass(frozen=True)
class Attempt:
    """One entry of a learner's history."""

    learner: str
    lesson: str
    step: str
    status: str
    message: str
    cause: str
    """``look`` (the learner's Check asking to be checked) or ``recheck`` (the service's
    own round)."""
    at: float


@dataclass
class Batch:
    """Rows to write together."""

    learners: list[LearnerRow] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.learners or self.steps or self.attempts)

    def extend(self, other: Batch) -> None:
        self.learners += other.learners
        self.steps += other.steps
        self.attempts += other.attempts


def state_folder(state: Path) -> Path:
    """``STATE/instructor``, root's alone: the SQLite file, the view's cookie secret."""
    folder = state / "instructor"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def default_url(state: Path) -> str:
    """The SQLite file of a room whose ``[instructor] database`` is empty."""
    return f"sqlite:///{state_folder(state) / 'progress.sqlite'}"


class ProgressStore:
    """The tables, in the database at ``url`` (made when missing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 10}
        else:
            options["connect_args"] = {"connect_timeout": 3}
        self.engine = sa.create_engine(url, **options)
        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def load(self) -> tuple[list[LearnerRow], list[StepRow]]:
        """Everything known, for a service that starts (again)."""
        with self.engine.connect() as db:
            learners = [LearnerRow(**row._asdict()) for row in db.execute(learners_table.select())]
            steps = [StepRow(**row._asdict()) for row in db.execute(steps_table.select())]
        return learners, steps

    def write(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it, or nothing: it raises
        :class:`sqlalchemy.exc.SQLAlchemyError` and the caller keeps the batch)."""
        with self.engine.begin() as db:
            for learner in _last(batch.learners, lambda r: r.name):
                _upsert(db, learners_table, {"name": learner.name}, asdict(learner))
            for step in _last(batch.steps, lambda r: (r.learner, r.lesson, r.step)):
                key = {"learner": step.learner, "lesson": step.lesson, "step": step.step}
                _upsert(db, steps_table, key, asdict(step))
            if batch.attempts:
                db.execute(attempts_table.insert(), [asdict(a) for a in batch.attempts])

    def attempts(self, learner: str, lesson: str | None = None, limit: int = 500) -> list[Attempt]:
        """``learner``'s history, newest first."""
        query = attempts_table.select().where(attempts_table.c.learner == learner)
        if lesson:
            query = query.where(attempts_table.c.lesson == lesson)
        query = query.order_by(attempts_table.c.at.desc(), attempts_table.c.id.desc()).limit(limit)
        with self.engine.connect() as db:
            return [
                Attempt(**{k: v for k, v in row._asdict().items() if k != "id"})
                for row in db.execute(query)
            ]


def _last(rows: Iterable[Any], key: Any) -> Sequence[Any]:
    """The last of each key's rows (a batch may hold several versions of one row)."""
    return list({key(row): row for row in rows}.values())


def _upsert(
    db: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    where = sa.and_(*(table.c[k] == v for k, v in key.items()))
    done = db.execute(table.update().where(where).values(**values))
    if done.rowcount == 0:
        db.execute(table.insert().values(**values))


__all__ = [
    "STATUSES",
    "Attempt",
    "Batch",
    "LearnerRow",
    "ProgressStore",
    "StepRow",
    "default_url",
    "state_folder",
]
