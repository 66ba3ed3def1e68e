"""Markdown to a lesson: ``content/NAME.md`` -> :class:`~.model.Lesson`.

The guide is parsed with markdown-it-py. Top-level blocks are read from the tokens and
the prose is sliced from the source by each token's line map, so it stays as the guide
wrote it; Hugo constructs are translated (:mod:`.hugo`). Steps are MyST-style fenced
directives, read by :mod:`.steps`::

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

import errno
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from ..errors import LessonError, Problem
from . import includes, yamltext
from .blocks import BlockText, strip_heading_attributes
from .declarations import KindTable
from .hugo import Context
from .links import Catalog
from .markdown import directive_plugin, shortcode_plugin
from .model import (
    Block,
    BuildWarning,
    Lesson,
    Prose,
    Section,
    Step,
    Translation,
)
from .site import fill_params, param_value, site_pages, site_params, site_root
from .sources import find_lesson, lesson_sources, shown_path
from .steps import StepReader, yaml_reason

_MOJIBAKE = re.compile("[ÃÂâð][\u0080-\u00bf\u0152-\u0178\u2018-\u203a\u20ac\u2122]")
_FRONT_MATTER = re.compile(r"---[ \t]*\n(?:(.*?)\n)?---[ \t]*(?:\n|$)", re.S)
_HEADING_ID = re.compile(r"\{[^{}]*#([\w-]+)[^{}]*\}")


def markdown() -> MarkdownIt:
    return (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(directive_plugin)
        .use(shortcode_plugin)
    )


def parse_lesson(
    path: Path,
    kinds: KindTable,
    *,
    lessons: frozenset[str] | Catalog = frozenset(),
    text: str | None = None,
) -> Lesson:
    """Parse the lesson at ``path`` (or ``text``, shown as ``path``), validating its actions
    and checks against ``kinds``. ``lessons`` are the lessons a link may point to: a
    :class:`~.links.Catalog` of those built together, or the names of lessons beside it.

    Raises :class:`LessonError` with every problem found (a file that cannot be read is
    one problem: ``PATH: what is wrong``).
    """
    if not isinstance(lessons, Catalog):
        lessons = Catalog.of([path.parent / f"{name}.md" for name in sorted(lessons)])
    return _Parser(path, kinds, lessons, text).parse()


def load_lesson(ref: str | Path, kinds: KindTable) -> Lesson:
    """Find a lesson by name or path (:func:`~.sources.find_lesson`) and parse it."""
    path = find_lesson(ref)
    root = site_root(path)
    if root is not None:  # named as when the whole site is built (same-named pages apart)
        return parse_lesson(path, kinds, lessons=Catalog.of(site_pages(root)))
    siblings = frozenset(p.stem for p in lesson_sources(path.parent))
    return parse_lesson(path, kinds, lessons=siblings)


def read_source(path: Path) -> str:
    """A lesson file's text, without a leading byte-order mark; :class:`LessonError`
    (``PATH: what is wrong``) when it is missing, a folder, a loop of links, a link out of
    its site, a device or pipe, larger than :data:`.includes.MAX_PAGE`, unreadable or not
    UTF-8."""
    shown = shown_path(path)
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        raise LessonError([Problem(shown, 0, "there is no such file")]) from None
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror or exc}); name a lesson file"
        if exc.errno == errno.ELOOP:
            reason = "is a symbolic link that leads back to itself; point it at a lesson file"
        raise LessonError([Problem(shown, 0, reason)]) from None
    if real.is_dir():
        raise LessonError(
            [Problem(shown, 0, "is a folder, not a lesson file (name the .md files in it)")]
        )
    home = Path(os.path.realpath(includes.page_home(path)))
    if home not in real.parents:
        message = (
            f"is a link to {real}, outside {home}; copy the page there instead of linking to it"
        )
        raise LessonError([Problem(shown, 0, message)])
    try:
        return includes.read_text(path, includes.MAX_PAGE)
    except includes.Unreadable as exc:
        raise LessonError([Problem(shown, 0, str(exc))]) from None


@dataclass
class _TabSet:
    """A ``{{< tabs >}}`` at the top level, planned before its first tab is read."""

    end: int
    """Token index of its ``{{< /tabs >}}``."""
    headings: bool
    """Whether its tabs have headings: then each tab is a section of its own."""
    level: int = 0
    """Heading level of each tab's label (one below the enclosing heading)."""
    shift: int = 0
    """How many levels the tabs' own headings move down, below the labels."""
    labels: dict[int, str] = field(default_factory=dict)
    """Label of each shown tab, by its token index (tabs with the same text share one)."""
    skip: dict[int, int] = field(default_factory=dict)
    """Tabs shown under an earlier tab's label: token index -> index of its ``/tab``."""
    outer: tuple[str, int] = ("", 0)
    """The enclosing section (title, level), continued after the tab set."""


