"""Steps: a ```` ```{step} ID ```` or ```` ```{exercise} ID ```` directive read into a
:class:`~.model.Step`, its action and checks validated against the kinds' table, and the
references between a lesson's steps (``undone_by``, ``step_done``) checked.

Every problem goes to the caller's ``problem(line, message)``; nothing is raised here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from markdown_it.token import Token

from . import yamltext
from .declarations import CHECK_FIELDS, KindTable, problems
from .model import Action, CheckSpec, Step

_STEP_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,47}\Z")
_STEP_KEYS = {"title", "action", "checks", "solve", "undone_by", "needs"}
_EXERCISE_KEYS = {"title", "task", "checks", "solve", "undone_by"}


class StepReader:
    """Reads a lesson's step directives into steps, reporting each problem to ``problem``."""

    def __init__(self, kinds: KindTable, problem: Callable[[int, str], None]) -> None:
        self.actions = kinds.actions
        self.checks_known = kinds.checks
        self.problem = problem

    def directive(self, token: Token) -> Step | None:
        assert token.map is not None
        line = token.map[0] + 1
        name, arg = token.meta["name"], token.meta["arg"]
        if not self.directive_named(line, name, arg):
            return None
        body = line + 1
        parsed = self.step_yaml(token.content, line, body, arg)
        if parsed is None:
            return None
        data, node = parsed
        lines = _key_lines(node, body)
        exercise = name == "exercise"
        action = None
        if exercise:
            self.exercise_keys(arg, data, lines, line)
        else:
            kind = data.get("action")
            if kind is None:
                known = ", ".join(self.actions)
                self.problem(line, f"step {arg!r} needs 'action:' (one of {known})")
                return None
            # a step's other keys are its action's arguments, checked there
            args = {k: v for k, v in data.items() if k not in _STEP_KEYS}
            action = self.action(str(kind), args, lines.get("action", line), arg)
        checks = self.checks(arg, data.get("checks"), node, lines.get("checks", line), body)
        solve = self.solve(arg, data.get("solve"), node, lines.get("solve", line), body)
        task = str(data.get("task") or "")
        if exercise:
            self.exercise_complete(arg, solve, task, line)
        undone_by = self.undone_by(arg, data, lines, line)
        needs, needs_lesson = self.needs(arg, data.get("needs"), lines.get("needs", line))
        return Step(
            id=arg,
            title=str(data.get("title") or arg),
            action=action,
            checks=tuple(checks),
            solve=tuple(solve),
            exercise=exercise,
            task=task.strip(),
            line=line,
            undone_by=undone_by,
            needs=needs,
            needs_lesson=needs_lesson,
        )

    def directive_named(self, line: int, name: str, arg: str) -> bool:
        """Whether the fence is ``{step} ID`` or ``{exercise} ID``; a problem if not."""
        if name not in ("step", "exercise"):
            self.problem(line, f"unknown directive {{{name}}}: use {{step}} or {{exercise}}")
            return False
        if not _STEP_ID.match(arg):
            self.problem(
                line,
                f"{{{name}}} needs an id after it, in lowercase letters, digits "
                f"and '-', e.g. ```{{{name}}} pull-images (got {arg!r})",
            )
            return False
        return True

    def step_yaml(
        self, content: str, line: int, body: int, step: str
    ) -> tuple[dict[Any, Any], yaml.Node] | None:
        """The directive's body as a mapping and its YAML node; a problem if it is not one."""
        try:
            data, node = yamltext.load(content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            what = "" if isinstance(exc, yamltext.Refused) else "malformed YAML "
            self.problem(
                body + (mark.line if mark else 0),
                f"{what}in step {step!r}: {yaml_reason(exc, body)}",
            )
            return None
        if not isinstance(data, dict) or node is None:
            self.problem(line, f"step {step!r} must be a YAML mapping (title:, action:, checks:)")
            return None
        return data, node

    def exercise_keys(
        self, step: str, data: Mapping[Any, Any], lines: Mapping[str, int], line: int
    ) -> None:
        """An exercise has no action, and no keys but :data:`_EXERCISE_KEYS`."""
        if "action" in data:
            self.problem(
                lines.get("action", line),
                f"exercise {step!r} has no action: the learner solves it on their own",
            )
        for key in data:
            if key not in _EXERCISE_KEYS:
                self.problem(
                    lines.get(key, line),
                    f"step {step!r} has an unknown key {key!r} "
                    f"(allowed: {', '.join(sorted(_EXERCISE_KEYS))})",
                )

    def exercise_complete(self, step: str, solve: list[Action], task: str, line: int) -> None:
        """An exercise needs the actions that complete it and a task for the learner."""
        if not solve:
            self.problem(
                line,
                f"exercise {step!r} needs 'solve:' (the actions that complete "
                "it), so that run --solve can prove it",
            )
        if not task.strip():
            self.problem(line, f"exercise {step!r} needs 'task:' (what the learner must do)")

    def undone_by(
        self, step: str, data: Mapping[Any, Any], lines: Mapping[str, int], line: int
    ) -> str:
        """The id of the later step that undoes this one, or ``""``."""
        undone_by = data.get("undone_by") or ""
        if not isinstance(undone_by, str):
            self.problem(
                lines.get("undone_by", line),
                f"step {step!r}: 'undone_by' names one later step by its id",
            )
            return ""
        return undone_by

    def needs(self, step: str, value: object, line: int) -> tuple[tuple[str, ...], str]:
        """``needs: {images: [nginx], lesson: what-is-an-image}`` as (images, lesson)."""
        if value is None:
            return (), ""
        how = "write needs: {images: [IMAGE, ...], lesson: LESSON-NAME}"
        if not isinstance(value, dict) or set(value) - {"images", "lesson"}:
            self.problem(line, f"step {step!r}: {how}")
            return (), ""
        images, lesson = value.get("images"), value.get("lesson", "")
        if (
            not isinstance(images, list)
            or not images
            or not all(isinstance(i, str) and i for i in images)
            or not isinstance(lesson, str)
            or (lesson and not _STEP_ID.match(lesson))
        ):
            self.problem(line, f"step {step!r}: {how}")
            return (), ""
        return tuple(images), lesson

    def action(self, kind: str, args: Mapping[str, Any], line: int, step: str) -> Action | None:
        spec = self.actions.get(kind)
        if spec is None:
            self.problem(
                line, f"step {step!r}: unknown action {kind!r} (known: {', '.join(self.actions)})"
            )
            return None
        for message in problems(spec, args):
            self.problem(line, f"step {step!r}: {message}")
        return Action(kind, dict(args), line)

    def checks(self, step: str, raw: Any, node: yaml.Node, line: int, body: int) -> list[CheckSpec]:
        if not raw:
            self.problem(
                line,
                f"step {step!r} has no checks: add 'checks:' with at least one "
                "check, so the lesson knows when the step is done",
            )
            return []
        if not isinstance(raw, list):
            self.problem(line, f"step {step!r}: 'checks' must be a list of checks")
            return []
        item_lines = _item_lines(node, "checks", body)
        out = []
        for number, item in enumerate(raw):
            at = item_lines[number] if number < len(item_lines) else line
            if not isinstance(item, dict) or "check" not in item:
                self.problem(
                    at,
                    f"step {step!r}: each check needs 'check: KIND' "
                    f"(one of {', '.join(self.checks_known)})",
                )
                continue
            kind = str(item["check"])
            spec = self.checks_known.get(kind)
            if spec is None:
                self.problem(
                    at,
                    f"step {step!r}: unknown check {kind!r} "
                    f"(known: {', '.join(self.checks_known)})",
                )
                continue
            args = {k: v for k, v in item.items() if k not in CHECK_FIELDS}
            for message in problems(spec, args):
                self.problem(at, f"step {step!r}: {message}")
            hint = item.get("hint")
            if not isinstance(hint, str) or not hint.strip():
                self.problem(
                    at,
                    f"step {step!r}: check {kind!r} needs a 'hint:' that tells a "
                    "learner what to do when it fails",
                )
                hint = ""
            points = item.get("points", 1)
            if not isinstance(points, int) or isinstance(points, bool) or points < 0:
                self.problem(at, f"step {step!r}: 'points' must be a whole number >= 0")
                points = 0
            out.append(CheckSpec(kind, args, hint.strip(), points, at))
        return out

    def solve(self, step: str, raw: Any, node: yaml.Node, line: int, body: int) -> list[Action]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(line, f"step {step!r}: 'solve' must be a list of actions")
            return []
        item_lines = _item_lines(node, "solve", body)
        out = []
        for number, item in enumerate(raw):
            at = item_lines[number] if number < len(item_lines) else line
            if not isinstance(item, dict) or len(item) != 1:
                self.problem(
                    at,
                    f"step {step!r}: each solve item is one action, e.g. "
                    "'- run: {image: redis, name: cache}'",
                )
                continue
            ((kind, args),) = item.items()
            action = self.action(str(kind), args or {}, at, step)
            if action is not None:
                out.append(action)
        return out

    def check_references(self, steps: list[Step]) -> None:
        seen: dict[str, int] = {}
        for step in steps:
            if step.id in seen:
                self.problem(
                    step.line, f"duplicate step id {step.id!r} (first used on line {seen[step.id]})"
                )
            seen.setdefault(step.id, step.line)
        order = {step.id: number for number, step in enumerate(steps)}
        for step in steps:
            if step.undone_by and order.get(step.undone_by, -1) <= order[step.id]:
                self.problem(
                    step.line,
                    f"step {step.id!r}: undone_by names "
                    f"{step.undone_by!r}, which is not a later step",
                )
        for step in steps:
            for check in step.checks:
                if check.kind != "step_done":
                    continue
                target = check.args.get("step")
                if target == step.id:
                    self.problem(
                        check.line, f"step {step.id!r}: step_done cannot name its own step"
                    )
                elif target not in seen:
                    self.problem(
                        check.line,
                        f"step {step.id!r}: step_done names step "
                        f"{target!r}, which does not exist (steps: "
                        f"{', '.join(seen)})",
                    )


def _key_lines(node: yaml.Node, body: int) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): body + k.start_mark.line for k, _ in node.value}


def _item_lines(node: yaml.Node, key: str, body: int) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for k, value in node.value:
        if k.value == key and isinstance(value, yaml.SequenceNode):
            return [body + item.start_mark.line for item in value.value]
    return []


def yaml_reason(exc: yaml.YAMLError, first_line: int) -> str:
    """PyYAML's reason, with the line where the broken construct began when that differs."""
    problem = str(getattr(exc, "problem", None) or exc).strip()
    context, mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    problem_mark = getattr(exc, "problem_mark", None)
    if context and mark is not None and (problem_mark is None or mark.line != problem_mark.line):
        problem += f" ({context.strip()} that started on line {first_line + mark.line})"
    return problem
