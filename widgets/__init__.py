"""dockdojo's notebook UI: ipywidgets over :mod:`dockdojo.runner`."""

from dockdojo.runner import widgets_headless

from .common import silence_comms

if widgets_headless():  # a graded kernel: nobody sees the widgets
    silence_comms()

from .build import ProjectWidget
from .console import ExecConsole
from .containers import ContainerCard, RunWidget
from .images import DeleteWidget, ImagesWidget
from .lesson import WIDGETS, CheckPanel, LessonView, ProgressPanel
from .panel import ContainersWidget
from .pull import PullWidget
from .stores import NetworksWidget, VolumeFiles, VolumesWidget

__all__ = [
    "WIDGETS",
    "CheckPanel",
    "ContainerCard",
    "ContainersWidget",
    "DeleteWidget",
    "ExecConsole",
    "ImagesWidget",
    "LessonView",
    "NetworksWidget",
    "ProgressPanel",
    "ProjectWidget",
    "PullWidget",
    "RunWidget",
    "VolumeFiles",
    "VolumesWidget",
]
