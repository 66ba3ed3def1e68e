"""dockdojo's notebook UI: ipywidgets over :mod:`dockdojo.runner`."""

from .console import ExecConsole
from .containers import ContainerCard, RunWidget
from .images import DeleteWidget, ImagesWidget
from .lesson import WIDGETS, CheckPanel, LessonView, ProgressPanel
from .pull import PullWidget

__all__ = [
    "WIDGETS",
    "CheckPanel",
    "ContainerCard",
    "DeleteWidget",
    "ExecConsole",
    "ImagesWidget",
    "LessonView",
    "ProgressPanel",
    "PullWidget",
    "RunWidget",
]
