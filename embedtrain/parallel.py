"""Run training jobs on worker threads that call nogil numba kernels (Hogwild).

Jobs are handed out in order from a shared counter. The main thread only waits,
so Ctrl-C reaches it at once; workers finish the job in hand (tens of
milliseconds) and stop.
"""
from __future__ import annotations

import threading
from typing import Callable, Sequence, TypeVar

from .errors import TrainingInterrupted

Job = TypeVar("Job")
POLL_SECONDS = 0.1


def run_jobs(jobs: Sequence[Job], work: Callable[[int, Job], object],
             done: Callable[[Job, object], None], threads: int) -> None:
    """Call ``work(worker_index, job)`` for every job on ``threads`` threads, and
    ``done(job, result)`` (serialised under a lock) after each.

    With one thread the jobs run on the calling thread in order, so a seeded run
    is reproducible bit for bit.
    """
    if threads <= 1:
        try:
            for job in jobs:
                done(job, work(0, job))
        except KeyboardInterrupt:
            raise TrainingInterrupted("interrupted: training stopped, nothing written") from None
        return

    lock = threading.Lock()
    stop = threading.Event()
    position = [0]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            while not stop.is_set():
                with lock:
                    if position[0] >= len(jobs):
                        return
                    job = jobs[position[0]]
                    position[0] += 1
                result = work(index, job)
                with lock:
                    done(job, result)
        except BaseException as exc:  # reported on the main thread
            errors.append(exc)
            stop.set()

    pool = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"embedtrain-{i}")
            for i in range(threads)]
    for t in pool:
        t.start()
    try:
        for t in pool:
            while t.is_alive():
                t.join(POLL_SECONDS)
    except KeyboardInterrupt:
        stop.set()
        for t in pool:
            t.join()
        raise TrainingInterrupted("interrupted: training stopped, nothing written") from None
    if errors:
        raise errors[0]
