"""The builder on pages in Docker docs' style, as a reader sees the notebooks.

- The corpus (``builder_cases/corpus/``, a small Hugo site of 25+ pages) is built in one
  call, with ``--docs-base https://docs.docker.com``; each notebook is compared with its
  golden in ``corpus/lessons/``, and the ``--report`` text with ``corpus/report.txt``.
  The site corpus (``builder_cases/site/``, 30+ pages in Docker's site layout: params,
  cards, accordions, anchors, sections, two pages of one name) is built and compared the
  same way, with its goldens in ``site/lessons/`` and ``site/report.txt``.
  Regenerate them after a deliberate change with
  ``DOCKDOJO_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_rendering.py`` and read the diff.
- Every Markdown cell of every built notebook (the corpus, the fixture cases and
  ``content/``) is rendered with markdown-it (CommonMark, as JupyterLab reads it) and
  must be free of Hugo syntax (``{{<``, ``{{%``), callout markers (``[!NOTE]``),
  attribute lists (``{ .information }``) and lines a list item swallowed (a paragraph
  line indented less than the item's text, joined to it lazily); every relative link
  opens a notebook built in the same call, and every link to a heading names an id
  JupyterLab gives a heading of its notebook (in the corpora and content/; the fixture
  cases keep a few links that cannot be resolved, to test their warnings).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from dockdojo.runner import build_lessons
from dockdojo.runner.authoring import Lesson, lesson_sources
from dockdojo.runner.authoring.build import report
from dockdojo.runner.authoring.notebook import to_notebook
from dockdojo.runner.authoring.site import site_pages

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "builder_cases"
CORPUS = CASES / "corpus"
PAGES = sorted(
    p.relative_to(ROOT) for p in (CORPUS / "content").rglob("*.md") if "_includes" not in p.parts
)
GOLDEN = CORPUS / "lessons"
SITE = CASES / "site"
SITE_PAGES = [p.relative_to(ROOT) for p in site_pages(SITE)]
BASE = "https://docs.docker.com"
UPDATE = os.environ.get("DOCKDOJO_UPDATE_SNAPSHOTS") == "1"
COMMONMARK = MarkdownIt("commonmark").enable(["table", "strikethrough"])

Built = dict[Path, tuple[Lesson, str]]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # notebooks name their sources relative to the working directory


def build_in_root(sources: list[Path], docs_base: str | None = None) -> Built:
    with contextlib.chdir(ROOT):
        return build_lessons(sources, Path("out"), docs_base=docs_base)


@pytest.fixture(scope="module")
def corpus() -> Built:
    return build_in_root(PAGES, BASE)


@pytest.fixture(scope="module")
def site() -> Built:
    return build_in_root(SITE_PAGES, BASE)


def notebooks_built() -> Iterator[tuple[str, Built]]:
    """Each set of notebooks built together: the corpus, the fixture cases, content/."""
    yield "corpus", build_in_root(PAGES, BASE)
    yield "site", build_in_root(SITE_PAGES, BASE)
    ok = sorted((CASES / "ok").glob("*.md"))
    yield "ok", build_in_root(ok)
    yield "content", build_in_root(lesson_sources(ROOT / "content"))


# what a reader must not see -------------------------------------------------------------
_RAW = {
    "raw shortcode syntax": re.compile(r"\{\{[<%]"),
    "a raw callout marker": re.compile(r"\[![A-Za-z]+\]"),
    "an attribute list": re.compile(r"\{:?[ \t]*(?:[.#][\w-]+|[\w-]+=)[^{}\n]*\}"),
}
_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( *)")


def problems_in_cell(source: str) -> list[str]:
    """What a reader would see wrong in one Markdown cell, rendered as CommonMark."""
    html = COMMONMARK.render(source)
    shown = unescape(re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", html, flags=re.S))
    found = [f"{what}: {m.group(0)!r}" for what, rx in _RAW.items() for m in rx.finditer(shown)]
    return found + [f"swallowed by a list item: {line!r}" for line in swallowed(source)]


def swallowed(source: str) -> list[str]:
    """Lines of a list item's paragraph indented less than the item's text: lazily joined
    to it (a paragraph after a list, or after a callout at the end of one)."""
    lines = source.split("\n")
    columns: list[int | None] = []
    out = []
    for token in COMMONMARK.parse(source):
        if token.type == "list_item_open" and token.map is not None:
            match = _ITEM.match(lines[token.map[0]])
            spaces = len(match.group(3)) if match else 0
            width = spaces if 1 <= spaces <= 4 else 1
            columns.append(len(match.group(1)) + len(match.group(2)) + width if match else None)
        elif token.type == "list_item_close":
            columns.pop()
        elif token.type == "paragraph_open" and columns and columns[-1] and token.map:
            for row in range(token.map[0] + 1, token.map[1]):
                text = lines[row]
                indent = len(text) - len(text.lstrip(" "))
                if text.strip() and indent < columns[-1]:
                    out.append(text)
    return out


def links(source: str) -> Iterator[str]:
    def walk(tokens: list[Token]) -> Iterator[Token]:
        for token in tokens:
            yield token
            yield from walk(token.children or [])

    for token in walk(COMMONMARK.parse(source)):
        if token.type == "link_open":
            yield str(token.attrs["href"])


def broken_links(source: str, built: set[str]) -> list[str]:
    """Relative links that open no notebook of ``built`` (names like ``x.ipynb``)."""
    out = []
    for href in links(source):
        if re.match(r"[a-z][a-z0-9+.-]*:", href) or href.startswith("#"):
            continue
        if href.split("#", 1)[0] not in built:
            out.append(href)
    return out


def markdown_cells(text: str) -> Iterator[str]:
    for cell in nbformat.reads(text, as_version=4).cells:
        if cell.cell_type == "markdown":
            yield cell.source


# the corpus ---------------------------------------------------------------------------
def test_the_corpus_uses_every_construct_on_25_pages_or_more(corpus: Built) -> None:
    assert len(PAGES) >= 25
    assert len([p for p in PAGES if p.name == "_index.md"]) >= 5
    constructs = {t.construct for lesson, _ in corpus.values() for t in lesson.translations}
    for construct in (
        "callout",
        "tab set",
        "tab set with headings (a section per tab)",
        "button to a lesson built with this one",
        "link to the docs site",
        "link to a lesson built with this one",
        "grid of cards (a list of links)",
        "code block attributes (title as a caption)",
        "<details> block (inner Markdown rendered)",
        "heading attributes (left out)",
        "reference link (written inline)",
        "embedded video (a link)",
    ):
        assert construct in constructs
    assert any(c.startswith("attribute list") for c in constructs)
    assert any(c.startswith("include ") for c in constructs)
    texts = [(ROOT / p).read_text(encoding="utf-8") for p in PAGES]
    assert sum("description: |" in t or "description: >" in t for t in texts) >= 3


@pytest.mark.parametrize(
    "page", PAGES, ids=[p.relative_to(CORPUS.relative_to(ROOT)).as_posix() for p in PAGES]
)
def test_corpus_notebooks_match_their_goldens(corpus: Built, page: Path) -> None:
    (target, (_, text)) = next((t, v) for t, v in corpus.items() if v[0].source == page)
    golden = GOLDEN / target.name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_has_its_page(corpus: Built) -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.ipynb")) == sorted(t.name for t in corpus)


def test_corpus_report_matches_its_golden(corpus: Built) -> None:
    text = "\n".join(line for t, (lesson, _) in corpus.items() for line in report(lesson, t))
    golden = CORPUS / "report.txt"
    if UPDATE:
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8")


# the site corpus ----------------------------------------------------------------------
def test_the_site_corpus_uses_docker_sites_constructs_on_30_pages_or_more(site: Built) -> None:
    assert len(SITE_PAGES) >= 30
    assert len([p for p in SITE_PAGES if p.name == "_index.md"]) >= 8
    constructs = {t.construct for lesson, _ in site.values() for t in lesson.translations}
    for construct in (
        "param (from the page)",
        "param (from the site)",
        "card (a titled link)",
        "accordion (a <details> block)",
        "callout label written twice (shown once)",
        "code block option hl_lines (left out)",
        "code block option linenos (left out)",
        "code block option collapse (left out)",
        "image (a link to the docs site)",
        "figure (a link to the docs site)",
        "link to a heading (Hugo's id -> Jupyter's)",
        "list of the section's pages (from the pages built with it)",
        "previous/next links (from the pages built with it)",
    ):
        assert construct in constructs
    names = {t.name for t in site}
    assert {"golang--publishing-ports.ipynb", "network--publishing-ports.ipynb"} <= names
    warnings = [w.message for lesson, _ in site.values() for w in lesson.warnings]
    assert any(m.startswith("param 'download_url' is in neither") for m in warnings)
    assert not any("anchor" in m or "names no heading" in m for m in warnings)


@pytest.mark.parametrize(
    "page", SITE_PAGES, ids=[p.relative_to(SITE.relative_to(ROOT)).as_posix() for p in SITE_PAGES]
)
def test_site_notebooks_match_their_goldens(site: Built, page: Path) -> None:
    (target, (_, text)) = next((t, v) for t, v in site.items() if v[0].source == page)
    golden = SITE / "lessons" / target.name
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_every_site_golden_has_its_page(site: Built) -> None:
    assert sorted(p.name for p in (SITE / "lessons").glob("*.ipynb")) == sorted(
        t.name for t in site
    )


def test_site_report_matches_its_golden(site: Built) -> None:
    text = "\n".join(line for t, (lesson, _) in site.items() for line in report(lesson, t))
    golden = SITE / "report.txt"
    if UPDATE:
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8")


# every notebook -----------------------------------------------------------------------
def test_every_notebook_is_valid_and_written_as_nbformat_writes_it() -> None:
    """The builder writes the JSON itself (nbformat is slow to import): each notebook
    validates, and nbformat writes the same text from it."""
    for name, built in notebooks_built():
        for target, (lesson, text) in built.items():
            node = nbformat.reads(text, as_version=4)
            nbformat.validate(node)
            assert nbformat.writes(node) + "\n" == text, f"{name}/{target.name}"
            source = node.metadata["dockdojo"]["source"]
            assert nbformat.writes(to_notebook(lesson, source, setup_of(node))) + "\n" == text


def setup_of(node: nbformat.NotebookNode) -> str | None:
    """How a notebook's setup cell names its lesson (None without a setup cell)."""
    for cell in node.cells:
        if cell.metadata.get("dockdojo", {}).get("role") == "setup":
            return str(cell.source.split("LessonView(")[1].split(")")[0].strip("'"))
    return None


