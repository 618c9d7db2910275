"""Summing the threads' replicas (``--replicas``, training/replicas.py): two kernels; and
merging a thread's own rows into the shared ones (training/own_rows.py): a third.

Each thread trains a copy of the weights on its own job; after the round the base
becomes the base plus the sum of all the copies' changes since it (:func:`sum_replicas`,
the rows shared among the threads), then every thread copies the new base into its own
replica (:func:`copy_rows`), so a replica's rows are written by the thread that trains
it. Exact float semantics (ROW_OPTIONS): the result is what numpy gives for the same
operations in the same order (tests/reference_sync.py, ``sum_replicas``), so a run is
the same bytes every time.
"""
from numba import njit

from .options import ROW_OPTIONS


@njit(**ROW_OPTIONS)
def sum_replicas(base, first, others, lo, hi):
    """Rows ``lo``..``hi`` of ``base`` [rows, dim] set to ``first + (others[0] - base) +
    (others[1] - base) + ...`` (``first`` [rows, dim], ``others`` [replicas-1, rows, dim]):
    the base moved by every replica's change, as if the replicas had trained one after
    another (a row one replica alone moved keeps its move). The replicas are read only."""
    n = others.shape[0]
    dim = base.shape[1]
    for i in range(lo, hi):
        for j in range(dim):
            b = base[i, j]
            x = first[i, j]
            for t in range(n):
                x += others[t, i, j] - b
            base[i, j] = x


@njit(**ROW_OPTIONS)
def copy_rows(source, target, lo, hi):
    """Rows ``lo``..``hi`` of ``source`` into ``target`` (without the GIL)."""
    dim = source.shape[1]
    for i in range(lo, hi):
        for j in range(dim):
            target[i, j] = source[i, j]


@njit(**ROW_OPTIONS)
def merge_own_rows(master, own, snapshot, rows):
    """Rows 0..``rows`` of a thread's own copy (training/own_rows.py) into the master: ``master +=
    own - snapshot`` (what the thread changed since its last merge), then ``own`` and
    ``snapshot`` become the master's rows."""
    dim = master.shape[1]
    for i in range(rows):
        for j in range(dim):
            x = master[i, j] + (own[i, j] - snapshot[i, j])
            master[i, j] = x
            own[i, j] = x
            snapshot[i, j] = x
