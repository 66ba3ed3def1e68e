"""Pages that would hang the builder or fill the memory if a guard were missing: YAML
alias bombs ("billion laughs"), include chains that double at every level, includes of a
pipe, a page that is a device, lines of hundreds of KiB that regular expressions could
scan again and again, and deeply nested Markdown.

Each is built by ``dockdojo build`` in a subprocess whose address space is limited
(:data:`MEMORY`) and which is killed after :data:`TIMEOUT` seconds, so a missing guard
fails the test instead of hanging it. The cases are built a few at once (the module's
fixture), and each test waits for its own; each asserts the exit code, the ``file:line`` message,
that no traceback was printed, and how long the build took and how much memory it used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

MEMORY = 1 << 30
"""The address space each build may use (RLIMIT_AS)."""
TIMEOUT = 60.0
"""Seconds after which a build counts as hanging (the slowest case takes about 8 s)."""

_CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from dockdojo.runner.cli import main
started = time.monotonic()
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("bounds.json", "w") as out:
    json.dump({{"seconds": time.monotonic() - started, "peak_mib": usage.ru_maxrss >> 10}}, out)
sys.exit(code)
"""


def laughs(key: str) -> str:
    """A front matter whose ``key`` expands to 10**9 strings, from 12 lines."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "---\n" + "\n".join(lines) + f"\n{key}: *a8\n---\n\n# Bomb\n"


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def alias_bomb(key: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        write(folder, {"page.md": laughs(key)})
        return ["page.md"]

    return make


def alias_bomb_in_a_step(folder: Path) -> list[str]:
    lines = laughs("images").split("---")[1].strip()
    step = "```{step} pull\ntitle: Pull\naction: pull\n" + lines + "\nchecks: []\n```\n"
    write(folder, {"page.md": f"# Step\n\n{step}"})
    return ["page.md"]


def doubling_include_chain(folder: Path) -> list[str]:
    """25 levels, each including the next twice: 2**25 copies of the last."""
    twice = '{{{{< include "level{}.md" >}}}}\n\n' * 2
    files = {f"_includes/level{i}.md": twice.format(i + 1, i + 1) for i in range(25)}
    files["_includes/level25.md"] = "Bottom.\n"
    files["page.md"] = '# Chain\n\n{{< include "level0.md" >}}\n'
    write(folder, files)
    return ["page.md"]


def wide_include_tree(folder: Path) -> list[str]:
    """6 levels, each including the next 30 times: 30**6 includes, none deeper than 8."""
    many = '{{{{< include "w{0}.md" >}}}}\n\n' * 30
    files = {f"_includes/w{i}.md": many.format(i + 1) for i in range(6)}
    files["_includes/w6.md"] = ""
    files["page.md"] = '# Wide\n\n{{< include "w0.md" >}}\n'
    write(folder, files)
    return ["page.md"]


def include_of_a_pipe(folder: Path) -> list[str]:
    write(folder, {"page.md": '# Pipe\n\n{{< include "pipe.md" >}}\n'})
    (folder / "_includes").mkdir()
    os.mkfifo(folder / "_includes" / "pipe.md")  # opening it would wait for a writer
    return ["page.md"]


def page_that_is_a_pipe(folder: Path) -> list[str]:
    (folder / "content").mkdir()
    os.mkfifo(folder / "content" / "pipe.md")
    return ["content/pipe.md"]


def page_that_links_to_dev_zero(folder: Path) -> list[str]:
    (folder / "content").mkdir()
    (folder / "content" / "zero.md").symlink_to("/dev/zero")
    return []  # every content/*.md


def huge_line(unit: str) -> Callable[[Path], list[str]]:
    """A page whose one line is ``unit`` repeated to 256 KiB."""

    def make(folder: Path) -> list[str]:
        write(folder, {"page.md": "# Huge\n\n" + unit * ((256 << 10) // len(unit)) + "\n"})
        return ["page.md"]

    return make


def huge_fence_attributes(folder: Path) -> list[str]:
    """A code fence whose attribute list is 256 KiB of unclosed ``a=[``."""
    attributes = "a=[" * ((256 << 10) // 3)
    write(folder, {"page.md": f"# Huge\n\n```sh {{{attributes}}}\necho hi\n```\n"})
    return ["page.md"]


def nested_quotes(folder: Path) -> list[str]:
    write(folder, {"page.md": "# Deep\n\n" + ">" * 200_000 + " deep\n"})
    return ["page.md"]


def nested_lists(folder: Path) -> list[str]:
    write(folder, {"page.md": "# Deep\n\n" + "".join("  " * i + "- item\n" for i in range(600))})
    return ["page.md"]


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], list[str]]
    """Writes the hostile files into a folder; the paths to build (none: content/*.md)."""
    code: int
    """The exit code expected."""
    says: str
    """A line the build must print on stderr."""


REFUSED = "YAML anchors and aliases (&name, *name) are not accepted in a lesson"
CASES = {
    "alias-bomb-in-title": Case(
        alias_bomb("title"), 1, f"page.md:2: in the front matter: {REFUSED}"
    ),
    "alias-bomb-in-description": Case(
        alias_bomb("description"), 1, f"page.md:2: in the front matter: {REFUSED}"
    ),
    "alias-bomb-in-keywords": Case(
        alias_bomb("keywords"), 1, f"page.md:2: in the front matter: {REFUSED}"
    ),
    "alias-bomb-in-a-step": Case(alias_bomb_in_a_step, 1, f"page.md:6: in step 'pull': {REFUSED}"),
    "doubling-include-chain": Case(
        doubling_include_chain,
        1,
        "page.md:3: in level0.md line 1: in level1.md line 1: in level2.md line 1: "
        "in level3.md line 1: in level4.md line 1: in level5.md line 1: in level6.md line 1: "
        "in level7.md line 1: included page 'level8.md' would nest includes more than 8 deep; "
        "include the shared text at fewer levels",
    ),
    "wide-include-tree": Case(
        wide_include_tree,
        1,
        "is one include too many: a page may make 200 includes, nested ones counted; "
        "include less, or split the page",
    ),
    "include-of-a-pipe": Case(
        include_of_a_pipe,
        1,
        "page.md:3: included page 'pipe.md' is a device or a pipe, not a Markdown file; "
        "include a Markdown file",
    ),
    "page-that-is-a-pipe": Case(
        page_that_is_a_pipe, 1, "content/pipe.md: is a device or a pipe, not a Markdown file"
    ),
    "page-that-links-to-dev-zero": Case(
        page_that_links_to_dev_zero, 1, "content/zero.md: is a link to /dev/zero, outside"
    ),
    "huge-line-of-image-openers": Case(huge_line("!["), 0, "wrote out/page.ipynb"),
    "huge-line-of-unclosed-links": Case(huge_line("[a]("), 0, "wrote out/page.ipynb"),
    "huge-line-of-unclosed-shortcodes": Case(huge_line("{{< a x="), 0, "wrote out/page.ipynb"),
    "huge-line-of-emphasis": Case(huge_line("*a"), 0, "wrote out/page.ipynb"),
    "huge-line-of-brackets": Case(huge_line("["), 0, "wrote out/page.ipynb"),
    "huge-line-of-reference-links": Case(huge_line("[x]["), 0, "wrote out/page.ipynb"),
    "huge-line-of-unclosed-iframes": Case(huge_line("<iframe "), 0, "wrote out/page.ipynb"),
    "huge-line-of-attribute-lists": Case(huge_line("{a="), 0, "wrote out/page.ipynb"),
    "huge-fence-attributes": Case(huge_fence_attributes, 0, "wrote out/page.ipynb"),
    "nested-quotes": Case(nested_quotes, 0, "wrote out/page.ipynb"),
    "nested-lists": Case(nested_lists, 0, "wrote out/page.ipynb"),
}


@dataclass(frozen=True)
class Finished:
    code: int | None
    """The exit code; None when the build was killed after :data:`TIMEOUT` seconds."""
    output: str
    """Its stdout and stderr."""
    bounds: dict[str, float]
    """``seconds`` the build took and its ``peak_mib`` of memory, as it measured them
    (empty when it ended in a traceback)."""


def run(name: str, folder: Path) -> Finished:
    """Build the case ``name`` in ``folder``, bounded."""
    paths = CASES[name].make(folder)
    argv = [sys.executable, "-c", _CHILD.format(memory=MEMORY), "build", *paths, "--out", "out"]
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return Finished(None, "", {})
    measured = folder / "bounds.json"  # missing when the build ended in a traceback
    bounds = json.loads(measured.read_text()) if measured.exists() else {}
    return Finished(done.returncode, done.stdout + done.stderr, bounds)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Finished]]]:
    """Every case's build, as many at once as there are processors (each one's time
    limit counts from its own start)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        yield {name: pool.submit(run, name, tmp_path_factory.mktemp(name)) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_page_is_refused_or_built_within_bounds(
    builds: dict[str, Future[Finished]], name: str
) -> None:
    finished = builds[name].result()
    if finished.code is None:
        pytest.fail(f"the build did not finish in {TIMEOUT:.0f} s: a guard is missing")
    assert "Traceback" not in finished.output, finished.output[-2000:]
    assert "MemoryError" not in finished.output
    assert finished.code == CASES[name].code, finished.output
    assert CASES[name].says in finished.output
    if finished.code:
        assert "1 problem(s); nothing was written." in finished.output  # said once
    assert finished.bounds["peak_mib"] < MEMORY >> 20
    print(f"{name}: {finished.bounds['seconds']:.2f} s, peak {finished.bounds['peak_mib']} MiB")
