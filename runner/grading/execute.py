"""Running a submission's notebook in a fresh kernel with nbclient, at its :class:`Place`.

The learner's copy is never trusted: its outputs, execution counts and widget state are
dropped before the run; each cell and the whole run have a time limit, each cell's output
is kept up to ``max_output`` bytes, and however the run ends (a limit, a dead kernel, an
error) the outcome is an :class:`Execution`, never an exception.

The kernel's channels are capped too, before nbclient sees a byte: zmq refuses any
message over ``max_message_mb`` as its size arrives (``MAXMSGSIZE``, by dropping the
channel) and holds at most :data:`QUEUED` messages unread per channel, so whatever the
kernel sends, the grader holds a bounded amount of it; a dropped channel stops the
kernel (:class:`ChannelWatch`) and the run's message says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.client import KernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from zmq.utils.monitor import recv_monitor_message

from .options import GradeOptions
from .places import Place
from .reports import Status


@dataclass(frozen=True)
class Execution:
    """How running a submission went."""

    status: Status
    """``graded`` (ran to the end), ``timeout``, ``kernel-died`` or ``error``."""
    message: str
    """A sentence for the learner and the instructor."""
    cells_run: int
    """Code cells that started."""
    cells_total: int
    """Code cells in the notebook."""


def execute(nb: nbformat.NotebookNode, place: Place, options: GradeOptions) -> Execution:
    """Run a copy of the notebook in a fresh kernel at ``place`` (``nb`` stays as the
    learner submitted it, for their feedback)."""
    nb = nbformat.from_dict(copy.deepcopy(nb))
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:  # nothing the learner's copy recorded is kept or trusted
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.pop("widgets", None)
    started = [0]
    try:
        km = place.kernel_manager(options.kernel)
        cap_channels(km, options.max_message_mb << 20)
        client = CappedClient(
            nb,
            max_output=options.max_output,
            watch=ChannelWatch(lambda: place.kill("message")),
            km=km,
            timeout=options.cell_timeout,
            allow_errors=True,
            startup_timeout=60,
            record_timing=False,
            store_widget_state=False,
            resources={"metadata": {"path": str(place.cwd)}},
            on_cell_start=lambda cell, **_: _count(started, cell),
        )
        ran = _run(client, km, place, len(code), started, options)
        if not client.cut:
            return ran
        cells = ", ".join(str(n) for n in sorted(client.cut))
        return replace(
            ran,
            message=f"{ran.message} The output of code cell"
            f"{'s' if len(client.cut) > 1 else ''} {cells} was cut at "
            f"{options.max_output // 1000} kB; the rest was not kept.",
        )
    finally:
        _close_thread_loop()


class CappedClient(NotebookClient):
    """nbclient's client, keeping at most ``max_output`` bytes of each cell's output.

    Outputs past the limit are dropped as their messages arrive, and one line in the
    cell says so; :attr:`cut` holds the numbers (1-based, among code cells) of the cells
    that were cut.
    """

    def __init__(
        self,
        nb: nbformat.NotebookNode,
        *,
        max_output: int,
        watch: ChannelWatch | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(nb, **kwargs)
        self.max_output = max_output
        self.watch = watch
        """Watches the kernel's channels once they are open (None: no one does)."""
        self.cut: set[int] = set()
        self._kept: dict[int, int] = {}
        self._code_number = {
            index: number
            for number, index in enumerate(
                (i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 1
            )
        }

    async def async_start_new_kernel_client(self) -> KernelClient:
        kc = await super().async_start_new_kernel_client()
        if self.watch is not None:
            self.watch.start(kc)
        return kc

    def output(
        self,
        outs: list[nbformat.NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> nbformat.NotebookNode | None:
        size = len(json.dumps(msg.get("content", {}), default=str))
        kept = self._kept.get(cell_index, 0)
        if kept + size <= self.max_output:
            self._kept[cell_index] = kept + size
            result: nbformat.NotebookNode | None = super().output(outs, msg, display_id, cell_index)
            return result
        number = self._code_number.get(cell_index, cell_index + 1)
        if number not in self.cut:
            self.cut.add(number)
            outs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=f"[dockdojo: this cell printed more than {self.max_output // 1000} kB; "
                    "the rest of its output was not kept]\n",
                )
            )
        return None


QUEUED = 8
"""Messages of the kernel's that may wait unread on each channel (zmq's ``RCVHWM``); more
wait in the kernel's own memory (its cgroup's), never the grader's."""


def cap_channels(km: AsyncKernelManager, max_bytes: int) -> None:
    """Before ``km`` starts its kernel: every socket to the kernel, the manager's and its
    clients' (:class:`CappedKernelClient`), refuses a message over ``max_bytes`` and keeps
    at most :data:`QUEUED` unread."""
    km.context.setsockopt(zmq.MAXMSGSIZE, max_bytes)
    km.context.setsockopt(zmq.RCVHWM, QUEUED)
    km.client_factory = CappedKernelClient


class CappedKernelClient(AsyncKernelClient):
    """jupyter_client's client, on a zmq context of its own (as jupyter_client makes it,
    and ends it with the channels) whose sockets take its manager's options
    (:func:`cap_channels`)."""

    def _context_default(self) -> zmq.asyncio.Context:
        context = super()._context_default()
        if isinstance(self.parent, AsyncKernelManager):
            context.sockopts.update(self.parent.context.sockopts)
        return context


class ChannelWatch:
    """Calls ``stop`` when zmq drops a kernel channel while the kernel still holds it:
    the kernel sent a message over the cap (a kernel that ends is retried by zmq; a
    peer that sent too much is not)."""

    GRACE = 0.5
    """Seconds after a drop in which a retry says the kernel was gone instead."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, kc: KernelClient) -> None:
        """Watch ``kc``'s channels (from the thread that owns their sockets)."""
        # the readers share the channels' context: inproc addresses are per context
        context: zmq.Context[zmq.Socket[Any]] = zmq.Context.shadow(kc.context)
        readers = []
        channels = (kc.shell_channel, kc.iopub_channel, kc.stdin_channel, kc.control_channel)
        for n, channel in enumerate(channels):
            socket = getattr(channel, "socket", None)
            if socket is None:
                continue
            address = f"inproc://dockdojo-channel-{id(self)}-{n}"
            socket.monitor(address, zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED)
            reader = context.socket(zmq.PAIR)
            reader.connect(address)
            readers.append(reader)
        self._thread = threading.Thread(
            target=self._run, args=(readers,), name="dockdojo-channel-watch", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop watching (before the channels close, and before their context ends)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, readers: list[zmq.Socket[Any]]) -> None:
        poller = zmq.Poller()
        for reader in readers:
            poller.register(reader, zmq.POLLIN)
        dropped: dict[zmq.Socket[Any], float] = {}
        try:
            while not self._done.is_set():
                for reader, _ in poller.poll(100):
                    event = recv_monitor_message(reader)["event"]
                    if event == zmq.EVENT_DISCONNECTED:
                        dropped[reader] = time.monotonic()
                    else:  # retried: the kernel went away by itself
                        dropped.pop(reader, None)
                if any(time.monotonic() - t > self.GRACE for t in dropped.values()):
                    self._stop()
                    return
        finally:
            for reader in readers:
                reader.close(linger=0)


def _close_thread_loop() -> None:
    """Close the event loop jupyter_core made for this thread (it never closes its own)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running() and not loop.is_closed():
        loop.close()
    asyncio.set_event_loop(None)


def _count(counter: list[int], cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        counter[0] += 1


def _run(
    client: CappedClient,
    km: AsyncKernelManager,
    place: Place,
    total: int,
    started: list[int],
    options: GradeOptions,
) -> Execution:
    watchdog = threading.Timer(options.submission_timeout, lambda: place.kill("time"))
    watchdog.daemon = True
    watchdog.start()
    try:
        client.execute(env=place.environment(), cwd=str(place.cwd))
        return Execution("graded", "Every cell ran.", started[0], total)
    except CellTimeoutError:
        return Execution(
            "timeout",
            f"Cell {started[0]} of {total} ran longer than "
            f"{options.cell_timeout:g} s and was stopped; the cells "
            "after it did not run.",
            started[0],
            total,
        )
    except DeadKernelError:
        return _died(place.stopped_for(), started[0], total, options)
    except Exception as exc:  # a submission must never stop the batch
        reason = place.stopped_for()
        if reason is not None:
            return _died(reason, started[0], total, options)
        return Execution(
            "error",
            f"The notebook could not be run: {type(exc).__name__}: {str(exc).strip()[:300]}",
            started[0],
            total,
        )
    finally:
        watchdog.cancel()
        if client.watch is not None:
            client.watch.close()
        with contextlib.suppress(Exception):  # whatever state the kernel is in
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        if client.kc is not None:
            client.kc.stop_channels()
        km.context.destroy(linger=0)  # this manager's own context: no socket outlives it


def _died(reason: str | None, cell: int, total: int, options: GradeOptions) -> Execution:
    """The kernel is gone: a limit ended it, or it died by itself."""
    after = "; the cells after it did not run."
    if reason == "time":
        return Execution(
            "timeout",
            f"The notebook ran longer than {options.submission_timeout:g} s in all and was "
            "stopped.",
            cell,
            total,
        )
    if reason == "cpu":
        return Execution(
            "timeout",
            f"The notebook used more than {options.limits.cpu_seconds:g} s of CPU time "
            f"(cell {cell} of {total} was running) and was stopped{after}",
            cell,
            total,
        )
    if reason == "message":
        return Execution(
            "kernel-died",
            f"The notebook sent a message over {options.max_message_mb} MB while cell {cell} "
            f"of {total} ran; its kernel was stopped{after}",
            cell,
            total,
        )
    if reason == "memory":
        return Execution(
            "kernel-died",
            f"The notebook used all of its {options.limits.memory_mb} MB of memory while "
            f"cell {cell} of {total} ran, and the kernel was killed{after}",
            cell,
            total,
        )
    return Execution(
        "kernel-died",
        f"The kernel died while cell {cell} of {total} ran{after}",
        cell,
        total,
    )


__all__ = [
    "QUEUED",
    "CappedClient",
    "CappedKernelClient",
    "ChannelWatch",
    "Execution",
    "cap_channels",
    "execute",
]
