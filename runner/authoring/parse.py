"""Markdown to a lesson: ``content/NAME.md`` -> :class:`~.model.Lesson`.

The guide is parsed with markdown-it-py. Top-level blocks are read from the tokens and
the prose is sliced from the source by each token's line map, so it stays as the guide
wrote it; Hugo constructs are translated (:mod:`.hugo`). Steps are MyST-style fenced
directives::

    ```{step} pull-images
    title: Pull nginx, redis and mongo
    action: pull
    images: [nginx, redis, mongo]
    checks:
      - check: image_present
        image: nginx
        hint: Pull nginx with the Pull button, or run docker pull nginx.
    ```

Every problem is collected and reported as ``file:line: what is wrong``; nothing is
written unless the whole lesson is sound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from ..errors import LessonError, Problem
from .declarations import CHECK_FIELDS, KindTable, problems
from .hugo import Context, translate_callout, translate_iframes, translate_inline
from .markdown import directive_plugin, shortcode_plugin
from .model import Action, Block, BuildWarning, CheckSpec, Lesson, Prose, Section, Step
from .sources import find_lesson, lesson_sources

_STEP_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,47}\Z")
_STEP_KEYS = {"title", "action", "checks", "solve", "undone_by"}
_EXERCISE_KEYS = {"title", "task", "checks", "solve", "undone_by"}
_MOJIBAKE = re.compile("[ÃÂâð][\u0080-\u00bf\u0152-\u0178\u2018-\u203a\u20ac\u2122]")


def markdown() -> MarkdownIt:
    return (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(directive_plugin)
        .use(shortcode_plugin)
    )


def parse_lesson(
    path: Path, kinds: KindTable, *, lessons: frozenset[str] = frozenset(), text: str | None = None
) -> Lesson:
    """Parse the lesson at ``path`` (or ``text``, shown as ``path``), validating its actions
    and checks against ``kinds``; ``lessons`` are the names of lessons a link may point to.

    Raises :class:`LessonError` with every problem found.
    """
    return _Parser(path, kinds, lessons, text).parse()


def load_lesson(ref: str | Path, kinds: KindTable) -> Lesson:
    """Find a lesson by name or path (:func:`~.sources.find_lesson`) and parse it."""
    path = find_lesson(ref)
    siblings = frozenset(p.stem for p in lesson_sources(path.parent))
    return parse_lesson(path, kinds, lessons=siblings)


class _Parser:
    def __init__(
        self, path: Path, kinds: KindTable, lessons: frozenset[str], text: str | None
    ) -> None:
        self.path = path
        self.actions = kinds.actions
        self.checks_known = kinds.checks
        self.shown = _shown(path)
        self.text = path.read_text(encoding="utf-8") if text is None else text
        self.lines = self.text.split("\n")
        self.problems: list[Problem] = []
        self.warnings: list[BuildWarning] = []
        self.front: dict[str, Any] = {}
        self.lessons = lessons
        self.sections: list[Section] = []
        self._title, self._level = "", 0
        self._blocks: list[Block] = []
        self._prose: list[str] = []
        self._prose_line = 0
        self._prev_end = 0

    # reporting ----------------------------------------------------------------------
    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(BuildWarning(line, message))

    # structure -----------------------------------------------------------------------
    def parse(self) -> Lesson:
        tokens = markdown().parse(self.text)
        for number, line in enumerate(self.lines, 1):
            if _MOJIBAKE.search(line):
                self.warn(
                    number,
                    "text looks like mis-decoded UTF-8 (e.g. 'ðŸŽ‰' for '🎉'); "
                    "save the file as UTF-8",
                )
        if tokens and tokens[0].type == "front_matter":
            self.read_front_matter(tokens[0])
        ctx = self.context()
        index = 0
        while index < len(tokens):
            token = tokens[index]
            end = _close_index(tokens, index)
            if token.map is not None and token.type != "front_matter":
                self.block(token, tokens[index : end + 1], ctx)
            index = end + 1
        self.flush()
        self.close_section()
        steps = [b for s in self.sections for b in s.blocks if isinstance(b, Step)]
        self.check_references(steps)
        if not steps:
            self.warn(
                1,
                "the lesson declares no steps, so it has nothing to check: add "
                "```{step} blocks where the learner acts",
            )
        if self.problems:
            raise LessonError(sorted(self.problems, key=lambda p: p.line))
        keywords = self.front.get("keywords") or ()
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",") if k.strip()]
        return Lesson(
            id=self.path.stem,
            title=str(self.front.get("title") or self.first_heading() or self.path.stem),
            description=str(self.front.get("description") or ""),
            keywords=tuple(str(k) for k in keywords),
            source=self.path,
            sections=tuple(self.sections),
            warnings=tuple(sorted(self.warnings, key=lambda w: w.line)),
            front_matter=self.front,
        )

    def first_heading(self) -> str:
        return next((s.title for s in self.sections if s.level == 1), "")

    def context(self) -> Context:
        options = self.front.get("dockdojo") or {}
        includes = {}
        folder = self.path.parent / "_includes"
        if folder.is_dir():
            includes = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
        return Context(
            lesson_id=self.path.stem,
            docs_url=options.get("docs_url") if isinstance(options, dict) else None,
            lessons=self.lessons,
            includes=includes,
        )

    def read_front_matter(self, token: Token) -> None:
        try:
            data = yaml.safe_load(token.content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = 2 + (mark.line if mark else 0)
            self.problem(line, f"malformed YAML in the front matter: {_yaml_reason(exc, 2)}")
            return
        if data is not None and not isinstance(data, dict):
            self.problem(1, "the front matter must be a mapping (key: value lines)")
            return
        self.front = data or {}

    def block(self, token: Token, group: list[Token], ctx: Context) -> None:
        assert token.map is not None
        start, end = token.map
        source = "\n".join(self.lines[start:end])
        line = start + 1
        if token.type == "heading_open":
            self.flush()
            self.close_section()
            self._title = group[1].content if len(group) > 1 else ""
            self._level = int(token.tag[1:])
            self.add_prose(source, start, end)
        elif token.type == "directive":
            self.flush()
            step = self.directive(token)
            if step is not None:
                self._blocks.append(step)
            self._prev_end = end
        elif token.type in ("fence", "code_block"):
            self.add_prose(source, start, end)  # code stays exactly as written
        elif token.type == "html_block":
            self.add_prose(translate_iframes(source, line, self.warn), start, end)
        elif token.type == "blockquote_open":
            self.add_prose(self.inline(translate_callout(source), line, ctx), start, end)
        else:
            self.add_prose(self.inline(source, line, ctx), start, end)

    def inline(self, source: str, line: int, ctx: Context) -> str:
        return translate_inline(source, line, ctx, self.warn, self.include)

    def include(self, name: str, line: int) -> str:
        ctx = self.context()
        text = ctx.includes.get(name)
        if text is None:
            folder = Path(self.shown).parent / "_includes"
            self.warn(line, f"included page {name!r} is not in {folder}; a note stands in for it")
            return (
                f"*This part of the guide is shared with other pages ({name}) and is not "
                "included in this lesson.*"
            )
        return translate_inline(translate_callout(text.strip()), line, ctx, self.warn, self.include)

    def add_prose(self, text: str, start: int, end: int) -> None:
        text = text.rstrip()
        if not text.strip():  # e.g. {{< /tabs >}}: nothing to show
            return
        if not self._prose:
            self._prose_line = start + 1
        elif start > self._prev_end or text.startswith(("**▸", "▶️")):
            self._prose.append("")  # one blank line separates blocks
        self._prose.append(text)
        self._prev_end = end

    def flush(self) -> None:
        text = "\n".join(self._prose).strip("\n")
        if text.strip():
            self._blocks.append(Prose(text, self._prose_line))
        self._prose = []

    def close_section(self) -> None:
        if self._blocks:
            self.sections.append(Section(self._title, self._level, tuple(self._blocks)))
        self._blocks = []

    # directives ------------------------------------------------------------------------
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
            node = yaml.compose(content)
            data = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problem(
                body + (mark.line if mark else 0),
                f"malformed YAML in step {step!r}: {_yaml_reason(exc, body)}",
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


def _close_index(tokens: list[Token], index: int) -> int:
    token = tokens[index]
    if token.nesting != 1:
        return index
    depth = 0
    for j in range(index, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


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


def _yaml_reason(exc: yaml.YAMLError, first_line: int) -> str:
    """PyYAML's reason, with the line where the broken construct began when that differs."""
    problem = str(getattr(exc, "problem", None) or exc).strip()
    context, mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    problem_mark = getattr(exc, "problem_mark", None)
    if context and mark is not None and (problem_mark is None or mark.line != problem_mark.line):
        problem += f" ({context.strip()} that started on line {first_line + mark.line})"
    return problem


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