def test_every_markdown_cell_renders_without_leftover_syntax() -> None:
    found = []
    for name, built in notebooks_built():
        assert built, name
        for target, (_, text) in built.items():
            for number, source in enumerate(markdown_cells(text)):
                where = f"{name}/{target.name} cell {number}"
                found += [f"{where}: {problem}" for problem in problems_in_cell(source)]
    assert found == []


def test_every_relative_link_opens_a_notebook_built_with_it() -> None:
    found = []
    for name, built in notebooks_built():
        if name == "ok":  # fixture cases keep a few unresolvable links, to test the warning
            continue
        names = {t.name for t in built}
        for target, (_, text) in built.items():
            for source in markdown_cells(text):
                found += [f"{name}/{target.name}: {href}" for href in broken_links(source, names)]
    assert found == []


def jupyter_ids(text: str) -> set[str]:
    """The ids JupyterLab gives the headings of a notebook: each heading's text (its
    ``textContent``) with every space replaced by ``-``, case kept."""
    ids = set()
    for source in markdown_cells(text):
        for inner in re.findall(r"<h[1-6]>(.*?)</h[1-6]>", COMMONMARK.render(source), re.S):
            ids.add(unescape(re.sub(r"<[^>]+>", "", inner)).replace(" ", "-"))
    return ids


