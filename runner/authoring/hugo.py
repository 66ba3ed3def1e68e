"""Docker-docs (Hugo) constructs, translated into Markdown a notebook shows well.

Each function takes source text and returns notebook Markdown plus warnings (line,
message) for what could only be approximated. Nothing is dropped silently: what cannot
be translated stays as readable text, with a warning that names its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urljoin, urlparse

from .markdown import Shortcode, find_shortcodes

Warn = Callable[[int, str], None]
CALLOUTS = {
    "NOTE": "📝 **Note**",
    "TIP": "💡 **Tip**",
    "IMPORTANT": "❗ **Important**",
    "WARNING": "⚠️ **Warning**",
    "CAUTION": "🛑 **Caution**",
}
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)(\s+\"[^\"]*\")?\s*\)")
_IFRAME = re.compile(r"<iframe\b[^>]*>.*?</iframe>|<iframe\b[^>]*/?>", re.S | re.I)
_ATTR = re.compile(r'([a-zA-Z-]+)\s*=\s*"([^"]*)"')
_YOUTUBE = re.compile(
    r"(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?v=)|youtu\.be/)"
    r"([\w-]{6,})"
)


@dataclass
class Context:
    """What translation needs to know about the lesson being built."""

    lesson_id: str
    """Id of the lesson (file stem)."""
    docs_url: str | None = None
    """Where the guide lives on the web, for resolving its relative links."""
    lessons: frozenset[str] = frozenset()
    """Ids of the lessons built alongside, for links between lessons."""
    includes: Mapping[str, str] = field(default_factory=dict)
    """Included pages available to ``{{< include >}}``, by file name."""


def video_link(url: str, title: str = "Video") -> str:
    match = _YOUTUBE.search(url)
    target = f"https://www.youtube.com/watch?v={match.group(1)}" if match else url
    return f"▶️ **Watch:** [{title}]({target})"


def translate_iframes(text: str, line: int, warn: Warn) -> str:
    """``<iframe src=...>`` (video embeds) -> a link; a notebook will not embed it."""

    def one(match: re.Match[str]) -> str:
        attrs = {k.lower(): unescape(v) for k, v in _ATTR.findall(match.group(0))}
        src = attrs.get("src", "")
        if not src:
            warn(line + text.count("\n", 0, match.start()), "an <iframe> without src was removed")
            return ""
        title = attrs.get("title") or "Video"
        if title == "YouTube video player":
            title = "the video for this guide (YouTube)"
        return video_link(src, title)

    return _IFRAME.sub(one, text)


def translate_images(text: str, line: int, warn: Warn) -> str:
    """Drop Hugo's query strings (``x.webp?w=500&border=true``); keep size as an attribute.

    Guide screenshots are not shipped with a lesson, so a relative image becomes its alt
    text in a note (with a warning); an absolute URL stays an image.
    """

    def one(match: re.Match[str]) -> str:
        alt, url = match.group(1), match.group(2)
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            return match.group(0)
        width = parse_qs(parsed.query).get("w", [""])[0]
        path = parsed.path
        warn(
            line + text.count("\n", 0, match.start()),
            f"image {path} is not shipped with the lesson; shown as its description",
        )
        size = f", {width} px wide" if width.isdigit() else ""
        return f"*🖼️ Screenshot in the original guide: {alt or posixpath.basename(path)}{size}.*"

    return _IMAGE.sub(one, text)


def translate_callout(text: str) -> str:
    """``> [!TIP]`` (GitHub-style callouts) -> a blockquote with a labelled first line."""

    def one(match: re.Match[str]) -> str:
        label = CALLOUTS.get(match.group(2).upper())
        return f"{match.group(1)}{label}" if label else match.group(0)

    return re.sub(r"^(\s*>\s*)\[!(\w+)\][ \t]*$", one, text, flags=re.M)


def link_target(url: str, ctx: Context, line: int, warn: Warn) -> str:
    """A guide link as a notebook can follow it: sibling lessons, else the docs site."""
    parsed = urlparse(url)
    if parsed.scheme or url.startswith(("#", "mailto:")):
        return url
    stem = posixpath.splitext(posixpath.basename(parsed.path))[0]
    if parsed.path.endswith(".md") and stem in ctx.lessons:
        return f"{stem}.ipynb" + (f"#{parsed.fragment}" if parsed.fragment else "")
    if ctx.docs_url:
        page = parsed.path[:-3] + "/" if parsed.path.endswith(".md") else parsed.path
        if page.startswith("/") and page.endswith("/_index/"):
            page = page[: -len("_index/")]
        if page.startswith("./") or not page.startswith("/"):
            page = "../" + page.removeprefix("./")  # a page's URL is a folder: siblings are ../
        return urljoin(ctx.docs_url, page) + (f"#{parsed.fragment}" if parsed.fragment else "")
    warn(
        line,
        f"link {url} points to a page that is not a lesson here; add "
        "'dockdojo: {docs_url: ...}' to the front matter to link to the docs site",
    )
    return url


def translate_shortcode(
    code: Shortcode, ctx: Context, line: int, warn: Warn, render_include: Callable[[str, int], str]
) -> str:
    """One shortcode -> Markdown. Unknown shortcodes stay readable, with a warning."""
    p = code.params
    if code.name in ("tabs", "tab") and code.closing:
        return ""
    if code.name == "tabs":
        return ""
    if code.name == "tab":
        return f"**▸ {p.get('name') or p.get('0') or 'Tab'}**"
    if code.name == "button":
        text = p.get("text") or p.get("0") or "Next"
        url = p.get("url") or p.get("1") or ""
        return f"**[{text} →]({link_target(url, ctx, line, warn)})**" if url else f"**{text}**"
    if code.name in ("youtube-embed", "youtube"):
        video = p.get("id") or p.get("0") or ""
        return video_link(f"https://www.youtube.com/watch?v={video}", p.get("title") or "Video")
    if code.name == "include":
        return render_include(p.get("0") or p.get("file") or "", line)
    if code.closing:
        warn(line, f"unknown shortcode {{{{< /{code.name} >}}}} kept as text")
        return ""
    shown = " ".join(f"{k}={v}" if not k.isdigit() else v for k, v in p.items())
    warn(line, f"unknown shortcode '{code.name}' kept as text")
    return f"*[{code.name}{': ' + shown if shown else ''}]*"


def translate_inline(
    text: str, start_line: int, ctx: Context, warn: Warn, render_include: Callable[[str, int], str]
) -> str:
    """Every construct above, inside one block of prose."""
    text = translate_links(text, start_line, ctx, warn)
    out, last = [], 0
    for code in find_shortcodes(text):
        line = start_line + text.count("\n", 0, code.start)
        out += [text[last : code.start], translate_shortcode(code, ctx, line, warn, render_include)]
        last = code.end
    text = "".join([*out, text[last:]])
    text = translate_iframes(text, start_line, warn)
    return translate_images(text, start_line, warn)


_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(\s*([^)\s]+)\s*\)")


def translate_links(text: str, start_line: int, ctx: Context, warn: Warn) -> str:
    """Links to other guide pages (``/reference/...``, ``./next.md``) -> lessons or the site."""

    def one(match: re.Match[str]) -> str:
        url = match.group(2)
        if urlparse(url).scheme or url.startswith(("#", "mailto:")):
            return match.group(0)
        line = start_line + text.count("\n", 0, match.start())
        return f"[{match.group(1)}]({link_target(url, ctx, line, warn)})"

    return _LINK.sub(one, text)
