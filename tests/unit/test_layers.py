"""The layers of ``runner/`` and ``widgets/``, read from their import statements.

Every import counts: module level, inside functions, and under ``TYPE_CHECKING``. The
public API (``runner/__init__.py``) stands above every layer and is checked on its own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "runner"
WIDGETS = ROOT / "widgets"

LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "text": set(),
    "environ": set(),
    "engine": {"errors", "text", "environ"},
    "privileged": {"errors"},
    "sandbox": {"errors", "text", "engine", "privileged"},
    "authoring": {"errors", "text"},
    "context": {"errors", "text", "environ", "engine", "authoring"},
    "beside": {"errors", "text"},
    "kinds": {"errors", "text", "engine", "authoring", "beside"},
    "lessons": {"errors", "text", "authoring", "kinds"},
    "workspace": {"errors", "text", "authoring", "kinds", "lessons"},
    "recheck": {"environ"},
    "room": {"errors", "text", "engine", "sandbox", "privileged", "context", "kinds", "lessons"},
    "mirror": {"errors", "text", "engine", "sandbox", "privileged", "authoring", "lessons", "room"},
    "hub": {
        "errors",
        "environ",
        "engine",  # follows the learners' engines' events (hub.follow)
        "sandbox",
        "privileged",
        "authoring",
        "context",
        "kinds",
        "lessons",
        "readiness",
        "room",
        "mirror",
    },
    "grading": {
        "errors",
        "text",
        "environ",
        "engine",
        "sandbox",
        "privileged",
        "authoring",
        "context",
        "kinds",
        "lessons",
        "room",
        "mirror",
    },
    "readiness": {"errors", "text", "engine", "authoring", "context"},
    "cli": {
        "errors",
        "text",
        "environ",
        "engine",
        "sandbox",
        "privileged",
        "authoring",
        "context",
        "kinds",
        "lessons",
        "grading",
        "workspace",
        "room",
        "mirror",
        "hub",
        "readiness",
    },
}
"""Each part of runner/, and the other parts it may import."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(RUNNER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["dockdojo", "runner", *parts])


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(path: Path, module: str) -> Iterator[tuple[str, bool]]:
    """(absolute module imported, whether at module level outside TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if _is_package(path) else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else []
                for name in [target, *names]:
                    yield name, id(node) in top_level
            else:
                yield str(node.module), id(node) in top_level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top_level


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] != ["dockdojo", "runner"] or len(parts) < 3:
        return None
    return parts[2]


def _runner_modules() -> list[tuple[Path, str]]:
    return [
        (p, _module_name(p)) for p in sorted(RUNNER.rglob("*.py")) if p != RUNNER / "__init__.py"
    ]


@pytest.mark.parametrize(
    ("path", "module"), _runner_modules(), ids=[m for _, m in _runner_modules()]
)
def test_each_layer_imports_only_the_layers_below_it(path: Path, module: str) -> None:
    own = _part(module)
    assert own in LAYERS, f"{module} is in no layer: add its folder to LAYERS"
    wrong = sorted(
        {
            m
            for m, _ in _imports(path, module)
            if m.startswith("dockdojo")
            and _part(m) != own
            and _part(m) not in LAYERS[own]
            and _part(m) in LAYERS
        }
    )
    assert not wrong, f"{module} ({own}) imports {wrong}"
    root = sorted({m for m, _ in _imports(path, module) if m == "dockdojo.runner"})
    assert not root, f"{module} imports the public API; inside runner, import the layer"
    assert not any(
        m.startswith(("ipywidgets", "dockdojo.widgets")) for m, _ in _imports(path, module)
    )


def _module_level_imports() -> dict[str, set[str]]:
    """Each module of runner/ and the modules of runner/ it imports at module level."""
    known = {m for _, m in _runner_modules()}
    graph: dict[str, set[str]] = {}
    for path, module in _runner_modules():
        graph[module] = {
            m for m, top in _imports(path, module) if top and m in known and m != module
        }
    for child in known:  # importing a.b imports a first
        package = child.rpartition(".")[0]
        if package in known:
            graph[child].add(package)
    return graph


def test_no_module_level_import_cycle_inside_runner() -> None:
    graph = _module_level_imports()
    state: dict[str, int] = {}

    def visit(node: str, chain: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = chain[chain.index(nxt) :] if nxt in chain else [nxt]
                # a package importing its own children is how packages work
                if not all(c.startswith(nxt + ".") or c == nxt for c in cycle):
                    raise AssertionError(" -> ".join([*cycle, nxt]))
            elif nxt not in state:
                visit(nxt, [*chain, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("path", sorted(WIDGETS.rglob("*.py")), ids=lambda p: p.name)
def test_widgets_use_only_the_public_api_of_runner(path: Path) -> None:
    module = "dockdojo.widgets." + path.stem
    used = sorted({m for m, _ in _imports(path, module) if m.startswith("dockdojo.runner")})
    assert all(m == "dockdojo.runner" for m in used), f"{path.name} imports {used}"
