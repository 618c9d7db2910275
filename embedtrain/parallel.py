"""Run jobs on worker threads that call nogil numba kernels (Hogwild).

Jobs are handed out in order from a shared counter. The main thread only waits,
so Ctrl-C reaches it at once; workers finish the job in hand (tens of
milliseconds) and stop.
"""
from __future__ import annotations

import threading
from typing import Callable, Sequence, TypeVar

from . import interrupts
from .errors import TrainingInterrupted

Job = TypeVar("Job")
POLL_SECONDS = 0.1


def _never() -> bool:
    return False


def run_jobs(jobs: Sequence[Job], work: Callable[[int, Job], object],
             done: Callable[[Job, object], None], threads: int,
             stop: Callable[[], bool] = _never) -> int:
    """Call ``work(worker_index, job)`` for jobs in order on ``threads`` threads, and
    ``done(job, result)`` (serialised under a lock) after each, until every job is
    done or ``stop()`` (asked before each job but the first is handed out) says True,
    so every call makes progress.

    Returns how many jobs were done: always the first ones, since a job handed
    out is finished. With one thread the jobs run on the calling thread in order,
    so a seeded run is reproducible bit for bit.

    Ctrl-C (and the CLI's stop signals) stop the run with :class:`TrainingInterrupted`,
    also when Python lost the KeyboardInterrupt in a weakref callback (``interrupts``).
    """
    with interrupts.noting_ctrl_c():
        try:
            count = (_on_this_thread(jobs, work, done, stop) if threads <= 1 else
                     _on_threads(jobs, work, done, threads, stop))
            if interrupts.pending() is not None:
                raise TrainingInterrupted(INTERRUPTED)
            return count
        finally:
            interrupts.clear()   # acted on: a later run starts afresh


INTERRUPTED = "interrupted: training stopped, nothing written"


def _on_this_thread(jobs, work, done, stop) -> int:
    count = 0
    try:
        for job in jobs:
            if interrupts.pending() is not None:
                raise KeyboardInterrupt
            if count and stop():
                break
            done(job, work(0, job))
            count += 1
    except KeyboardInterrupt:
        raise TrainingInterrupted(INTERRUPTED) from None
    return count


def _on_threads(jobs, work, done, threads, stop) -> int:
    lock = threading.Lock()
    halt = threading.Event()
    position = [0]
    errors: list[BaseException] = []

    # Each worker sets its event when it ends. The main thread waits on these rather
    # than on Thread.join: on Python 3.11 a KeyboardInterrupt (Ctrl-C, or SIGTERM via
    # the CLI) landing inside join(timeout) can mark a live thread as stopped
    # (bpo-45274's fix), and a later join() then returns at once while the worker is
    # still writing, e.g. into a temporary directory being removed.
    finished = [threading.Event() for _ in range(threads)]

    def worker(index: int) -> None:
        try:
            while not halt.is_set():
                with lock:
                    if position[0] >= len(jobs) or (position[0] and stop()):
                        return
                    job = jobs[position[0]]
                    position[0] += 1
                result = work(index, job)
                with lock:
                    done(job, result)
        except BaseException as exc:  # reported on the main thread
            errors.append(exc)
            halt.set()
        finally:
            finished[index].set()

    pool = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"embedtrain-{i}")
            for i in range(threads)]
    started: list[int] = []
    try:
        for i, t in enumerate(pool):  # inside the try: a stop while starting still waits
            t.start()
            started.append(i)
        for i in range(threads):
            while not finished[i].wait(POLL_SECONDS):
                if interrupts.pending() is not None:   # a KeyboardInterrupt Python lost
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        halt.set()
        for i, t in enumerate(pool):
            if i in started or t.ident is not None:
                finished[i].wait()
        raise TrainingInterrupted(INTERRUPTED) from None
    if errors:
        raise errors[0]
    return position[0]
