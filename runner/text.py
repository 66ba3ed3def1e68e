"""Text for people, in one place: terminal output as plain text, text escaped for a
terminal, plurals, shortening, sizes. Every layer uses these; this module imports
nothing from dockdojo."""

from __future__ import annotations

import re
from collections.abc import Sequence

_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, bracketed paste
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles
    r"|\x1b[()][A-Za-z0-9]|\x1b[=>78DEHMc]"  # charset, keypad and other short escapes
)


def plain_text(raw: str) -> str:
    """Terminal output as plain text: control sequences removed, newlines as ``\\n``."""
    text = _CONTROL.sub("", raw).replace("\r\r\n", "\n").replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        # A carriage return starts the line again: what follows overwrites what was there.
        merged = ""
        for part in line.split("\r"):
            merged = part + merged[len(part) :]
        lines.append(merged)
    return "\n".join(lines).replace("\x07", "")


def escaped(text: str) -> str:
    """``text`` safe to print on a terminal, one line: every character that is not
    printable (control characters such as ESC, newlines and tabs, bidirectional and other
    format characters, line separators, lone surrogates from undecodable file names) is
    shown as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``, ``\\udcff``); the rest is
    kept as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 step``, ``2 steps`` (or ``plural_form`` when the noun is irregular)."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def shorten(text: str, limit: int = 160) -> str:
    """The first line of ``text``, cut to ``limit`` characters with ``...``."""
    stripped = text.strip()
    line = stripped.splitlines()[0] if stripped else text
    return line if len(line) <= limit else line[: limit - 3] + "..."


def snippet(text: str | None, limit: int = 200) -> str:
    """``text`` trimmed, cut to ``limit`` characters with ``...`` (newlines kept)."""
    trimmed = (text or "").strip()
    return trimmed if len(trimmed) <= limit else trimmed[: limit - 3] + "..."


def few(names: Sequence[str], limit: int = 8) -> str:
    """``a, b, c`` or ``a, b and 3 more``."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def human_bytes(n: int) -> str:
    """Sizes as Docker shows them: ``187.7 MB`` (decimal units)."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


__all__ = ["escaped", "few", "human_bytes", "plain_text", "plural", "shorten", "snippet"]
