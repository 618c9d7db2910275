"""The ``embedtrain`` command: a click group whose commands each call one library function.

Every command turns an :class:`~embedtrain.errors.EmbedtrainError` (bad input) into
one line on stderr and exit status 1, and Ctrl-C into exit status 130; no
traceback is shown unless ``-v`` is given twice.
"""
from __future__ import annotations

import functools
import importlib
import logging
import sys
from typing import Callable

import click

from .._version import __version__
from ..errors import EmbedtrainError

log = logging.getLogger("embedtrain")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

# Command modules, each adding its commands to ``main`` when imported.
COMMAND_MODULES = ("train", "query", "export", "words", "graph")


class _Verbosity:
    level = 0  # -1 quiet, 0 normal, 1 verbose, 2 debug (tracebacks)


def set_verbosity(verbose: int, quiet: bool) -> None:
    if quiet:
        _Verbosity.level = -1
    elif verbose:
        _Verbosity.level = max(_Verbosity.level, verbose)
    level = {-1: logging.ERROR, 0: logging.INFO}.get(_Verbosity.level, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if _Verbosity.level < 1
                                           else "%(asctime)s %(name)s: %(message)s"))
    root = logging.getLogger("embedtrain")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def quiet() -> bool:
    return _Verbosity.level < 0


def verbosity_options(func: Callable) -> Callable:
    """``-v/--verbose`` and ``-q/--quiet`` on a command (they also work before it)."""

    @click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: tracebacks).")
    @click.option("-q", "--quiet", is_flag=True, default=False, help="Print nothing but errors.")
    @functools.wraps(func)
    def wrapper(*args, verbose: int, quiet: bool, **kwargs):
        set_verbosity(verbose, quiet)
        return func(*args, **kwargs)

    return wrapper


def handle_errors(func: Callable) -> Callable:
    """Report bad input as one line and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EmbedtrainError as exc:
            if _Verbosity.level >= 2:
                raise
            click.echo(f"embedtrain: error: {exc}", err=True)
            sys.exit(EXIT_INTERRUPTED if "interrupted" in str(exc) else EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("embedtrain: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # `embedtrain ... | head`
            sys.stderr.close()
            sys.exit(0)
        except MemoryError:
            click.echo("embedtrain: error: out of memory", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


class _Group(click.Group):
    """A click group whose usage errors are one line, like every other error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
            click.echo(f"embedtrain: error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("embedtrain: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="embedtrain")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: tracebacks).")
@click.option("-q", "--quiet", is_flag=True, default=False, help="Print nothing but errors.")
def main(verbose: int, quiet: bool) -> None:
    """Train word embeddings (word2vec skip-gram/CBOW, GloVe, FastText) from raw text,
    evaluate them, and export them in the formats other tools read."""
    _Verbosity.level = 0  # each invocation starts from normal verbosity
    set_verbosity(verbose, quiet)


for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a command module not written yet
        if _exc.name != f"{__name__}.{_name}":
            raise
