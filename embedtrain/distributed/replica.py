"""What a Ray worker trains: a *replica*, one model family's weights over this worker's
part of the input. The worker (workers.py) is the same for every family; it asks
its replica which jobs make a round, which words a round trains (for the tracker's
rows and masses, sync.py) and to run a job.

:class:`StreamReplica` serves the families trained on a stream of token ids
(word2vec, FastText): the family's own task (``Family.make_task`` with no stream)
over this part's stream, a round being the chunks whose first word lies in its
share of the part. GloVe's replica (its co-occurrence entries, a round being a slice
of the epoch's random order) is ``glove.EntryReplica``.
"""
from __future__ import annotations

import hashlib
from typing import Any, Protocol

import numpy as np

from ..corpus.stream import SENTENCE_END
from .task import replica_task


class Replica(Protocol):
    arrays: dict[str, np.ndarray]       # the weights (what weights()/load_weights() copy)
    matrices: dict[str, np.ndarray]     # 2-D views of them, as the tracker compares them
    rows: dict[str, Any]                # per matrix: RowsFromWords, or None (compare all rows)

    def round_jobs(self, epoch: int, index: int, rounds: int) -> list: ...
    def round_counts(self, jobs: list) -> np.ndarray: ...             # int64 [V]
    def masses(self, counts: np.ndarray, epoch: int, jobs: list) -> dict | None: ...
    def run_job(self, epoch: int, job: Any, rng_state: np.ndarray) -> tuple[int, float, int]: ...
    def fingerprint(self) -> str: ...
    def close(self) -> None: ...


class StreamReplica:
    """A stream family's replica: its task over this part's stream of ids."""

    def __init__(self, family: Any, config: Any, vocab: Any, stream: Any, corpus_tokens: int, threads: int):
        self.family, self.config, self.vocab, self.stream = family, config, vocab, stream
        self.task, self.rows = replica_task(config, vocab, corpus_tokens, threads)
        self.task.units_per_epoch = int(stream.n_tokens)  # its epoch: this part (lr_at)
        self.arrays = self.matrices = self.task.arrays

    def round_jobs(self, epoch: int, index: int, rounds: int) -> np.ndarray:
        """Chunks whose first word lies in [index/rounds, (index+1)/rounds) of the part."""
        n = self.stream.n_tokens
        before = self.stream.chunk_words[:-1]
        lo, hi = index * n / rounds, (index + 1) * n / rounds
        return np.flatnonzero((before >= lo) & (before < hi))

    def round_counts(self, jobs: np.ndarray) -> np.ndarray:
        counts = np.zeros(len(self.vocab), dtype=np.int64)
        for c in jobs:
            t = self.stream.chunk(int(c))
            counts += np.bincount(t[t != SENTENCE_END], minlength=len(self.vocab))
        return counts

    def masses(self, counts: np.ndarray, epoch: int, jobs: np.ndarray) -> dict[str, np.ndarray]:
        """The family's row masses for this round at the learning rate of its middle."""
        words = self.stream.chunk_words
        middle = (words[jobs[0]] + words[jobs[-1] + 1]) / 2 if len(jobs) else 0
        lr = self.task.lr_at(epoch * self.stream.n_tokens + middle)
        return self.family.row_masses(self.task, self.vocab, counts, lr)

    def run_job(self, epoch: int, chunk: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        """The global schedule: a chunk at fraction f of this part in epoch e is trained
        at (e + f) / epochs of the run, as when every part advances at the same pace."""
        n = self.stream.n_tokens
        return self.task.train_chunk(self.stream.chunk(int(chunk)), epoch * n + int(self.stream.chunk_words[chunk]),
                                     n * self.config.epochs, rng_state)

    def fingerprint(self) -> str:
        """A digest of this part's ids (what a checkpoint checks it resumes on)."""
        h = hashlib.sha256()
        for c in range(self.stream.n_chunks):
            h.update(self.stream.chunk(c).tobytes())
        return h.hexdigest()[:32]

    def close(self) -> None:
        self.stream.close()
