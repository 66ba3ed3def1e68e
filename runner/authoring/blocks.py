"""One top-level Markdown block of a guide -> notebook Markdown.

The block's source lines are kept as the guide wrote them, and changed only where the
tokens (markdown-it-py, every nesting level) show a Docker-docs construct:

- a quote whose first paragraph starts ``[!TIP]``, at any depth (in a list item too),
  gets its label (:data:`.hugo.CALLOUTS`) as a paragraph of its own;
- an attribute list (``{ .information }``) under a quote makes it a callout; any other
  attribute list is left out with a warning; ``{#id}`` after a heading is dropped;
- a fence with attributes (```` ```dockerfile {title="Dockerfile"} ````) keeps its
  language and code, and its title becomes a caption above it;
- a ``<details>`` block is kept, with blank lines around its content so the Markdown
  inside it renders;
- the lines of code blocks and fences are kept exactly; HTML blocks only have their
  iframes replaced; every other run of lines goes through :func:`.hugo.translate_inline`
  (shortcodes, links, images).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it.token import Token

from .hugo import (
    ATTRIBUTE_CALLOUTS,
    ATTRIBUTE_LIST,
    CALLOUT_MARKER,
    CALLOUTS,
    Context,
    callout_label,
    fence_caption,
    translate_iframes,
    translate_inline,
)

_HEADING_ATTRIBUTES = re.compile(r"(?<![ \t])[ \t]+" + ATTRIBUTE_LIST.pattern + r"[ \t]*#*[ \t]*$")
_QUOTE_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ADDED, _REMOVED = "\x00", "\x01"


def strip_heading_attributes(text: str) -> str:
    """``Title {#custom-id}`` -> ``Title``."""
    return _HEADING_ATTRIBUTES.sub("", text)


class BlockText:
    """Translates the top-level blocks of one Markdown text (a lesson, or a file it
    includes); ``line_of`` gives the line reported for a 0-based line of ``lines``."""

    def __init__(self, lines: list[str], ctx: Context, line_of: Callable[[int], int]) -> None:
        self.lines = lines
        self.ctx = ctx
        self.line_of = line_of

    def render(self, group: list[Token]) -> str:
        """The Markdown of the top-level block whose tokens are ``group``."""
        first = group[0]
        assert first.map is not None
        start, end = first.map
        self.kind: dict[int, str] = {}  # line -> "code" or "html"; prose otherwise
        self.edits: dict[int, list[str]] = {}  # line -> the lines that replace it
        for index, token in enumerate(group):
            if token.map is None:
                continue
            a, b = token.map
            if token.type in ("fence", "directive"):
                self.fence(a, b)
            elif token.type == "code_block":
                self.kind.update(dict.fromkeys(range(a, b), "code"))
                self.ctx.note(self.line_of(a), "code block", True)
            elif token.type == "html_block":
                self.html(token, a, b)
            elif token.type == "blockquote_open":
                self.callout(group, index)
            elif token.type == "heading_open":
                self.heading(a)
            elif token.type == "table_open" and token.level == 0:
                self.ctx.note(self.line_of(a), "table", True)
        self.attribute_lists(group, start, end)
        return self.assemble(start, end)

    # constructs -----------------------------------------------------------------------
    def fence(self, a: int, b: int) -> None:
        self.kind.update(dict.fromkeys(range(a + 1, b), "code"))
        fixed = fence_caption(self.lines[a])
        if fixed is None:
            self.ctx.note(self.line_of(a), "code block", True)
            return
        line, caption, dropped = fixed
        prefix = _QUOTE_PREFIX.match(line)
        blank = prefix.group(0).rstrip() if prefix else ""
        indent = re.match(r"^[ \t]*", line)
        lead = prefix.group(0) if prefix else indent.group(0) if indent else ""
        before = [blank] if a > 0 and self.lines[a - 1].strip() not in ("", ">") else []
        self.edits[a] = [*before, lead + caption, blank, line] if caption else [line]
        self.kind[a] = "code"
        if caption:
            self.ctx.note(self.line_of(a), "code block attributes (title as a caption)", False)
        for option in dropped:
            name = option.split("=", 1)[0]
            self.ctx.note(self.line_of(a), f"code block option {name} (left out)", False)

    def html(self, token: Token, a: int, b: int) -> None:
        self.kind.update(dict.fromkeys(range(a, b), "html"))
        content = token.content.lstrip()
        if content.startswith("<!--"):
            self.ctx.note(self.line_of(a), "HTML comment", True)
        elif content.lower().startswith("<details"):
            self.details(a, b)
        elif not content.lower().startswith("<iframe"):
            self.ctx.note(self.line_of(a), "HTML block", True)

    def details(self, a: int, b: int) -> None:
        """Blank lines after ``<summary>`` and before ``</details>``, so that what is
        between renders as Markdown."""
        self.ctx.note(self.line_of(a), "<details> block (inner Markdown rendered)", True)
        head = next((i for i in range(a, b) if "</summary>" in self.lines[i].lower()), a)
        inner = range(head + 1, b)
        closing = next((i for i in inner if self.lines[i].strip().lower() == "</details>"), b)
        if head + 1 < closing and self.lines[head + 1].strip():
            self.edits[head] = [self.lines[head], ""]
        if closing < b and self.lines[closing - 1].strip() and closing - 1 > head:
            self.edits[closing] = ["", self.lines[closing]]
        in_fence = False
        for i in range(head + 1, closing):
            if _FENCE.match(self.lines[i]):
                in_fence = not in_fence
                self.kind[i] = "code"
            elif in_fence:
                self.kind[i] = "code"
            else:
                self.kind.pop(i, None)  # Markdown, once separated from the HTML

    def callout(self, group: list[Token], index: int) -> None:
        """``> [!TIP]`` (at any depth) -> ``> 💡 **Tip**`` as a paragraph of its own; a
        first line that only repeats the label (``> **Tip**``) is left out."""
        if index + 2 >= len(group) or group[index + 1].type != "paragraph_open":
            return
        inline = group[index + 2]
        match = CALLOUT_MARKER.match(inline.content)
        if inline.map is None or match is None:
            return
        row = inline.map[0]
        text = self.lines[row]
        found = CALLOUT_MARKER.search(text)
        if found is None:
            return
        prefix = text[: found.start()]
        label = callout_label(match.group(1), self.line_of(row), self.ctx)
        rest = self.without_label(text[found.end() :].strip(), label, row)
        blank = prefix.rstrip()
        more = bool(rest) or "\n" in inline.content.strip()
        if not rest and row + 1 < inline.map[1]:
            following = _QUOTE_PREFIX.sub("", self.lines[row + 1]).strip()
            kept = self.without_label(following, label, row + 1)
            if kept != following:
                lead = _QUOTE_PREFIX.match(self.lines[row + 1])
                self.edits[row + 1] = [(lead.group(0) if lead else prefix) + kept] if kept else []
                more = bool(kept) or row + 2 < inline.map[1]
        replacement = [prefix + label]
        if rest:
            replacement += [blank, prefix + rest]
        elif more:
            replacement.append(blank)
        self.edits[row] = replacement

    def without_label(self, text: str, label: str, row: int) -> str:
        """``**Warning**: text`` under a ⚠️ **Warning** label -> ``text`` (noted)."""
        word = label.rsplit("**", 2)[-2] if label.count("**") >= 2 else ""
        match = re.match(rf"\*\*{re.escape(word)}(?::\*\*|\*\*:?)[ \t]*", text, re.I)
        if not word or match is None:
            return text
        self.ctx.note(self.line_of(row), "callout label written twice (shown once)", False)
        return text[match.end() :]

    def heading(self, row: int) -> None:
        stripped = strip_heading_attributes(self.lines[row])
        if stripped != self.lines[row]:
            self.edits[row] = [stripped]
            self.ctx.note(self.line_of(row), "heading attributes (left out)", False)

    def attribute_lists(self, group: list[Token], start: int, end: int) -> None:
        quotes = [t.map for t in group if t.type == "blockquote_open" and t.map is not None]
        for row in range(start, end):
            if row in self.kind:
                continue
            bare = _QUOTE_PREFIX.sub("", self.lines[row]).strip()
            match = ATTRIBUTE_LIST.fullmatch(bare)
            if match is None:
                continue
            self.edits[row] = []
            classes = re.findall(r"(?:^|\s)\.([\w-]+)", match.group(1))
            kinds = [ATTRIBUTE_CALLOUTS[c] for c in classes if c in ATTRIBUTE_CALLOUTS]
            inside = [m for m in quotes if m[0] <= row < m[1]]
            line = self.line_of(row)
            if kinds and inside:
                top = max(inside, key=lambda m: m[0])[0]
                first = self.lines[top]
                if CALLOUT_MARKER.search(first):
                    continue  # already labelled by its [!KIND]
                prefix = _QUOTE_PREFIX.match(first)
                lead = prefix.group(0) if prefix else "> "
                label = CALLOUTS[kinds[0]]
                content = _QUOTE_PREFIX.sub("", first).strip()
                kept = self.without_label(content, label, top)
                shown = self.edits.get(top, [first]) if kept == content else [lead + kept]
                self.edits[top] = [lead + label, *([lead.rstrip(), *shown] if kept else [])]
                self.ctx.note(line, f"attribute list {bare} (a callout)", False)
            else:
                self.ctx.warn(line, f"attribute list {bare} has no meaning in a notebook; left out")

    # output -----------------------------------------------------------------------------
    def assemble(self, start: int, end: int) -> str:
        """The block's lines with the edits made, runs of prose translated.

        While a run is translated, the lines an edit adds are joined by NUL and a line it
        removes stays as SOH, so that line numbers in warnings are the source's."""
        out: list[str] = []
        run: list[str] = []
        run_kind: str | None = None
        run_start = start

        def flush() -> None:
            text = "\n".join(run)
            line = self.line_of(run_start)
            if run and run_kind is None:
                text = translate_inline(text, line, self.ctx)
            elif run and run_kind == "html":
                text = translate_iframes(text, line, self.ctx)
            if run:
                text = "\n".join(row for row in text.split("\n") if row != _REMOVED)
                text = text.replace(_ADDED, "\n")
                out.append(_tidy(text) if run_kind is None else text)
            run.clear()

        for row in range(start, end):
            kind = self.kind.get(row)
            if kind != run_kind or not run:
                flush()
                run_kind, run_start = kind, row
            lines = self.edits.get(row, [self.lines[row]])
            run.append(_ADDED.join(lines) if lines else _REMOVED)
        flush()
        return "\n".join(out)


def _tidy(text: str) -> str:
    """Prose whose shortcodes were taken out: no blank line of spaces, none doubled."""
    text = re.sub(r"^[ \t]+$", "", text, flags=re.M)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"^\n{2,}", "\n", re.sub(r"\n{2,}$", "\n", text))
