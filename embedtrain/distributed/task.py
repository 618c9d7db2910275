"""The two task objects of a Ray run.

- On each worker, a *replica*: the family's own task (``Family.make_task`` with
  ``stream=None``), whose ``train_chunk`` the worker calls on chunks of its part,
  plus the rows each matrix can touch for a given set of words (for sync.py).
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

from ..config import CommonConfig
from ..families import family_of
from ..vocab import Vocab


def replica_task(config: CommonConfig, vocab: Vocab, corpus_tokens: int,
                 threads: int) -> tuple[Any, dict[str, Any]]:
    """A worker's replica: the family's task without a stream over fresh arrays (the
    same on every worker), and for each matrix the rows a set of trained words can
    touch (None: compare the whole matrix)."""
    family = family_of(config.model)
    layout = family.layout(config, vocab)
    rows = family.replica_rows(config, layout)
    arrays = {name: a for name, a in family.fresh_arrays(config, vocab, layout).items() if name in rows}
    task = family.make_task(config, vocab, arrays, corpus_tokens, layout, stream=None)
    return task, rows


class RayTask:
    """A Ray run as the runner sees it (:class:`~embedtrain.training.runner.Task`):
    ``n_jobs`` rounds per epoch, each trained on every worker and synchronised. What a
    round counts (words, or GloVe's entry visits) and the schedule are the family's."""

    def __init__(self, run: Any, config: CommonConfig):
        self.run = run
        self.config = config
        self.family = family_of(config.model)
        self.kind = config.model
        self.unit = self.family.unit
        self.epochs = config.epochs
        self.units_per_epoch = run.units_per_epoch
        self.n_jobs = run.rounds

    @property
    def total_words(self) -> int:
        return self.units_per_epoch * self.epochs

    def begin_epoch(self, epoch: int) -> None:
        pass

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        # rng_state is unused: every worker keeps its own kernel states (workers.py)
        return self.run.round(epoch, job)

    def lr_at(self, units_done: int) -> float:
        return self.family.lr_at(self.config, units_done, self.units_per_epoch)

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return self.run.epoch_loss(loss_sum, examples)

    def can_checkpoint(self, job: int) -> bool:
        return self.run.can_checkpoint(job)

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The synchronised weights (every replica holds them between rounds)."""
        return self.run.weights()


def make_model(config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
               stats: dict[str, Any]):
    """The trained model, as the one-machine driver of the same family returns it."""
    family = family_of(config.model)
    return family.finished_model(config, vocab, arrays, stats, family.layout(config, vocab))
