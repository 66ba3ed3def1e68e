"""The arguments a lesson's actions and checks take, as data.

A :class:`Schema` says which arguments one kind of action or check takes;
:func:`problems` says, in sentences, what is wrong with a declaration. The kinds
themselves (what each one does, checks, shows) are entries of :mod:`dockdojo.runner.kinds`;
the parser is handed their schemas as a :class:`KindTable`, so authoring a lesson needs
no engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One argument of an action or a check."""

    name: str
    """Key in the declaration."""
    type: str
    """``str``, ``int``, ``number``, ``bool``, ``port``, ``argv`` (list of strings),
    ``strings``, ``map``."""
    required: bool = False
    """Whether the declaration must give it."""
    doc: str = ""
    """One line for lesson authors."""


@dataclass(frozen=True)
class Schema:
    """The schema of one action or check kind."""

    kind: str
    """Its name in declarations."""
    summary: str
    """What it does, for lesson authors."""
    params: tuple[Param, ...] = ()
    """Its arguments."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of which at least one argument must be given (e.g. ``image`` or ``name``)."""


CHECK_FIELDS = {"check", "hint", "points"}
"""Keys of a check declaration that are not the check's own arguments."""


@dataclass(frozen=True)
class KindTable:
    """The schemas of every action and check kind, by name, as the parser needs them."""

    actions: Mapping[str, Schema]
    """Action kinds, in the order lesson authors see them listed."""
    checks: Mapping[str, Schema]
    """Check kinds, likewise."""


def problems(spec: Schema, args: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``args`` for ``spec``, as sentences (empty when all is well)."""
    known = {p.name: p for p in spec.params}
    out = [
        f"{spec.kind} has no argument {key!r} (it takes: {', '.join(known) or 'no arguments'})"
        for key in args
        if key not in known
    ]
    for param in spec.params:
        if param.required and param.name not in args:
            out.append(f"{spec.kind} needs {param.name!r} ({param.doc or param.type})")
        elif param.name in args and not _fits(param.type, args[param.name]):
            out.append(
                f"{spec.kind}: {param.name!r} must be {_TYPE_WORDS[param.type]}, "
                f"not {args[param.name]!r}"
            )
    for group in spec.one_of:
        if not any(name in args for name in group):
            out.append(f"{spec.kind} needs one of {', '.join(repr(g) for g in group)}")
    return out


_TYPE_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "bool": "true or false",
    "number": "a number such as 0.5",
    "port": "a port number such as 80 or 80/tcp",
    "argv": "a list of strings",
    "strings": "a list of strings",
    "map": "a mapping",
}


def _fits(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "port":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.split("/")[0].isdigit()
        )
    if kind in ("argv", "strings"):
        return (
            isinstance(value, list)
            and all(isinstance(v, str) for v in value)
            and (kind == "strings" or bool(value))
        )
    if kind == "map":
        return isinstance(value, dict)
    raise AssertionError(f"unknown parameter type {kind}")
