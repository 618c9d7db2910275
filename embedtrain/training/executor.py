"""Executors: where the runner's jobs run.

An executor takes the jobs of (part of) an epoch and a ``work(worker, job)``
function and runs them, calling ``done(job, result)`` after each, until all are
done or ``stop()`` says to pause (for a checkpoint, or after a NaN). It returns
how many of the jobs were done, always the first ones, so the runner knows
exactly where the run stands. :class:`ThreadExecutor` runs them on threads that
share the weights (Hogwild); :class:`~embedtrain.training.replicas.ReplicaExecutor`
(``--replicas``) on threads that each train a replica, and also has ``bind(task)``,
which the runner calls once for the task each worker runs; a cluster executor (Ray)
implements the same protocol.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from ..parallel import run_jobs


class Executor(Protocol):
    workers: int

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        ...


class ThreadExecutor:
    """Jobs on ``workers`` threads calling nogil kernels on shared weights."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        return run_jobs(jobs, work, done, self.workers, stop)
