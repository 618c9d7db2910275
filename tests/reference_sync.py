"""Plain-numpy references for the synchronisation's row kernels (embedtrain/kernels/sync.py,
used by embedtrain/distributed/sync.py): the same arithmetic with numpy's sorting,
fancy indexing and masks, on decoded (float32) deltas."""
from __future__ import annotations

import numpy as np

from embedtrain.distributed.sync import RowUpdate


def combine(updates, protocol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, delta float32, weight float32) of the workers' updates combined by ``protocol``."""
    nonempty = [u for u in updates if len(u)]
    rows = nonempty[0].rows.astype(np.int64)
    for u in nonempty[1:]:
        rows = np.union1d(rows, u.rows)
    n, dim = len(rows), nonempty[0].values.shape[1]
    positions = [np.searchsorted(rows, u.rows) for u in nonempty]
    total = np.zeros((n, dim), np.float32)
    total_w = np.zeros(n, np.float64)
    for u, pos in zip(nonempty, positions):
        if protocol == "mean":
            w = np.maximum(u.weight, np.float32(1e-12))
            total[pos] += u.delta * w[:, None]
            total_w[pos] += w
        else:
            total[pos] += u.delta
            total_w[pos] += u.weight
    if protocol == "scaled":
        gained = np.zeros(n, np.float64)
        for u, pos in zip(nonempty, positions):
            gained[pos] += -np.expm1(-u.weight.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(gained > 1e-12, -np.expm1(-total_w) / gained, 1.0)
        total *= factor[:, None].astype(np.float32)
    elif protocol == "adaptive":
        squares, k = np.zeros(n, np.float64), np.zeros(n, np.float64)
        for u, pos in zip(nonempty, positions):
            squares[pos] += np.einsum("ij,ij->i", u.delta.astype(np.float64), u.delta.astype(np.float64))
            k[pos] += 1.0
        s2 = np.einsum("ij,ij->i", total.astype(np.float64), total.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where((k > 1) & (squares > 0), (s2 / squares - 1.0) / (k - 1.0), 0.0)
        a = np.clip(a, 0.0, 1.0)
        total *= (1.0 - a * (1.0 - 1.0 / np.maximum(k, 1.0)))[:, None].astype(np.float32)
    elif protocol == "mean":
        total /= total_w[:, None].astype(np.float32)
    return rows, total, total_w.astype(np.float32)


def subword_rows(offsets, table_rows, counts, weight) -> tuple[np.ndarray, np.ndarray]:
    """Every row of every word with a count, ascending, and each row's summed weight."""
    words = np.flatnonzero(counts)
    positions = np.concatenate([np.arange(offsets[w], offsets[w + 1]) for w in words])
    rows, inverse = np.unique(table_rows[positions], return_inverse=True)
    per_position = np.concatenate([np.full(offsets[w + 1] - offsets[w], weight[w], np.float64) for w in words])
    return rows, np.bincount(inverse, per_position, minlength=len(rows)).astype(np.float32)


def changed(matrix, rows, base) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``rows`` whose values differ from ``base``, and their deltas."""
    delta = matrix[rows] - base
    keep = np.flatnonzero(np.any(delta != 0, axis=1))
    return rows[keep], delta[keep]


def concat_shards(shards) -> RowUpdate:
    """Combined shards back into one update, rows ascending."""
    shards = [s for s in shards if len(s)]
    rows = np.concatenate([s.rows for s in shards])
    order = np.argsort(rows, kind="stable")
    return RowUpdate(rows[order], np.concatenate([s.delta for s in shards])[order],
                     np.concatenate([s.weight for s in shards])[order])


def sum_replicas(base: np.ndarray, first: np.ndarray, others: np.ndarray, lo: int, hi: int) -> None:
    """embedtrain/kernels/replicas.py's kernel with numpy: rows lo..hi of ``base`` become
    ``first + (others[0] - base) + (others[1] - base) + ...`` (float32, in that order)."""
    x = first[lo:hi].copy()
    for t in range(len(others)):
        x = x + (others[t, lo:hi] - base[lo:hi])
    base[lo:hi] = x
