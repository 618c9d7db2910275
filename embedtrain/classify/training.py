"""Training a classifier through the runner (training/runner.py), as every other model:
progress, callbacks, the NaN stop and checkpoints every ``--checkpoint-every`` seconds.

The schedule is fastText's (FastText::trainThread): the learning rate falls linearly
from ``lr`` to 0 over a budget of ``epochs * ntokens`` tokens, ``ntokens`` being the
dictionary's count of every token read (labels and ``</s>`` included). Without
``--pretrained`` that is ``epochs`` passes over the lines. With it, fastText's
dictionary also counts each word of the pretrained file once (Dictionary::add), so the
budget is larger than ``epochs`` passes and fastText keeps reading the file until the
budget is spent; so do we: the runner's "epochs" are then the passes this takes, the
last one stopping where fastText's one thread would.

A pass is cut into jobs of about :data:`JOB_TOKENS` tokens; each job ends just after a
line where the kernel adds its tokens to the shared progress (every
``LR_UPDATE_RATE`` tokens), so with one thread a run gives the same bytes whatever the
job size, and a run stopped at a checkpoint and resumed gives the same bytes as one
that never stopped (the shared progress is exactly the tokens of the jobs done).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import EmbedtrainError
from ..kernels.classify import LOSS_CODES, fasttext_sigmoid_table, train_lines
from .config import LR_UPDATE_RATE
from .data import Encoded
from .tree import negative_table

log = logging.getLogger("embedtrain")

# Tokens per job (a few milliseconds of one thread): a checkpoint, a Ctrl-C and a
# progress report wait at most one job.
JOB_TOKENS = 10_000


def job_size(job_tokens: int | None) -> int:
    """``job_tokens``, or :data:`JOB_TOKENS` for None (read when called: tests change it)."""
    return JOB_TOKENS if job_tokens is None else job_tokens


@dataclass(frozen=True)
class Schedule:
    """Where the jobs of a pass start and end, and how long the run is."""

    bounds: np.ndarray      # int64 [jobs + 1]: line numbers; job j is lines [bounds[j], bounds[j+1])
    cumulative: np.ndarray  # int64 [n + 1]: tokens of lines before each line
    budget: float           # tokens of the whole run (the rate reaches 0 there)
    passes: int             # passes over the lines (the runner's epochs)
    last_line: int          # the last pass stops before this line

    @property
    def pass_tokens(self) -> int:
        return int(self.cumulative[-1])


def schedule(tokens: np.ndarray, epochs: int, ntokens: int, job_tokens: int | None = None) -> Schedule:
    """The jobs of a pass over lines of ``tokens`` tokens each, for a budget of
    ``epochs * ntokens`` tokens (see the module's docstring)."""
    job_tokens = job_size(job_tokens)
    if isinstance(job_tokens, bool) or not isinstance(job_tokens, int) or job_tokens < 1:
        raise EmbedtrainError(f"damaged classifier checkpoint (job_tokens {job_tokens!r})")
    n = len(tokens)
    cumulative = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(tokens, out=cumulative[1:])
    per_pass = int(cumulative[-1])
    if n == 0 or per_pass <= 0:
        raise EmbedtrainError("nothing to train on")
    budget = epochs * max(int(ntokens), per_pass)
    # the lines after which the kernel adds its tokens to the shared progress
    flushes = []
    local = 0
    for line, count in enumerate(tokens.tolist()):
        local += count
        if local > LR_UPDATE_RATE:
            flushes.append(line + 1)
            local = 0
    if not flushes or flushes[-1] != n:
        flushes.append(n)                       # the end of a call adds what is left
    bounds = [0]
    for f in flushes:
        if f == n or cumulative[f] - cumulative[bounds[-1]] >= job_tokens:
            bounds.append(f)
    full, rest = divmod(budget, per_pass)
    passes, last_line = (full, n) if rest == 0 else (full + 1, n)
    if rest:   # fastText's thread stops at the first update that reaches the budget
        last_line = next(f for f in flushes if cumulative[f] >= rest)
    return Schedule(np.array(bounds, dtype=np.int64), cumulative, float(budget), int(passes), last_line)


class ClassifyTask:
    """The runner's task (training/runner.py Task) for a classifier."""

    kind = "classifier"
    unit = "token"

    def __init__(self, clf, enc: Encoded, plan: Schedule, units_done: int = 0):
        config = clf.config
        self.clf, self.enc, self.plan = clf, enc, plan
        self.epochs = plan.passes
        self.units_per_epoch = plan.pass_tokens
        self.n_jobs = len(plan.bounds) - 1
        self.lr = float(config.lr)
        # the kernel's shared progress: at a job boundary, exactly the tokens of the jobs done
        self.progress = np.array([units_done], dtype=np.int64)
        tree = clf.tree()
        self._tables = (fasttext_sigmoid_table(), config.negative,
                        negative_table(clf.dictionary.label_counts), tree.offsets, tree.points, tree.codes)
        self._loss_code = LOSS_CODES[config.loss]

    def begin_epoch(self, epoch: int) -> None:
        pass

    def job_lines(self, epoch: int, job: int) -> tuple[int, int]:
        first, last = int(self.plan.bounds[job]), int(self.plan.bounds[job + 1])
        if epoch == self.epochs - 1:
            last = min(last, self.plan.last_line)
            first = min(first, last)
        return first, last

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        first, last = self.job_lines(epoch, job)
        if first >= last:
            return 0, 0.0, 0
        enc, clf = self.enc, self.clf
        loss, examples = train_lines(self._loss_code, clf.input_vectors, clf.output_vectors,
                                     enc.offsets, enc.rows, enc.label_offsets, enc.labels,
                                     enc.tokens, first, last, np.float32(self.lr), self.plan.budget,
                                     self.progress, rng_state, *self._tables)
        return int(self.plan.cumulative[last] - self.plan.cumulative[first]), loss, examples

    def lr_at(self, units_done: int) -> float:
        return self.lr * max(0.0, 1.0 - units_done / self.plan.budget)

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / max(examples, 1)

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"input_vectors": self.clf.input_vectors, "output_vectors": self.clf.output_vectors}


