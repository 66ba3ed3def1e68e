"""The grader's memory, whatever a kernel sends: a real kernel (ipykernel, no engine)
sends messages over the cap on its channels; zmq refuses each as its size arrives, the
kernel is stopped, and the grader's peak memory barely moves."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager

from dockdojo.runner.grading.execute import execute
from dockdojo.runner.grading.options import GradeOptions

FLOOD = (
    "from IPython.display import display\n"
    "for _ in range(40):\n"
    "    display({'text/plain': 'x' * (80 << 20)}, raw=True)\n"
)


class LocalPlace:
    """A kernel of the grader's own Python, as the test's user: the place's contract and
    nothing of isolation (tested for real in tests/grading/)."""

    docker_host = "unix:///nonexistent/docker.sock"
    journal: Path | bool = False
    since = 0.0
    salt: str | None = None

    def __init__(self, work: Path) -> None:
        self.cwd = work
        self.reason: str | None = None
        self.km: AsyncKernelManager | None = None

    def kernel_manager(self, kernel: str) -> AsyncKernelManager:
        self.km = AsyncKernelManager(
            kernel_name=kernel, transport="ipc", ip=str(self.cwd / "kernel")
        )
        return self.km

    def give(self, files: dict[str, Path]) -> None:
        """No lesson's files here."""

    def environment(self) -> dict[str, str]:
        return {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.cwd / "runtime")}

    def kill(self, reason: str) -> None:
        self.reason = self.reason or reason
        pid = getattr(self.km.provisioner, "pid", None) if self.km else None
        if pid:
            os.kill(pid, signal.SIGKILL)

    def end(self) -> None:
        """Nothing is left: the kernel was shut down."""

    def stopped_for(self) -> str | None:
        return self.reason


def _notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/self/status")


def _current_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_a_kernel_sending_40_messages_of_40_mb_is_stopped_and_the_grader_stays_small(
    tmp_path: Path,
) -> None:
    options = GradeOptions(lesson=None, cell_timeout=60, submission_timeout=120)  # type: ignore[arg-type]
    place = LocalPlace(tmp_path)
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from now
    before = _current_kb()
    ran = execute(_notebook("print('before')", FLOOD, "print('after')"), place, options)
    grew_mb = (_peak_kb() - before) / 1024
    assert ran.status == "kernel-died", ran
    assert f"sent a message over {options.max_message_mb} MB while cell 2 of 3" in ran.message
    assert "its kernel was stopped" in ran.message
    assert ran.cells_run == 2
    assert grew_mb < 150, f"the grader grew by {grew_mb:.0f} MB (3200 MB were sent)"


def test_messages_under_the_cap_run_as_before(tmp_path: Path) -> None:
    options = GradeOptions(lesson=None, max_message_mb=4)  # type: ignore[arg-type]
    cell = (
        "from IPython.display import display\n"
        "for n in range(200):\n"
        "    display(n)\n"
        "display({'text/plain': 'y' * (3 << 20)}, raw=True)\n"
    )
    ran = execute(_notebook(cell, "print('after')"), LocalPlace(tmp_path), options)
    assert ran.status == "graded", ran
    assert ran.cells_run == 2