def broken_anchors(built: Built) -> list[str]:
    """Links to a heading (``#id``, ``x.ipynb#id``) whose id no heading of the notebook
    has in Jupyter's terms."""
    ids = {target.name: jupyter_ids(text) for target, (_, text) in built.items()}
    found = []
    for target, (_, text) in built.items():
        for source in markdown_cells(text):
            for href in links(source):
                page, hash_, fragment = href.partition("#")
                if not hash_ or re.match(r"[a-z][a-z0-9+.-]*:", href):
                    continue
                if unquote(fragment) not in ids.get(page or target.name, set()):
                    found.append(f"{target.name}: {href}")
    return found


def test_every_anchor_opens_a_heading_in_jupyter() -> None:
    """In every notebook of the corpora and content/, a link to a heading (in the page or
    in a notebook built with it) names an id JupyterLab gives a heading there."""
    found = []
    for name, built in notebooks_built():
        if name == "ok":  # a fixture case keeps an anchor that names no heading, warned
            lesson = built[Path("out/buttons.ipynb")][0]
            assert any("#anchor names no heading" in w.message for w in lesson.warnings)
            continue
        found += [f"{name}/{problem}" for problem in broken_anchors(built)]
    assert found == []


def test_the_checks_see_what_they_look_for() -> None:
    bad = (
        "1. Pull the image.\nOnce pulled, run it.\n\n"
        "- An item:\n\n  > Quote at its end.\nA paragraph after it.\n\n"
        "> [!NOTE]\n> Raw.\n\n{{< button url=x >}} and { .information }\n"
    )
    found = problems_in_cell(bad)
    assert "swallowed by a list item: 'Once pulled, run it.'" in found
    assert "swallowed by a list item: 'A paragraph after it.'" in found
    assert any(p.startswith("a raw callout marker") for p in found)
    assert any(p.startswith("raw shortcode syntax") for p in found)
    assert any(p.startswith("an attribute list") for p in found)
    good = "1. Item\n   wrapped.\n\nA paragraph.\n\n```text\n{{< kept in code >}}\n```\n"
    assert problems_in_cell(good) == []
    cell = "[a](x.ipynb#top) [b](https://x.org) [c](#here) [d](y.md)"
    assert broken_links(cell, {"x.ipynb"}) == ["y.md"]
    cells = [nbformat.v4.new_markdown_cell("## Run `it` *now*")]
    assert jupyter_ids(nbformat.writes(nbformat.v4.new_notebook(cells=cells))) == {"Run-it-now"}


