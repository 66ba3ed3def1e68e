"""The actions and checks a lesson may declare, as Markdown for lesson authors.

``dockdojo kinds`` prints it, and the README's list is this text (a test compares them),
so the documentation is made from the table entries themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..authoring.declarations import Param
from .base import ActionKind, CheckKind


def reference_markdown(actions: Mapping[str, ActionKind], checks: Mapping[str, CheckKind]) -> str:
    """Two Markdown tables: every action kind, then every check kind, in table order."""
    lines = ["| action | what it does | arguments |", "|---|---|---|"]
    lines += [
        f"| `{a.name}` | {_cell(a.summary)} | {_arguments(a.params, a.one_of)} |"
        for a in actions.values()
    ]
    lines += ["", "| check | what it checks | arguments |", "|---|---|---|"]
    lines += [
        f"| `{c.name}` | {_cell(c.summary)} | {_arguments(c.params, c.one_of)} |"
        for c in checks.values()
    ]
    return "\n".join(lines) + "\n"


def _arguments(params: Iterable[Param], one_of: Iterable[Iterable[str]]) -> str:
    words = [
        f"`{p.name}`{' (required)' if p.required else ''}" + (f": {_cell(p.doc)}" if p.doc else "")
        for p in params
    ]
    words += ["one of " + " or ".join(f"`{n}`" for n in group) + " is needed" for group in one_of]
    return "; ".join(words) or "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = ["reference_markdown"]
