"""Which n-gram bucket rows a FastText model holds, and the value of every other one.

fastText's input matrix has V word rows and ``bucket`` n-gram rows (2,000,000 x dim
floats by default: 800 MB at dim 100), but training updates only the buckets that
some vocabulary word's n-grams hash to (125,101 of 2,000,000 on text8-prefix). Every
other row keeps its initial value forever. So embedtrain trains and stores a
*compact* matrix: the V word rows, then one row per used bucket, in increasing
bucket order (``buckets`` int32 [T]); word ``w``'s n-gram rows are renumbered to
those compact rows (:func:`compact_table`). The kernel does the same arithmetic on
the same values in the same order, so the trained rows are bit for bit those of a
fully initialised [V + bucket, dim] matrix.

A row that training never touched (an unseen word's n-gram may hash to one) has its
initial value, computed on demand for that row alone (:func:`initial_rows`): the
block-seeded uniform fill of the full matrix (see kernels/rng.uniform_rows), so an
unseen word gets exactly the vector a fully initialised model gives it.
"""
from __future__ import annotations

import numpy as np

from .kernels.rng import uniform_rows
from .subwords import SubwordTable

# The full matrix is filled in blocks of this many rows, each block seeded from the
# seed and its first row (so values do not depend on the thread count).
INIT_BLOCK_ROWS = 65_536


def init_bound(dim: int) -> float:
    """Input rows start uniform in [-1/dim, 1/dim), like fastText's DenseMatrix::uniform."""
    return 1.0 / dim


def initial_rows(row_ids: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """float32 [n, dim]: rows ``row_ids`` (of the full [V + bucket, dim] layout) as
    first initialised for ``seed``."""
    ids = np.ascontiguousarray(row_ids, dtype=np.int64)
    out = np.empty((len(ids), dim), dtype=np.float32)
    bound = init_bound(dim)
    uniform_rows(out, ids, INIT_BLOCK_ROWS, -bound, bound, np.uint64(seed))
    return out


def used_buckets(table: SubwordTable, vocab_size: int) -> np.ndarray:
    """int32 [T], increasing: the n-gram buckets that the words of ``table`` use."""
    rows = table.rows[table.rows >= vocab_size]
    return (np.unique(rows) - vocab_size).astype(np.int32)


def stored_row_ids(vocab_size: int, buckets: np.ndarray) -> np.ndarray:
    """int64 [V + T]: the full-layout row of each compact row."""
    return np.concatenate([np.arange(vocab_size, dtype=np.int64),
                           vocab_size + buckets.astype(np.int64)])


def compact_table(table: SubwordTable, vocab_size: int, buckets: np.ndarray) -> SubwordTable:
    """``table`` with each bucket row ``V + b`` renumbered to ``V + position of b in
    buckets`` (every bucket the table uses must be in ``buckets``)."""
    rows = table.rows
    ngram = rows >= vocab_size
    compact = rows.copy()
    compact[ngram] = vocab_size + np.searchsorted(buckets, rows[ngram] - vocab_size)
    return SubwordTable(offsets=table.offsets, rows=compact.astype(np.int32))


class NgramRows:
    """The n-gram rows of a FastText model, stored or not.

    ``input_vectors`` holds the V word rows then the stored bucket rows: those of
    ``buckets`` (compact layout), or every bucket when ``buckets`` is None (the full
    layout: models written before compact storage, fastText .bin files).
    """

    def __init__(self, input_vectors: np.ndarray, vocab_size: int, bucket: int,
                 buckets: np.ndarray | None, seed: int):
        self.input_vectors = input_vectors
        self.vocab_size = vocab_size
        self.bucket = bucket
        self.buckets = buckets
        self.seed = seed

    @property
    def dim(self) -> int:
        return self.input_vectors.shape[1]

    def lookup(self, bucket_ids: np.ndarray) -> np.ndarray:
        """float32 [n, dim]: the rows of buckets ``bucket_ids``."""
        ids = np.asarray(bucket_ids, dtype=np.int64)
        v = self.vocab_size
        if self.buckets is None:
            return self.input_vectors[v + ids]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        pos = np.searchsorted(self.buckets, ids)
        pos_clipped = np.minimum(pos, max(len(self.buckets) - 1, 0))
        stored = (pos < len(self.buckets)) & (self.buckets[pos_clipped] == ids) if len(self.buckets) \
            else np.zeros(len(ids), dtype=bool)
        out[stored] = self.input_vectors[v + pos[stored]]
        if not stored.all():
            out[~stored] = initial_rows(v + ids[~stored], self.dim, self.seed)
        return out

    def full_rows(self, start: int, stop: int) -> np.ndarray:
        """float32 [stop - start, dim]: rows [start, stop) of the full [V + bucket, dim]
        matrix (word rows, then every bucket row)."""
        v = self.vocab_size
        if self.buckets is None:
            return np.array(self.input_vectors[start:stop])
        out = np.empty((stop - start, self.dim), dtype=np.float32)
        words = min(stop, v)
        if start < words:
            out[:words - start] = self.input_vectors[start:words]
        first = max(start, v)
        if first < stop:
            out[first - start:] = self.lookup(np.arange(first - v, stop - v))
        return out
