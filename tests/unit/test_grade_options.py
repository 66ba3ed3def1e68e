"""Grading's settings are declared once (``runner/grading/options.py``): ``dockdojo
grade``'s options, their defaults and the README's table are all made from there."""

from __future__ import annotations

import argparse
import ast
import os
import re
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from dockdojo.runner.cli import build_parser
from dockdojo.runner.cli.grade import settings_given
from dockdojo.runner.grading.options import (
    Confinement,
    Declared,
    GradeOptions,
    options_markdown,
    options_of,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(
    r"(<!-- grade options: generated from runner/grading/options.py -->\n)(.*?)"
    r"(<!-- grade options: end -->)",
    re.S,
)


def _grade_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices["grade"]
    return parser


def _parsed(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["grade", "ada.ipynb", "--lesson", "x", *argv])


def test_the_readme_lists_exactly_the_declared_settings() -> None:
    text = README.read_text(encoding="utf-8")
    found = BLOCK.search(text)
    assert found, "README.md has no generated table of dockdojo grade's options"
    expected = options_markdown()
    if os.environ.get("DOCKDOJO_UPDATE_SNAPSHOTS") and found.group(2) != expected:
        README.write_text(
            text[: found.start(2)] + expected + text[found.end(2) :], encoding="utf-8"
        )
    assert found.group(2) == expected, (
        "README.md's table of grade options is stale: run "
        "DOCKDOJO_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_grade_options.py"
    )


def test_every_declared_setting_is_an_option_of_the_command_with_its_help_and_default() -> None:
    actions = {a.dest: a for a in _grade_parser()._actions}
    declared = options_of(GradeOptions)
    assert [d.flag.name for d in declared] == [
        "--cell-timeout",
        "--timeout",
        "--max-output",
        "--max-message-mb",
        "--jobs",
        "--out",
        "--trusted",
        "--memory-mb",
        "--pids",
        "--cpu-seconds",
        "--disk-mb",
    ]
    for d in declared:
        action = actions[d.dest]
        assert action.option_strings == [d.flag.name]
        assert action.help is not None
        assert action.help.startswith(d.flag.help)
        if not isinstance(d.default(), bool):
            assert action.help.endswith(f"(default: {d.shown_default()})")


def test_options_left_out_keep_the_declared_defaults() -> None:
    given = settings_given(_parsed())
    assert given == {"jobs": os.cpu_count() or 1, "out": Path("grades")}  # the command's own
    limits = Confinement(**given.pop("limits", {}))
    options = GradeOptions(lesson=None, limits=limits, **given)  # type: ignore[arg-type]
    for d in options_of(GradeOptions):
        if d.flag.command_default is None:
            value = options if len(d.path) == 1 else getattr(options, d.path[0])
            assert getattr(value, d.path[-1]) == d.field.default, d.dest


def test_given_options_reach_their_settings() -> None:
    given = settings_given(
        _parsed("--timeout", "7", "--pids", "5", "--trusted", "--max-output", "10", "--jobs", "3")
    )
    assert given == {
        "submission_timeout": 7.0,
        "max_output": 10,
        "jobs": 3,
        "out": Path("grades"),
        "trusted": True,
        "limits": {"pids": 5},
    }


@pytest.mark.parametrize(
    "name", ["cell_timeout", "submission_timeout", "max_output", "max_message_mb"]
)
def test_settings_must_be_positive(name: str) -> None:
    from dockdojo.runner.errors import DockdojoError

    options = GradeOptions(lesson=None, **{name: 0})  # type: ignore[arg-type]
    with pytest.raises(DockdojoError, match=name):
        options.check()


def _documented(cls: type) -> set[str]:
    """Fields of ``cls`` with a docstring under them or declared with option(help)."""
    source = (ROOT / "runner" / "grading" / "options.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    found = set()
    for node, after in zip(body.body, [*body.body[1:], None], strict=True):
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        declared = isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == (
            "option"
        )
        docstring = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        if declared or docstring:
            found.add(node.target.id)
    return found


@pytest.mark.parametrize("cls", [GradeOptions, Confinement, Declared])
def test_every_setting_says_what_it_means_where_it_is_declared(cls: type) -> None:
    assert {f.name for f in fields(cls)} == _documented(cls)


def test_a_setting_has_one_default() -> None:
    for d in options_of(GradeOptions):
        has_own = d.field.default is not MISSING
        assert has_own, f"{d.dest} has no default of its own"
