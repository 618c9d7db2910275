"""The runner: the one epoch loop every model trains through.

It hands a task's jobs (chunks of the token stream, or GloVe's blocks of
co-occurrence entries) to an executor, and around them does what every model
needs: the learning-rate schedule as reported, the progress bar, callbacks, the
per-epoch history saved in the model, stopping within one job when the loss turns
NaN, and writing checkpoints every ``--checkpoint-every`` seconds at a job
boundary, so that a run killed and resumed continues exactly where the checkpoint
left it.

A *task* (see :class:`Task`) is one model's weights and tables; the drivers
(word2vec.py, fasttext.py, glove.py) build it, the runner never looks inside.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..kernels.options import COMPILE_NOTICE
from ..kernels.rng import seed_states
from ..models import Model
from .callbacks import EpochInfo, ProgressInfo, call
from .executor import Executor
from .progress import TrainingProgress, plural

log = logging.getLogger("embedtrain")


class TrainingDiverged(EmbedtrainError):
    """The loss became NaN or infinite; nothing was written."""


class Task(Protocol):
    """What the runner trains. ``run_job`` returns (units, summed loss, examples)."""

    kind: str
    unit: str                 # "word" or "entry"
    epochs: int
    units_per_epoch: int
    n_jobs: int               # jobs per epoch

    def begin_epoch(self, epoch: int) -> None: ...   # called once per epoch, resumed or not
    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]: ...
    def lr_at(self, units_done: int) -> float: ...
    def epoch_loss(self, loss_sum: float, examples: int) -> float: ...
    def state_arrays(self) -> dict[str, np.ndarray]: ...
    # optional: ``can_checkpoint(job) -> bool``, whether the state before job ``job`` of
    # an epoch can be saved (without it: before every job)


@dataclass
class RunState:
    """Where a run stands: what a checkpoint records besides the arrays."""

    epoch: int = 0                     # 0-based epoch in progress
    job: int = 0                       # next job of that epoch
    units_done: int = 0                # units of every finished job
    rng_states: list[int] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    # the epoch in progress so far
    epoch_loss: float = 0.0
    epoch_examples: int = 0
    epoch_units: int = 0
    epoch_seconds: float = 0.0
    seconds: float = 0.0               # training time of every finished job

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["rng_states"] = [str(s) for s in self.rng_states]  # uint64: JSON numbers lose bits
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunState":
        d = dict(d)
        d["rng_states"] = [int(s) for s in d.get("rng_states", [])]
        return cls(**d)


@dataclass
class RunResult:
    history: list[dict]
    seconds: float
    units: int
    state: RunState


CheckpointWriter = Callable[[RunState], None]


def run(task: Task, executor: Executor, *, seed: int, progress: bool = True,
        callbacks: Sequence[object] = (), checkpoint: CheckpointWriter | None = None,
        checkpoint_every: float | None = None, start: RunState | None = None) -> RunResult:
    """Train ``task`` to the end of its last epoch (from ``start`` when resuming)."""
    state = start or RunState()
    workers = executor.workers
    states = [np.array([s], dtype=np.uint64) for s in state.rng_states[:workers]]
    if len(states) < workers:  # a fresh run, or more workers than the checkpoint had
        extra = seed_states(seed + len(state.rng_states), workers - len(states)) if states else \
            seed_states(seed, workers)
        states += extra
    total = task.units_per_epoch * task.epochs
    bar = TrainingProgress(total, task.epochs, unit=task.unit, enabled=progress, initial=state.units_done)
    diverged: list[tuple[int, int]] = []
    last_checkpoint = time.monotonic()

    ready = getattr(task, "can_checkpoint", None)

    def due() -> bool:
        return checkpoint is not None and bool(checkpoint_every) and \
            time.monotonic() - last_checkpoint >= checkpoint_every and (ready is None or ready(state.job))

    def stop() -> bool:
        return bool(diverged) or due()

    # an executor whose workers train replicas (training/replicas.py) gives a task per worker
    bind = getattr(executor, "bind", None)
    tasks = bind(task) if bind is not None else [task] * workers
    if state.epoch == 0 and state.job == 0:
        call(callbacks, "on_train_begin", task.kind, task.epochs)
    compile_seconds = 0.0
    COMPILE_NOTICE.run_begins()  # a first run says that it compiles
    try:
        while state.epoch < task.epochs:
            epoch = state.epoch
            task.begin_epoch(epoch)  # also when resuming in its middle
            if state.job == 0:
                call(callbacks, "on_epoch_begin", epoch + 1)

            def work(worker: int, job: int, epoch: int = epoch):
                return tasks[worker].run_job(epoch, job, states[worker])

            def done(job: int, result, epoch: int = epoch) -> None:
                units, loss, examples = result
                state.units_done += int(units)
                state.epoch_units += int(units)
                state.epoch_loss += float(loss)
                state.epoch_examples += int(examples)
                if not math.isfinite(loss):
                    diverged.append((epoch, state.units_done))
                    return
                lr = task.lr_at(state.units_done)
                bar.update(int(units), epoch, lr, float(loss), int(examples))
                call(callbacks, "on_progress", ProgressInfo(
                    epoch + 1, state.units_done, total, lr,
                    float(loss) / examples if examples else 0.0, task.unit))

            while state.job < task.n_jobs:
                started, compiling = time.perf_counter(), COMPILE_NOTICE.seconds
                finished = executor.run(range(state.job, task.n_jobs), work, done, stop)
                # a first run compiles its kernel in the first job: not training time, so
                # not in the epoch's seconds and rate (said once below)
                compiled = COMPILE_NOTICE.seconds - compiling
                spent = max(time.perf_counter() - started - compiled, 0.0)
                compile_seconds += compiled
                state.job += finished
                state.epoch_seconds += spent
                state.seconds += spent
                if diverged:
                    _raise_diverged(task, *diverged[0])
                if due():
                    _save(checkpoint, state, states)
                    last_checkpoint = time.monotonic()
            info = EpochInfo(epoch + 1, task.epochs, task.epoch_loss(state.epoch_loss, state.epoch_examples),
                             state.epoch_units, state.epoch_seconds, task.lr_at(state.units_done), task.unit)
            state.history.append(info.to_dict())
            log.debug("epoch %d/%d: loss %.6f, %.0f %s/s", epoch + 1, task.epochs, info.loss,
                      info.words_per_second, plural(task.unit))
            state.epoch, state.job = epoch + 1, 0
            state.epoch_loss, state.epoch_examples, state.epoch_units, state.epoch_seconds = 0.0, 0, 0, 0.0
            call(callbacks, "on_epoch_end", info)
            if due() and state.epoch < task.epochs:
                _save(checkpoint, state, states)
                last_checkpoint = time.monotonic()
    finally:
        COMPILE_NOTICE.run_ends()
        bar.close()
    if compile_seconds >= 0.01:
        log.info("compiling the training kernels took %.1f s of this run (once on this machine; "
                 "not in the epochs' times and rates)", compile_seconds)
    call(callbacks, "on_train_end", state.history)
    return RunResult(state.history, state.seconds, state.units_done, state)


def _save(checkpoint: CheckpointWriter, state: RunState, states: list[np.ndarray]) -> None:
    """Write a periodic checkpoint. A checkpoint that cannot be written (a full disk)
    costs only the ability to resume from this point: one warning, and training goes
    on (the file is written atomically, so an earlier checkpoint stays whole); the
    final outputs are written, and must succeed, as in any run."""
    state.rng_states = [int(s[0]) for s in states]
    started = time.perf_counter()
    try:
        checkpoint(state)
    except EmbedtrainError as exc:
        log.warning("checkpoint not written, training goes on (an earlier checkpoint, if any, is "
                    "kept; the next try is in --checkpoint-every seconds): %s", exc)
        return
    log.debug("checkpoint written in %.2f s", time.perf_counter() - started)


def _raise_diverged(task: Task, epoch: int, units_done: int) -> None:
    raise TrainingDiverged(
        f"{task.kind} training diverged in epoch {epoch + 1} after {units_done:,} {plural(task.unit)} "
        f"(the loss became NaN: the weights overflowed); nothing was written; try a lower --lr")


def summary_line(model: Model) -> str:
    s = model.stats
    return (f"{model.kind}: vocabulary {len(model.vocab):,} words, {s.get('words_trained', 0):,} words "
            f"trained in {s.get('train_seconds', 0):.1f} s ({s.get('words_per_second', 0):,.0f} words/s)")


def check_finite(name: str, *arrays: np.ndarray) -> None:
    for a in arrays:
        if a.size and not np.isfinite(a).all():
            raise TrainingDiverged(f"{name} training diverged (NaN or infinite weights); nothing was "
                                   "written; try a lower --lr")
