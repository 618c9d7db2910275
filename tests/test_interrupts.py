"""Ctrl-C that Python loses: a KeyboardInterrupt raised inside a __del__ or a weakref
callback is printed ("Exception ignored in ...") and dropped, so training went on to its end
(seen in test_cli_train's Ctrl-C test). The job runner also acts on the noted signal."""
from __future__ import annotations

import signal
import sys
import threading
import time

import pytest

from embedtrain import interrupts
from embedtrain.errors import TrainingInterrupted
from embedtrain.parallel import run_jobs


class _LosesCtrlC:
    """Ctrl-C arriving while the garbage collector runs this object's finaliser."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)
        for _ in range(100):   # the handler runs between these bytecodes, inside __del__
            pass


@pytest.fixture(autouse=True)
def _python_ctrl_c():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C does not have Python's own handler in this process")
    yield
    interrupts.clear()


# the lost KeyboardInterrupt is what Python reports as unraisable: expected here
LOST = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@LOST
def test_a_ctrl_c_lost_in_a_finaliser_still_stops_one_thread():
    done = []

    def work(_, job):
        if job == 3:
            _LosesCtrlC()   # made and dropped at once
        return job

    with pytest.raises(TrainingInterrupted):
        run_jobs(list(range(50)), work, lambda job, r: done.append(r), threads=1)
    assert done == [0, 1, 2, 3]          # the job in hand finished, none after it
    assert interrupts.pending() is None  # acted on, forgotten
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_noted_stop_signal_stops_the_threads():
    started = threading.Event()
    done = []

    def work(_, job):
        if job == 5:
            interrupts.note(signal.SIGTERM)   # as the CLI's handler does, its exception lost
        elif job > 5:
            time.sleep(0.001)   # the rest would take 50 s; the main thread looks every 0.1 s
        started.set()
        return job

    with pytest.raises(TrainingInterrupted):
        run_jobs(list(range(100_000)), work, lambda job, r: done.append(r), threads=2)
    assert started.is_set() and 5 in done and len(done) < 100_000
    assert interrupts.pending() is None


@LOST
def test_runs_go_on_without_a_signal_and_after_one():
    with pytest.raises(TrainingInterrupted):
        run_jobs([0, 1], lambda _, job: _LosesCtrlC(), lambda job, r: None, threads=1)
    done = []
    assert run_jobs(list(range(20)), lambda _, job: job, lambda job, r: done.append(r), threads=2) == 20
    assert sorted(done) == list(range(20))


class _Raises:
    """An exception other than an interrupt, lost in a finaliser."""

    def __del__(self):
        raise ValueError("lost in __del__")


def test_a_noted_ctrl_c_lost_in_a_finaliser_is_not_printed_and_other_losses_are(monkeypatch):
    seen = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: seen.append(type(u.exc_value).__name__))
    with interrupts.noting_ctrl_c():
        _LosesCtrlC()   # made and dropped at once: Python cannot raise it, and reports it
        _Raises()
    assert interrupts.pending() == signal.SIGINT   # noted: the job runner stops on it
    assert seen == ["ValueError"]                  # the interrupt was not printed, the other was
    assert sys.unraisablehook is not None and sys.unraisablehook.__name__ == "<lambda>"  # restored
