"""markdown-it plugins for lesson sources.

- :func:`directive_plugin`: MyST-style fenced directives. A fence whose info string is
  ``{name} argument`` becomes a ``directive`` token (``meta = {"name", "arg"}``); its
  content (YAML) is left for the builder.
- :func:`shortcode_plugin`: a Hugo shortcode alone on its lines
  (``{{< button text="Next" url="next.md" >}}``, ``{{< tabs >}}``, ``{{< /tab >}}``)
  becomes a ``hugo_shortcode`` block token (``meta = {"name", "params", "closing"}``), so
  it never merges into the paragraph around it. Shortcodes inside a line of text are
  found with :func:`find_shortcodes`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore

_DIRECTIVE = re.compile(r"^\{([A-Za-z][\w-]*)\}\s*(.*)$")
SHORTCODE = re.compile(
    r"\{\{([<%])\s*(/?)\s*([A-Za-z][\w./-]*)((?:(?!\{\{[<%]|[>%]\}\}).)*)[>%]\}\}", re.S
)
"""A shortcode; its parameters (group 4) end at its closing braces and never run into
another shortcode, so a page full of unclosed ones is read in linear time."""
MAX_SHORTCODE_LINES = 50
"""How many lines one shortcode may span."""


@dataclass(frozen=True)
class Shortcode:
    """One ``{{< name params >}}`` occurrence."""

    name: str
    """Shortcode name, e.g. ``button``."""
    params: dict[str, str]
    """Named parameters (``text="Next"``); positional ones are keyed ``"0"``, ``"1"``..."""
    closing: bool
    """True for ``{{< /name >}}``."""
    start: int
    """Offset of the first character in the text searched."""
    end: int
    """Offset after the last character."""


def parse_params(raw: str) -> dict[str, str]:
    """``text="A b" url=x.md`` -> ``{"text": "A b", "url": "x.md"}``; positionals by index."""
    try:
        words = shlex.split(raw)
    except ValueError:
        words = raw.split()
    params: dict[str, str] = {}
    position = 0
    for word in words:
        key, eq, value = word.partition("=")
        if eq and re.fullmatch(r"[A-Za-z][\w-]*", key):
            params[key] = value
        else:
            params[str(position)] = word
            position += 1
    return params


def _params(raw: str) -> str:
    """A shortcode's parameters without the spaces and ``/`` before its closing braces."""
    return raw.strip().removesuffix("/").strip()


def find_shortcodes(text: str) -> Iterator[Shortcode]:
    for match in SHORTCODE.finditer(text):
        yield Shortcode(
            match.group(3),
            parse_params(_params(match.group(4))),
            bool(match.group(2)),
            match.start(),
            match.end(),
        )


def directive_plugin(md: MarkdownIt) -> None:
    def directives(state: StateCore) -> None:
        for token in state.tokens:
            if token.type != "fence":
                continue
            match = _DIRECTIVE.match(token.info.strip())
            if match:
                token.type = "directive"
                token.meta = {"name": match.group(1), "arg": match.group(2).strip()}

    md.core.ruler.after("block", "directives", directives)


def shortcode_plugin(md: MarkdownIt) -> None:
    def block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[start] + state.tShift[start]
        line = state.src[pos : state.eMarks[start]]
        if state.sCount[start] - state.blkIndent >= 4 or not line.startswith("{{"):
            return False
        # a shortcode may span lines: take lines until its closing braces
        last = start
        text = line
        more = line
        limit = min(end, start + MAX_SHORTCODE_LINES)
        while not more.rstrip().endswith((">}}", "%}}")) and last + 1 < limit:
            last += 1
            more = state.src[state.bMarks[last] + state.tShift[last] : state.eMarks[last]]
            text += "\n" + more
        match = SHORTCODE.fullmatch(text.strip())
        if not match:
            return False
        if silent:
            return True
        token = state.push("hugo_shortcode", "", 0)
        token.map = [start, last + 1]
        token.content = text.strip()
        token.meta = {
            "name": match.group(3),
            "params": parse_params(_params(match.group(4))),
            "closing": bool(match.group(2)),
        }
        state.line = last + 1
        return True

    md.block.ruler.before(
        "paragraph",
        "hugo_shortcode",
        block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
