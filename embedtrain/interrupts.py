"""Ctrl-C and the CLI's stop signals, remembered until the job runner sees them.

Python turns Ctrl-C into a KeyboardInterrupt raised wherever the main thread happens to be.
When that is inside a weakref callback or a ``__del__`` (the garbage collector runs them at
any allocation), Python prints "Exception ignored in ..." and the interrupt is gone: a
training run went on to its end (1 of about 25 tries of tests/test_cli_train.py's Ctrl-C
test on a loaded machine). So the handlers here also note the signal, and
:func:`embedtrain.parallel.run_jobs` checks :func:`pending` between jobs and while it waits.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading


class _Noted:
    signum: int | None = None   # the last stop signal received, until cleared


def note(signum: int) -> None:
    """Remember that stop signal ``signum`` arrived (called by a signal handler)."""
    _Noted.signum = signum


def pending() -> int | None:
    """The stop signal received and not yet acted on, or None."""
    return _Noted.signum


def clear() -> None:
    _Noted.signum = None


def _on_sigint(signum, frame) -> None:
    note(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def noting_ctrl_c():
    """While the block runs, Ctrl-C still raises KeyboardInterrupt and is also noted, and
    a noted interrupt that Python loses is not printed (:func:`quiet_lost_interrupts`).

    The handler only on the main thread and only where Ctrl-C has Python's own handler
    (not when the process ignores it, or a program installed its own, or an enclosing block
    already notes it); the handler before is restored."""
    with quiet_lost_interrupts():
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            yield
            return
        signal.signal(signal.SIGINT, _on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def quiet_lost_interrupts():
    """While the block runs, a KeyboardInterrupt that Python cannot raise (it arrived in a
    ``__del__`` or a weakref callback) is not printed as "Exception ignored in ... Traceback"
    when its signal was noted: the job runner stops on the noted signal, and the command
    says so in one line. Any other unraisable exception goes to the hook before."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and pending() is not None:
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous
