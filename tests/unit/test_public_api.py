"""The public surface of ``dockdojo.runner``: what it exports, and what importing it costs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import dockdojo.runner as runner

RUNNER_INIT = Path(runner.__file__)


def _type_checking_imports() -> dict[str, str]:
    """Name -> submodule, from the ``if TYPE_CHECKING:`` block of runner/__init__.py."""
    tree = ast.parse(RUNNER_INIT.read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_every_exported_name_resolves_to_the_object_its_module_defines() -> None:
    import importlib

    where = _type_checking_imports()
    assert set(where) == set(runner.__all__)
    for name in runner.__all__:
        module = importlib.import_module(f"dockdojo.runner.{where[name]}")
        assert getattr(runner, name) is getattr(module, name), name


def test_nothing_public_is_missing_from_all() -> None:
    import types

    for name in runner.__all__:
        getattr(runner, name)
    public = {
        n
        for n, v in vars(runner).items()
        if not n.startswith("_")
        and not isinstance(v, types.ModuleType)
        and n not in ("annotations", "Any", "TYPE_CHECKING", "importlib")
    }
    assert public == set(runner.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        runner.no_such_thing  # noqa: B018


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_runner_does_not_import_ipywidgets() -> None:
    loaded = _loaded_after(
        "import dockdojo.runner as r, dockdojo.runner.cli; r.Engine; "
        "r.load_lesson; r.check_lesson; import dockdojo.runner.grading"
    )
    assert "ipywidgets" not in loaded


def test_the_command_line_starts_without_docker_nbformat_or_markdown() -> None:
    loaded = _loaded_after("import dockdojo.runner.cli as c; c.build_parser()")
    assert not loaded & {
        "docker",
        "requests",
        "nbformat",
        "nbclient",
        "markdown_it",
        "yaml",
        "jsonschema",
    }


def test_authoring_a_lesson_needs_no_engine_and_no_nbformat() -> None:
    loaded = _loaded_after(  # every action and check is unknown here: parsed, then refused
        "import contextlib, dockdojo.runner.authoring as a; "
        "from dockdojo.runner.errors import LessonError\n"
        "with contextlib.suppress(LessonError): a.load_lesson('what-is-an-image', "
        "a.KindTable({}, {}))"
    )
    assert "markdown_it" in loaded
    assert not loaded & {"docker", "requests", "nbformat", "dockdojo.runner.engine"}
