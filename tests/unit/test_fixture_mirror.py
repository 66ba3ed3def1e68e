"""The fixture images are built from the Debian mirror the machine's apt uses, and only
from it: no address is built in."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "world" / "fixtures.py"


@pytest.fixture(scope="module")
def fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("world_fixtures", FIXTURES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["world_fixtures"] = module
    spec.loader.exec_module(module)
    return module


def _apt(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "sources.list.d").mkdir(exist_ok=True)
    return tmp_path


def test_the_mirror_comes_from_a_deb822_sources_file(fixtures: ModuleType, tmp_path: Path) -> None:
    apt = _apt(
        tmp_path,
        {
            "sources.list.d/debian.sources": (
                "Types: deb\nURIs: http://mirror.example/debian-security\n"
                "Suites: bookworm-security\n\n"
                "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
            )
        },
    )
    assert fixtures.debian_mirror(apt) == "http://mirror.example/debian"


def test_the_mirror_comes_from_a_one_line_sources_list(
    fixtures: ModuleType, tmp_path: Path
) -> None:
    apt = _apt(
        tmp_path,
        {
            "sources.list": (
                "# a comment\ndeb [signed-by=/usr/share/keyrings/k.gpg] http://m.example/debian "
                "bookworm main\n"
            )
        },
    )
    assert fixtures.debian_mirror(apt) == "http://m.example/debian"


def test_no_configured_mirror_says_so_and_how_to_add_one(
    fixtures: ModuleType, tmp_path: Path
) -> None:
    apt = _apt(
        tmp_path,
        {
            "sources.list.d/debian.sources.disabled": "Types: deb\nURIs: http://m.example/debian\n",
            "sources.list.d/other.list": "deb https://packages.example/apt stable main\n",
        },
    )
    with pytest.raises(SystemExit) as exc:
        fixtures.debian_mirror(apt)
    message = str(exc.value)
    assert "no Debian mirror is configured" in message
    assert "URIs:" in message
    assert "apt-get update" in message
    assert "deb.debian.org" not in message
