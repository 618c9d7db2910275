"""GloVe on Ray: map-reduce counting (distributed/cooccur.py), a partitioned
matrix, and AdaGrad on every worker's partition with synchronised replicas.

The run (:class:`GloVeRayTraining`, a :class:`~.executor.RayTraining` whose actors
are :class:`GloVeWorker`):

1. read: the input is split and tokenised as for the other models (split.py,
   parts.py: the same vocabulary and sentences as one machine);
2. count (map): every worker counts its sentences with the one-machine bounded
   counter; the driver gets entries per row and cuts the rows into one range per
   worker of about equal entries; every worker writes its entries split by those
   ranges into a staging directory (``--tmp-dir``, or next to ``--save-cooccur``:
   it must be the same path on every node, as the corpus paths are);
3. merge (reduce): worker p merges range p of every worker into partition p
   (``part-NNNNN.bin``: the partitioned matrix that ``--save-cooccur`` keeps);
4. train: worker p trains AdaGrad on the entries of its row range (the rows cut
   again by the exact entries per row that the merges report; read from the
   partition files that overlap it) (each visited as
   itself and mirrored, as one machine does) in a fresh random order every epoch,
   on a full replica of the weights. Every ``--sync-every`` entry visits per worker
   (a round) the replicas are made equal again through the executor's rounds
   (sync.py): each worker sends, for every matrix, the rows it changed and their
   change; the AdaGrad sums of squared gradients are always summed (each worker's
   squared steps were taken, so the accumulator holds all of them, as it would on one
   machine), the vectors and biases are combined by ``--sync-protocol`` (default
   ``scaled``, with each row's mass measured by the kernel as it trains: how far its
   steps contracted it towards where its entries pull it).

``--cooccur`` with ``--ray`` skips 1-3: each worker reads its row range of the
saved matrix (partitioned or a one-machine file) itself.

A worker that dies while counting is replaced and its part counted again; while
merging, its partition is merged again (the map files stay until every partition
is written); while training, the executor's repair (a new actor with the last
synchronised weights redoes the lost round), with the new actor reading its
partition from the files.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..config import GLOVE_SHARED_ADAGRAD, DistributedConfig, GloVeConfig
from ..cooccur import count_cooccurrences, table_slots
from ..io.cooc import (COOCCUR_FORMAT, COOCCUR_FORMAT_VERSION, COUNTING_SETTINGS, CooccurrenceMatrix,
                       partition_name, partitioned_meta, read_partition, write_partitioned_meta)
from ..errors import EmbedtrainError
from ..io.archive import read_archive
from ..kernels import glove as kernels
from ..kernels.rng import seed_states
from ..io.checkpoint import digest
from ..families.glove import GRADSQ_NAMES, JOB_ENTRIES, WEIGHT_NAMES, initial_arrays, sized_config
from ..vocab import Vocab
from .cluster import connect
from .cooccur import (bounds_from_partitions, partition_bounds, reduce_partition, row_entries,
                      write_map_outputs)
from .strata import (STRATA, StrataReplica, assemble, block_sequence, context_group, keep_entries,
                     train_step as strata_step, word_groups, word_rows as strata_word_rows)
from .executor import MAX_SETUP_RESTARTS, RayTraining, _death_errors
from .workers import ReplicaWorker

log = logging.getLogger("embedtrain")

ARRAY_NAMES = WEIGHT_NAMES + GRADSQ_NAMES
STAGING_PREFIX = "embedtrain-glove-ray-"
# Attempts at a counting or merging step of one part before giving up.
COUNT_ATTEMPTS = 3


# --------------------------------------------------------------------------- the actor

class EntryReplica:
    """GloVe's replica on a worker (replica.Replica): AdaGrad on the co-occurrence entries
    of this worker's row range, each visited as itself and mirrored (as one machine
    does), in a fresh random order every epoch; a round is a slice of that order."""

    def __init__(self, config: GloVeConfig, vocab: Vocab, index: int, rows: np.ndarray, cols: np.ndarray,
                 values: np.ndarray, share: int = 1):
        self.config, self.vocab, self.index = config, vocab, index
        self.share = share  # each squared step counts this many times (kernels.glove.train_entries)
        log_x, weight = kernels.glove_targets(values, config.x_max, config.alpha)
        self.entries = (rows, cols, log_x, weight)
        ids = 2 * len(rows)
        self.order = np.empty(ids, dtype=np.int32 if ids < 2 ** 31 else np.int64)
        arrays = initial_arrays(len(vocab), config.dim, config.seed)  # the same on every worker
        self.arrays = {n: arrays[n] for n in ARRAY_NAMES}
        self.matrices = {n: a if a.ndim == 2 else a[:, None] for n, a in self.arrays.items()}
        self.rows = {n: None for n in self.matrices}   # every row of every matrix is compared
        self.weights = tuple(self.arrays[n] for n in WEIGHT_NAMES)
        self.gradsq = tuple(self.arrays[n] for n in GRADSQ_NAMES)
        self._epoch = -1
        self._end = 0
        self._mass: tuple | None = None  # the round's row masses, filled by the kernel (masses())

    def summary(self) -> dict[str, int]:
        rows, cols = self.entries[0], self.entries[1]
        return {"entries": int(len(rows)), "diagonal": int(np.count_nonzero(rows == cols)),
                "ids": int(len(self.order))}

    def _shuffle(self, epoch: int) -> None:
        """This worker's order of epoch ``epoch``: a function of seed, worker and epoch
        only, so a replacement redoes exactly the lost slice."""
        mixed = np.random.SeedSequence([self.config.seed, self.index, epoch]).generate_state(1, np.uint64)
        kernels.shuffle(self.order, seed_states(int(mixed[0]), 1)[0])
        self._epoch = epoch

    def round_jobs(self, epoch: int, index: int, rounds: int) -> list[int]:
        """The starts of the jobs (JOB_ENTRIES visits each) of slice ``index`` of this
        epoch's order."""
        if self._epoch != epoch:
            self._shuffle(epoch)
        n = len(self.order)
        lo, self._end = index * n // rounds, (index + 1) * n // rounds
        return list(range(lo, self._end, JOB_ENTRIES))

    def round_counts(self, jobs: list[int]) -> np.ndarray:
        return np.zeros(len(self.vocab), dtype=np.int64)  # rows are compared whole (weights: 1)

    def masses(self, counts: np.ndarray, epoch: int, jobs: list[int]) -> dict[str, np.ndarray]:
        """The row masses of the round about to train, for ``scaled`` (sync.py): zero
        now, and the kernel adds each visit's contraction of its rows as it trains
        (kernels.glove.train_entries ``mass``); the tracker reads them when the round's
        update is taken, after training (it keeps these arrays, not copies)."""
        if self._mass is None:
            self._mass = tuple(np.zeros(len(self.vocab), np.float32) for _ in WEIGHT_NAMES)
        else:
            for m in self._mass:
                m[:] = 0.0
        return dict(zip(WEIGHT_NAMES, self._mass))

    def run_job(self, epoch: int, start: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        end = min(start + JOB_ENTRIES, self._end)
        if self._mass is None:  # a lone worker: one machine's call, its bytes
            cost, trained = kernels.train_entries(self.order, start, end, self.entries, self.weights,
                                                  self.gradsq, self.config.lr, kernels.GRAD_CLIP)
        else:
            cost, trained = kernels.train_entries(self.order, start, end, self.entries, self.weights,
                                                  self.gradsq, self.config.lr, kernels.GRAD_CLIP,
                                                  float(self.share), self._mass)
        return end - start, cost, trained

    def fingerprint(self) -> str:
        return digest(self.entries[0], self.entries[1])

    def close(self) -> None:
        pass


class GloVeWorker(ReplicaWorker):
    """The Ray actor for GloVe: the same worker, with a counting phase before training:
    tokenise (inherited), ``count``, write map files, merge a partition, then ``load``
    its entries as its replica (:class:`EntryReplica`) and train rounds as every
    worker does."""

    def __init__(self, index: int, workers: int, config: GloVeConfig, threads: int,
                 tmp_dir: str | None = None, dtype: str = "float32", niceness: int | None = None):
        super().__init__(index, workers, config, threads, tmp_dir, dtype, niceness)
        self.matrix: CooccurrenceMatrix | None = None
        # each worker counts its squared steps `workers` times, and the AdaGrad sums are
        # averaged over the workers (config.GLOVE_SHARED_ADAGRAD; docs/ray.md)
        self.shared_adagrad = GLOVE_SHARED_ADAGRAD

    # ------------------------------------------------------------------ counting
    def count(self, vocab_words: list[str], vocab_counts: np.ndarray, plan, appended) -> int:
        """Count this part's co-occurrences (map); returns its vocabulary tokens."""
        self._set_vocab(vocab_words, vocab_counts)
        stream = self.part.to_stream(plan, appended, self.tmp_dir)
        self.part.close()
        with stream:
            self.matrix = count_cooccurrences(stream, self.vocab, self.config, threads=self.threads,
                                              tmp_dir=self.tmp_dir, progress=False)
            return int(stream.n_tokens)

    def counted(self) -> tuple[np.ndarray, dict[str, Any]]:
        """Stored entries per row, and the counting stats."""
        return row_entries(self.matrix), dict(self.matrix.stats, entries=self.matrix.n_stored)

    def write_map(self, bounds: np.ndarray, directory: str) -> list[dict[str, Any]]:
        out = write_map_outputs(self.matrix, bounds, directory, self.index)
        self.matrix = None
        return out

    def merge(self, directory: str, partition: int, out_dir: str, vocab_size: int) -> dict[str, Any]:
        started = time.perf_counter()
        out = reduce_partition(directory, partition, self.workers, out_dir, vocab_size,
                               self.config.memory, self.tmp_dir)
        out["merge_seconds"] = time.perf_counter() - started
        return out

    # ------------------------------------------------------------------ training
    def load(self, source: tuple, vocab_words: list[str], vocab_counts: np.ndarray,
             config: GloVeConfig | None = None) -> dict[str, int]:
        """Read this worker's entries and make them its replica. ``source``:
        ("partitioned", directory, [partition entries], lo, hi) or ("file", path).
        ``config``: the settings to train with, resolved by the driver once the corpus
        size is known (families.glove.sized_config)."""
        self._loading(vocab_words, vocab_counts, config)
        if source[0] == "partitioned":
            rows, cols, values = self._read(source, lambda r, c: slice(None))
        else:  # a one-machine file: every worker reads it and keeps its row range
            matrix = CooccurrenceMatrix.load(source[1])
            bounds = partition_bounds(row_entries(matrix), self.workers)
            keep = (matrix.rows >= bounds[self.index]) & (matrix.rows < bounds[self.index + 1])
            rows, cols, values = matrix.rows[keep], matrix.cols[keep], matrix.values[keep]
            del matrix
        # GloVe's updates travel as float32 (AdaGrad sums; its family allows no other)
        share = self.workers if self.shared_adagrad and self.workers > 1 else 1
        self.set_replica(EntryReplica(self.config, self.vocab, self.index, rows, cols, values, share))
        return self.replica.summary()

    def load_strata(self, source: tuple, vocab_words: list[str], vocab_counts: np.ndarray,
                    config: GloVeConfig | None = None) -> dict[str, Any]:
        """As :meth:`load`, for a run in strata (strata.py): this worker keeps every
        stored entry whose row or column is a word of its group, wherever it is stored
        (``source``: every partition, or the one-machine file)."""
        self._loading(vocab_words, vocab_counts, config)
        groups = word_groups(len(self.vocab), self.workers)

        def keep(rows, cols):
            return keep_entries(rows, cols, groups, self.index)

        if source[0] == "partitioned":
            rows, cols, values = self._read(source, keep)
        else:
            matrix = CooccurrenceMatrix.load(source[1])
            mask = keep(matrix.rows, matrix.cols)
            rows, cols, values = matrix.rows[mask], matrix.cols[mask], matrix.values[mask]
            del matrix
        self.replica = StrataReplica(self.config, self.vocab, self.index, self.workers, rows, cols, values)
        self.tracker = None  # nothing is combined: every row has one writer at a time
        return self.replica.summary()

    def _loading(self, vocab_words: list[str], vocab_counts: np.ndarray, config: GloVeConfig | None) -> None:
        if config is not None:
            self.config = config
        if self.vocab is None:
            self.vocab = Vocab(vocab_words, vocab_counts)

    def _read(self, source: tuple, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries of ``source`` ("partitioned", directory, [partition entries], lo,
        hi) in rows lo..hi, those ``keep(rows, cols)`` selects of each partition."""
        _, directory, parts, lo, hi = source
        pieces = []
        for q in parts:
            rows, cols, values = read_partition(directory, q, len(self.vocab), lo, hi)
            mask = keep(rows, cols)
            pieces.append((rows[mask], cols[mask], values[mask]))
        if not pieces:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
        return tuple(np.concatenate([p[i] for p in pieces]) for i in range(3))

    def train_step(self, epoch: int, step: int, context: dict[str, np.ndarray] | None = None,
                   last: bool = False) -> tuple:
        """One step of a run in strata (strata_step): (stats, context rows), and this
        worker's word rows after an epoch's ``last`` step (where a replacement, a
        rolled-back run and the final weights start from)."""
        out = strata_step(self.replica, epoch, step, context, self.threads)
        return (*out, strata_word_rows(self.replica)) if last else out

    def restore(self, word: dict[str, np.ndarray] | None, loaded: dict[str, np.ndarray] | None) -> None:
        """A worker in strata back to the start of an epoch: every array as loaded at the
        start (``loaded``; None: the seed's), then its word group's rows as they were
        at the end of the epoch before (``word``; None: as loaded)."""
        self.replica.reset(loaded)
        if word is not None:
            self.replica.set_rows(word, self.index)


# --------------------------------------------------------------------------- the driver

class GloVeRayTraining(RayTraining):
    """A GloVe run on Ray: ``start()`` (count or read, partition, load), rounds, weights."""

    def __init__(self, config: GloVeConfig, dist: DistributedConfig, paths: Sequence[str],
                 tmp_dir: str | None = None, read_vocab: str | None = None, *,
                 cooccur: str | None = None, save_cooccur: str | None = None,
                 on_phase: Callable[[Any, str], None] | None = None):
        super().__init__(config, dist, paths, tmp_dir, read_vocab, on_phase=on_phase)
        if cooccur and paths:
            raise EmbedtrainError("with --ray, --cooccur trains from the saved matrix alone: give no corpus")
        if save_cooccur:
            _check_matrix_target(save_cooccur)
        self.cooccur = cooccur
        self.save_cooccur = save_cooccur
        self.sync_every = self.dist.sync_every
        # in strata (strata.py) nothing is combined: no reducers. The driver submits an
        # epoch's steps at its first round, each taking its context group's rows as the
        # Ray reference the step before returns (so a worker starts a step once those rows
        # are there, not when the driver has gathered the step before), and keeps, as Ray
        # references: where each context group's rows are or will be; the word and context
        # rows the last epoch ended with (the final weights, and where the next epoch starts);
        # and the epoch's start (first step, word rows, context rows), where a failed step
        # takes every worker back to
        self.strata = self.dist.sync_protocol == STRATA and self.workers > 1
        self.uses_reducers = not self.strata
        self._contexts: dict[int, Any] = {}
        self._start: tuple[int, dict[int, Any], dict[int, Any]] = (0, {}, {})
        # the word and context rows at the last epoch's end: where they were made when that
        # is the driver's node, else copies there
        self._kept: tuple[dict[int, Any], dict[int, Any]] = ({}, {})
        self._ending: tuple[dict[int, Any], dict[int, Any]] = ({}, {})   # the epoch in flight's
        self._copier: Any = None   # a Ray remote method, made for the first row off the driver's node
        self._here: str | None = None   # the driver's node
        self._keeper: Any = None   # the actor that copies there
        self._quiet_errors: Any = None
        self._inflight: dict[int, dict[int, list]] = {}   # step -> worker -> [stats (, word rows)]
        self._loaded: Any = None   # the weights loaded into every worker (a resumed run), or None
        self.staging: str | None = None
        self.counting: dict[str, Any] = {}
        self.nodes: list[str] = []

    def worker_class(self):
        return GloVeWorker

    # ------------------------------------------------------------------ setup
    def start(self) -> Vocab:
        started = time.perf_counter()
        if self.cooccur:
            self._start_from_matrix()
        else:
            table_slots(self.config.memory, self.threads, self.config.window)  # too small fails first
            parent = self.tmp_dir or tempfile.gettempdir()
            if self.save_cooccur:
                parent = os.path.dirname(os.path.abspath(self.save_cooccur))
            self.staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent)
            self._read()  # split, tokenise, vocabulary: as for the other models
            self.vocab_tokens = int(sum(self._count_all()))
            if self.vocab_tokens == 0:
                raise EmbedtrainError("no word of the vocabulary occurs in the corpus")
            self.stats.pop("read_seconds")
            self.stats["vocab_tokens"] = self.vocab_tokens
            self._partition()
        # --x-max/--epochs left to the corpus size: chosen here, before the workers load
        self.config = sized_config(self.config, self.n_tokens)
        self._load()
        self.stats.update(self.counting)
        self.stats["read_seconds"] = round(time.perf_counter() - started, 3)
        if self.save_cooccur:
            self.keep_matrix()
        return self.vocab

    def _count(self, w: int):
        return self.actors[w].count.remote(*self._vocab_refs, self.plans[w], self.appended[w])

    def _count_all(self) -> list[int]:
        """Count every part (map), replacing workers that die."""
        self._phase("count")
        started = time.perf_counter()
        refs = {w: self._count(w) for w in range(self.workers)}
        words = [self._retry(w, "counting its part", lambda w=w: refs.pop(w) if w in refs else self._count(w),
                             lambda w=w: self._tokenised(w), COUNT_ATTEMPTS) for w in range(self.workers)]
        self.counting["count_seconds"] = round(time.perf_counter() - started, 3)
        return words

    def _recount(self, w: int) -> None:
        self._tokenised(w)
        self.conn.ray.get(self._count(w))

    def _partition(self) -> None:
        """Cut the rows into one range per worker, write the map files, merge them."""
        ray = self.conn.ray
        started = time.perf_counter()
        counted = [self._retry(w, "counting its part", lambda w=w: self.actors[w].counted.remote(),
                               lambda w=w: self._recount(w), COUNT_ATTEMPTS) for w in range(self.workers)]
        per_row = np.sum([c[0] for c in counted], axis=0)
        self.bounds = partition_bounds(per_row, self.workers)
        bounds_ref = ray.put(self.bounds)
        out_dir = os.path.join(self.staging, "matrix")
        os.makedirs(out_dir, exist_ok=True)
        if self.workers == 1:
            written, merged, mapped = self._single_partition(bounds_ref, out_dir, per_row)
        else:
            written, merged, mapped = self._map_reduce(bounds_ref, out_dir)
        self._finish_matrix(started, mapped, out_dir, counted, written, merged)

    def _single_partition(self, bounds_ref, out_dir: str, per_row: np.ndarray):
        """One worker has nothing to merge with: its one map file is the partition."""
        self._phase("map")
        written = [self._retry(0, "writing its partition", lambda: self.actors[0].write_map.remote(bounds_ref, out_dir),
                               lambda: self._recount(0), COUNT_ATTEMPTS)]
        first = written[0][0]
        os.replace(first["file"], os.path.join(out_dir, partition_name(0)))
        merged = [{"file": partition_name(0), "entries": first["entries"], "bytes": first["bytes"],
                   "bytes_read": 0, "row_entries": per_row}]
        return written, merged, time.perf_counter()

    def _map_reduce(self, bounds_ref, out_dir: str):
        map_dir = os.path.join(self.staging, "map")
        os.makedirs(map_dir, exist_ok=True)
        self._phase("map")
        refs = {w: self.actors[w].write_map.remote(bounds_ref, map_dir) for w in range(self.workers)}
        written = [self._retry(w, "writing its map files",
                               lambda w=w: refs.pop(w) if w in refs else self.actors[w].write_map.remote(bounds_ref, map_dir),
                               lambda w=w: self._recount(w), COUNT_ATTEMPTS) for w in range(self.workers)]
        mapped = time.perf_counter()
        self._phase("merge")
        refs = {p: self.actors[p].merge.remote(map_dir, p, out_dir, len(self.vocab)) for p in range(self.workers)}
        merged = [self._retry(p, "merging its partition",
                              lambda p=p: refs.pop(p) if p in refs else self.actors[p].merge.remote(map_dir, p, out_dir, len(self.vocab)),
                              lambda: None, COUNT_ATTEMPTS) for p in range(self.workers)]
        shutil.rmtree(map_dir, ignore_errors=True)
        return written, merged, mapped

    def _finish_matrix(self, started: float, mapped: float, out_dir: str, counted, written, merged) -> None:
        self.matrix_dir = out_dir
        self.partitions = [{"file": m["file"], "rows": [int(self.bounds[p]), int(self.bounds[p + 1])],
                            "entries": m["entries"]} for p, m in enumerate(merged)]
        # the rows each worker trains: balanced by the exact entries per row
        self.train_bounds = partition_bounds(np.sum([m["row_entries"] for m in merged], axis=0), self.workers)
        self.settings = {name: getattr(self.config, name) for name in COUNTING_SETTINGS}
        self.n_tokens = int(self.vocab_tokens)  # what one machine's matrix records
        write_partitioned_meta(out_dir, self.vocab, self.settings, self.n_tokens, self.partitions)
        map_bytes = sum(f["bytes"] for files in written for f in files)
        self.counting.update(
            map_seconds=round(mapped - started, 3), merge_seconds=round(time.perf_counter() - mapped, 3),
            cooccur_spills=int(sum(c[1]["cooccur_spills"] for c in counted)),
            # the one-machine counter alone on the slowest worker (without building its id stream)
            counter_seconds=round(max(c[1]["count_seconds"] + c[1]["merge_seconds"] for c in counted), 3),
            worker_spills=[int(c[1]["cooccur_spills"]) for c in counted],
            # map files written, then read by the merges: what crosses the nodes at most
            count_bytes_moved=int(map_bytes + sum(m["bytes_read"] for m in merged)),
            partition_entries=[m["entries"] for m in merged])
        log.info("counted co-occurrences on %d Ray workers: %s entries in %d partitions (%.1f s; %s "
                 "partial tables written to disk)", self.workers, f"{sum(self.counting['partition_entries']):,}",
                 self.workers, self.counting["count_seconds"] + self.counting["map_seconds"]
                 + self.counting["merge_seconds"], self.counting["cooccur_spills"])

    def _start_from_matrix(self) -> None:
        """--cooccur: the vocabulary and settings from the saved matrix's header only."""
        path = Path(self.cooccur)
        if path.is_dir():
            meta, vocab = partitioned_meta(path)
            bounds = bounds_from_partitions(meta["partitions"], self.workers, len(vocab))
            self.sources = [("partitioned", str(path), meta["partitions"], int(bounds[w]), int(bounds[w + 1]))
                            for w in range(self.workers)]
            self.strata_source = ("partitioned", str(path), meta["partitions"], 0, len(vocab))
        else:
            meta, vocab, _ = read_archive(path, COOCCUR_FORMAT, COOCCUR_FORMAT_VERSION,
                                          "co-occurrence file", (), hint=" (write one with --save-cooccur)")
            self.sources = [("file", str(path))] * self.workers
            self.strata_source = ("file", str(path))
        saved = {k: v for k, v in (meta.get("settings") or {}).items() if k in COUNTING_SETTINGS}
        changed = {k: v for k, v in saved.items() if getattr(self.config, k) != v}
        if changed:
            log.info("using the counting settings of %s: %s", path,
                     ", ".join(f"{k.replace('_', '-')} {v}" for k, v in changed.items()))
            self.config = dataclasses.replace(self.config, **changed)
        if self.read_vocab:
            expected = Vocab.load(self.read_vocab).restricted(self.config.min_count, self.config.max_vocab)
            if expected.words != vocab.words:
                raise EmbedtrainError(f"the vocabulary of co-occurrence file {path} ({len(vocab):,} words) "
                                      f"does not match the one --read-vocab {self.read_vocab} gives "
                                      f"({len(expected):,} words)")
        self.vocab = vocab
        self.n_tokens = int(meta.get("tokens", 0))
        self.corpus_tokens = self.vocab_tokens = self.n_tokens
        self.conn = connect(self.dist.ray, self.workers, self.threads)
        ray = self.conn.ray
        self._start_actors()
        self._vocab_refs = (ray.put(vocab.words), ray.put(vocab.counts))
        self.stats = {"cooccur_file": str(path), "corpus_tokens": self.n_tokens}
        self.counting.update(count_seconds=0.0, merge_seconds=0.0, cooccur_spills=0)

    def _source(self, w: int) -> tuple:
        if self.strata:  # every worker reads what touches its group, wherever it is stored
            if self.cooccur:
                return self.strata_source
            return ("partitioned", self.matrix_dir, self.partitions, 0, len(self.vocab))
        if self.cooccur:
            return self.sources[w]
        lo, hi = int(self.train_bounds[w]), int(self.train_bounds[w + 1])
        overlapping = [q for q in self.partitions if q["rows"][0] < hi and q["rows"][1] > lo]
        return ("partitioned", self.matrix_dir, overlapping, lo, hi)

    def _load(self) -> None:
        """Every worker reads its entries; the rounds per epoch follow."""
        self._phase("load")
        refs = {w: self._load_call(w) for w in range(self.workers)}
        loaded = [self._retry(w, "reading its partition",
                              lambda w=w: refs.pop(w) if w in refs else self._load_call(w),
                              lambda: None, COUNT_ATTEMPTS) for w in range(self.workers)]
        # every stored entry is visited twice an epoch (as itself and mirrored), by one worker
        # or (in strata, when its row and column are in two groups) by two: count the visits
        self.total_ids = sum(x["ids"] for x in loaded)
        self.n_stored = self.total_ids // 2
        if self.n_stored == 0:
            raise EmbedtrainError("no co-occurrences to train on: no line has two vocabulary words")
        self.nnz = 2 * self.n_stored - sum(x["diagonal"] for x in loaded)  # a diagonal entry: one worker
        self.units_per_epoch = self.total_ids   # a round counts entry visits
        self._locate()
        if self.strata:
            self.rounds = self.workers   # an epoch: every worker trains each of its blocks once
            blocks = np.array([x["blocks"] for x in loaded], dtype=np.int64)
            steps = [blocks[np.arange(self.workers), [context_group(w, s, self.workers)
                                                      for w in range(self.workers)]] for s in range(self.workers)]
            self.block_balance = float(np.mean([b.max() / max(b.mean(), 1) for b in steps]))
            log.info("GloVe on %d Ray workers (%d nodes) in strata: %s stored entries, %d steps per epoch "
                     "of one block a worker (%s entry visits a block on average; the largest of a step "
                     "%.3f times the mean)", self.workers, len(set(self.nodes)), f"{self.n_stored:,}",
                     self.rounds, f"{self.total_ids // self.workers ** 2:,}", self.block_balance)
            return
        self.rounds = max(1, math.ceil(max(x["ids"] for x in loaded) / self.sync_every))
        log.info("GloVe on %d Ray workers (%d nodes): %s stored entries (%s per worker); %d rounds per "
                 "epoch", self.workers, len(set(self.nodes)), f"{self.n_stored:,}",
                 ", ".join(f"{x['entries']:,}" for x in loaded), self.rounds)

    def _load_call(self, w: int):
        load = self.actors[w].load_strata if self.strata else self.actors[w].load
        return load.remote(self._source(w), *self._vocab_refs, self.worker_config)

    # ------------------------------------------------------------------ strata
    def _synchronous_round(self, epoch: int, index: int) -> tuple[int, float, int]:
        if not self.strata:
            return super()._synchronous_round(epoch, index)
        started = time.perf_counter()
        if index not in self._inflight:  # the epoch's first round (or a resumed run's)
            self._start = (index, *self._kept)
            self._submit(epoch, index)
        stats = self._gather_step(epoch, index)
        self.sync.bytes_received += sum(s["bytes_received"] for s in stats.values())
        self._account(stats, time.perf_counter() - started, epoch, index, "strata")
        return self._totals(stats, [], epoch, index)

    def can_checkpoint(self, job: int) -> bool:
        # in strata the steps after a round are already under way: only between epochs
        # is there a state that every worker and every reference agree on
        return not self.strata or job in (0, self.rounds)

    def _group(self, w: int, epoch: int, index: int) -> int:
        """The context group worker ``w`` trains in step ``index`` of ``epoch``."""
        return context_group(w, block_sequence(self.config.seed, epoch, self.workers)[index], self.workers)

    def _submit(self, epoch: int, first: int) -> None:
        """Steps ``first``.. of ``epoch`` on every worker, in order (Ray runs an actor's
        calls in the order they were submitted). The driver keeps the stats' references
        (and, from the last step, the word rows'), not the context rows': the step that
        takes them holds them, so the object store keeps at most two of each group's."""
        last = self.rounds - 1
        for t in range(first, self.rounds):
            step = self._inflight[t] = {}
            for w in range(self.workers):
                group = self._group(w, epoch, t)
                refs = self.actors[w].train_step.options(num_returns=3 if t == last else 2).remote(
                    epoch, t, self._contexts.get(group), t == last)
                self._submitted(1, len(refs))
                self._contexts[group] = refs[1]
                step[w] = [refs[0], *refs[2:]]
        trained_by = {self._group(w, epoch, last): w for w in range(self.workers)}
        self._ending = self._copies({w: refs[1] for w, refs in self._inflight[last].items()},
                                    dict(self._contexts), trained_by)

    def _gather_step(self, epoch: int, index: int) -> dict[int, dict]:
        """Step ``index``'s stats from every worker. When a worker died, every worker goes
        back to the epoch's start and the steps up to ``index`` are done again (those
        before it were counted already: their stats are left out, and their visits, with
        those of later steps that had ended, go to ``words_redone``)."""
        t, redone = index, 0
        while True:
            results = self._inflight.pop(t)
            stats, dead, _ = self._gather(results, epoch, t)
            if dead:
                t = self._roll_back(epoch, dead)
                continue
            if t == self.rounds - 1:
                self._kept = self._ending
            if t == index:
                break
            redone += sum(s["words"] for s in stats.values())
            t += 1
        if redone:
            log.warning("redid %s entry visits of epoch %d (steps %d-%d)", f"{redone:,}", epoch + 1,
                        self._start[0] + 1, index)
        self.sync.words_redone += redone
        return stats

    def _copies(self, words: dict[int, Any], contexts: dict[int, Any],
                trained_by: dict[int, int]) -> tuple[dict, dict]:
        """Where an epoch that ends with worker w's word rows ``words[w]`` and group g's
        context rows ``contexts[g]`` (references; worker ``trained_by[g]`` makes them)
        leaves a rolled-back epoch to start from: the references themselves where they
        are made on the driver's node, else copies made there. The copies are submitted
        with the epoch's steps, so that each is made as soon as its rows exist, and the
        start outlives a lost node; only a node lost between the epoch's last step and
        the copy of its rows takes the start with it (the run then stops in one line)."""
        if self._here is None:
            self._here = self.conn.ray.get_runtime_context().get_node_id()

        def kept(ref: Any, w: int) -> Any:
            if self.nodes[w] == self._here:
                return ref
            if self._copier is None:  # the first row made off the driver's node
                self._copier = self._make_copier()
            self._submitted(1)
            return self._copier.remote(ref)

        return ({w: kept(r, w) for w, r in words.items()},
                {g: kept(r, trained_by[g]) for g, r in contexts.items()})

    def _make_copier(self) -> Any:
        """A remote copy onto the driver's node: the method of one actor there, started
        once (a task would start a worker process for every copy, or every few). Its
        class is defined here, so that Ray ships it by value: the process does not
        import embedtrain (numba and all), on a node that trains too."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        class Keeper:
            def copy(self, value: Any) -> Any:
                return value   # a copy of ``value``, in this node's object store

        self._keeper = self.conn.ray.remote(num_cpus=0, max_restarts=0)(Keeper).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(self._here, soft=False)).remote()
        return self._keeper.copy

    def _roll_back(self, epoch: int, dead: list[int]) -> int:
        """After ``dead`` died in a step of ``epoch``: once every call in flight has ended,
        replace them, put every worker back at the epoch's start (its word rows after the
        epoch before, the context groups' references then) and submit the epoch's steps
        again. Returns the step the epoch started at."""
        ray = self.conn.ray
        if self._quiet_errors is None:
            # the calls given up on (and every call that waited for their rows) would each
            # print "Unhandled error" with a traceback when their results are freed
            self._quiet_errors = _QuietUnreadErrors()
        pending = [refs[0] for step in self._inflight.values() for refs in step.values()]
        if pending:
            ray.wait(pending, num_returns=len(pending), fetch_local=False)
        for ref in pending:  # the visits of later steps that ended, to be trained again
            try:
                self.sync.words_redone += ray.get(ref)["words"]
            except ray.exceptions.RayError:
                pass
        self._inflight.clear()
        first, words, contexts = self._start
        try:
            ray.get(list(contexts.values()))  # still there (else every step would fail again)
        except ray.exceptions.ObjectLostError as exc:
            raise _lost_start(exc) from exc
        for w in dead:
            self._respawn(w)
        for w in range(self.workers):
            self._restore(w, words.get(w))
        self._contexts = dict(contexts)
        self._submit(epoch, first)
        log.warning("Ray worker %s restarted; every worker went back to step %d of epoch %d, where the "
                    "word and context rows were last agreed, and trains from there again",
                    ", ".join(map(str, dead)), first + 1, epoch + 1)
        return first

    def _restore(self, w: int, word: Any) -> None:
        """Worker ``w``'s arrays as loaded, then its word rows ``word`` (a reference, or
        None: as loaded); a worker that dies doing it is replaced and asked again,
        :data:`MAX_SETUP_RESTARTS` times at most, as in the set-up's steps."""
        ray = self.conn.ray
        attempts = MAX_SETUP_RESTARTS + 1
        for attempt in range(attempts):
            self._submitted(1)
            try:
                ray.get(self.actors[w].restore.remote(word, self._loaded))
                return
            except ray.exceptions.ObjectLostError as exc:  # a node went with them
                raise _lost_start(exc) from exc
            except _death_errors(ray):
                if attempt == attempts - 1:
                    raise EmbedtrainError(f"Ray worker {w} died {attempts} times while going back to "
                                          "the epoch's start; giving up") from None
                log.warning("Ray worker %d died while going back to the epoch's start", w)
            self._respawn(w)

    def _respawn(self, w: int) -> None:
        """A new actor for partition ``w`` (with the combination rules: with the last
        synchronised weights; in strata the caller restores it)."""
        ray = self.conn.ray
        self._kill(w)
        actor = self.actors[w] = self._new_actor(w)
        ray.get(self._load_call(w))
        self.nodes[w] = ray.get(actor.node.remote())  # another, when its node was lost
        if self.strata:
            self._submitted(2)  # load, node
        else:
            donor = next(i for i in range(self.workers) if i != w)
            ray.get(actor.load_weights.remote(self.actors[donor].weights.remote()))
            self._submitted(4)  # load, node, weights, load_weights
        self.sync.restarts += 1

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / self.nnz  # glove.c's average cost per non-zero entry

    REDONE = "entry visits"

    def trained_stats(self, result: Any, task: Any, started: float, fitting: float) -> dict[str, Any]:
        """As one machine's GloVe: the time of the whole run, counting included."""
        seconds = time.perf_counter() - started
        return {"fit_seconds": round(time.perf_counter() - fitting, 3),
                "epoch_costs": [round(h["loss"], 6) for h in result.history],
                "words_trained": int(self.n_tokens), "train_seconds": round(seconds, 3),
                "words_per_second": round(self.n_tokens / max(seconds, 1e-9)),
                "nonzero_entries": int(self.nnz)}

    # ------------------------------------------------------------------ results
    def weights(self) -> dict[str, np.ndarray]:
        if not self.strata:
            return super().weights()
        ray = self.conn.ray
        assert not self._inflight, "a run in strata gives its weights between epochs"
        # between epochs the rows the last epoch ended with are where a rolled-back epoch
        # would start (the references, or their copies on this node)
        words, contexts = (dict(zip(refs, ray.get(list(refs.values())))) for refs in self._kept)
        return assemble(ray.get(self.actors[0].weights.remote()), words, contexts, self.workers)

    def load_weights(self, arrays: dict[str, np.ndarray]) -> None:
        if not self.strata:
            return super().load_weights(arrays)
        ray = self.conn.ray
        self._loaded = ray.put(arrays)
        ray.get([a.load_weights.remote(self._loaded) for a in self.actors])
        self._contexts.clear()  # every worker holds every row again
        self._kept = ({}, {})

    def fingerprint(self) -> dict[str, Any]:
        import hashlib

        digests = self.conn.ray.get([a.fingerprint.remote() for a in self.actors])
        return {"entries": int(self.n_stored), "tokens": int(self.n_tokens), "ray_workers": self.workers,
                "sync_every": self.dist.sync_every,
                "positions": hashlib.sha256("".join(digests).encode()).hexdigest()[:32]}

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.strata:
            out["sync_every"] = self.total_ids // self.workers ** 2   # a block's visits, on average
            out["sync_protocol"] = "strata (one block a worker a step; nothing combined)"
            out["steps_submitted"] = "an epoch at a time"
            out["block_balance"] = round(self.block_balance, 4)
        elif self.dist.sync_protocol == STRATA:   # one worker: it trains alone
            out["sync_protocol"] = "strata (one worker: nothing to exchange)"
        else:
            out["sync_every"] = self.sync_every
            out["sync_protocol"] = f"{self.dist.sync_protocol} (AdaGrad sums: sum)"
        out["entries_counted"] = out.pop("words_counted")
        out.update({k: v for k, v in self.counting.items() if k != "worker_spills"})
        return out

    def keep_matrix(self) -> None:
        """--save-cooccur: the staged partitioned matrix becomes the directory asked for."""
        target = Path(self.save_cooccur)
        if target.exists():
            if target.is_dir():
                partitioned_meta(target)  # only a partitioned matrix is replaced
                shutil.rmtree(target)
            else:
                target.unlink()
        os.replace(self.matrix_dir, target)
        self.matrix_dir = str(target)

    def close(self) -> None:
        try:
            if self._keeper is not None:  # before the connection goes
                self._kill_actor(self._keeper)
                self._keeper = None
            super().close()
        finally:
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
                self.staging = None
            # the references go first, then Ray's printing of unread errors comes back
            self._inflight, self._contexts = {}, {}
            self._start, self._kept, self._ending = (0, {}, {}), ({}, {}), ({}, {})
            if self._quiet_errors is not None:
                self._quiet_errors.close()
                self._quiet_errors = None


def _lost_start(exc: Exception) -> EmbedtrainError:
    return EmbedtrainError(f"the rows an epoch of GloVe in strata starts from were lost with a Ray node "
                           f"({type(exc).__name__}); resume the run from its last checkpoint (--checkpoint-every)")


class _QuietUnreadErrors:
    """RAY_IGNORE_UNHANDLED_ERRORS set until ``close()``, then as it was (Ray reads it
    each time it would print an error that nobody read)."""

    NAME = "RAY_IGNORE_UNHANDLED_ERRORS"

    def __init__(self):
        self.before = os.environ.get(self.NAME)
        os.environ[self.NAME] = "1"

    def close(self) -> None:
        if self.before is None:
            os.environ.pop(self.NAME, None)
        else:
            os.environ[self.NAME] = self.before


def _check_matrix_target(path: str) -> None:
    """--save-cooccur with --ray writes a directory: its parent must exist, and an
    existing directory is replaced only if it is a partitioned matrix."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise EmbedtrainError(f"output directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise EmbedtrainError(f"output directory {parent} is not writable")
    if target.is_dir():
        partitioned_meta(target)