# each defect of issue 13, on its own case --------------------------------------------
def cells_of(case: str, built: Built | None = None) -> list[str]:
    built = built or build_in_root(sorted((CASES / "ok").glob("*.md")))
    text = next(text for target, (_, text) in built.items() if target.stem == case)
    return list(markdown_cells(text))


def top_level_paragraphs(source: str) -> list[str]:
    tokens = COMMONMARK.parse(source)
    return [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "paragraph_open" and t.level == 0
    ]


def test_a_paragraph_after_a_list_or_a_callout_is_not_swallowed() -> None:
    """Defect 1, in a fixture case and in the seed lesson."""
    paragraphs = [
        p for cell in cells_of("lists-then-paragraphs") for p in top_level_paragraphs(cell)
    ]
    for text in (
        "Once it has downloaded, the image is ready to run.",
        "A paragraph after the bullets.",
        "This paragraph follows the list, not the callout.",
        "And a paragraph after the callout.",
    ):
        assert text in paragraphs
    seed = build_in_root(lesson_sources(ROOT / "content"))
    paragraphs = [
        p for cell in cells_of("what-is-an-image", seed) for p in top_level_paragraphs(cell)
    ]
    assert any(p.startswith("Once they've all downloaded") for p in paragraphs)
    assert any(p.startswith("Congratulations! You've run a container") for p in paragraphs)


