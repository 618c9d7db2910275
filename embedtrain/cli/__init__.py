"""The ``embedtrain`` command line: a thin layer over the library.

``app`` holds the click group ``main`` and what every command shares; each other
module adds one command group (importing it registers the commands).
"""
from . import align, export, graph, plot, query, report, train, words  # noqa: F401  (registers the commands)
from .app import main

__all__ = ["main"]
