"""PROTOTYPE, not part of embedtrain (scripts/own_rows_experiment.py copies it into a worktree
as ``embedtrain/training/own_rows.py``): Hogwild threads that each keep the rows of the most
frequent words as their own, with the other rows shared as today. The kernels do not change.

Why: with the cores far apart, CBOW's second Hogwild thread gains nothing because both threads
keep writing the output rows of the frequent noise words (docs/benchmarks.md, "Which rows CBOW's
two threads fight over").

How, for each array named in ``EMBEDTRAIN_PROTO_OWN_ARRAYS`` (default ``output_vectors``), with
``H`` = ``EMBEDTRAIN_PROTO_OWN_ROWS`` rows (default 1,024; rounded up so that they fill whole
pages):

- the array is copied into a ``memfd`` (the *master*), mapped once as an array;
- every worker gets a view of the same size built from two mappings side by side: its first
  ``H`` rows private anonymous memory, the rest the master's pages (``MAP_FIXED`` over a
  reserved range), so the kernel sees one ordinary C-contiguous array;
- after each job the worker adds what it changed in its own rows since its last merge to the
  master's first ``H`` rows and takes them back (``master += own - snapshot``; ``own =
  snapshot = master``), one worker at a time under a lock;
- when ``run`` returns, the master is copied back into the model's array.

Costs: the master and each worker's mapping of the shared rows count in the resident set (the
same physical pages, counted once for each mapping), and a run's two-thread vectors differ from
Hogwild's (a thread sees the others' updates of the frequent rows once a job). Linux only.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import threading
import weakref
from typing import Any, Callable, Sequence

import numpy as np
from numba import njit

from ..kernels.options import ROW_OPTIONS
from ..parallel import run_jobs

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                       ctypes.c_long)
_LIBC.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_PROT = mmap.PROT_READ | mmap.PROT_WRITE
_MAP_FIXED = 0x10
_FAILED = ctypes.c_void_p(-1).value


def _map(addr: int | None, size: int, flags: int, fd: int, offset: int) -> int:
    got = _LIBC.mmap(addr, size, _PROT, flags, fd, offset)
    if got is None or got == _FAILED:
        raise OSError(ctypes.get_errno(), "mmap failed")
    return got


def _unmap(maps: list[tuple[int, int]], fds: list[int]) -> None:
    for addr, size in maps:
        _LIBC.munmap(addr, size)
    for fd in fds:
        os.close(fd)


def _array(addr: int, rows: int, dim: int) -> np.ndarray:
    return np.ctypeslib.as_array((ctypes.c_float * (rows * dim)).from_address(addr)).reshape(rows, dim)


@njit(**ROW_OPTIONS)
def merge_rows(master, own, snapshot, hot):
    """Rows 0..hot: master += own - snapshot, then own and snapshot become the master's."""
    dim = master.shape[1]
    for i in range(hot):
        for j in range(dim):
            x = master[i, j] + (own[i, j] - snapshot[i, j])
            master[i, j] = x
            own[i, j] = x
            snapshot[i, j] = x


class OwnRowsExecutor:
    """Hogwild on ``workers`` threads, each with the first rows of the named arrays its own."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self.rows = int(os.environ.get("EMBEDTRAIN_PROTO_OWN_ROWS", "1024"))
        self.names = os.environ.get("EMBEDTRAIN_PROTO_OWN_ARRAYS", "output_vectors").split(",")
        self._parts: list[tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray], int]] = []
        self._lock = threading.Lock()
        self._maps: list[tuple[int, int]] = []
        self._fds: list[int] = []
        weakref.finalize(self, _unmap, self._maps, self._fds)

    def bind(self, task: Any) -> list[Any]:
        page = mmap.PAGESIZE
        per_worker: list[dict[str, np.ndarray]] = [{} for _ in range(self.workers)]
        for name in self.names:
            model = task.arrays[name]
            rows, dim = model.shape
            row_bytes = dim * model.itemsize
            step = page // int(np.gcd(row_bytes, page))
            hot = -(-self.rows // step) * step
            if model.dtype != np.float32 or hot >= rows:
                continue
            size = -(-(rows * row_bytes) // page) * page
            fd = os.memfd_create("embedtrain-own-rows")
            self._fds.append(fd)
            os.ftruncate(fd, size)
            base = _map(None, size, mmap.MAP_SHARED, fd, 0)
            self._maps.append((base, size))
            own, snapshots = [], []
            for t in range(self.workers):
                addr = _map(None, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
                self._maps.append((addr, size))
                _map(addr + hot * row_bytes, size - hot * row_bytes, mmap.MAP_SHARED | _MAP_FIXED, fd,
                     hot * row_bytes)
                own.append(_array(addr, rows, dim))
                snapshots.append(np.empty((hot, dim), dtype=np.float32))
                per_worker[t][name] = own[-1]
            self._parts.append((model, _array(base, rows, dim), own, snapshots, hot))
        return [task.with_arrays(arrays) if arrays else task for arrays in per_worker]

    def run(self, jobs: Sequence[int], work: Callable[[int, int], Any],
            done: Callable[[int, Any], None], stop: Callable[[], bool]) -> int:
        for model, master, own, snapshots, hot in self._parts:
            master[:] = model
            for mine, snapshot in zip(own, snapshots):
                mine[:hot] = model[:hot]
                snapshot[:] = model[:hot]

        def job(worker: int, index: int):
            result = work(worker, index)
            with self._lock:
                for _model, master, own, snapshots, hot in self._parts:
                    merge_rows(master, own[worker], snapshots[worker], hot)
            return result

        try:
            return run_jobs(jobs, job, done, self.workers, stop)
        finally:
            for model, master, _own, _snapshots, _hot in self._parts:
                model[:] = master
