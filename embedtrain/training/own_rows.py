"""Hogwild threads that keep the most frequent words' rows as their own.

With :class:`~embedtrain.training.executor.ThreadExecutor` every thread writes one shared copy of
the weights. On a host that places the two cores far apart, every row one thread writes and the
other trains next must cross between them, and the rows both threads write most are the frequent
words': their output rows (the centre word's and the noise words', drawn from the counts to the
power 0.75; docs/benchmarks.md, "Which rows CBOW's two threads fight over") and their input rows
(the context words'). For each array the task names (``own_rows_arrays``):

- the array is moved into a ``memfd`` (the *master*; the task trains it from then on, and the
  model keeps it);
- thread 0 trains the master; every other thread trains a view of the same size made of two
  memory mappings side by side, its first ``rows`` rows private memory and the rest the master's
  pages, so the kernel sees one ordinary C-contiguous array and does not change;
- after each of its jobs a thread adds what it changed in its own rows since its last merge to
  the master's rows and takes them back (:func:`~embedtrain.kernels.replicas.merge_own_rows`),
  one thread at a time.

A thread sees the others' updates of the frequent rows once a job instead of at once, so a
run's two-thread vectors differ from Hogwild's (they differ run to run anyway); one thread is
plain Hogwild and gives the same bytes. Linux only (``memfd_create`` and ``MAP_FIXED``);
elsewhere, or when a mapping fails, the threads share every row as before.
"""
from __future__ import annotations

import ctypes
import logging
import mmap
import os
import sys
import threading
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from ..kernels.replicas import merge_own_rows
from ..parallel import run_jobs

log = logging.getLogger("embedtrain")

_PROT = mmap.PROT_READ | mmap.PROT_WRITE
_MAP_FIXED = 0x10   # <sys/mman.h> on Linux


def supported() -> bool:
    """Whether this platform can build the threads' views (Linux with memfd_create)."""
    return sys.platform.startswith("linux") and hasattr(os, "memfd_create")


class _Libc:
    """mmap(2) and munmap(2) by ctypes: Python's mmap module cannot map at a given address."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.mmap = libc.mmap
        self.mmap.restype = ctypes.c_void_p
        self.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long)
        self.munmap = libc.munmap
        self.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
        self.failed = ctypes.c_void_p(-1).value

    def map(self, addr: int | None, size: int, flags: int, fd: int, offset: int) -> int:
        got = self.mmap(addr, size, _PROT, flags, fd, offset)
        if got is None or got == self.failed:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))
        return got


class _Region:
    """``rows`` x ``dim`` float32 values at ``addr`` that this process mapped: the numpy array
    made from it keeps it alive, and the last reference unmaps its ``size`` bytes."""

    def __init__(self, libc: _Libc, addr: int, size: int, rows: int, dim: int):
        self.__array_interface__ = {"data": (addr, False), "shape": (rows, dim), "typestr": "<f4",
                                    "version": 3}
        weakref.finalize(self, libc.munmap, addr, size)


def own_row_count(rows: int, dim: int, wanted: int) -> int:
    """``wanted`` rounded up so that the rows fill whole pages (a view's private part is
    whole pages), or 0 when that leaves no shared row."""
    row_bytes = dim * np.dtype(np.float32).itemsize
    step = mmap.PAGESIZE // int(np.gcd(row_bytes, mmap.PAGESIZE))
    own = -(-int(wanted) // step) * step
    return own if 0 < own < rows else 0


class OwnRowsExecutor:
    """Jobs on ``workers`` Hogwild threads, each thread but the first with the first ``rows``
    rows of each of the task's ``own_rows_arrays`` its own between jobs (see the module)."""

    def __init__(self, workers: int, rows: int):
        self.workers = max(1, int(workers))
        self.wanted = int(rows)
        self.own_rows = 0          # rows a thread keeps of each array (0: every row shared)
        self.own_arrays: tuple[str, ...] = ()
        self._masters: list[np.ndarray] = []
        self._views: list[list[np.ndarray]] = []       # [thread - 1][array]
        self._snapshots: list[list[np.ndarray]] = []   # [thread - 1][array]
        self._lock = threading.Lock()

    def bind(self, task: Any) -> list[Any]:
        """The per-thread tasks: ``task`` (after its arrays moved into the masters) for thread
        0 and copies training the other threads' views; ``task`` on every thread when the
        views cannot be made."""
        names = tuple(getattr(task, "own_rows_arrays", ()))
        if self.workers == 1 or not names or not supported():
            return [task] * self.workers
        models = [task.arrays[name] for name in names]
        if any(m.ndim != 2 or m.dtype != np.float32 or not m.flags.c_contiguous for m in models):
            return [task] * self.workers
        own = min(own_row_count(m.shape[0], m.shape[1], self.wanted) for m in models)
        if not own:
            return [task] * self.workers
        masters, views = [], [[] for _ in range(self.workers - 1)]
        try:
            for model in models:
                master, of_threads = self._map(model, own)
                masters.append(master)
                for thread, view in zip(views, of_threads):
                    thread.append(view)
        except OSError as exc:
            log.info("threads share every row (could not map the rows: %s)", exc)
            return [task] * self.workers
        for name, master in zip(names, masters):
            task.use_array(name, master)
        self.own_rows, self.own_arrays, self._masters, self._views = own, names, masters, views
        self._snapshots = [[np.empty((own, m.shape[1]), dtype=np.float32) for m in models] for _ in views]
        return [task] + [task.with_arrays(dict(zip(names, thread))) for thread in views]

    def _map(self, model: np.ndarray, own: int) -> tuple[np.ndarray, list[np.ndarray]]:
        rows, dim = model.shape
        own_bytes = own * dim * model.itemsize
        size = -(-model.nbytes // mmap.PAGESIZE) * mmap.PAGESIZE
        libc = _Libc()
        fd = os.memfd_create("embedtrain-rows")
        try:
            os.ftruncate(fd, size)
            # the master: Python's own mapping, which the array keeps alive as long as it lives
            shared = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
            master = np.frombuffer(shared, dtype=np.float32, count=rows * dim).reshape(rows, dim)
            master[:] = model
            views = []
            for _ in range(self.workers - 1):
                addr = libc.map(None, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
                region = _Region(libc, addr, size, rows, dim)   # unmaps both parts when done with
                libc.map(addr + own_bytes, size - own_bytes, mmap.MAP_SHARED | _MAP_FIXED, fd, own_bytes)
                views.append(np.asarray(region))
        finally:
            os.close(fd)    # the mappings keep the memory
        return master, views

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        if not self.own_rows:
            return run_jobs(jobs, work, done, self.workers, stop)
        masters, own = self._masters, self.own_rows
        for views, snapshots in zip(self._views, self._snapshots):
            for master, view, snapshot in zip(masters, views, snapshots):
                view[:own] = master[:own]
                snapshot[:] = master[:own]

        def job(worker: int, index: int) -> Any:
            result = work(worker, index)
            if worker:
                views, snapshots = self._views[worker - 1], self._snapshots[worker - 1]
                with self._lock:
                    for master, view, snapshot in zip(masters, views, snapshots):
                        merge_own_rows(master, view, snapshot, own)
            return result

        return run_jobs(jobs, job, done, self.workers, stop)
