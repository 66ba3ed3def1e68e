"""Headless widgets (``DOCKDOJO_WIDGETS_HEADLESS=1``, set for graded kernels): built and
working as usual in a real kernel, with no comm message sent to a frontend."""

from __future__ import annotations

import os
from typing import Any

import nbformat
from nbclient import NotebookClient

CELL = (
    "import ipywidgets\n"
    "import dockdojo.widgets\n"
    "button = ipywidgets.Button(description='Pull')\n"
    "button.description = 'Pull again'\n"
    "print(button.description)\n"
)


class Counting(NotebookClient):
    """nbclient, counting the comm messages the kernel sends (a test's own client)."""

    comms = 0

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        if msg["msg_type"].startswith("comm_"):
            self.comms += 1
        return super().process_message(msg, cell, cell_index)


def run(headless: bool) -> tuple[int, str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    env = {k: v for k, v in os.environ.items() if k != "DOCKDOJO_WIDGETS_HEADLESS"}
    if headless:
        env["DOCKDOJO_WIDGETS_HEADLESS"] = "1"
    client = Counting(nb, timeout=60, kernel_name="python3")
    client.execute(env=env)
    return client.comms, "".join(o.get("text", "") for o in nb.cells[0].outputs)


def test_headless_widgets_send_nothing_and_still_work() -> None:
    shown, printed = run(headless=False)
    assert shown >= 3  # the button, its layout and its style, then the update
    assert printed == "Pull again\n"
    silent, printed = run(headless=True)
    assert silent == 0
    assert printed == "Pull again\n"