def trained_examples(enc: Encoded) -> int:
    """Lines a pass trains on: those with input rows and a label the model knows."""
    return int(np.count_nonzero((np.diff(enc.offsets) > 0) & (np.diff(enc.label_offsets) > 0)))


def run_training(clf, enc: Encoded, callbacks=(), *, progress: bool = False,
                 checkpoint: Callable | None = None, checkpoint_every: float | None = None,
                 start=None, job_tokens: int | None = None) -> dict[str, Any]:
    """Train ``clf`` on ``enc`` through the runner on Hogwild threads (from ``start``, a
    RunState, when resuming, in jobs of ``job_tokens``, default :data:`JOB_TOKENS`);
    ``checkpoint(state)`` writes a checkpoint. Returns the stats."""
    from ..training.executor import ThreadExecutor
    from ..training.runner import run

    config = clf.config
    plan = schedule(enc.tokens, config.epochs, clf.dictionary.ntokens, job_tokens)
    if plan.passes != config.epochs:
        log.info("the schedule counts the pretrained words as fastText does: %d passes over the "
                 "training lines for --epochs %d", plan.passes, config.epochs)
    if start is not None:
        _check_start(start, plan)
    task = ClassifyTask(clf, enc, plan, start.units_done if start is not None else 0)
    threads = min(config.worker_threads, max(1, len(enc)))
    result = run(task, ThreadExecutor(threads), seed=config.seed, progress=progress,
                 callbacks=callbacks, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                 start=start)
    history = result.history
    return {"epoch_losses": [round(h["loss"], 6) for h in history],
            "examples_per_epoch": trained_examples(enc), "threads": threads, "passes": plan.passes,
            "history": history}


def _check_start(start, plan: Schedule) -> None:
    """Refuse a saved position outside this run (a damaged checkpoint), before any work."""
    from ..io.checkpoint import check_state

    class Epochs:
        epochs = plan.passes

    problem = check_state(start, Epochs)
    if not problem and start.job > len(plan.bounds) - 1:
        problem = f"job {start.job} of a pass of {len(plan.bounds) - 1} jobs"
    if not problem:
        line = int(plan.bounds[start.job])
        if start.epoch == plan.passes - 1:
            line = min(line, plan.last_line)
        expected = start.epoch * plan.pass_tokens + int(plan.cumulative[line])
    if not problem and start.units_done != expected:
        problem = f"{start.units_done:,} tokens done is not where job {start.job} of pass {start.epoch + 1} starts"
    if problem:
        raise EmbedtrainError(f"damaged classifier checkpoint ({problem})")
