"""Summing the threads' replicas (``--replicas``, training/replicas.py): one kernel.

Each thread trains a copy of the weights on its own job; after the round every copy
becomes the base plus the sum of all the copies' changes since the base. Exact float
semantics (ROW_OPTIONS): the result is what numpy gives for the same operations in the
same order (tests/reference_sync.py, ``sum_replicas``), so a run is the same bytes
every time.
"""
from numba import njit

from .options import ROW_OPTIONS


@njit(**ROW_OPTIONS)
def sum_replicas(base, first, others, lo, hi):
    """Rows ``lo``..``hi`` of ``base`` [rows, dim], ``first`` [rows, dim] and every
    ``others[t]`` [replicas-1, rows, dim] set to ``first + (others[0] - base) +
    (others[1] - base) + ...``: the base moved by every replica's change, as if the
    replicas had trained one after another (a row one replica alone moved keeps its move)."""
    n = others.shape[0]
    dim = base.shape[1]
    for i in range(lo, hi):
        for j in range(dim):
            b = base[i, j]
            x = first[i, j]
            for t in range(n):
                x += others[t, i, j] - b
            base[i, j] = x
            first[i, j] = x
            for t in range(n):
                others[t, i, j] = x