def test_callouts_inside_list_items_get_their_label() -> None:
    """Defect 2: ``   > [!TIP]`` under a list item, at two depths."""
    (cell,) = cells_of("nested-callouts")[1:]
    html = COMMONMARK.render(cell)
    assert "[!" not in html
    for label in (
        "📝 <strong>Note</strong>",
        "💡 <strong>Tip</strong>",
        "⚠️ <strong>Warning</strong>",
    ):
        assert re.search(rf"<li>.*<blockquote>\s*<p>{re.escape(label)}</p>", html, re.S)


def headings(built_cells: list[str]) -> list[str]:
    out = []
    for cell in built_cells:
        tokens = COMMONMARK.parse(cell)
        out += [
            f"{t.tag} {tokens[i + 1].content}"
            for i, t in enumerate(tokens)
            if t.type == "heading_open"
        ]
    return out


def test_tabs_with_headings_are_labelled_sections_in_order() -> None:
    """Defect 3: each tab a section under its label, its headings demoted below it, in
    order; no label at the end of the previous tab's last section."""
    cells = cells_of("tabs-with-headings")
    assert headings(cells) == [
        "h1 Tabs with headings",
        "h2 Try it out",
        "h3 ▸ Using the GUI",
        "h4 View your container",
        "h4 Stop your container",
        "h3 ▸ Using the CLI",
        "h4 View your container",
        "h5 Only running ones",
        "h4 Stop your container",
        "h2 Additional resources",
    ]
    # no heading twice under the same label, and no label inside another section's cell
    paths: set[tuple[str, ...]] = set()
    parents: dict[int, str] = {}
    for heading in headings(cells):
        level = int(heading[1])
        parents = {k: v for k, v in parents.items() if k < level} | {level: heading}
        path = tuple(parents[k] for k in sorted(parents))
        assert path not in paths
        paths.add(path)
    assert all("▸" not in c or c.lstrip().startswith("### ▸") for c in cells)
    assert "That is all for this part." in top_level_paragraphs(cells[-2])


def test_tabs_that_say_the_same_share_one_label() -> None:
    """Defect 3, platforms: tabs with the same text are shown once under all their names."""
    (cell,) = [c for c in cells_of("tabs-same-text") if "Mac, Linux" in c]
    assert cell.count("Open a terminal and run `docker version`.") == 1
    assert cell.index("**▸ Mac, Linux**") < cell.index("**▸ Windows**")
    nested = next(c for c in cells_of("tabs-same-text") if "▸ PowerShell" in c)
    assert "**▸ Mac / Linux**" in nested
    assert "The folder's files are listed." in nested


def test_no_hugo_syntax_is_left_in_the_text() -> None:
    """Defect 7: attribute lists, fence attributes, grids and details."""
    built = build_in_root(sorted((CASES / "ok").glob("*.md")))
    quotes = "\n".join(cells_of("attribute-lists", built))
    assert "> 📝 **Note**\n>\n> **Requiring authentication**" in quotes
    assert "> ⚠️ **Warning**\n>\n> **Ports**" in quotes
    assert "{" not in quotes
    fences = "\n".join(cells_of("fence-attributes", built))
    assert "📄 *Dockerfile*\n\n```dockerfile\nFROM node:22-alpine" in fences
    assert "   📄 *compose.yaml*\n\n   ```yaml\n   services:" in fences
    assert "hl_lines" not in fences
    grid = "\n".join(cells_of("grid", built))
    assert "- [**Get Docker**](https://docs.docker.com/get-started/get-docker/): Choose" in grid
    assert "- [**Other lesson**](other-lesson.ipynb): A lesson built with this one, over" in grid
    details = COMMONMARK.render("\n".join(cells_of("details", built)))
    assert '<pre><code class="language-console">$ docker ps --all' in details
    assert "<p>It lists <strong>stopped</strong> containers too.</p>" in details
    assert "<p>Use <code>docker rm</code>.</p>" in details
    lesson = built[Path("out/attribute-lists.ipynb")][0]
    assert [w.message for w in lesson.warnings if "attribute" in w.message] == [
        "attribute list { #stream } has no meaning in a notebook; left out",
        "attribute list {: .custom-class} has no meaning in a notebook; left out",
    ]
