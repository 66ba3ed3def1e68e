"""Docker-docs (Hugo) constructs, translated into Markdown a notebook shows well.

Each function takes source text and returns notebook Markdown. What could only be
approximated is warned about (:attr:`Context.warn`, with its line); what was translated or
deliberately kept is noted for ``build --report`` (:attr:`Context.note`). Nothing is
dropped silently: what cannot be translated stays as readable text, with a warning that
names its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference

from .links import Catalog, resolve, safe_url, slug
from .markdown import Shortcode, find_shortcodes

Warn = Callable[[int, str], None]
Note = Callable[[int, str, bool], None]
"""``note(line, construct, kept)``: ``construct`` was translated (or kept, when true)."""

CALLOUTS = {
    "NOTE": "📝 **Note**",
    "TIP": "💡 **Tip**",
    "IMPORTANT": "❗ **Important**",
    "WARNING": "⚠️ **Warning**",
    "CAUTION": "🛑 **Caution**",
}
ATTRIBUTE_CALLOUTS = {
    "information": "NOTE",
    "info": "NOTE",
    "note": "NOTE",
    "tip": "TIP",
    "important": "IMPORTANT",
    "warning": "WARNING",
    "caution": "CAUTION",
    "danger": "CAUTION",
}
"""Classes of a kramdown-style attribute list under a quote (``{ .warning }``) that make
it a callout."""

CALLOUT_MARKER = re.compile(r"\[!([A-Za-z]+)\]")
ATTRIBUTE_LIST = re.compile(
    r"\{:?[ \t]*((?:[.#][\w-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s{}]+))"
    r"(?:[ \t]+(?:[.#][\w-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s{}]+)))*)[ \t]*\}"
)
"""A Hugo/kramdown attribute list: ``{ .information }``, ``{#anchor}``, ``{: .class}``."""
FENCE_ATTRIBUTES = re.compile(r"^(\s*(?:>\s*)*)(`{3,}|~{3,})[ \t]*([^\s{`]*)[ \t]*\{([^{}]*)\}\s*$")
"""A fence whose info string ends with attributes: ```` ```dockerfile {title="Dockerfile"} ````."""
_PAIR = re.compile(r"(?<![\w-])([\w-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|\[[^\[\]]*\]|[^\s,]+)")
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\(\s*([^()\s]+)(\s+\"[^\"]*\")?\s*\)")
_IFRAME = re.compile(
    r"<iframe\b[^<>]*>(?:[^<]|<(?!/?iframe\b))*?</iframe>|<iframe\b[^<>]*/?>", re.S | re.I
)
_ATTR = re.compile(r'(?<![a-zA-Z-])([a-zA-Z-]+)\s*=\s*"([^"]*)"')
_YOUTUBE = re.compile(
    r"(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?v=)|youtu\.be/)"
    r"([\w-]{6,})"
)
_LINK = re.compile(
    r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])+)\]"
    r"\(\s*(<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))+)(\s+\"[^\"]*\")?\s*\)"
)
_FULL_REFERENCE = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\[([^\[\]]*)\]")
_INLINE = MarkdownIt("commonmark")
_SHORTCUT_REFERENCE = re.compile(r"(?<![!\]])\[([^\[\]]+)\](?![\[(:])")


def _ignore_note(_line: int, _construct: str, _kept: bool) -> None:
    return None


def _no_include(_name: str, _line: int) -> str:
    return ""


