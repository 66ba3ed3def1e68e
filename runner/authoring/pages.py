"""What a page of a Hugo site gets from the pages built with it.

Hugo's layouts add to a page what its Markdown does not say; a notebook has no layout,
so the builder writes it in:

- a section page (``folder/_index.md``) ends with the list of its child pages (the
  pages in its folder and the section pages of its sub-folders), in Hugo's order
  (``weight``, weighted pages first, then title), as links to their notebooks;
- each page of a section with other pages ends with previous/next links in that order.

Both only for pages inside a Hugo site (:func:`.site.site_root`).

And links to headings: Hugo gives a heading the id ``run-the-container`` (lower case,
punctuation dropped), JupyterLab the heading's text with each space replaced by ``-``,
case kept (``Run-the-container``). Every ``#fragment`` of a link within a page or to a
notebook built with it is mapped to the id Jupyter gives the heading it names
(:func:`fix_anchors`); a fragment that names no heading is warned about.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .links import INDEX_PAGES
from .model import Block, BuildWarning, Lesson, Prose, Section, Translation
from .site import site_root
from .sources import real

_COMMONMARK = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_LINK_TARGET = re.compile(r"(\]\()(<[^>\n]*>|[^)\s]*)")


# headings -----------------------------------------------------------------------------
def heading_texts(markdown: str) -> Iterator[str]:
    """The text of each heading of a Markdown cell, as the browser's ``textContent``."""
    tokens = _COMMONMARK.parse(markdown)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            yield _text(tokens[index + 1].children or [])


def _text(children: list[Token]) -> str:
    out = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.children:
            out.append(_text(child.children))
    return "".join(out)


def jupyter_id(text: str) -> str:
    """The id JupyterLab gives a heading: its text, each space replaced by ``-``."""
    return text.replace(" ", "-")


def hugo_id(text: str) -> str:
    """The id Hugo (Goldmark, GitHub style) gives a heading: lower case, letters, digits,
    ``_`` and ``-`` kept, each space a ``-``, anything else dropped."""
    out = []
    for char in text.strip().lower():
        if char.isalnum() or char in "_-":
            out.append(char)
        elif char.isspace():
            out.append("-")
    return "".join(out)


def anchors_of(lesson: Lesson) -> dict[str, str]:
    """Every id a link may name in ``lesson`` -> the id Jupyter gives that heading: the
    Jupyter ids themselves, Hugo's ids, and the ids the source gave headings."""
    texts = [lesson.title] + [
        text
        for block in lesson.blocks()
        if isinstance(block, Prose)
        for text in heading_texts(block.markdown)
    ]
    found: dict[str, str] = {}
    for text in texts:
        found.setdefault(hugo_id(text), jupyter_id(text))
    for custom, source_text in lesson.heading_ids.items():
        shown = next(iter(heading_texts(f"# {source_text}")), source_text)
        found[custom] = jupyter_id(shown)
    for text in texts:
        found[jupyter_id(text)] = jupyter_id(text)
    return found


def fix_anchors(lessons: Mapping[str, Lesson]) -> dict[str, Lesson]:
    """Each lesson (by notebook name) with its links' fragments in Jupyter's terms."""
    anchors = {name: anchors_of(lesson) for name, lesson in lessons.items()}
    return {name: _Anchors(name, anchors).fix(lesson) for name, lesson in lessons.items()}


