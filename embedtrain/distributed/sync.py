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
    where they go (a learning rate divided by up to k): below ``scaled`` on WordSim-353
    at 4 workers (docs/ray.md, "Combining the replicas").
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
touched_rows x bytes per row``: an int32 row id, a float32 weight and the delta,
either float32 [dim] (``--sync-dtype float32``: 4 dim + 8 bytes) or fixed point:
int8 or int16 [dim] and a float32 step per row (``int8``, the default: dim + 12
bytes; ``int16``: 2 dim + 12), a value off by at most half a step, 1/254 or
1/65534 of the row's largest change. The update is split into one shard per worker (rows by id modulo
the number of workers); each shard is combined by one reducer, and every worker
reads all combined shards, i.e. the union of touched rows at the same bytes per
row. :func:`RowUpdate.nbytes` counts them; the benchmark reports them. A replica
keeps its own snapshot in float32, so replicas stay identical whatever travels.
The row work (finding, snapshotting, comparing, merging, adding rows) is done by
the numba kernels of ``kernels/sync.py``, one pass each.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..config import SYNC_DTYPES  # noqa: F401 - how deltas travel (--sync-dtype)
from ..kernels import sgns as sgns_kernels
from ..kernels import sync as kernels

PROTOCOLS = tuple(kernels.PROTOCOL_IDS)
ROW_ID_BYTES = 4       # rows are int32 ids (weights and steps float32): see nbytes


@dataclass
class RowUpdate:
    """Changed rows of one matrix: ``rows`` int32 [n] ascending, unique; ``values``
    their deltas, float32 [n, dim], or int8/int16 [n, dim] in fixed point with
    ``step`` float32 [n] (delta = values x step); ``weight`` float32 [n] (the row's
    mass or update count, for the protocols)."""

    rows: np.ndarray
    values: np.ndarray
    weight: np.ndarray
    step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __post_init__(self):
        if self.rows.dtype != np.int32:
            self.rows = self.rows.astype(np.int32)

    @classmethod
    def empty(cls, dim: int, dtype: str = "float32") -> "RowUpdate":
        values, step = new_values(0, dim, dtype)
        return cls(np.zeros(0, np.int32), values, np.zeros(0, np.float32), step)

    @property
    def fixed(self) -> bool:
        return self.values.dtype != np.float32

    @property
    def dtype(self) -> str:
        return self.values.dtype.name

    @property
    def delta(self) -> np.ndarray:
        """The deltas as float32 [n, dim] (decoded when in fixed point)."""
        if self.fixed:
            return self.values.astype(np.float32) * self.step[:, None]
        return self.values

    @property
    def nbytes(self) -> int:
        """Bytes on the wire: int32 row id, float32 weight, the values (float32 or
        int16 or int8 per dimension) and, in fixed point, a float32 step per row."""
        per_row = ROW_ID_BYTES + 4 + self.values.shape[1] * self.values.itemsize + (4 if self.fixed else 0)
        return len(self.rows) * per_row

    def __len__(self) -> int:
        return len(self.rows)

    def slice(self, lo: int, hi: int) -> "RowUpdate":
        return RowUpdate(self.rows[lo:hi], self.values[lo:hi], self.weight[lo:hi],
                         self.step[lo:hi] if self.fixed else self.step)