@dataclass
class Context:
    """What translation needs to know about the lesson being built."""

    lesson_id: str
    """Id of the lesson (its notebook's name)."""
    page: Path
    """The lesson's source file."""
    warn: Warn
    """Where warnings go: ``warn(line, message)``, the line in the lesson's source."""
    note: Note = _ignore_note
    """Where translations are recorded for ``build --report``."""
    source: Path | None = None
    """The file being translated when it is not the page (an included file): its
    relative links are resolved against its own location."""
    docs_url: str | None = None
    """Where the guide lives on the web, for resolving its relative links."""
    catalog: Catalog = field(default_factory=Catalog)
    """The lessons built alongside, for links between lessons."""
    front: Mapping[str, Any] = field(default_factory=dict)
    """The page's front matter (``grid`` shortcodes read their cards there)."""
    include: Callable[[str, int], str] = _no_include
    """Renders ``{{< include NAME >}}`` found on a line."""
    accordions: list[int] = field(default_factory=list)
    """Lines of the ``{{< accordion >}}`` shortcodes opened and not yet closed."""
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Link reference definitions (``[api]: /reference/api/``) as markdown-it read them
    (normalized label -> ``href``, ``title``): a notebook renders each cell alone, so
    reference links are written inline."""

    def link(self, url: str, line: int, what: str = "link") -> str:
        """``url`` resolved (:func:`.links.resolve`), noted, or warned about."""
        found = resolve(
            url.strip("<>"),
            source=self.source or self.page,
            page=self.page,
            catalog=self.catalog,
            docs_url=self.docs_url,
        )
        if found.kind == "lesson":
            self.note(line, f"{what} to a lesson built with this one", False)
        elif found.kind == "docs site":
            self.note(line, f"{what} to the docs site", False)
        elif found.kind == "unresolved":
            if url.startswith("/"):
                hint = (
                    "add 'dockdojo: {docs_url: ...}' to the front matter or build with "
                    "--docs-base URL, so it opens from the notebook"
                )
                self.warn(line, f"{what} {url} is a path on the docs site; {hint}")
            else:
                self.warn(
                    line,
                    f"{what} {url} points to a page that is not built with this lesson; add "
                    "'dockdojo: {docs_url: ...}' to the front matter to link to the docs site",
                )
        return found.url


def video_link(url: str, title: str = "Video") -> str:
    match = _YOUTUBE.search(url)
    target = f"https://www.youtube.com/watch?v={match.group(1)}" if match else url
    return f"▶️ **Watch:** [{title}]({target})"


def translate_iframes(text: str, line: int, ctx: Context) -> str:
    """``<iframe src=...>`` (video embeds) -> a link; a notebook will not embed it."""

    def one(match: re.Match[str]) -> str:
        at = line + text.count("\n", 0, match.start())
        attrs = {k.lower(): unescape(v) for k, v in _ATTR.findall(match.group(0))}
        src = attrs.get("src", "")
        if not src:
            ctx.warn(at, "an <iframe> without src was removed")
            return ""
        title = attrs.get("title") or "Video"
        if title == "YouTube video player":
            title = "the video for this guide (YouTube)"
        ctx.note(at, "embedded video (a link)", False)
        return video_link(src, title)

    return _IFRAME.sub(one, text)


def translate_images(text: str, line: int, ctx: Context) -> str:
    """Images: an absolute URL stays an image; one on the docs site becomes a link to it."""

    def one(match: re.Match[str]) -> str:
        at = line + text.count("\n", 0, match.start())
        if urlparse(match.group(2)).scheme in ("http", "https"):
            return match.group(0)
        return image(match.group(1), match.group(2), ctx, at)

    return _IMAGE.sub(one, text)


def image(alt: str, url: str, ctx: Context, line: int, what: str = "image") -> str:
    """A guide's image (``/images/x.png``, ``x.webp?w=500``, a figure's src) as a notebook
    shows it: screenshots are not shipped with a lesson, so it becomes a link to the image
    on the docs site (when the page's place there is known), else its description, with
    a warning. Hugo's query strings are dropped; the width is told."""
    parsed = urlparse(url)
    path = parsed.path
    width = parse_qs(parsed.query).get("w", [""])[0]
    size = f", {width} px wide" if width.isdigit() else ""
    shown = (alt or posixpath.basename(path)).replace("[", "(").replace("]", ")")
    if parsed.scheme in ("http", "https"):
        ctx.note(line, f"{what} (a link)", False)
        return f"*🖼️ [{shown}]({url}){size}*"
    target = _image_url(path, ctx)
    if target:
        ctx.note(line, f"{what} (a link to the docs site)", False)
        return f"*🖼️ [Screenshot in the original guide: {shown}]({target}){size}*"
    ctx.warn(line, f"{what} {path} is not shipped with the lesson; shown as its description")
    return f"*🖼️ Screenshot in the original guide: {shown}{size}.*"


def _image_url(path: str, ctx: Context) -> str | None:
    """Where an image of the guide is on the docs site, if the page's place is known."""
    if not path:
        return None
    if path.startswith("/"):
        origin = urlparse(ctx.docs_url or "")
        base = f"{origin.scheme}://{origin.netloc}" if origin.netloc else ctx.catalog.base
        return safe_url(base.rstrip("/") + path) if base else None
    source = ctx.source or ctx.page
    found = resolve(path, source=source, page=ctx.page, catalog=ctx.catalog, docs_url=ctx.docs_url)
    return found.url if found.kind == "docs site" else None


def callout_label(kind: str, line: int, ctx: Context) -> str:
    """The first line of a callout (``[!TIP]`` -> ``💡 **Tip**``)."""
    label = CALLOUTS.get(kind.upper())
    if label is None:
        ctx.warn(
            line,
            f"callout [!{kind}] is not one of {', '.join(CALLOUTS)}; shown as a quote "
            f"labelled **{kind.capitalize()}**",
        )
        return f"**{kind.capitalize()}**"
    ctx.note(line, "callout", False)
    return label


def fence_caption(line_text: str) -> tuple[str, str, list[str]] | None:
    """A fence line with attributes -> (the fence line without them, a caption or "",
    the options a notebook cannot show: ``hl_lines``, ``linenos``, ``collapse``...)."""
    match = FENCE_ATTRIBUTES.match(line_text)
    if not match:
        return None
    prefix, fence, language, attrs = match.groups()
    pairs = {k: v.strip("\"'") for k, v in _PAIR.findall(attrs)}
    title = pairs.pop("title", "")
    dropped = [f"{k}={v}" if v else k for k, v in pairs.items()]
    return f"{prefix}{fence}{language}", (f"📄 *{title}*" if title else ""), dropped


def _tab(p: Mapping[str, str], _ctx: Context, _line: int) -> str:
    return f"**▸ {p.get('name') or p.get('0') or 'Tab'}**"


def _tabs(_p: Mapping[str, str], ctx: Context, line: int) -> str:
    ctx.note(line, "tab set", False)
    return ""


def _button(p: Mapping[str, str], ctx: Context, line: int) -> str:
    return button(p.get("text") or p.get("0") or "Next", p.get("url") or p.get("1"), ctx, line)


def _video(p: Mapping[str, str], ctx: Context, line: int) -> str:
    video = p.get("id") or p.get("0") or ""
    ctx.note(line, "embedded video (a link)", False)
    return video_link(f"https://www.youtube.com/watch?v={video}", p.get("title") or "Video")


def _include(p: Mapping[str, str], ctx: Context, line: int) -> str:
    return ctx.include(p.get("0") or p.get("file") or "", line)


def _grid(p: Mapping[str, str], ctx: Context, line: int) -> str:
    return grid(p.get("items") or p.get("0") or "grid", ctx, line)


def _figure(p: Mapping[str, str], ctx: Context, line: int) -> str:
    alt = p.get("alt") or p.get("caption") or p.get("title") or ""
    return image(alt, p.get("src") or p.get("0") or "", ctx, line, "figure")


_SHORTCODES: dict[str, Callable[[Mapping[str, str], Context, int], str]] = {
    "tab": _tab,
    "tabs": _tabs,
    "button": _button,
    "youtube-embed": _video,
    "youtube": _video,
    "include": _include,
    "grid": _grid,
    "card": lambda p, ctx, line: card(p, ctx, line),
    "accordion": lambda p, ctx, line: accordion(p, False, ctx, line),
    "/accordion": lambda p, ctx, line: accordion(p, True, ctx, line),
    "figure": _figure,
}
"""What each known shortcode (its opening, or its only tag) becomes."""
_CLOSINGS = {"tabs": "", "tab": "", "grid": "", "card": "", "figure": ""}
"""What each known closing tag becomes."""


def translate_shortcode(code: Shortcode, ctx: Context, line: int) -> str:
    """One shortcode inside a block -> Markdown. Unknown ones stay readable, with a warning."""
    if code.closing and f"/{code.name}" in _SHORTCODES:
        return _SHORTCODES[f"/{code.name}"](code.params, ctx, line)
    if code.closing:
        if code.name in _CLOSINGS:
            return _CLOSINGS[code.name]
        ctx.warn(line, f"unknown shortcode {{{{< /{code.name} >}}}} left out")
        return ""
    known = _SHORTCODES.get(code.name)
    if known is not None:
        return known(code.params, ctx, line)
    p = code.params
    shown = " ".join(f"{k}={v}" if not k.isdigit() else v for k, v in p.items())
    ctx.warn(line, f"unknown shortcode '{code.name}' kept as text")
    return f"*[{code.name}{': ' + shown if shown else ''}]*"


def button(text: str, url: str | None, ctx: Context, line: int) -> str:
    """``{{< button text="Next" url="next-page" >}}`` -> a bold link."""
    if not url:
        ctx.warn(line, f"button {text!r} has no url; shown as bold text")
        return f"**{text}**"
    if re.search(r"\s", url) and "/" not in url and not url.endswith(".md"):
        ctx.warn(line, f"button url {url!r} is not a page path; read as {slug(url)!r}")
        url = slug(url)
    return f"**[{text} →]({ctx.link(url, line, 'button')})**"


def card(p: Mapping[str, str], ctx: Context, line: int) -> str:
    """``{{< card title=... description=... link=... >}}`` -> a titled link and its
    description (an item of a list, as a grid's cards are)."""
    title = p.get("title") or p.get("0") or ""
    if not title:
        ctx.warn(line, "card without a title; left out")
        return ""
    link = p.get("link") or p.get("url") or ""
    description = " ".join((p.get("description") or "").split())
    entry = f"[**{title}**]({ctx.link(link, line, 'card')})" if link else f"**{title}**"
    ctx.note(line, "card (a titled link)", False)
    return f"- {entry}" + (f": {description}" if description else "")


def accordion(p: Mapping[str, str], closing: bool, ctx: Context, line: int) -> str:
    """``{{< accordion title=... >}}`` ... ``{{< /accordion >}}`` -> ``<details>`` whose
    summary is the title; the body between stays Markdown."""
    if closing:
        if not ctx.accordions:
            ctx.warn(line, "{{< /accordion >}} closes no accordion; left out")
            return ""
        ctx.accordions.pop()
        return "</details>"
    ctx.accordions.append(line)
    title = p.get("title") or p.get("0") or "Details"
    ctx.note(line, "accordion (a <details> block)", False)
    summary = _INLINE.renderInline(title).strip()  # HTML shows no Markdown: `code` -> <code>
    return f"<details>\n<summary>{summary}</summary>"


def grid(key: str, ctx: Context, line: int) -> str:
    """``{{< grid items="KEY" >}}``: the cards in the front matter's KEY (or params.KEY),
    as a list of links."""
    params = ctx.front.get("params")
    items = ctx.front.get(key)
    if items is None and isinstance(params, Mapping):
        items = params.get(key)
    if not isinstance(items, list) or not items:
        ctx.warn(line, f"grid: the front matter has no list of cards under {key!r}; left out")
        return ""
    out = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("title"):
            ctx.warn(line, f"grid {key!r}: a card without a title was left out")
            continue
        title, link = str(item["title"]), str(item.get("link") or "")
        description = " ".join(str(item.get("description") or "").split())
        entry = f"[**{title}**]({ctx.link(link, line)})" if link else f"**{title}**"
        out.append(f"- {entry}" + (f": {description}" if description else ""))
    ctx.note(line, "grid of cards (a list of links)", False)
    return "\n".join(out)


def translate_inline(text: str, start_line: int, ctx: Context) -> str:
    """Every construct above, inside one run of prose lines."""
    text = translate_links(text, start_line, ctx)
    out, last = [], 0
    for code in find_shortcodes(text):
        line = start_line + text.count("\n", 0, code.start)
        replacement = translate_shortcode(code, ctx, line)
        indent = code.start - (text.rfind("\n", 0, code.start) + 1)
        if "\n" in replacement and indent:  # e.g. an include inside a list item
            pad = re.sub(r"[^\s>]", " ", text[code.start - indent : code.start])
            replacement = replacement.replace("\n", "\n" + pad)
        out += [text[last : code.start], replacement]
        last = code.end
    text = "".join([*out, text[last:]])
    text = translate_iframes(text, start_line, ctx)
    return translate_images(text, start_line, ctx)


def translate_links(text: str, start_line: int, ctx: Context) -> str:
    """Links to other guide pages (``/reference/...``, ``./next.md``) -> lessons or the
    site; reference links (``[text][api]``) written inline."""

    def at(match: re.Match[str]) -> int:
        return start_line + text.count("\n", 0, match.start())

    def one(match: re.Match[str]) -> str:
        url = match.group(2)
        if urlparse(url.strip("<>")).scheme or url.startswith(("#", "mailto:")):
            return match.group(0)
        title = match.group(3) or ""
        return f"[{match.group(1)}]({ctx.link(url, at(match))}{title})"

    def reference(match: re.Match[str], label: str) -> str:
        found = ctx.references.get(normalizeReference(label))
        if found is None:
            return match.group(0)
        line = at(match)
        url = str(found.get("href") or "")
        if not (urlparse(url).scheme or url.startswith(("#", "mailto:"))):
            url = ctx.link(url, line)
        title = str(found.get("title") or "").replace('"', "&quot;")
        ctx.note(line, "reference link (written inline)", False)
        shown_title = f' "{title}"' if title else ""
        return f"[{match.group(1)}]({url}{shown_title})"

    text = _LINK.sub(one, text)
    text = _FULL_REFERENCE.sub(lambda m: reference(m, m.group(2) or m.group(1)), text)
    return _SHORTCUT_REFERENCE.sub(lambda m: reference(m, m.group(1)), text)
