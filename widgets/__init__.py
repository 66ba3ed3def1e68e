"""dockdojo's notebook UI: ipywidgets over :mod:`dockdojo.runner`."""

from .console import ExecConsole
from .containers import ContainerCard, RunWidget
from .images import DeleteWidget, ImagesWidget
from .lesson import CheckPanel, Lesson, ProgressPanel
from .pull import PullWidget

__all__ = [
    "CheckPanel",
    "ContainerCard",
    "DeleteWidget",
    "ExecConsole",
    "ImagesWidget",
    "Lesson",
    "ProgressPanel",
    "PullWidget",
    "RunWidget",
]
