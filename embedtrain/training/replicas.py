"""Threads that train replicas (``--replicas``): the same bytes run to run, and no rows
shared while training.

With :class:`~embedtrain.training.executor.ThreadExecutor` (Hogwild) every thread
updates the one copy of the weights, so the order in which threads touch a row
changes the result, and on a host that places the two cores far apart every row one
thread writes must travel to the other (docs/benchmarks.md, "Two threads, and what
they share"). Here each of the T threads trains a replica of its own:

- a *round* is the next T jobs of the epoch: replica t trains job t of the round
  (replica 0 is the model's own arrays), with random state t; the jobs are shorter
  than Hogwild's (the config's ``replica_job_tokens``), since a replica does not see the others'
  updates until the round ends;
- after the round the base becomes the base plus the sum of all the replicas' changes
  (``kernels/replicas.py``; the rows shared among the threads), and then each thread
  copies the new base into its own replica: a replica's rows are written only by the
  thread that trains it, so they stay in that core's cache;
- the most trained rows (the ``hot_rows`` of the most frequent words, and the Huffman
  tree's nodes nearest its root) are summed after every round, and all rows every
  ``full_every``-th round of an epoch and when a call ends (an epoch's end, a
  checkpoint): a rare word's row waits a few rounds, a frequent one's does not.

Which thread runs which job never matters, so a seeded run with T threads gives the same
bytes every time (tests/test_replicas.py runs the replicas on one thread and on T). The
cost: T more copies of the trained matrices (T-1 replicas and the base) and the summing
between rounds. With one thread this is the plain executor.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from .. import interrupts
from ..config import REPLICA_FULL_EVERY, REPLICA_HOT_ROWS
from ..kernels.replicas import copy_rows, sum_replicas
from ..parallel import run_jobs


class ReplicaExecutor:
    """Runs the runner's jobs in rounds of one job per replica (see the module).
    ``threads``: the threads that run the T replicas (1: one after another, the same
    bytes; for tests)."""

    def __init__(self, workers: int, hot_rows: int = REPLICA_HOT_ROWS,
                 full_every: int = REPLICA_FULL_EVERY, threads: int | None = None):
        self.workers = max(1, int(workers))
        self.threads = self.workers if threads is None else max(1, int(threads))
        self.hot_rows = int(hot_rows)
        self.full_every = max(1, int(full_every))
        self.rounds = 0
        self._names: list[str] = []
        self._hot: dict[str, tuple[int, int]] = {}
        self._base: dict[str, np.ndarray] = {}
        self._first: dict[str, np.ndarray] = {}
        self._others: dict[str, np.ndarray] = {}

    def bind(self, task: Any) -> list[Any]:
        """The per-replica tasks of ``task`` (the runner calls this once): ``task`` itself
        and T-1 copies training copies of its weights (``task.replicated()`` names them,
        each with whether its most trained rows are its first or its last)."""
        if self.workers == 1:
            return [task]
        replicated = task.replicated()
        self._names = [name for name in replicated if task.arrays[name].size]
        self._hot = {name: _hot_range(len(task.arrays[name]), self.hot_rows, replicated[name])
                     for name in self._names}
        self._first = {name: task.arrays[name] for name in self._names}
        self._base = {name: a.copy() for name, a in self._first.items()}
        self._others = {name: np.repeat(a[None], self.workers - 1, axis=0) for name, a in self._first.items()}
        return [task] + [task.with_arrays({name: self._others[name][t] for name in self._names})
                         for t in range(self.workers - 1)]

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        if self.workers == 1:
            return run_jobs(jobs, work, done, 1, stop)
        jobs = list(jobs)
        count = (self._one_thread(jobs, work, done, stop) if self.threads == 1 else
                 self._on_threads(jobs, work, done, stop))
        # the model's arrays hold every replica's work when the call returns
        run_jobs(range(self.workers), lambda _w, t: self._sum(t, True), _ignore, self.threads)
        run_jobs(range(self.workers), lambda _w, t: self._copy(t, True), _ignore, self.threads)
        return count

    def _one_thread(self, jobs, work, done, stop) -> int:
        T, count = self.workers, 0
        while count < len(jobs):
            if count and stop():
                break
            batch = jobs[count:count + T]
            results: list[Any] = [None] * len(batch)
            run_jobs(range(len(batch)), lambda _w, t: work(t, batch[t]), results.__setitem__, 1)
            full = self._full(batch[0])
            run_jobs(range(T), lambda _w, t: self._sum(t, full), _ignore, 1)
            run_jobs(range(T), lambda _w, t: self._copy(t, full), _ignore, 1)
            self.rounds += 1
            for job, result in zip(batch, results):
                done(job, result)
            count += len(batch)
        return count

    def _on_threads(self, jobs, work, done, stop) -> int:
        """T threads in step, two barriers a round: each trains its replica's job of the
        round; waits for all; sums its share of the rows into the base; waits for all (one
        thread reports the round's jobs and decides whether to go on); copies the base into
        its own replica. The copy needs no barrier after it: the next round's sums start
        after every thread has trained, so after every copy."""
        T = self.workers
        results: list[Any] = [None] * T
        position = {"count": 0, "halt": False, "full": False}
        failed: list[BaseException] = []

        def trained() -> None:       # all replicas trained the round
            position["full"] = self._full(jobs[position["count"]])

        def summed() -> None:        # the base holds the round: report it, go on or not
            start = position["count"]
            batch = jobs[start:start + T]
            for job, result in zip(batch, results):
                done(job, result)
            self.rounds += 1
            position["count"] = start + len(batch)
            position["halt"] = (position["count"] >= len(jobs) or stop()
                                or interrupts.pending() is not None)

        after_training = threading.Barrier(T, action=trained)
        after_summing = threading.Barrier(T, action=summed)

        def replica(_thread: int, t: int) -> None:
            try:
                while True:
                    index = position["count"] + t
                    results[t] = work(t, jobs[index]) if index < len(jobs) else (0, 0.0, 0)
                    after_training.wait()
                    full = position["full"]
                    self._sum(t, full)
                    after_summing.wait()
                    self._copy(t, full)
                    if position["halt"]:
                        return
            except threading.BrokenBarrierError:
                return                  # another replica failed: its error is reported
            except BaseException as exc:
                failed.append(exc)
                after_training.abort()
                after_summing.abort()

        run_jobs(range(T), replica, _ignore, T)
        if failed:
            raise failed[0]
        return position["count"]

    def _full(self, job: int) -> bool:
        """Whether the round that starts with ``job`` (of its epoch) sums every row: its
        place in the epoch decides, so a run resumed from a checkpoint sums where the
        run it continues would have (rounds start at multiples of T)."""
        return (job // self.workers + 1) % self.full_every == 0

    def _rows(self, name: str, full: bool) -> tuple[int, int]:
        return (0, len(self._base[name])) if full else self._hot[name]

    def _sum(self, t: int, full: bool) -> None:
        """Share ``t`` (of T) of the hot rows, or of all rows (``full``), summed into the base."""
        T = self.workers
        for name in self._names:
            lo, hi = self._rows(name, full)
            sum_replicas(self._base[name], self._first[name], self._others[name],
                         lo + (hi - lo) * t // T, lo + (hi - lo) * (t + 1) // T)

    def _copy(self, t: int, full: bool) -> None:
        """The base's hot rows, or all (``full``), into replica ``t``."""
        for name in self._names:
            lo, hi = self._rows(name, full)
            copy_rows(self._base[name], self._first[name] if t == 0 else self._others[name][t - 1], lo, hi)


def _hot_range(rows: int, hot: int, where: str | None) -> tuple[int, int]:
    """The rows summed every round: the first or last ``hot`` of ``rows``, or none."""
    hot = min(hot, rows) if where else 0
    return (rows - hot, rows) if where == "last" else (0, hot)


def _ignore(_job: Any, _result: Any) -> None:
    pass
