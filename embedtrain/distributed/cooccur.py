"""GloVe's co-occurrence counting as map-reduce over Ray workers: pure numpy and
files, no Ray (the actors of distributed/glove.py call these functions; the tests
call them directly to check that N workers count one machine's matrix).

1. *map*: each worker has its part of the corpus as whole sentences (parts.py: the
   parts' streams, concatenated, are one machine's stream, and every sentence lies
   in one part), and counts it with the one-machine counter
   (:func:`embedtrain.cooccur.count_cooccurrences`: spills and merges within
   ``--memory`` per worker). Windows never cross a sentence end, so the sum of the
   parts' matrices is one machine's matrix; only the order of float additions differs.
2. the driver sums the workers' entries per row (:func:`row_entries`, V integers
   each; an entry counted by several workers is counted several times, so frequent
   rows weigh too much) and cuts the rows into ``partitions`` ranges
   (:func:`partition_bounds`);
3. each worker writes its sorted entries split by those row ranges, one file per
   partition (:func:`write_map_outputs`), in a directory every worker can read;
4. *reduce*: worker p merges file p of every worker into partition p
   (:func:`reduce_partition`, a streaming k-way merge with a bounded number of open
   files, embedtrain.cooccur.merge_to_file), and reports its exact entries per row;
5. the driver cuts the rows again by those exact counts into the ranges the
   workers train (each reads its range from the partition files it overlaps), so
   training is balanced even where step 2 was not.

Only sizes, row counts, bounds and file names pass through the driver.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..cooccur import merge_to_file
from ..io.cooc import CooccurrenceMatrix, RECORD_BYTES, partition_name, write_partition_records


def matrix_keys(matrix: CooccurrenceMatrix) -> np.ndarray:
    """The sorted int64 keys (row * V + col) of a counted matrix."""
    return matrix.rows.astype(np.int64) * len(matrix.vocab) + matrix.cols


def row_entries(matrix: CooccurrenceMatrix) -> np.ndarray:
    """int64 [V]: stored entries per row (what the driver balances partitions by)."""
    return np.bincount(matrix.rows, minlength=len(matrix.vocab)).astype(np.int64)


def partition_bounds(entries_per_row: np.ndarray, partitions: int) -> np.ndarray:
    """int64 [partitions + 1] row bounds, 0 .. V, cutting the rows into ranges of about
    equal stored entries (a range may be empty when one row holds more than a share)."""
    v = len(entries_per_row)
    cum = np.concatenate([[0], np.cumsum(entries_per_row, dtype=np.int64)])
    targets = cum[-1] * np.arange(1, partitions) / partitions
    above = np.clip(np.searchsorted(cum, targets, side="left"), 1, v)  # cum[above] >= target
    below = above - 1
    # the cut nearer its target (so one heavy row does not swallow the next range)
    inner = np.where(targets - cum[below] < cum[above] - targets, below, above).astype(np.int64)
    bounds = np.concatenate([[0], inner, [v]]).astype(np.int64)
    return np.maximum.accumulate(bounds)


def bounds_from_partitions(partitions: Sequence[dict[str, Any]], workers: int,
                           vocab_size: int) -> np.ndarray:
    """Worker row bounds for a saved partitioned matrix: its own bounds when it has
    as many partitions as there are workers, else cuts of about equal entries
    (entries taken as spread evenly over the rows of each partition)."""
    if len(partitions) == workers:
        return np.array([q["rows"][0] for q in partitions] + [partitions[-1]["rows"][1]], dtype=np.int64)
    per_row = np.zeros(vocab_size, dtype=np.float64)
    for q in partitions:
        lo, hi = q["rows"]
        if hi > lo:
            per_row[lo:hi] = q["entries"] / (hi - lo)
    return partition_bounds(per_row, workers)


def map_file(directory: str | os.PathLike, worker: int, partition: int) -> str:
    return os.path.join(directory, f"map-{worker:05d}-{partition:05d}.bin")


def write_map_outputs(matrix: CooccurrenceMatrix, bounds: np.ndarray, directory: str | os.PathLike,
                      worker: int) -> list[dict[str, Any]]:
    """Worker ``worker``'s counted entries, split by the row ranges ``bounds``, one
    file per partition; returns each file's name, entries and bytes."""
    keys = matrix_keys(matrix)
    v = len(matrix.vocab)
    cuts = np.searchsorted(keys, np.asarray(bounds, dtype=np.int64) * v)
    out = []
    for p in range(len(bounds) - 1):
        a, b = int(cuts[p]), int(cuts[p + 1])
        path = map_file(directory, worker, p)
        size = write_partition_records(path, keys[a:b], matrix.values[a:b])
        out.append({"file": path, "entries": b - a, "bytes": size})
    return out


def reduce_partition(directory: str | os.PathLike, partition: int, workers: int, out_dir: str | os.PathLike,
                     vocab_size: int, memory_gb: float, tmp_dir: str | None = None) -> dict[str, Any]:
    """Merge map file ``partition`` of every worker into ``out_dir``/part-NNNNN.bin;
    returns its name, entries, bytes, and its exact entries per row (int64 [V])."""
    inputs = [map_file(directory, w, partition) for w in range(workers)]
    out = os.path.join(out_dir, partition_name(partition))
    per_row = np.zeros(vocab_size, dtype=np.int64)

    def observe(keys: np.ndarray, values: np.ndarray) -> None:
        per_row[:] += np.bincount(keys // vocab_size, minlength=vocab_size)

    records = merge_to_file(inputs, out, memory_gb, tmp_dir, observe=observe)
    return {"file": partition_name(partition), "entries": int(records), "row_entries": per_row,
            "bytes": int(records * RECORD_BYTES),
            "bytes_read": int(sum(Path(p).stat().st_size for p in inputs))}
