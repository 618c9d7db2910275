"""The ``embedtrain`` command line: a thin layer over the library.

``app`` holds the click group ``main`` and what every command shares; each other
module adds one command group (importing it registers the commands), imported when one
of its commands is run or listed (``app.COMMAND_MODULES``).
"""
from .app import main, run

__all__ = ["main", "run"]