def new_values(n: int, dim: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Empty value and step arrays for n rows encoded as ``dtype`` (:data:`SYNC_DTYPES`)."""
    if dtype in ("int16", "int8"):
        return np.empty((n, dim), np.dtype(dtype)), np.empty(n, np.float32)
    if dtype != "float32":
        raise ValueError(f"sync dtype must be one of {', '.join(SYNC_DTYPES)}, not {dtype!r}")
    return np.empty((n, dim), np.float32), np.zeros(0, np.float32)


def shard_of(rows: np.ndarray, shards: int) -> np.ndarray:
    """The shard that combines each row: id modulo the shard count, so that the
    frequent words (low ids) are spread over every shard."""
    return rows % shards


def split_shards(update: RowUpdate, shards: int, bounds: np.ndarray | None = None) -> list[RowUpdate]:
    """``update`` cut into ``shards`` row sets (see :func:`shard_of`), rows ascending.
    ``bounds``: the update is already grouped by shard (ReplicaTracker.update), so the
    shards are slices of it."""
    if bounds is not None and len(bounds) == shards + 1:
        return [update.slice(int(bounds[s]), int(bounds[s + 1])) for s in range(shards)]
    order = np.argsort(shard_of(update.rows, shards) * (int(update.rows.max(initial=0)) + 1) + update.rows,
                       kind="stable")
    grouped = RowUpdate(update.rows[order], update.values[order], update.weight[order],
                        update.step[order] if update.fixed else update.step)
    counts = np.bincount(shard_of(grouped.rows, shards), minlength=shards)
    return split_shards(grouped, shards, np.r_[0, np.cumsum(counts)])


def combine(updates: Sequence[RowUpdate], protocol: str, dtype: str | None = None) -> RowUpdate:
    """One row update from the workers' updates of the same matrix (or shard), each
    with ascending rows: per row over the workers that moved it, in worker order (see
    the module docstring for the protocols; kernels.sync does the arithmetic).
    ``dtype``: the encoding of the result (default: that of the inputs)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown sync protocol {protocol!r}")
    if not updates:
        raise ValueError("nothing to combine")
    nonempty = [u for u in updates if len(u)]
    dtype = dtype or updates[0].dtype
    if len(nonempty) <= 1 and (not nonempty or nonempty[0].dtype == dtype):
        return nonempty[0] if nonempty else updates[0]
    rows = nonempty[0].rows
    for u in nonempty[1:]:
        rows = kernels.union_rows(rows, u.rows)
    n, dim = len(rows), nonempty[0].values.shape[1]
    total = np.zeros((n, dim), np.float32)
    total_w, gained, squares, workers = (np.zeros(n, np.float64) for _ in range(4))
    code = kernels.PROTOCOL_IDS[protocol]
    for u in nonempty:
        kernels.accumulate_rows(total, total_w, gained, squares, workers, np.searchsorted(rows, u.rows),
                                u.values, u.step, u.fixed, u.weight, code)
    values, step = new_values(n, dim, dtype)
    kernels.finish_rows(total, total_w, gained, squares, workers, code, values, step, kernels.LEVELS[dtype])
    return RowUpdate(rows, values, total_w.astype(np.float32), step)


def average(updates: Sequence[RowUpdate]) -> RowUpdate:
    """The changes of the same matrix (or shard) from every one of N workers, summed row
    by row and divided by N, the workers that did not move a row counted as zero (the
    plain mean of N replicas' changes, model averaging). GloVe's AdaGrad sums on Ray: each
    worker adds its squared steps N times (kernels.glove.train_entries ``share``), so that
    within a round its steps shrink as if it saw the N workers' squared steps; the sum of
    the N workers' changes over N is then the sum of their squared steps, each counted
    once, as one machine's accumulator holds them. Deltas are float32 only."""
    total = combine(updates, "sum", "float32")
    n = len(updates)
    if n <= 1 or not len(total):
        return total
    return RowUpdate(total.rows, total.delta * np.float32(1.0 / n), total.weight)


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
    n_rows = int(table_rows.max(initial=-1)) + 1

    def rows_of(word_counts: np.ndarray, word_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return kernels.subword_touched(offsets, table_rows, word_counts,
                                       np.asarray(word_weight, np.float64), n_rows)

    return rows_of


# The curvature of the logistic loss along a row is sigma'(x) |v|^2, sigma' at most 1/4 (and
# far less once the model fits). The factor applied to |v|^2 lr n: the best of the values
# measured at 4 workers (docs/ray.md, "Combining the replicas", has the table).
SIGMOID_SLOPE = 0.01


# FastText's output masses: |h|^2 over the word rows' |x|^2 is estimated on this many of
# the most frequent words (all 70,000 of enwiki's vocabulary cost 78 ms a round, several
# times a 15,625-word round's training; these 5.5 ms)
MEAN_ROW_SAMPLE = 4096


def update_masses(arrays: Mapping[str, np.ndarray], trained: np.ndarray, lr: float, *, window: int,
                  negative: int, noise_prob: np.ndarray, cbow: bool,
                  hs_offsets: np.ndarray | None = None, hs_points: np.ndarray | None = None,
                  input_rows: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> dict[str, np.ndarray]:
    """How far an interval can move each row towards where its data pulls it, for
    ``scaled`` (:func:`combine`): a row updated n times at rate lr by terms whose other
    rows have squared norm |v|^2 contracts its distance to that point by about
    lr sigma' |v|^2 per update, so after n updates it has gone g = 1 - exp(-m) of the
    way, m = n lr sigma' |v|^2 (m << 1: the updates add up linearly; m >> 1: the row
    has arrived, and k workers that all arrived must not move it k times as far).

    ``trained``: expected trained occurrences of each word in the interval (counts x
    keep-probability), float [V]; ``input_rows``: (offsets int64 [V+1], ids int32 [*]),
    each word's input rows, whose mean h the output terms see (FastText's; both empty for
    word2vec's one row per word, whose h is that row). Returns per
    word for ``input_vectors`` (the rows_from_words of the tracker spread it over a
    FastText word's rows) and per row for ``output_vectors`` and ``output_hs``.
    """
    f = window + 1.0                       # expected contexts of a position: 2 x mean of 1..window
    trained = trained.astype(np.float64)
    centres = trained.sum()
    base = centres if cbow else centres * f  # input updates of the interval: centres or pairs
    inp = arrays["input_vectors"]
    v = len(trained)
    word_sq = np.einsum("ij,ij->i", inp[:v], inp[:v]).astype(np.float64)
    in_sq = float(trained @ word_sq / centres) if centres > 0 else 0.0
    if cbow and centres > 0:
        # CBOW's output terms see the mean of about f context rows: for rows drawn
        # independently by frequency its squared norm is |mean row|^2 + (the mean squared
        # norm - |mean row|^2) / f, not one row's
        mean_row = kernels.weighted_row_sum(inp, trained) / centres
        centre_sq = float(mean_row @ mean_row)
        in_sq = centre_sq + max(in_sq - centre_sq, 0.0) / f
    elif input_rows is not None and centres > 0:
        # FastText's output terms see h, the mean of the centre word's word and n-gram
        # rows, not its word row: scale by |h|^2 over |x|^2 on the most frequent words
        # (at 32 x 15,625 this took analogy from -0.092 to -0.021 of one machine:
        # docs/ray.md, "FastText at 32 workers")
        in_sq *= mean_row_ratio(inp, input_rows, trained, word_sq)
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
    # an input row is a context of about f positions an occurrence. CBOW adds the same
    # gradient of the mean h to each of the ~f context rows, so h moves as far as each of
    # them: an update pulls a row back as far as it moves it, as in skip-gram (until
    # issue 22's CBOW sweep this counted 1/f of that, and CBOW fell 0.015-0.025 behind one
    # machine at 16-32 workers: docs/ray.md, "CBOW at 8-32 workers")
    out["input_vectors"] = lr * h_in * trained * f
    return out


def mean_row_ratio(inp: np.ndarray, input_rows: tuple[np.ndarray, np.ndarray], trained: np.ndarray,
                   word_sq: np.ndarray, sample: int = MEAN_ROW_SAMPLE) -> float:
    """The ``trained``-weighted mean of |h_w|^2 (h_w: the mean of word w's input rows)
    over that of |x_w|^2 (``word_sq``, float64 [V]: its word row's), on the ``sample``
    most frequent words (the vocabulary's first); 1.0 when there is nothing to weigh (no
    row lists: one row per word, word2vec)."""
    offsets, ids = input_rows
    n = min(sample, len(trained), len(offsets) - 1)
    if n <= 0 or not len(ids):
        return 1.0
    means = np.empty((n, inp.shape[1]), dtype=np.float32)
    sgns_kernels.word_vectors(inp, offsets, ids, means)
    weights = trained[:n]
    words = float(weights @ word_sq[:n])
    mean_sq = float(weights @ np.einsum("ij,ij->i", means, means).astype(np.float64))
    return mean_sq / words if words > 0 else 1.0


class ReplicaTracker:
    """Remembers a replica's state at the last synchronisation, so that its update
    (:meth:`update`) and the combined result (:meth:`apply`) can be computed.

    ``matrices``: name -> float32 [rows, dim] array trained in place;
    ``rows_from_words``: name -> :data:`RowsFromWords` or None (compare with a copy);
    ``shards``: the update comes grouped into this many shards (:func:`split_shards`);
    ``dtype``: how its deltas are encoded (:data:`SYNC_DTYPES`).
    """

    def __init__(self, matrices: Mapping[str, np.ndarray],
                 rows_from_words: Mapping[str, RowsFromWords | None], shards: int = 1,
                 dtype: str = "float32"):
        self.matrices = {k: m for k, m in matrices.items() if m.size}
        self.rows_from_words = rows_from_words
        self.shards = shards
        self.dtype = dtype
        new_values(0, 1, dtype)  # checks it
        # name -> (rows, their snapshot, their weight), taken by begin()
        self._base: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # name -> the snapshot's memory, kept from round to round: a fresh array of tens of
        # MB is new pages every round (glibc maps allocations over 32 MB afresh), and
        # faulting them in cost as much as the copy
        self._memory: dict[str, np.ndarray] = {}
        self.bounds: dict[str, np.ndarray] = {}  # name -> shard bounds of the last update()

    def begin(self, word_counts: np.ndarray, masses: Mapping[str, np.ndarray] | None = None) -> None:
        """Before training an interval on words with these counts (int64 [V]).

        ``masses``: the weight each row's update carries (:func:`update_masses`), per
        matrix: per word for the matrices whose rows are found from the words, per row
        for the others. Without it the weights are update counts: the word counts
        (plus one for rows of vocabulary size, which noise draws touch too)."""
        masses = masses or {}
        self._base = {}
        for name, m in self.matrices.items():
            predict = self.rows_from_words.get(name)
            if predict is None:
                rows = np.arange(len(m), dtype=np.int32)
                if name in masses:  # float32 masses are kept, not copied: GloVe's kernel
                    weight = np.asarray(masses[name], np.float32)  # fills them while it trains
                else:  # a row of vocabulary size: its word's count, plus one (noise draws)
                    weight = np.ones(len(m), np.float32)
                    if len(word_counts) == len(m):
                        weight += word_counts
                base = self._snapshot_memory(name, len(m), m.shape[1])
                np.copyto(base, m)
                self._base[name] = (rows, base, weight)
            else:
                rows, weight = predict(word_counts, masses.get(name, word_counts))
                rows = np.asarray(rows, np.int32)
                base = self._snapshot_memory(name, len(rows), m.shape[1])
                kernels.take_rows(m, rows, base)
                self._base[name] = (rows, base, np.asarray(weight, np.float32))

    def _snapshot_memory(self, name: str, n: int, dim: int) -> np.ndarray:
        """float32 [n, dim] for matrix ``name``'s snapshot, in memory kept across rounds
        (the previous snapshot is no longer needed: it was applied or discarded)."""
        memory = self._memory.get(name)
        if memory is None or len(memory) < n:
            memory = self._memory[name] = np.empty((max(n, 1), dim), np.float32)
        return memory[:n]

    def update(self, dtype: str | None = None) -> dict[str, RowUpdate]:
        """The rows changed since :meth:`begin`, with their deltas (encoded as
        ``dtype``, default the tracker's) and weights, grouped by shard (their bounds
        in ``self.bounds``; with one shard, rows ascending)."""
        dtype = dtype or self.dtype
        out = {}
        for name, m in self.matrices.items():
            rows, base, weight = self._base[name]
            n = len(rows)
            out_rows, out_w = np.empty(n, np.int32), np.empty(n, np.float32)
            values, step = new_values(n, m.shape[1], dtype)
            bounds = kernels.changed_rows(m, rows, base, weight, self.shards, out_rows, values, step, out_w,
                                          kernels.LEVELS[dtype])
            k = int(bounds[-1])
            out[name] = RowUpdate(out_rows[:k], values[:k], out_w[:k], step[:k] if dtype != "float32" else step)
            self.bounds[name] = bounds
        return out

    def shards_of(self, update: Mapping[str, RowUpdate]) -> list[dict[str, RowUpdate]]:
        """The last :meth:`update` as one dict per shard (slices, no copies)."""
        per_name = {name: split_shards(u, self.shards, self.bounds.get(name)) for name, u in update.items()}
        return [{name: per_name[name][s] for name in per_name} for s in range(self.shards)]

    def apply_late(self, combined: Mapping[str, Sequence[RowUpdate]], own: Mapping[str, RowUpdate]) -> None:
        """Apply the combined result of an earlier round after this replica trained
        on (overlapped synchronisation): take out this replica's own update of that
        round (``own``: what :meth:`update` returned then as float32) and
        add the combined one (its shards), leaving whatever it trained since in place."""
        for name, m in self.matrices.items():
            mine = own.get(name)
            if mine is not None and len(mine):
                kernels.add_rows(m, mine.rows, mine.values, mine.step, mine.fixed, -1.0)
            for u in combined.get(name, ()):
                if len(u):
                    kernels.add_rows(m, u.rows, u.values, u.step, u.fixed, 1.0)

    def discard(self) -> None:
        """Forget the snapshot of the last :meth:`begin` (its update was taken)."""
        self._base = {}

    def apply(self, combined: Mapping[str, Sequence[RowUpdate]]) -> None:
        """Make the replica the combined model: undo this replica's own changes
        since :meth:`begin` (if it trained), then add the combined deltas (the
        shards of each matrix, one after another)."""
        for name, m in self.matrices.items():
            if name in self._base:  # not when it trained nothing (a repair round of another)
                rows, base, _ = self._base[name]
                if len(rows) == len(m):
                    m[...] = base
                else:
                    kernels.put_rows(m, rows, base)
            for u in combined.get(name, ()):
                if len(u):
                    kernels.add_rows(m, u.rows, u.values, u.step, u.fixed, 1.0)
        self._base = {}


def warm_up(dtype: str, dim: int = 4) -> None:
    """Run every row kernel once on tiny arrays (a replica's update, shards read-only as
    Ray hands them over, combined, applied), so that a worker or reducer loads (or
    compiles) them while the run starts rather than in its first round."""
    def frozen(u: RowUpdate) -> RowUpdate:
        parts = [a.copy() for a in (u.rows, u.values, u.weight, u.step)]
        for a in parts:
            a.setflags(write=False)
        return RowUpdate(*parts[:3], parts[3])

    m = np.zeros((6, dim), np.float32)
    offsets, table_rows = np.array([0, 2, 4]), np.array([0, 3, 1, 5], np.int32)
    tracker = ReplicaTracker({"m": m, "o": np.zeros((2, dim), np.float32)},
                             {"m": subword_rows(offsets, table_rows), "o": None}, 2, dtype)
    tracker.begin(np.array([1, 1]))
    m += 1.0
    shards = [{k: frozen(u) for k, u in shard.items()} for shard in tracker.shards_of(tracker.update())]
    own = tracker.update("float32")
    combined = [{k: frozen(combine([shard[k], shard[k]], PROTOCOLS[0])) for k in shard} for shard in shards]
    per_name = {k: [c[k] for c in combined] for k in combined[0]}
    tracker.apply_late(per_name, own)
    tracker.apply(per_name)
