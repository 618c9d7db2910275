"""GloVe on Ray in strata: N workers that never touch the same row at once.

Stratified SGD for matrix factorisation (Gemulla et al. 2011), for GloVe's weighted
factorisation of the co-occurrence matrix. The words are cut into N groups
(:func:`word_groups`). A visit of an entry (the stored entry as itself, or mirrored)
updates one word row, one context row and their biases, so it lies in the block
(group of its word row, group of its context row). Step t of an epoch trains the
blocks (k, (k + s_t) mod N), k = 0..N-1, one a worker, with s_t the epoch's
sequence (:func:`block_sequence`). No two blocks of a step share a word row, a
context row or a bias, so nothing needs combining: worker k keeps the word rows of
its group for the whole run, and the context rows of a group (vectors, bias and
their AdaGrad sums) go from the worker that trained them to the one that trains
them next. An epoch is N steps, and visits every entry once, as one machine's does.

What N workers compute is what one machine computes with its visits in another
order (the blocks of a step commute): ``scripts/glove_strata.py`` trains that order
in one process. Within a block a worker visits in a random order drawn from
(seed, worker, epoch, block), so a run, a replaced worker's redone step and a
resumed run give the same bytes.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..config import STRATA_PROTOCOL, GloVeConfig
from ..families.glove import GRADSQ_NAMES, JOB_ENTRIES, WEIGHT_NAMES, initial_arrays
from ..io.checkpoint import digest
from ..kernels import glove as kernels
from ..kernels.rng import seed_states
from ..parallel import run_jobs
from ..vocab import Vocab

STRATA = STRATA_PROTOCOL
# what stays on worker k (its word group) and what travels (a context group)
WORD_ARRAYS = ("word_vectors", "word_gradsq", "word_bias", "word_bias_gradsq")
CONTEXT_ARRAYS = ("context_vectors", "context_gradsq", "context_bias", "context_bias_gradsq")
ARRAY_NAMES = WEIGHT_NAMES + GRADSQ_NAMES
assert set(WORD_ARRAYS + CONTEXT_ARRAYS) == set(ARRAY_NAMES)


def word_groups(vocab_size: int, n: int) -> np.ndarray:
    """Each word's group (int64 [V]): the word ids (most frequent first) dealt to the N
    groups in a snake, 0..N-1 then N-1..0, so that every group holds words of every
    frequency. On the 17.5 M-token enwiki corpus the largest block of a step holds
    1.006 times the mean's visits at 8 groups and 1.026 at 32 (docs/ray.md)."""
    ids = np.arange(vocab_size, dtype=np.int64)
    within = ids % n
    return np.where((ids // n) % 2 == 0, within, n - 1 - within)


def group_rows(groups: np.ndarray, n: int) -> list[np.ndarray]:
    """The word ids of each group, ascending."""
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(n)]


def block_sequence(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shifts of epoch ``epoch``'s N steps: step t trains blocks (k, (k + s[t]) mod N)."""
    return np.random.default_rng([seed, epoch, n]).permutation(n)


def context_group(worker: int, shift: int, n: int) -> int:
    return (worker + int(shift)) % n


def keep_entries(rows: np.ndarray, cols: np.ndarray, groups: np.ndarray, worker: int) -> np.ndarray:
    """Which stored entries worker ``worker`` visits (bool [m]): those whose row (visited
    as itself) or column (mirrored) is a word of its group."""
    return (groups[rows] == worker) | (groups[cols] == worker)


class StrataReplica:
    """Worker ``index``'s part of a GloVe run in strata: the stored entries it visits
    (its group's rows as word rows), their visits sorted by the context group they
    touch (one block each), and full arrays of which it trains its word group's rows
    and, in each step, the context group it holds."""

    def __init__(self, config: GloVeConfig, vocab: Vocab, index: int, workers: int, rows: np.ndarray,
                 cols: np.ndarray, values: np.ndarray):
        self.config, self.vocab, self.index, self.workers = config, vocab, index, workers
        log_x, weight = kernels.glove_targets(values, config.x_max, config.alpha)
        self.entries = (rows, cols, log_x, weight)
        groups = word_groups(len(vocab), workers)
        self.group_rows = group_rows(groups, workers)
        m = len(rows)
        direct = np.flatnonzero(groups[rows] == index)
        mirrored = np.flatnonzero(groups[cols] == index)  # a diagonal mirror: the kernel skips it
        ids = np.concatenate([direct, mirrored + m])
        block = np.concatenate([groups[cols[direct]], groups[rows[mirrored]]])
        by_block = np.argsort(block, kind="stable")
        dtype = np.int32 if 2 * m < 2 ** 31 else np.int64
        self.ids = ids[by_block].astype(dtype)
        self.starts = np.searchsorted(block[by_block], np.arange(workers + 1))
        self.order = np.empty_like(self.ids)
        arrays = initial_arrays(len(vocab), config.dim, config.seed)  # the same on every worker
        self.arrays = {n: arrays[n] for n in ARRAY_NAMES}
        self.weights = tuple(self.arrays[n] for n in WEIGHT_NAMES)
        self.gradsq = tuple(self.arrays[n] for n in GRADSQ_NAMES)
        self._epoch = -1

    def reset(self, base: dict[str, np.ndarray] | None = None) -> None:
        """Every array back to ``base`` (None: the seed's initial values), in place."""
        if base is None:
            base = initial_arrays(len(self.vocab), self.config.dim, self.config.seed)
        for n in ARRAY_NAMES:
            self.arrays[n][...] = base[n]

    def summary(self) -> dict[str, int]:
        rows, cols = self.entries[0], self.entries[1]
        return {"entries": int(len(rows)), "diagonal": int(np.count_nonzero(rows == cols)),
                "ids": int(len(self.ids)), "blocks": [int(b) for b in np.diff(self.starts)]}

    def _shuffle(self, epoch: int) -> None:
        """Every block's order in epoch ``epoch``: a function of seed, worker, epoch and
        block only."""
        for b in range(self.workers):
            lo, hi = int(self.starts[b]), int(self.starts[b + 1])
            if hi > lo:
                mixed = np.random.SeedSequence([self.config.seed, self.index, epoch, b]).generate_state(1, np.uint64)
                perm = self.order[lo:hi]
                kernels.shuffle(perm, seed_states(int(mixed[0]), 1)[0])
                perm[:] = self.ids[lo:hi][perm]
        self._epoch = epoch

    def train_block(self, epoch: int, block: int, threads: int) -> tuple[int, float, int]:
        """Visit every entry of block (this worker, ``block``) once: (visits, cost, trained)."""
        if self._epoch != epoch:
            self._shuffle(epoch)
        lo, hi = int(self.starts[block]), int(self.starts[block + 1])
        results: list[Any] = []

        def work(_: int, start: int):
            return kernels.train_entries(self.order, start, min(start + JOB_ENTRIES, hi), self.entries,
                                         self.weights, self.gradsq, self.config.lr, kernels.GRAD_CLIP)

        run_jobs(range(lo, hi, JOB_ENTRIES), work, lambda j, r: results.append(r), threads)
        return hi - lo, float(sum(r[0] for r in results)), int(sum(r[1] for r in results))

    def rows_of(self, names: tuple[str, ...], group: int) -> dict[str, np.ndarray]:
        """A copy of group ``group``'s rows of the arrays ``names``."""
        rows = self.group_rows[group]
        return {n: self.arrays[n][rows] for n in names}

    def set_rows(self, block: dict[str, np.ndarray], group: int) -> int:
        """Write a group's rows (from :meth:`rows_of`) into the arrays; returns their bytes."""
        rows = self.group_rows[group]
        for n, a in block.items():
            self.arrays[n][rows] = a
        return int(sum(a.nbytes for a in block.values()))

    def fingerprint(self) -> str:
        return digest(self.entries[0], self.entries[1])

    def close(self) -> None:
        pass


def train_step(replica: StrataReplica, epoch: int, step: int, context: dict | None,
               threads: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Step ``step`` of epoch ``epoch`` on a worker: take the context group's rows
    (``context``; None: the rows this replica holds, which are every worker's at the
    start of a run or after weights were loaded), train the block, and return
    (stats, the context group's rows for whoever trains them next). The worker's own
    word rows stay with it (:func:`word_rows` copies them out)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    group = context_group(replica.index, block_sequence(replica.config.seed, epoch, replica.workers)[step],
                          replica.workers)
    received = replica.set_rows(context, group) if context is not None else 0
    kernel_started, kernel_cpu = time.perf_counter(), time.process_time()
    visits, cost, trained = replica.train_block(epoch, group, threads)
    kernel = time.perf_counter() - kernel_started
    kernel_cpu = time.process_time() - kernel_cpu
    out = replica.rows_of(CONTEXT_ARRAYS, group)
    stats = {
        "worker": replica.index, "block": [replica.index, group],
        "words": visits, "loss": cost, "examples": trained,
        "compute_seconds": time.perf_counter() - started, "kernel_seconds": kernel,
        "prepare_seconds": 0.0, "kernel_cpu_seconds": kernel_cpu,
        "cpu_seconds": time.process_time() - cpu_started,
        "bytes_sent": int(sum(a.nbytes for a in out.values())), "bytes_received": received,
    }
    return stats, out


def word_rows(replica: StrataReplica) -> dict[str, np.ndarray]:
    """A copy of the worker's word group's rows (vectors, bias, their AdaGrad sums)."""
    return replica.rows_of(WORD_ARRAYS, replica.index)


def assemble(base: dict[str, np.ndarray], words: dict[int, dict[str, np.ndarray]],
             contexts: dict[int, dict[str, np.ndarray]], workers: int) -> dict[str, np.ndarray]:
    """The run's arrays: ``base`` (a replica's, right for every row no step has changed
    since the start or since weights were loaded) with each word group's rows from its
    worker and each context group's from whoever trained it last."""
    rows = group_rows(word_groups(len(base["word_bias"]), workers), workers)
    out = {k: np.array(v, copy=True) for k, v in base.items()}
    for group, block in list(words.items()) + list(contexts.items()):
        for n, a in block.items():
            out[n][rows[group]] = a
    return out
