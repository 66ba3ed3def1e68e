"""A Hugo site around a page: its root, its configuration's ``params``, and the
``param`` shortcode filled in from them.

A Hugo site is a folder with ``content/`` beside a ``hugo.yaml`` (or ``hugo.yml``,
``hugo.toml``, ``config.yaml``, ``config.toml``). ``{{% param "name" %}}`` (and
``{{< param name >}}``) is looked up the way Hugo's ``.Param`` does: in the page's front
matter (its ``params:`` map, then its top level), then in the site configuration's
``params:``; a dotted name (``example.go``) walks nested maps.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from . import yamltext
from .sources import real, shown_path

HUGO_CONFIGS = ("hugo.yaml", "hugo.yml", "hugo.toml", "config.yaml", "config.toml")
PARAM = re.compile(r"\{\{([<%])\s*param\s+(\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'%>}]+)\s*[%>]\}\}")
"""``{{% param "name" %}}``, ``{{< param name >}}``."""


def site_config(root: Path) -> Path | None:
    """The configuration file of the Hugo site at ``root``, if it is one."""
    if not (root / "content").is_dir():
        return None
    return next((root / c for c in HUGO_CONFIGS if (root / c).is_file()), None)


def site_root(page: Path) -> Path | None:
    """The Hugo site a page is in: the folder above its ``content/`` with a configuration."""
    resolved = real(page)
    for parent in resolved.parents:
        if parent.name == "content" and site_config(parent.parent) is not None:
            return parent.parent
    return None


def site_pages(root: Path) -> list[Path]:
    """Every page of the Hugo site at ``root``: the ``.md`` files under ``content/``,
    without the shared parts (``content/includes/``, ``_includes/`` and other folders
    starting with ``_`` or ``.``), READMEs, and files starting with ``_`` other than
    ``_index.md``."""
    content = root / "content"
    pages = []
    for path in sorted(content.rglob("*.md")):
        folders = path.relative_to(content).parts[:-1]
        if folders[:1] == ("includes",) or any(f.startswith(("_", ".")) for f in folders):
            continue
        if path.name.startswith((".", "_")) and path.name != "_index.md":
            continue
        if path.stem.lower() != "readme":
            pages.append(path)
    return pages


@lru_cache(maxsize=32)
def _params_of(config: Path) -> tuple[dict[str, Any], str]:
    """``params:`` of a configuration file, and what was wrong with it ("" when fine)."""
    shown = shown_path(config)
    try:
        text = config.read_text(encoding="utf-8")
        data = tomllib.loads(text) if config.suffix == ".toml" else yamltext.load(text)[0]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"{shown} cannot be read ({exc}); the site's params are not used"
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else getattr(exc, "lineno", 0)
        reason = str(getattr(exc, "problem", None) or exc).split("\n")[0]
        return {}, f"{shown}:{line}: {reason}; the site's params are not used"
    params = data.get("params") if isinstance(data, dict) else None
    if params is not None and not isinstance(params, dict):
        return {}, f"{shown}: params is not a mapping; the site's params are not used"
    return (params or {}), ""


def site_params(page: Path) -> tuple[dict[str, Any], str]:
    """The ``params:`` of the site ``page`` is in (empty outside a site), and a problem
    with the configuration ("" when none)."""
    root = site_root(page)
    config = site_config(root) if root else None
    return _params_of(config) if config else ({}, "")


def _lookup(data: Mapping[str, Any], name: str) -> Any:
    value: Any = data
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        found = next((v for k, v in value.items() if str(k).lower() == part.lower()), None)
        if found is None:
            return None
        value = found
    return value


def param_value(name: str, front: Mapping[str, Any], site: Mapping[str, Any]) -> tuple[Any, str]:
    """A param's value and where it was found (``page`` or ``site``); (None, "") if unknown."""
    page_params = front.get("params")
    for where, data in (
        ("page", page_params if isinstance(page_params, Mapping) else {}),
        ("page", front),
        ("site", site),
    ):
        value = _lookup(data, name)
        if value is not None:
            return value, where
    return None, ""


def fill_params(
    text: str,
    first_line: int,
    lookup: Callable[[str], tuple[Any, str]],
    warn: Callable[[int, str], None],
    note: Callable[[int, str, bool], None],
) -> str:
    """Every ``param`` shortcode in ``text`` (whose first line is ``first_line``) replaced
    by its value, in code as in prose; an unknown one is warned about and shown as
    ``⟨param NAME⟩``. A value never adds lines, so line numbers stay the source's."""

    def one(match: re.Match[str]) -> str:
        line = first_line + text.count("\n", 0, match.start())
        name = match.group(2).strip("\"'")
        value, where = lookup(name)
        if value is None:
            warn(
                line,
                f"param {name!r} is in neither the page's front matter nor the site's params; "
                f"shown as ⟨param {name}⟩",
            )
            return f"⟨param {name}⟩"
        if isinstance(value, (Mapping, list)):
            kind = "a list" if isinstance(value, list) else "a map"
            warn(
                line,
                f"param {name!r} in the {where} is {kind}, not a value; shown as ⟨param {name}⟩",
            )
            return f"⟨param {name}⟩"
        note(line, f"param (from the {where})", False)
        if isinstance(value, bool):
            return str(value).lower()
        return " ".join(str(value).split("\n")).strip()

    return PARAM.sub(one, text)


__all__ = [
    "HUGO_CONFIGS",
    "PARAM",
    "fill_params",
    "param_value",
    "site_config",
    "site_pages",
    "site_params",
    "site_root",
]
