"""Combining the replicas' updates: pure numpy, no Ray (tests/test_distributed_sync.py).

Every worker trains a replica of the weights on its part for an interval
(``--sync-every`` words), then the replicas are made equal again. What is exchanged
is a sparse :class:`RowUpdate` per matrix: the rows the worker changed since the
last synchronisation, their change (``delta``) and a weight (how many updates the
row received, estimated from the words trained). Never whole matrices: FastText's
n-gram matrix (bucket x dim, 800 MB at the defaults) contributes only the rows of
the n-grams of the words trained in the interval.

Protocols (``--sync-protocol``), each combining row by row over the workers that
touched the row, so an idle replica never dilutes a trained one:

``scaled`` (the default)
    new = base + S * g(sum m_i) / sum g(m_i), S the sum of the k deltas of the row,
    g(m) = 1 - exp(-m) and m_i the row's *mass* on worker i (:func:`update_masses`:
    its expected updates in the interval x learning rate x the squared norm of the
    rows it was trained against x a calibrated slope): a row with little mass moved
    linearly, so the deltas add up (the sum: what one machine would have done with
    all the data); a row with much mass has already arrived where its data pulls it
    on every worker (the output rows of frequent words: thousands of negative draws
    per interval), so k arrivals must not move it k times as far (the mean). The
    factor is what a row that contracts towards a common point at a fixed rate per
    update would do: one machine training on all workers' data moves it g(sum m_i) of
    the way, k workers moved it sum g(m_i). Delta summation with scaling, the scale
    from update counts (both named in the issue; our own closed form).
``adaptive``
    new = base + S * (1 - a (1 - 1/k)), S the sum of the k deltas of the row and a
    their agreement, (|S|^2 / sum |d_i|^2 - 1) / (k - 1) clipped to [0, 1]: the sum
    when the deltas are orthogonal or opposed, their mean when they are equal. The
    idea of GraphWord2Vec's model combiner (Gill et al. 2019: combine by projection,
    so that aligned gradients are not counted k times), in a closed form of our own.
    It also averages rows that every worker moves the same way while still far from
    where they go (a learning rate divided by up to k): 0.02-0.04 below ``scaled``
    on WordSim-353 at 4 workers (README).
``sum``
    new = base + sum of the deltas. Every update any worker made is kept, as if the
    workers had trained one after another on a copy that is one interval stale (the
    way a parameter server applies pushed gradients; Ordentlich et al. 2016 for
    word2vec). Right while an interval moves a row little; with long intervals the
    deltas of a row that every worker trains (frequent words) can overshoot.
``mean``
    new = base + sum(w_i * delta_i) / sum(w_i), w_i the row's update count on worker
    i: model averaging restricted to the rows that were trained, weighted by how much
    (a row trained on one worker keeps its whole update). Spark MLlib averages whole
    models once per epoch, so each row's update is divided by the number of
    partitions whether or not they trained it, and quality falls as partitions grow
    (Ji et al. 2016, pWord2Vec, and Gill et al. 2019, GraphWord2Vec, both show this
    and sync more often and more selectively).

Cost per synchronisation, for one worker: it sends ``sum over matrices of
touched_rows x (4 * dim + 8)`` bytes (row id int32, weight float32, delta float32
[dim]), split into one shard per worker (rows by id modulo the number of workers);
each worker combines one shard from every worker and every worker reads all
combined shards, i.e. the union of touched rows at the same bytes per row.
:func:`RowUpdate.nbytes` counts them; the benchmark reports them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

PROTOCOLS = ("scaled", "adaptive", "sum", "mean")
ROW_ID_BYTES = 4   # rows are sent as int32 ids (and weights as float32): see nbytes


@dataclass
class RowUpdate:
    """Changed rows of one matrix: ``rows`` int64 [n] sorted, unique; ``delta``
    float32 [n, dim]; ``weight`` float32 [n] (update counts, for ``mean``)."""

    rows: np.ndarray
    delta: np.ndarray
    weight: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> "RowUpdate":
        return cls(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), np.zeros(0, np.float32))

    @property
    def nbytes(self) -> int:
        """Bytes on the wire: int32 row id, float32 weight and float32 [dim] per row."""
        return len(self.rows) * (ROW_ID_BYTES + 4 + self.delta.shape[1] * 4)

    def __len__(self) -> int:
        return len(self.rows)


def shard_of(rows: np.ndarray, shards: int) -> np.ndarray:
    """The shard that combines each row: id modulo the shard count, so that the
    frequent words (low ids) are spread over every shard."""
    return rows % shards


def split_shards(update: RowUpdate, shards: int) -> list[RowUpdate]:
    """``update`` cut into ``shards`` row sets (see :func:`shard_of`), rows sorted."""
    owner = shard_of(update.rows, shards)
    out = []
    for s in range(shards):
        take = np.flatnonzero(owner == s)
        out.append(RowUpdate(update.rows[take], update.delta[take], update.weight[take]))
    return out


def combine(updates: Sequence[RowUpdate], protocol: str) -> RowUpdate:
    """One row update from the workers' updates of the same matrix (or shard).

    Each worker's rows are sorted and unique, so the workers' deltas are added into
    the union of their rows in worker order (no sort of the payload)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown sync protocol {protocol!r}")
    if not updates:
        raise ValueError("nothing to combine")
    nonempty = [u for u in updates if len(u)]
    if len(nonempty) <= 1:
        return nonempty[0] if nonempty else updates[0]
    rows = nonempty[0].rows
    for u in nonempty[1:]:
        rows = np.union1d(rows, u.rows)
    n, dim = len(rows), nonempty[0].delta.shape[1]
    positions = [np.searchsorted(rows, u.rows) for u in nonempty]
    total = np.zeros((n, dim), np.float32)      # S, or sum of w_i d_i for mean
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
        # weight = the row's saturation mass m_i on worker i (update_masses); a row moved
        # by one worker with mass m goes g(m) = 1 - exp(-m) of the way to where its data
        # pulls it, so one worker trained on all their data would have moved it
        # g(sum m_i) / sum g(m_i) of the summed deltas S.
        gained = np.zeros(n, np.float64)
        for u, pos in zip(nonempty, positions):
            gained[pos] += -np.expm1(-u.weight.astype(np.float64))
        whole = -np.expm1(-total_w)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(gained > 1e-12, whole / gained, 1.0)
        total *= factor[:, None].astype(np.float32)
    elif protocol == "adaptive":
        squares = np.zeros(n, np.float64)      # Q = sum |d_i|^2
        k = np.zeros(n, np.float64)
        for u, pos in zip(nonempty, positions):
            squares[pos] += np.einsum("ij,ij->i", u.delta, u.delta)
            k[pos] += 1.0
        # agreement a: 0 when the deltas are orthogonal (|S|^2 = Q) or opposed, 1 when equal
        # (|S|^2 = k Q); the row gets a*mean + (1-a)*sum = S * (1 - a (1 - 1/k))
        s2 = np.einsum("ij,ij->i", total, total)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where((k > 1) & (squares > 0), (s2 / squares - 1.0) / (k - 1.0), 0.0)
        a = np.clip(a, 0.0, 1.0)
        total *= (1.0 - a * (1.0 - 1.0 / np.maximum(k, 1.0)))[:, None].astype(np.float32)
    elif protocol == "mean":
        total /= total_w[:, None].astype(np.float32)
    return RowUpdate(rows.astype(np.int64, copy=False), total, total_w.astype(np.float32))


