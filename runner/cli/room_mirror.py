"""``dockdojo room mirror ...``."""

from __future__ import annotations

import argparse


def add_commands(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mirror`` to ``dockdojo room``'s command groups."""
    groups.add_parser("mirror", help="(not yet available)")


__all__ = ["add_commands"]
