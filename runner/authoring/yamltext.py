"""YAML as lessons may write it: front matter and step declarations.

PyYAML's safe loader expands aliases (``*name``), so a few lines of anchors and aliases
("billion laughs") become gigabytes once the builder turns the values into text, and its
composer recurses once per nesting level, so ``[[[[...]]]]`` ends in a RecursionError.
:func:`load` refuses both: anchors and aliases are not YAML a lesson needs, and no lesson
nests deeper than :data:`MAX_DEPTH`. A refusal is a :class:`Refused` (a
``yaml.MarkedYAMLError``, so it carries the line like any other YAML error).
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 32
"""How deeply collections may nest in a lesson's YAML."""


class Refused(yaml.MarkedYAMLError):
    """YAML that is well formed but not accepted in a lesson (an alias, deep nesting)."""


class _Loader(yaml.SafeLoader):
    """The safe loader, without anchors or aliases and with bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise Refused(
                None,
                None,
                "YAML anchors and aliases (&name, *name) are not accepted in a lesson; "
                "write each value out in full",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refused(
                    None,
                    None,
                    f"the YAML nests more than {MAX_DEPTH} levels deep; "
                    "flatten it (a lesson needs a few levels)",
                    event.start_mark,
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def load(text: str) -> tuple[Any, yaml.Node | None]:
    """The one YAML document in ``text`` as Python data, and its node (for line numbers).

    Raises ``yaml.YAMLError`` (:class:`Refused` for anchors, aliases, deep nesting).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
        return data, node
    finally:
        loader.dispose()


__all__ = ["MAX_DEPTH", "Refused", "load"]