class _Anchors:
    """The links of one lesson (the notebook ``own``) mapped to Jupyter's heading ids."""

    def __init__(self, own: str, anchors: Mapping[str, Mapping[str, str]]) -> None:
        self.own = own
        self.anchors = anchors
        self.warnings: list[BuildWarning] = []
        self.notes: list[Translation] = []

    def fix(self, lesson: Lesson) -> Lesson:
        sections = tuple(
            replace(section, blocks=tuple(self.block(b) for b in section.blocks))
            for section in lesson.sections
        )
        return replace(
            lesson,
            sections=sections,
            warnings=tuple(sorted((*lesson.warnings, *self.warnings), key=lambda w: w.line)),
            translations=tuple(sorted((*lesson.translations, *self.notes), key=lambda t: t.line)),
        )

    def block(self, block: Block) -> Block:
        if not isinstance(block, Prose) or "#" not in block.markdown:
            return block
        text = block.markdown
        fixed = _LINK_TARGET.sub(
            lambda m: self.link(m, block.line + text.count("\n", 0, m.start())), text
        )
        return replace(block, markdown=fixed)

    def link(self, match: re.Match[str], line: int) -> str:
        target, hash_, fragment = match.group(2).strip("<>").partition("#")
        notebook = target or self.own
        if not hash_ or notebook not in self.anchors:
            return match.group(0)
        ids = self.anchors[notebook]
        wanted = unquote(fragment)
        if wanted not in ids:
            where = "this page" if not target else notebook
            self.warnings.append(
                BuildWarning(line, f"link to #{fragment} names no heading of {where}; kept")
            )
            return match.group(0)
        if ids[wanted] != wanted:
            self.notes.append(Translation(line, "link to a heading (Hugo's id -> Jupyter's)"))
        return f"{match.group(1)}{target}#{_fragment(ids[wanted])}"


def _fragment(jupyter: str) -> str:
    """A Jupyter id as a link's fragment: only what a Markdown link target cannot hold
    (parentheses, angle brackets, backslashes, ``%``, white space) is percent-encoded;
    the browser decodes it when it looks the id up."""
    return re.sub(r"[()<>\\%\s]", lambda m: quote(m.group(0), safe=""), jupyter)


# sections -----------------------------------------------------------------------------
def _section_of(page: Path) -> Path:
    """The folder whose section page lists ``page``."""
    return page.parent.parent if page.stem in INDEX_PAGES else page.parent


def _order(lesson: Lesson) -> tuple[int, float, str]:
    weight = lesson.front_matter.get("weight")
    if isinstance(weight, int) and not isinstance(weight, bool) and weight != 0:
        return (0, weight, lesson.title.lower())
    return (1, 0, lesson.title.lower())


def add_navigation(lessons: Mapping[str, Lesson]) -> dict[str, Lesson]:
    """Each lesson (by notebook name) with its section's list and previous/next links."""
    in_site = {n: le for n, le in lessons.items() if site_root(le.source) is not None}
    children: dict[Path, list[str]] = defaultdict(list)
    for name, lesson in in_site.items():
        children[_section_of(real(lesson.source))].append(name)
    for names in children.values():
        names.sort(key=lambda n: _order(in_site[n]))
    out = dict(lessons)
    for name, lesson in in_site.items():
        page = real(lesson.source)
        parts: dict[str, str] = {}
        if page.stem in INDEX_PAGES and children.get(page.parent):
            listed = [(n, in_site[n]) for n in children[page.parent]]
            parts["list of the section's pages"] = _child_list(listed)
        siblings = children[_section_of(page)]
        if len(siblings) > 1:
            at = siblings.index(name)
            before = siblings[at - 1] if at > 0 else None
            after = siblings[at + 1] if at + 1 < len(siblings) else None
            parts["previous/next links"] = _previous_next(before, after, in_site)
        if parts:
            out[name] = _append(lesson, parts)
    return out


def _child_list(pages: list[tuple[str, Lesson]]) -> str:
    items = []
    for name, lesson in pages:
        entry = f"- [**{lesson.title}**]({name})"
        items.append(entry + (f": {lesson.description}" if lesson.description else ""))
    return "**In this section**\n\n" + "\n".join(items)


def _previous_next(before: str | None, after: str | None, lessons: Mapping[str, Lesson]) -> str:
    links = []
    if before:
        links.append(f"← Previous: [{lessons[before].title}]({before})")
    if after:
        links.append(f"Next: [{lessons[after].title}]({after}) →")
    return " · ".join(links)


def _append(lesson: Lesson, parts: dict[str, str]) -> Lesson:
    """``lesson`` with a last cell of ``parts`` (what it is -> its Markdown)."""
    notes = [Translation(1, f"{what} (from the pages built with it)") for what in parts]
    end = Section("", 0, (Prose("---\n\n" + "\n\n".join(parts.values()), 1),))
    return replace(
        lesson,
        sections=(*lesson.sections, end),
        translations=tuple(sorted((*lesson.translations, *notes), key=lambda t: t.line)),
    )


__all__ = ["add_navigation", "anchors_of", "fix_anchors", "heading_texts", "hugo_id", "jupyter_id"]
