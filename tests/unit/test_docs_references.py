"""Text that names code stays true: every ``dockdojo.runner...`` reference in a docstring,
comment or schema, and every ``runner/...``, ``widgets/...`` or ``tests/...`` path in the
README and the code, names something that exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        *ROOT.glob("runner/**/*.py"),
        *ROOT.glob("runner/schemas/*.json"),
        *ROOT.glob("widgets/*.py"),
        ROOT / "README.md",
    ]
)
DOTTED = re.compile(r"\bdockdojo\.(?:runner|widgets)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
PATH = re.compile(r"(?<![\w/.])((?:runner|widgets|tests)/[\w./-]+\.(?:py|json|sh|md))")


def _resolve(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(value, name):
                return False
            value = getattr(value, name)
        return True
    return False


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dotted_references_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    missing = sorted({m for m in DOTTED.findall(text) if not _resolve(m)})
    assert not missing, f"{path.relative_to(ROOT)} names what does not exist: {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_file_paths_exist(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    missing = sorted(
        {
            m
            for m in PATH.findall(text)
            if not (ROOT / m).exists() and "*" not in m and "X" not in Path(m).stem
        }
    )
    assert not missing, f"{path.relative_to(ROOT)} names files that do not exist: {missing}"
