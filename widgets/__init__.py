"""dockdojo's notebook UI: ipywidgets over :mod:`dockdojo.runner`."""
