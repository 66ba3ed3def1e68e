"""Links in a guide, as a notebook can follow them.

A guide links to other pages three ways: relative to its own file (``./next.md``,
``../building-images/_index.md``, or a bare page name as buttons write it,
``what-is-an-image``), as a path on the docs site (``/reference/cli/docker/``, or a
content path such as ``/manuals/desktop/settings.md``), or absolutely. A link to a page
that is built in the same call becomes a link to that lesson's notebook (all notebooks of
a build sit in one folder); any other page becomes an absolute link to the docs site, so
it opens from JupyterLab. What cannot be resolved stays as written, with a warning.

Docker's docs keep their manuals under ``content/manuals/`` but serve them at the site's
root, and Hugo serves ``folder/_index.md`` (and ``folder/index.md``) at ``/folder/``: site
paths are compared in that form (:func:`site_path`).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import yaml

from . import yamltext
from .includes import MAX_PAGE, Unreadable, read_text
from .site import site_config
from .sources import lesson_id, real

INDEX_PAGES = ("_index", "index")


@dataclass(frozen=True)
class Catalog:
    """The lessons built together, so that links between them open the notebooks."""

    notebooks: Mapping[Path, str] = field(default_factory=dict)
    """Notebook file name (``what-is-an-image.ipynb``) by resolved source path."""
    sites: Mapping[str, str] = field(default_factory=dict)
    """Notebook file name by the page's path on the docs site (:func:`site_path` form),
    from the source's ``dockdojo: {docs_url}`` or its place in a Hugo site's content/."""
    base: str | None = None
    """The docs site (``https://docs.docker.com``) for site paths, when a lesson's front
    matter does not name its own page (``build --docs-base``)."""

    @classmethod
    def of(cls, sources: Iterable[Path], base: str | None = None) -> Catalog:
        """The catalog of ``sources`` (their front matter is read for ``docs_url``)."""
        notebooks: dict[Path, str] = {}
        sites: dict[str, str] = {}
        names = notebook_names(sources)
        for path in sources:
            name = f"{names[real(path)]}.ipynb"
            notebooks[real(path)] = name
            for site in (hugo_site_path(path), _front_site_path(path)):
                if site:
                    sites.setdefault(site, name)
        return cls(notebooks, sites, base)

    def lesson_id(self, page: Path) -> str:
        """The id (notebook name without ``.ipynb``) of ``page`` in this build."""
        name = self.notebooks.get(real(page))
        return name.removesuffix(".ipynb") if name else lesson_id(page)

    def notebook(self, target: Path) -> str | None:
        """The notebook built from ``target`` (a page file, or a folder with _index.md)."""
        for candidate in _candidates(target):
            name = self.notebooks.get(candidate)
            if name:
                return name
        return None


def notebook_names(sources: Iterable[Path]) -> dict[Path, str]:
    """Each source's lesson id, by resolved path. Pages whose ids are the same (two
    ``publishing-ports.md`` in different sections) are named with their section's folder
    before it, ``running-containers--publishing-ports``, and more folders if needed;
    pages whose names differ keep them. A Hugo site's home page (``content/_index.md``)
    is ``home``."""
    names = {p: _name(p) for p in dict.fromkeys(real(s) for s in sources)}
    for depth in range(1, 32):
        groups: dict[str, list[Path]] = {}
        for path, name in names.items():
            groups.setdefault(name, []).append(path)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            break
        for group in clashes:
            for path in group:
                names[path] = _prefixed(path, depth)
    return names


def _name(page: Path) -> str:
    home = page.stem in INDEX_PAGES and page.parent.name == "content"
    return "home" if home and site_config(page.parent.parent) else lesson_id(page)


def _prefixed(page: Path, depth: int) -> str:
    """``.../running-containers/publishing-ports.md`` at depth 1 ->
    ``running-containers--publishing-ports`` (an index page's own folder is its name)."""
    folder = page.parent.parent if page.stem in INDEX_PAGES else page.parent
    above = [f.name for f in [folder, *folder.parents][:depth] if f.name]
    return "--".join([*reversed(above), lesson_id(page)])


def site_path(path: str) -> str:
    """A page's path on the docs site: ``/manuals/desktop/_index.md`` -> ``/desktop/``."""
    path = path.split("#", 1)[0]
    if path.endswith(".md"):
        path = path[:-3]
    parts = [p for p in path.split("/") if p and p != "."]
    if parts and parts[-1] in INDEX_PAGES:
        parts.pop()
    if parts and parts[0] == "manuals":
        parts.pop(0)
    return ("/" + "/".join(parts) + "/").replace("//", "/").lower()


def hugo_site_path(path: Path) -> str | None:
    """The site path of a page inside a Hugo site's ``content/`` folder (a folder named
    content beside the site's hugo.yaml or config.toml), else None."""
    resolved = real(path)
    for parent in resolved.parents:
        if parent.name == "content" and site_config(parent.parent) is not None:
            return site_path(resolved.relative_to(parent).as_posix())
    return None


def _front_site_path(path: Path) -> str | None:
    url = docs_url_of(path)
    return site_path(urlsplit(url).path) if url else None


def docs_url_of(path: Path) -> str | None:
    """``dockdojo: {docs_url: ...}`` from a source's front matter, if it can be read."""
    try:
        text = read_text(path, MAX_PAGE)
    except Unreadable:  # the page's own problem, reported when it is parsed
        return None
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(\n|$)", text, re.S)
    if not match:
        return None
    try:
        front, _ = yamltext.load(match.group(1))
    except yaml.YAMLError:
        return None
    options = front.get("dockdojo") if isinstance(front, dict) else None
    url = options.get("docs_url") if isinstance(options, dict) else None
    return url if isinstance(url, str) else None


def _candidates(target: Path) -> list[Path]:
    if target.suffix == ".md":
        return [target]
    return [target.with_name(target.name + ".md")] + [target / f"{n}.md" for n in INDEX_PAGES]


def slug(name: str) -> str:
    """``Multi-container applications`` -> ``multi-container-applications``."""
    return re.sub(r"[^\w.-]+", "-", name.strip()).strip("-").lower()


def safe_url(url: str) -> str:
    """A URL a Markdown link can hold: spaces and parentheses percent-encoded."""
    return quote(url, safe="/:#?&=%~+@!$,;*'[]")


@dataclass(frozen=True)
class Resolved:
    """Where a link goes, and how that was decided (for warnings and the report)."""

    url: str
    """The link as the notebook has it."""
    kind: str
    """``lesson``, ``docs site``, ``absolute`` (left as is) or ``unresolved``."""


def resolve(
    url: str,
    *,
    source: Path,
    page: Path,
    catalog: Catalog,
    docs_url: str | None,
) -> Resolved:
    """``url`` as written in ``source`` (the lesson file ``page``, or a file it includes)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or url.startswith("mailto:"):
        return Resolved(url, "absolute")
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    path = parts.path
    if path.startswith("/"):
        name = catalog.sites.get(site_path(path))
        if name:
            return Resolved(name + fragment, "lesson")
        base = _origin(docs_url) or catalog.base
        if base:
            return Resolved(safe_url(base.rstrip("/") + site_path(path)) + fragment, "docs site")
        return Resolved(url, "unresolved")
    target = Path(os.path.normpath(real(source).parent / path))
    name = catalog.notebook(target)
    if name:
        return Resolved(name + fragment, "lesson")
    page_url = docs_url or _hugo_url(page, catalog.base)
    if page_url:
        if not page_url.endswith("/"):
            page_url += "/"
        # a page is served as a folder (.../what-is-an-image/); an _index.md page is its
        # own folder's URL, any other page's folder is one level up
        folder = page_url if lesson_id(page) != page.stem else urljoin(page_url, "../")
        relative = Path(os.path.relpath(target, real(page).parent)).as_posix()
        joined = urljoin(folder, _page_relative(relative))
        return Resolved(safe_url(joined) + fragment, "docs site")
    return Resolved(url, "unresolved")


def _page_relative(relative: str) -> str:
    """``../building-images/_index.md`` -> ``../building-images/``; files stay as they are."""
    if posixpath.splitext(relative)[1] not in ("", ".md"):
        return relative
    parts = relative.removesuffix(".md").split("/")
    if parts[-1] in INDEX_PAGES:
        parts.pop()
    joined = "/".join(parts)
    return f"{joined}/".lower() if joined and joined != "." else ""


def _hugo_url(page: Path, base: str | None) -> str | None:
    site = hugo_site_path(page)
    return base.rstrip("/") + site if base and site else None


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


__all__ = ["Catalog", "Resolved", "notebook_names", "resolve", "safe_url", "site_path", "slug"]
