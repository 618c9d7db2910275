"""Hogwild threads that keep the most frequent words' rows as their own.

With :class:`~embedtrain.training.executor.ThreadExecutor` every thread writes one shared copy of
the weights. On a host that places the two cores far apart, every row one thread writes and the
other trains next must cross between them, and the rows both threads write most are the frequent
words': their output rows (the centre word's and the noise words', drawn from the counts to the
power 0.75; docs/benchmarks.md, "Which rows CBOW's two threads fight over") and their input rows
(the context words'). For each array the task names (``own_rows_arrays``, a row a word):

- the array gets ``own`` more rows for each thread but the first, after its V rows and one
  unused row: the thread's copies of the first ``own`` rows (the most frequent words'); the
  model keeps the first V rows;
- thread 0 trains the first V rows as ever; every other thread trains a copy of the task
  (:meth:`~embedtrain.training.sgns.SgnsTask.with_own_rows`) that names word w < ``own`` by the
  id of its copy, in its tokens, its noise words and its tables, so the kernel does not change;
- after each of its jobs a thread adds what it changed in its copies since its last merge to
  the first rows and takes them back (:func:`~embedtrain.kernels.replicas.merge_own_rows`),
  one thread at a time.

A thread sees the others' updates of the frequent rows once a job instead of at once, so a
run's two-thread vectors differ from Hogwild's (they differ run to run anyway); one thread is
plain Hogwild and gives the same bytes. Every array stays one ordinary numpy array, with the
huge pages numpy asks for (docs/benchmarks.md, "One array, huge pages").
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from ..kernels.replicas import merge_own_rows
from ..parallel import run_jobs

def own_row_count(words: int, wanted: int) -> int:
    """The rows a thread keeps of arrays of ``words`` rows: ``wanted``, or 0 when that
    leaves no shared row."""
    return int(wanted) if 0 < int(wanted) < words else 0


class OwnRowsExecutor:
    """Jobs on ``workers`` Hogwild threads, each thread but the first with the first ``rows``
    rows of each of the task's ``own_rows_arrays`` its own between jobs (see the module)."""

    def __init__(self, workers: int, rows: int):
        self.workers = max(1, int(workers))
        self.wanted = int(rows)
        self.own_rows = 0          # rows a thread keeps of each array (0: every row shared)
        self.own_arrays: tuple[str, ...] = ()
        self._masters: list[np.ndarray] = []
        self._copies: list[list[np.ndarray]] = []      # [thread - 1][array]: its rows
        self._snapshots: list[list[np.ndarray]] = []   # [thread - 1][array]
        self._lock = threading.Lock()

    def bind(self, task: Any) -> list[Any]:
        """The per-thread tasks: ``task`` (training the first V rows of the longer arrays) for
        thread 0 and copies training the other threads' rows; ``task`` on every thread when
        the rows cannot be kept."""
        names = tuple(getattr(task, "own_rows_arrays", ()))
        if self.workers == 1 or not names:
            return [task] * self.workers
        models = [task.arrays[name] for name in names]
        if any(m.ndim != 2 or m.dtype != np.float32 for m in models) or len({len(m) for m in models}) != 1:
            return [task] * self.workers
        words = len(models[0])
        own = own_row_count(words, self.wanted)
        if not own:
            return [task] * self.workers
        longer = []
        for model in models:
            array = np.empty((words + 1 + (self.workers - 1) * own, model.shape[1]), dtype=np.float32)
            array[:words] = model
            array[words] = 0.0      # the row between: never trained (SgnsTask.with_own_rows)
            longer.append(array)
        firsts = [words + 1 + t * own for t in range(self.workers - 1)]
        others = [task.with_own_rows(dict(zip(names, longer)), own, first) for first in firsts]
        if any(other is None for other in others):
            return [task] * self.workers
        for name, array in zip(names, longer):
            task.use_array(name, array[:words])
        self.own_rows, self.own_arrays = own, names
        self._masters = [array[:own] for array in longer]
        self._copies = [[array[first:first + own] for array in longer] for first in firsts]
        self._snapshots = [[np.empty_like(master) for master in self._masters] for _ in firsts]
        return [task] + others

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        if not self.own_rows:
            return run_jobs(jobs, work, done, self.workers, stop)
        masters, own = self._masters, self.own_rows
        for copies, snapshots in zip(self._copies, self._snapshots):
            for master, copy, snapshot in zip(masters, copies, snapshots):
                copy[:] = master
                snapshot[:] = master

        def job(worker: int, index: int) -> Any:
            result = work(worker, index)
            if worker:
                copies, snapshots = self._copies[worker - 1], self._snapshots[worker - 1]
                with self._lock:
                    for master, copy, snapshot in zip(masters, copies, snapshots):
                        merge_own_rows(master, copy, snapshot, own)
            return result

        return run_jobs(jobs, job, done, self.workers, stop)