class _Parser:
    def __init__(self, path: Path, kinds: KindTable, catalog: Catalog, text: str | None) -> None:
        self.path = path
        self.shown = shown_path(path)
        self.text = read_source(path) if text is None else text.removeprefix("\ufeff")
        found = includes.control_characters(self.text)
        if found:  # the builder marks lines with control characters of its own
            raise LessonError([Problem(self.shown, line, message) for line, message in found])
        self.lines = self.text.split("\n")
        self.problems: list[Problem] = []
        self.warnings: list[BuildWarning] = []
        self.translations: list[Translation] = []
        self.front: dict[str, Any] = {}
        self.catalog = catalog
        self.sections: list[Section] = []
        self._title, self._level = "", 0
        self._blocks: list[Block] = []
        self._prose: list[str] = []
        self._prose_line = 0
        self._tabs: _TabSet | None = None
        self.includes = includes.Includes(path)
        self.heading_ids: dict[str, str] = {}
        self.param: Callable[[str], tuple[Any, str]] = lambda _name: (None, "")
        self.steps = StepReader(kinds, self.problem)

    # reporting ----------------------------------------------------------------------
    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(BuildWarning(line, message))

    def note(self, line: int, construct: str, kept: bool) -> None:
        self.translations.append(Translation(line, construct, kept))

    # structure -----------------------------------------------------------------------
    def parse(self) -> Lesson:
        env: dict[str, Any] = {}
        self.fill_params()
        tokens = markdown().parse(self.text, env)
        self.references = env.get("references", {})
        for number, line in enumerate(self.lines, 1):
            if _MOJIBAKE.search(line):
                self.warn(
                    number,
                    "text looks like mis-decoded UTF-8 (e.g. 'ðŸŽ‰' for '🎉'); "
                    "save the file as UTF-8",
                )
        if tokens and tokens[0].type == "front_matter":
            self.read_front_matter(tokens[0])
        self.ctx = self.context()
        self.text_of = BlockText(self.lines, self.ctx, lambda row: row + 1)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            end = _close_index(tokens, index)
            if token.map is not None and token.type != "front_matter":
                index = self.block(tokens, index, end)
            else:
                index = end + 1
        if self._tabs is not None:
            self.warn(self._tabs.end, "{{< tabs >}} is not closed with {{< /tabs >}}")
        for opened in self.ctx.accordions:
            self.warn(opened, "{{< accordion >}} is not closed with {{< /accordion >}}")
        self.flush(final=True)
        self.close_section()
        self.check_steps()
        if self.problems:
            raise LessonError(sorted(self.problems, key=lambda p: p.line))
        keywords = self.front.get("keywords") or ()
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",") if k.strip()]
        return Lesson(
            id=self.catalog.lesson_id(self.path),
            title=_one_line(self.front.get("title") or self.first_heading() or self.path.stem),
            description=_one_line(self.front.get("description") or ""),
            keywords=tuple(str(k) for k in keywords),
            source=self.path,
            sections=tuple(self.sections),
            warnings=tuple(sorted(self.warnings, key=lambda w: w.line)),
            translations=tuple(sorted(self.translations, key=lambda t: t.line)),
            front_matter=self.front,
            heading_ids=self.heading_ids,
        )

    def check_steps(self) -> None:
        """Step references are sound; a page without steps is noted as one for reading in
        a Hugo site, and warned about elsewhere (a lesson should have steps)."""
        steps = [b for s in self.sections for b in s.blocks if isinstance(b, Step)]
        self.steps.check_references(steps)
        if not steps and site_root(self.path) is not None:
            self.note(1, "a page for reading (no steps, so no setup cell)", False)
        elif not steps:
            self.warn(
                1,
                "the lesson declares no steps, so it has nothing to check: add "
                "```{step} blocks where the learner acts",
            )

    def fill_params(self) -> None:
        """``{{% param NAME %}}`` replaced by its value everywhere after the front matter
        (in commands and links too), before the Markdown is read."""
        match = _FRONT_MATTER.match(self.text)
        front: Any = None
        if match:
            try:
                front, _ = yamltext.load(match.group(1) or "")
            except yaml.YAMLError:
                front = None  # refused or reported when the front matter is read
        site, trouble = site_params(self.path)
        if trouble:
            self.warn(1, trouble)
        page = front if isinstance(front, dict) else {}
        self.param = lambda name: param_value(name, page, site)
        if "param" not in self.text:
            return
        start = match.end() if match else 0
        body = fill_params(
            self.text[start:], self.text.count("\n", 0, start) + 1, self.param, self.warn, self.note
        )
        self.text = self.text[:start] + body
        self.lines = self.text.split("\n")

    def first_heading(self) -> str:
        return next((s.title for s in self.sections if s.level == 1), "")

    def context(self) -> Context:
        options = self.front.get("dockdojo") or {}
        docs_url = options.get("docs_url") if isinstance(options, dict) else None
        return Context(
            lesson_id=self.catalog.lesson_id(self.path),
            page=self.path,
            warn=self.warn,
            note=self.note,
            docs_url=docs_url if isinstance(docs_url, str) else None,
            catalog=self.catalog,
            front=self.front,
            include=self.include,
            references=self.references,
        )

    def read_front_matter(self, token: Token) -> None:
        try:
            data, _ = yamltext.load(token.content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = 2 + (mark.line if mark else 0)
            what = "in" if isinstance(exc, yamltext.Refused) else "malformed YAML in"
            self.problem(line, f"{what} the front matter: {yaml_reason(exc, 2)}")
            return
        if data is not None and not isinstance(data, dict):
            self.problem(1, "the front matter must be a mapping (key: value lines)")
            return
        self.front = data or {}
        self.note(1, "front matter (title, description, keywords)", False)

    def block(self, tokens: list[Token], index: int, end: int) -> int:
        """Read the top-level block at ``tokens[index]`` (closed at ``end``); the index of
        the next one."""
        token = tokens[index]
        group = tokens[index : end + 1]
        assert token.map is not None
        line = token.map[0] + 1
        if token.type == "hugo_shortcode" and token.meta["name"] in ("tabs", "tab"):
            return self.tab_shortcode(tokens, index)
        if token.type == "heading_open":
            self.flush()
            self.close_section()
            level = int(token.tag[1:])
            text = self.text_of.render(group)
            if self._tabs is not None and self._tabs.shift:
                level = min(6, level + self._tabs.shift)
                title = text.split("\n")[0].strip().lstrip("#").strip()
                text = f"{'#' * level} {title}"
            raw = group[1].content if len(group) > 1 else ""
            self._title = strip_heading_attributes(raw)
            custom = _HEADING_ID.search(raw[len(self._title) :])
            if custom:
                self.heading_ids[custom.group(1)] = self._title
            self._level = level
            self.add_prose(text, line)
        elif token.type == "directive":
            self.flush()
            step = self.steps.directive(token)
            if step is not None:
                self._blocks.append(step)
        else:
            self.add_prose(self.text_of.render(group), line)
        return end + 1

    # tabs ------------------------------------------------------------------------------
    def tab_shortcode(self, tokens: list[Token], index: int) -> int:
        """``{{< tabs >}}``, ``{{< tab name=... >}}`` and their closings at the top level."""
        token = tokens[index]
        assert token.map is not None
        line = token.map[0] + 1
        name, closing = token.meta["name"], token.meta["closing"]
        tabs = self._tabs
        if name == "tabs" and not closing:
            self.flush()  # a tab set is a cell of its own (or, with headings, a cell per tab)
            self._tabs = self.plan_tabs(tokens, index)
            kind = "tab set with headings (a section per tab)" if self._tabs.headings else "tab set"
            self.note(line, kind, False)
        elif name == "tabs":
            self.flush()
            if tabs is not None and tabs.headings:  # what follows belongs to the section again
                self.close_section()
                self._title, self._level = tabs.outer
            self._tabs = None
        elif not closing:
            params = token.meta["params"]
            label = params.get("name") or params.get("0") or "Tab"
            if tabs is not None and index in tabs.skip:
                return tabs.skip[index] + 1
            if tabs is not None:
                label = tabs.labels.get(index, label)
            if tabs is not None and tabs.headings:
                self.flush()
                self.close_section()
                self._title, self._level = label, tabs.level
                self.add_prose(f"{'#' * tabs.level} ▸ {label}", line)
            else:
                self.add_prose(f"**▸ {label}**", line)
        return index + 1

    def plan_tabs(self, tokens: list[Token], index: int) -> _TabSet:
        """Where the tab set ends, whether it has headings, and which tabs say the same."""
        end, tabs, levels = _scan_tabs(tokens, index)
        plan = _TabSet(end=end, headings=bool(levels), outer=(self._title, self._level))
        if levels:
            plan.level = min(6, max(self._level + 1, 2))
            plan.shift = max(0, plan.level + 1 - min(levels))
        shown: tuple[int, str] | None = None  # (tab index, body) of the last tab shown
        for tab, close, name in tabs:
            body = self.between(tokens[tab], tokens[close])
            if shown is not None and body == shown[1]:
                plan.labels[shown[0]] += f", {name}"
                plan.skip[tab] = close
                continue
            plan.labels[tab] = name
            shown = (tab, body)
        return plan

    def between(self, first: Token, last: Token) -> str:
        assert first.map is not None
        assert last.map is not None
        return "\n".join(self.lines[first.map[1] : last.map[0]]).strip()

    # includes --------------------------------------------------------------------------
    def include(self, name: str, line: int, trail: tuple[Path, ...] = (), where: str = "") -> str:
        """``{{< include "NAME" >}}`` on the page's ``line`` (``where`` names the includes it
        is in): the file from the include folders (:class:`.includes.Includes`), translated
        as the lesson is, its relative links resolved from its own folder."""
        stand_in = (
            f"*This part of the guide is shared with other pages ({name}) and is not "
            "included in this lesson.*"
        )
        try:
            found = self.includes.find(name, list(trail))
        except includes.Stopped:
            return stand_in
        except includes.Refused as exc:
            self.problem(line, f"{where}included page {name!r} {exc}")
            return stand_in
        except includes.Unreadable as exc:
            self.warn(line, f"{where}included page {name!r} {exc}; a note stands in for it")
            return stand_in
        if found is None:
            self.warn(
                line,
                f"{where}included page {name!r} is not in {self.includes.searched()}; "
                "a note stands in for it",
            )
            return stand_in
        path, text = found
        if path in trail:
            self.warn(line, f"{where}included page {name!r} includes itself; left out here")
            return ""
        refused = includes.control_characters(text)
        for at, message in refused:
            self.problem(line, f"{where}in {name} line {at}: {message}")
        if refused:
            return stand_in
        inner = f"{where}in {name} line "
        text = fill_params(
            text,
            1,
            self.param,
            lambda at, message: self.warn(line, f"{inner}{at}: {message}"),
            lambda _at, construct, kept: self.note(line, construct, kept),
        )
        env: dict[str, Any] = {}
        tokens = markdown().parse(text, env)
        ctx = replace(
            self.ctx,
            source=path,
            references=env.get("references", {}),
            warn=lambda at, message: self.warn(line, f"{inner}{at}: {message}"),
            note=lambda _at, construct, kept: self.note(line, construct, kept),
            include=lambda again, at: self.include(again, line, (*trail, path), f"{inner}{at}: "),
        )
        block_text = BlockText(text.split("\n"), ctx, lambda row: row + 1)
        parts = []
        index = 0
        while index < len(tokens):
            end = _close_index(tokens, index)
            if tokens[index].map is not None and tokens[index].type != "front_matter":
                parts.append(block_text.render(tokens[index : end + 1]).rstrip())
            index = end + 1
        self.note(line, f"include {name}", False)
        return "\n\n".join(p for p in parts if p.strip())

    # prose -----------------------------------------------------------------------------
    def add_prose(self, text: str, line: int) -> None:
        """A block of prose; blocks are always apart (a blank line), so a paragraph after
        a list or a quote never joins it."""
        text = text.rstrip()
        if not text.strip():  # e.g. {{< /tabs >}}: nothing to show
            return
        if not self._prose:
            self._prose_line = line
        else:
            self._prose.append("")
        self._prose.append(text)

    def flush(self, final: bool = False) -> None:
        """The prose so far as one cell; HTML comments alone wait for the next prose."""
        text = "\n".join(self._prose).strip("\n")
        if not final and _comments_only(text):
            return
        if text.strip():
            self._blocks.append(Prose(text, self._prose_line))
        self._prose = []

    def close_section(self) -> None:
        if self._blocks:
            self.sections.append(Section(self._title, self._level, tuple(self._blocks)))
        self._blocks = []


_Tabs = list[tuple[int, int, str]]


def _scan_tabs(tokens: list[Token], index: int) -> tuple[int, _Tabs, list[int]]:
    """From ``{{< tabs >}}`` at ``index``: the index of its ``{{< /tabs >}}``, each tab as
    (index, index of its ``/tab``, name), and the levels of the headings in them."""
    opened: tuple[int, str] | None = None
    tabs: _Tabs = []
    levels: list[int] = []
    for j in range(index + 1, len(tokens)):
        t = tokens[j]
        if t.level == 0 and t.type == "heading_open":
            levels.append(int(t.tag[1:]))
        if t.level != 0 or t.type != "hugo_shortcode" or t.meta["name"] not in ("tab", "tabs"):
            continue
        if t.meta["name"] == "tabs":
            return j, tabs, levels
        if not t.meta["closing"]:
            opened = (j, str(t.meta["params"].get("name") or t.meta["params"].get("0") or "Tab"))
        elif opened is not None:
            tabs.append((opened[0], j, opened[1]))
            opened = None
    return len(tokens), tabs, levels


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


def _one_line(value: Any) -> str:
    """A front matter value as one line (``description: |`` blocks end with a newline)."""
    return " ".join(str(value).split())


def _comments_only(text: str) -> bool:
    """Whether ``text`` is HTML comments (one or more) and nothing else."""
    rest = text.strip()
    if not rest.startswith("<!--"):
        return False
    while rest.startswith("<!--"):
        end = rest.find("-->", 4)
        if end < 0:
            return False
        rest = rest[end + 3 :].lstrip()
    return not rest