def concat_shards(shards: Sequence[RowUpdate]) -> RowUpdate:
    """Combined shards back into one update (rows sorted)."""
    shards = [s for s in shards if len(s)]
    if not shards:
        return RowUpdate.empty(0)
    rows = np.concatenate([s.rows for s in shards])
    order = np.argsort(rows, kind="stable")
    return RowUpdate(rows[order], np.concatenate([s.delta for s in shards])[order],
                     np.concatenate([s.weight for s in shards])[order])


# --------------------------------------------------------------------------- one replica

# How to find the rows a matrix will have touched: from the interval's word counts
# and a weight per word (int64 [V], float [V] -> (rows, summed weights)), or None to
# compare the whole matrix with a copy (only for matrices of vocabulary size: output
# vectors, Huffman nodes).
RowsFromWords = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def word_rows(word_counts: np.ndarray, word_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input rows of word2vec: a word's own row."""
    rows = np.flatnonzero(word_counts)
    return rows, word_weight[rows].astype(np.float32)


def subword_rows(offsets: np.ndarray, table_rows: np.ndarray) -> RowsFromWords:
    """Input rows of FastText: every row (word and n-grams) of every word trained."""

    def rows_of(word_counts: np.ndarray, word_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        words = np.flatnonzero(word_counts)
        lengths = offsets[words + 1] - offsets[words]
        # positions in table_rows of every row of every word: offsets[w] + 0..len-1
        first = np.repeat(offsets[words] - np.cumsum(np.r_[0, lengths[:-1]]), lengths)
        positions = first + np.arange(int(lengths.sum()))
        rows, inverse = np.unique(table_rows[positions], return_inverse=True)
        weight = np.bincount(inverse, np.repeat(word_weight[words], lengths).astype(np.float64),
                             minlength=len(rows))
        return rows.astype(np.int64), weight.astype(np.float32)

    return rows_of


# The curvature of the logistic loss along a row is sigma'(x) |v|^2, sigma' at most 1/4 (and
# far less once the model fits). The factor applied to |v|^2 lr n, chosen by measurement
# (README; skip-gram, 4 workers, text8-prefix, seed 1, WordSim-353 / questions-words):
# 0.25: 0.29 / 0.016 on text8-1m, far below one machine; 0.03: 0.488 / 0.058;
# 0.01: 0.528 / 0.070 (seeds 1-3: 0.520 / 0.068; one machine 0.510 / 0.087); 0.003: 0.487 /
# 0.056; 0 is ``sum``, which diverges at 4 workers.
SIGMOID_SLOPE = 0.01


def update_masses(arrays: Mapping[str, np.ndarray], trained: np.ndarray, lr: float, *, window: int,
                  negative: int, noise_prob: np.ndarray, cbow: bool,
                  hs_offsets: np.ndarray | None = None, hs_points: np.ndarray | None = None
                  ) -> dict[str, np.ndarray]:
    """How far an interval can move each row towards where its data pulls it, for
    ``scaled`` (:func:`combine`): a row updated n times at rate lr by terms whose other
    rows have squared norm |v|^2 contracts its distance to that point by about
    lr sigma' |v|^2 per update, so after n updates it has gone g = 1 - exp(-m) of the
    way, m = n lr sigma' |v|^2 (m << 1: the updates add up linearly; m >> 1: the row
    has arrived, and k workers that all arrived must not move it k times as far).

    ``trained``: expected trained occurrences of each word in the interval (counts x
    keep-probability), float [V]. Returns per word for ``input_vectors`` (the
    rows_from_words of the tracker spread it over a FastText word's rows) and per row
    for ``output_vectors`` and ``output_hs``.
    """
    f = window + 1.0                       # expected contexts of a position: 2 x mean of 1..window
    trained = trained.astype(np.float64)
    centres = trained.sum()
    base = centres if cbow else centres * f  # input updates of the interval: centres or pairs
    inp = arrays["input_vectors"]
    v = len(trained)
    word_sq = np.einsum("ij,ij->i", inp[:v], inp[:v]).astype(np.float64)
    in_sq = float(trained @ word_sq / centres) if centres > 0 else 0.0
    out: dict[str, np.ndarray] = {}
    interactions = 0.0                      # sum over output terms of |u|^2 (for the input rows)
    per_word = trained * (1.0 if cbow else f)
    outv = arrays.get("output_vectors")
    if outv is not None and outv.size:
        terms = per_word + base * negative * noise_prob
        interactions += float(terms @ np.einsum("ij,ij->i", outv, outv))
        out["output_vectors"] = lr * SIGMOID_SLOPE * in_sq * terms
    hs = arrays.get("output_hs")
    if hs is not None and hs.size and hs_offsets is not None:
        lengths = np.diff(hs_offsets)
        terms = np.bincount(hs_points, np.repeat(per_word, lengths), minlength=len(hs)).astype(np.float64)
        interactions += float(terms @ np.einsum("ij,ij->i", hs, hs))
        out["output_hs"] = lr * SIGMOID_SLOPE * in_sq * terms
    h_in = SIGMOID_SLOPE * interactions / base if base > 0 else 0.0
    out["input_vectors"] = lr * h_in * trained * f
    return out


class ReplicaTracker:
    """Remembers a replica's state at the last synchronisation, so that its update
    (:meth:`update`) and the combined result (:meth:`apply`) can be computed.

    ``matrices``: name -> float32 [rows, dim] array trained in place;
    ``rows_from_words``: name -> :data:`RowsFromWords` or None (compare with a copy).
    """

    def __init__(self, matrices: Mapping[str, np.ndarray],
                 rows_from_words: Mapping[str, RowsFromWords | None]):
        self.matrices = {k: m for k, m in matrices.items() if m.size}
        self.rows_from_words = rows_from_words
        self._base: dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray | None]] = {}
        self._word_counts: np.ndarray | None = None
        self._masses: Mapping[str, np.ndarray] = {}

    def begin(self, word_counts: np.ndarray, masses: Mapping[str, np.ndarray] | None = None) -> None:
        """Before training an interval on words with these counts (int64 [V]).

        ``masses``: the weight each row's update carries (:func:`update_masses`), per
        matrix: per word for the matrices whose rows are found from the words, per row
        for the others. Without it the weights are update counts: the word counts
        (plus one for rows of vocabulary size, which noise draws touch too)."""
        self._word_counts = word_counts
        self._masses = masses or {}
        self._base = {}
        for name, m in self.matrices.items():
            predict = self.rows_from_words.get(name)
            if predict is None:
                self._base[name] = (None, m.copy(), None)
            else:
                rows, weight = predict(word_counts, self._masses.get(name, word_counts))
                self._base[name] = (rows, m[rows], weight)

    def update(self) -> dict[str, RowUpdate]:
        """The rows changed since :meth:`begin`, with their deltas and weights."""
        out = {}
        counts = self._word_counts
        for name, m in self.matrices.items():
            rows, base, weight = self._base[name]
            if rows is None:
                delta = m - base
                changed = np.flatnonzero(np.any(delta != 0, axis=1))
                if name in self._masses:
                    weight = self._masses[name][changed].astype(np.float32)
                else:  # a row of vocabulary size: its word's count, plus one (noise draws)
                    weight = np.ones(len(changed), np.float32)
                    if len(counts) == len(m):
                        weight += counts[changed]
                out[name] = RowUpdate(changed.astype(np.int64), delta[changed], weight)
            else:
                delta = m[rows] - base
                keep = np.flatnonzero(np.any(delta != 0, axis=1))
                out[name] = RowUpdate(rows[keep].astype(np.int64), delta[keep], weight[keep])
        return out

    def apply_late(self, combined: Mapping[str, RowUpdate], own: Mapping[str, RowUpdate]) -> None:
        """Apply the combined result of an earlier round after this replica trained
        on (overlapped synchronisation): take out this replica's own update of that
        round (``own``, what :meth:`update` returned then) and add the combined one,
        leaving whatever it trained since in place."""
        for name, m in self.matrices.items():
            mine = own.get(name)
            if mine is not None and len(mine):
                m[mine.rows] -= mine.delta
            u = combined.get(name)
            if u is not None and len(u):
                m[u.rows] += u.delta

    def discard(self) -> None:
        """Forget the snapshot of the last :meth:`begin` (its update was taken)."""
        self._base = {}

    def apply(self, combined: Mapping[str, RowUpdate]) -> None:
        """Make the replica the combined model: undo this replica's own changes
        since :meth:`begin` (if it trained), then add the combined deltas."""
        for name, m in self.matrices.items():
            if name in self._base:  # not when it trained nothing (a repair round of another)
                rows, base, _ = self._base[name]
                if rows is None:
                    m[...] = base
                else:
                    m[rows] = base
            u = combined.get(name)
            if u is not None and len(u):
                m[u.rows] += u.delta
        self._base = {}
