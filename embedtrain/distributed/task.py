"""The two task objects of a Ray run.

- On each worker, a *replica*: the training wing's own :class:`SgnsTask`
  (word2vec.make_task or fasttext.make_task with ``stream=None``), whose
  ``train_chunk`` the worker calls on chunks of its part, plus the rows each
  matrix can touch for a given set of words (for sync.py).
- On the driver, :class:`RayTask`: the whole run as one runner Task whose jobs
  are synchronisation rounds (one job = one round on every worker), so that the
  runner brings the schedule as reported, the progress bar, callbacks, the
  per-epoch history, the NaN stop and checkpoints (of the synchronised weights).

Every worker builds the initial weights itself from the seed (the values depend
on the seed only), so nothing is broadcast at the start.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..config import CommonConfig, FastTextConfig
from ..kernels.common import (FASTTEXT_LR_FLOOR, FASTTEXT_LR_OFFSET, WORD2VEC_LR_FLOOR,
                              WORD2VEC_LR_OFFSET, decayed_units, schedule_fraction)
from ..models import FastTextModel, Model
from ..vocab import Vocab
from .sync import RowsFromWords, subword_rows, word_rows


def replica_task(config: CommonConfig, vocab: Vocab, corpus_tokens: int,
                 threads: int) -> tuple[Any, dict[str, RowsFromWords | None]]:
    """A worker's replica: the model's SgnsTask without a stream, and for each matrix the
    rows a set of trained words can touch (None: compare the whole matrix)."""
    if isinstance(config, FastTextConfig):
        from ..training.fasttext import check_memory, initial_stored_rows, make_task, training_table

        # the compact layout of one machine (word rows, then the n-gram rows the vocabulary
        # uses, initialised as the full matrix would be): every replica builds the same one
        v, dim = len(vocab), config.dim
        table, buckets = training_table(config, vocab)
        check_memory(config, v, len(buckets))
        arrays = {"input_vectors": initial_stored_rows(v, buckets, dim, config.seed),
                  "output_vectors": np.zeros((v, dim), dtype=np.float32),
                  "output_hs": np.zeros((0, dim), dtype=np.float32)}
        task = make_task(config, vocab, arrays, corpus_tokens, stream=None, table=table)
        return task, {"input_vectors": subword_rows(table.offsets, table.rows),
                      "output_vectors": None, "output_hs": None}
    from ..training.word2vec import initial_arrays, make_task as word2vec_task

    task = word2vec_task(config, vocab, initial_arrays(config, len(vocab)), stream=None)
    return task, {"input_vectors": word_rows, "output_vectors": None, "output_hs": None}


class RayTask:
    """A Ray run as the runner sees it (:class:`~embedtrain.training.runner.Task`):
    ``n_jobs`` rounds per epoch, each trained on every worker and synchronised."""

    unit = "word"

    def __init__(self, run: Any, config: CommonConfig):
        self.run = run
        self.config = config
        self.kind = config.model
        self.epochs = config.epochs
        self.units_per_epoch = self.epoch_units(run)
        self.n_jobs = run.rounds
        fasttext = isinstance(config, FastTextConfig)
        self.lr_floor = FASTTEXT_LR_FLOOR if fasttext else WORD2VEC_LR_FLOOR
        self.lr_offset = FASTTEXT_LR_OFFSET if fasttext else WORD2VEC_LR_OFFSET

    @staticmethod
    def epoch_units(run: Any) -> int:
        """What an epoch trains (the schedule's unit): the vocabulary's tokens."""
        return run.vocab_tokens

    @property
    def total_words(self) -> int:
        return self.units_per_epoch * self.epochs

    def begin_epoch(self, epoch: int) -> None:
        pass

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        # rng_state is unused: every worker keeps its own kernel states (workers.py)
        return self.run.round(epoch, job)

    def lr_at(self, units_done: int) -> float:
        units = decayed_units(units_done, self.units_per_epoch, self.epochs,
                              getattr(self.config, "epoch_decay", 1.0))
        return self.config.lr * schedule_fraction(units, self.total_words, self.lr_floor, self.lr_offset)

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / examples if examples else 0.0

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The synchronised weights (every replica holds them between rounds)."""
        return self.run.weights()


def make_model(config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
               stats: dict[str, Any]) -> Model:
    """The trained model, as the one-machine driver of the same model returns it."""
    if isinstance(config, FastTextConfig):
        from ..training.fasttext import training_table

        table, buckets = training_table(config, vocab)
        stats["subword_rows"] = int(len(table.rows))
        stats["ngram_rows_stored"] = int(len(buckets))
        model = FastTextModel(config, vocab, {"input_vectors": arrays["input_vectors"],
                                              "output_vectors": arrays["output_vectors"],
                                              "ngram_buckets": buckets}, stats)
        model._table = table
        return model
    return Model(config, vocab, arrays, stats)
