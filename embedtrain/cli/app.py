"""The ``embedtrain`` click group and what every command shares: one-line errors,
verbosity options, signal handling. The commands live in the other modules of this
package, one per command group, and add themselves to :data:`main`.

Every command turns an :class:`~embedtrain.errors.EmbedtrainError` (bad input) or an
OSError into one line on stderr and exit status 1; no traceback is shown unless
``-v`` is given twice. Ctrl-C exits with status 130, SIGTERM and SIGHUP (what
``timeout``, docker, systemd and Slurm send) with 128 + the signal number (143,
129), after the same clean-up as Ctrl-C: temporary files are removed and no
partial output is left.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import logging
import os
import signal
import sys
import threading
from typing import Callable

import click

from .. import interrupts
from .._version import __version__
from ..errors import EmbedtrainError, TrainingInterrupted
from ..io.atomic import describe_os_error

log = logging.getLogger("embedtrain")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130          # Ctrl-C: 128 + SIGINT, as shells report it
SIGNAL_EXIT_BASE = 128          # SIGTERM -> 143, SIGHUP -> 129
# Signals handled like Ctrl-C (unless the process was started with them ignored: nohup).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


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


class _Stop:
    signum: int | None = None  # the stop signal received, if any


def _on_stop_signal(signum, frame) -> None:
    """SIGTERM/SIGHUP: stop like Ctrl-C (every clean-up path handles KeyboardInterrupt).
    Further stop signals are ignored so that the clean-up can finish."""
    _Stop.signum = signum
    interrupts.note(signum)   # if Python loses the KeyboardInterrupt, the job runner still stops
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_signals_as_interrupts():
    """Handle SIGTERM and SIGHUP like Ctrl-C while the command runs (main thread only;
    a signal the process was started with ignored stays ignored)."""
    _Stop.signum = None
    interrupts.clear()
    previous = {}
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            if signal.getsignal(sig) == signal.SIG_DFL:
                previous[sig] = signal.signal(sig, _on_stop_signal)
    try:
        with interrupts.noting_ctrl_c():
            yield
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)


def interrupted_exit() -> None:
    """One line and the exit status of a stop: 130 for Ctrl-C, 128 + N for signal N."""
    if _Stop.signum is not None:
        name = signal.Signals(_Stop.signum).name
        click.echo(f"embedtrain: interrupted by {name}: stopped, nothing written", err=True)
        sys.exit(SIGNAL_EXIT_BASE + _Stop.signum)
    click.echo("embedtrain: interrupted: stopped, nothing written", err=True)
    sys.exit(EXIT_INTERRUPTED)


def handle_errors(func: Callable) -> Callable:
    """Report bad input as one line and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TrainingInterrupted:
            interrupted_exit()
        except EmbedtrainError as exc:
            if _Verbosity.level >= 2:
                raise
            click.echo(f"embedtrain: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            interrupted_exit()
        except BrokenPipeError:  # `embedtrain ... | head`
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # a write path without its own message: still one line
            if _Verbosity.level >= 2:
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"embedtrain: error: {describe_os_error(exc)}{where}", err=True)
            sys.exit(EXIT_ERROR)
        except MemoryError:
            click.echo("embedtrain: error: out of memory", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


# --json on the commands that report numbers (query, graph and translation evaluations).
json_option = click.option("--json", "as_json", is_flag=True, default=False,
                           help="Print one JSON object on stdout.")

# The module of this package that adds each command. A command's module is imported when
# the command runs (or when the help lists them all), so that `embedtrain align` does not
# first import numba and every model family for `train` (0.3 s of start-up).
COMMAND_MODULES = {
    "train": "train",
    "eval": "query", "similar": "query", "analogy": "query",
    "export": "export",
    "align": "align", "eval-translation": "align",
    "vectors": "words",
    "walks": "graph", "eval-nodes": "graph", "eval-links": "graph",
    "plot": "plot",
    "report": "report",
    "sessions": "items", "eval-items": "items",
    "doc-vectors": "documents", "eval-classify": "documents",
    "compress": "compress",
    "classify": "classify",
}


# Commands that multiply no float matrices in this process (Ray's workers and reducers are
# processes of their own). numpy's OpenBLAS starts a thread per core as numpy loads, and they
# spin for a while: 0.1 s of CPU that a training run does not need (docs/benchmarks.md,
# "Fixed costs again, and an epoch's shorter last jobs").
ONE_BLAS_THREAD = frozenset({"train"})
BLAS_THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"


def import_numpy_one_blas_thread() -> None:
    """Load numpy with one OpenBLAS thread, unless it is loaded already or the user set the
    thread count: OpenBLAS reads the variable as it loads, so it is set only for the import
    and removed again (processes started later, Ray's among them, get the default)."""
    if "numpy" in sys.modules or BLAS_THREADS_VARIABLE in os.environ:
        return
    os.environ[BLAS_THREADS_VARIABLE] = "1"
    try:
        importlib.import_module("numpy")
    finally:
        os.environ.pop(BLAS_THREADS_VARIABLE, None)


class _Group(click.Group):
    """A click group whose usage errors are one line, like every other error, and whose
    commands are imported when used (:data:`COMMAND_MODULES`)."""

    def get_command(self, ctx, name):
        if name not in self.commands and name in COMMAND_MODULES:
            if name in ONE_BLAS_THREAD:
                import_numpy_one_blas_thread()
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        for module in sorted(set(COMMAND_MODULES.values())):
            importlib.import_module(f"{__package__}.{module}")
        return super().list_commands(ctx)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            with stop_signals_as_interrupts():
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # bare `embedtrain`: the help, as asked for
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.ClickException as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
            click.echo(f"embedtrain: error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            interrupted_exit()
        sys.exit(code if isinstance(code, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's own summary (``short_help``), never cut mid-phrase."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# click >= 8.2 raises this for a group called without a command.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


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


def show_default(value) -> str:
    """A setting's default as --help and the docs' option tables show it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:,}" if isinstance(value, int) and value >= 10_000 else str(value)


def field_option(f, help_text: str) -> Callable:
    """The click option for a settings field of config.py, defaulting to None (= not
    given, so the dataclass default applies): ``--name/--no-name`` for a flag, else typed
    by the field's choices or annotation."""
    dashed = f.name.replace("_", "-")
    if f.metadata.get("flag"):
        return click.option(f"--{dashed}/--no-{dashed}", f.name, default=None, help=help_text)
    annotation = str(f.type)
    if f.metadata.get("choices"):
        kind = click.Choice(f.metadata["choices"])
    elif "float" in annotation:
        kind = float
    elif "int" in annotation:
        kind = int
    else:
        kind = str
    return click.option(f"--{dashed}", f.name, type=kind, default=None, help=help_text)


def run() -> None:
    """The process's entry point (the ``embedtrain`` script, ``python -m embedtrain``):
    :data:`main`, then :func:`exit_now` with its exit status. (Click's test runner and
    library callers use ``main`` itself, which leaves the interpreter running.)"""
    try:
        main()
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)


def exit_now(code) -> None:
    """End the process as ``sys.exit(code)`` would, but without the interpreter's teardown.

    Tearing down a process that has imported numba (thousands of modules and objects, and
    LLVM's) took 0.1 s of every run (docs/benchmarks.md, "where the time goes"); nothing
    of ours needs it: every output is closed and renamed by then, and temporary files are
    unnamed or removed by their owners. What Python would still do is done here: the exit
    functions (atexit: logging's flush, weakref finalizers such as temporary directories',
    Ray's shutdown) run and stdout and stderr are flushed; with a non-daemon thread still
    running, or when flushing fails (a closed pipe), the ordinary exit is taken instead."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        sys.exit(code)
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        sys.exit(status)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - Python's own exit reports it
        sys.exit(status)
    os._exit(status & 0xFF)
