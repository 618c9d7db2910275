"""The epoch loop shared by the drivers: jobs on worker threads, the learning-rate
schedule as reported, progress, and the checks on the result."""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from ..config import CommonConfig
from ..corpus import TokenStream
from ..errors import EmbedtrainError
from ..models import Model
from ..parallel import run_jobs
from .prepare import RunOptions
from .progress import TrainingProgress

log = logging.getLogger("embedtrain")


def summary_line(model: Model) -> str:
    s = model.stats
    return (f"{model.kind}: vocabulary {len(model.vocab):,} words, {s.get('words_trained', 0):,} words "
            f"trained in {s.get('train_seconds', 0):.1f} s ({s.get('words_per_second', 0):,.0f} words/s)")


def run_epochs(stream: TokenStream, config: CommonConfig, options: RunOptions,
               call_kernel: Callable[[np.ndarray, int, int, np.ndarray], tuple],
               min_lr_fraction: float = 0.0) -> float:
    """Every chunk of every epoch through ``call_kernel`` on worker threads, with progress.

    ``call_kernel(tokens, words_done, total_words, rng_state)`` trains on one chunk
    and returns (words seen, summed loss, examples); ``words_done`` counts the words
    of all epochs before the chunk, for the learning-rate schedule, so the schedule
    does not depend on which thread finishes first. Returns the seconds taken.
    """
    from ..kernels.rng import seed_states

    threads = config.worker_threads
    states = seed_states(config.seed, threads)
    total_words = stream.n_tokens * config.epochs
    jobs = [(epoch, c) for epoch in range(config.epochs) for c in range(stream.n_chunks)]
    progress = TrainingProgress(total_words, config.epochs, enabled=options.progress)

    def words_before(job: tuple[int, int]) -> int:
        epoch, c = job
        return epoch * stream.n_tokens + int(stream.chunk_words[c])

    def work(worker: int, job: tuple[int, int]):
        return call_kernel(stream.chunk(job[1]), words_before(job), total_words, states[worker])

    def done(job: tuple[int, int], result) -> None:
        words, loss, examples = result
        lr = config.lr * max(1.0 - words_before(job) / (total_words + 1.0), min_lr_fraction)
        progress.update(int(words), job[0], lr, float(loss), int(examples))

    try:
        run_jobs(jobs, work, done, threads)
    finally:
        progress.close()
    return progress.elapsed


def check_finite(name: str, *arrays: np.ndarray) -> None:
    for a in arrays:
        if a.size and not np.isfinite(a).all():
            raise EmbedtrainError(f"{name} training diverged (NaN or infinite weights); try a lower --lr")
