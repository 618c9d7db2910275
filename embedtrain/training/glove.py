"""GloVe (Pennington, Socher and Manning 2014): the training driver and the model.

``train_glove`` reads the corpus (or a saved co-occurrence matrix), counts
co-occurrences (cooccur.py), then fits word and context vectors and biases to
the log counts by AdaGrad on the weighted least-squares objective, visiting
the non-zero entries in a fresh random order each epoch on Hogwild threads
(kernels/glove.py). The numerics follow Stanford GloVe's glove.c.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np

from ..config import GloVeConfig
from ..cooccur import COUNTING_SETTINGS, CooccurrenceMatrix, count_cooccurrences, table_slots
from ..errors import EmbedtrainError
from ..io.atomic import check_writable
from ..models import GloVeModel
from ..vocab import Vocab
from ..parallel import run_jobs
from .prepare import RunOptions, prepare_corpus
from .progress import TrainingProgress
from .runner import check_finite, summary_line

log = logging.getLogger("embedtrain")

# Entries per training job: tens of milliseconds of work, so the progress bar
# moves and Ctrl-C is answered quickly.
JOB_ENTRIES = 1 << 17


def train_glove(config: GloVeConfig, corpus, options: RunOptions) -> GloVeModel:
    """Count (or load) the co-occurrence matrix, then fit GloVe to it."""
    threads = config.worker_threads
    if options.save_cooccur:
        check_writable(options.save_cooccur)
    started = time.perf_counter()
    if options.cooccur:
        matrix, config, stats = _load_matrix(options.cooccur, corpus, config, options)
    else:
        table_slots(config.memory, threads, config.window)  # a too-small --memory fails first
        vocab, stream, stats = prepare_corpus(corpus, config, options)
        with stream:
            matrix = count_cooccurrences(stream, vocab, config, threads=threads,
                                         tmp_dir=options.tmp_dir, progress=options.progress)
        log.info("counted co-occurrences: %s non-zero entries (%.1f s%s)", f"{matrix.nnz:,}",
                 matrix.stats["count_seconds"] + matrix.stats["merge_seconds"],
                 f", {matrix.stats['cooccur_spills']} partial tables written to disk"
                 if matrix.stats["cooccur_spills"] else "")
    if matrix.n_stored == 0:
        raise EmbedtrainError("no co-occurrences to train on: no line has two vocabulary words")
    stats.update(matrix.stats)
    if options.save_cooccur:
        saving = time.perf_counter()
        matrix.save(options.save_cooccur)
        stats["save_cooccur_seconds"] = round(time.perf_counter() - saving, 3)
    arrays, fit_stats = fit(matrix, config, threads, options.progress)
    finished = time.perf_counter()
    stats.update(fit_stats)
    seconds = finished - started - stats.get("read_seconds", 0.0)
    stats.update(words_trained=int(matrix.n_tokens), train_seconds=round(seconds, 3),
                 words_per_second=round(matrix.n_tokens / max(seconds, 1e-9)), threads=threads,
                 nonzero_entries=matrix.nnz)
    model = GloVeModel(config, matrix.vocab, arrays, stats)
    log.debug(summary_line(model))
    return model


def fit(matrix: CooccurrenceMatrix, config: GloVeConfig, threads: int,
        progress: bool = True) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fit GloVe to ``matrix``: returns (arrays, stats)."""
    from ..kernels import glove as kernels
    from ..kernels.rng import seed_states

    if matrix.n_stored == 0:
        raise EmbedtrainError("no co-occurrences to train on: no line has two vocabulary words")
    started = time.perf_counter()
    vocab_size, dim = len(matrix.vocab), config.dim
    # glove.c initialize_parameters: every weight, biases included, uniform in
    # [-0.5, 0.5) / dim; every AdaGrad sum 1, so the first step is eta * gradient.
    rng = np.random.default_rng(config.seed)

    def uniform(*shape: int) -> np.ndarray:
        return (rng.random(shape, dtype=np.float32) - np.float32(0.5)) / np.float32(dim)

    word_vectors, context_vectors = uniform(vocab_size, dim), uniform(vocab_size, dim)
    word_bias, context_bias = uniform(vocab_size), uniform(vocab_size)
    word_gradsq = np.ones((vocab_size, dim), dtype=np.float32)
    context_gradsq = np.ones((vocab_size, dim), dtype=np.float32)
    word_bias_gradsq = np.ones(vocab_size, dtype=np.float32)
    context_bias_gradsq = np.ones(vocab_size, dtype=np.float32)

    # The entries: the stored upper triangle, each visited as itself (ids < m)
    # and as its mirror image (ids m + i); see kernels.train_entries.
    rows, cols = matrix.rows, matrix.cols
    log_x, weight = kernels.glove_targets(matrix.values, config.x_max, config.alpha)
    ids = 2 * matrix.n_stored
    order = np.empty(ids, dtype=np.int32 if ids < 2 ** 31 else np.int64)
    rng_state = seed_states(config.seed, 1)[0]
    jobs = [(s, min(s + JOB_ENTRIES, ids)) for s in range(0, ids, JOB_ENTRIES)]
    bar = TrainingProgress(ids * config.epochs, config.epochs, unit="entry", enabled=progress)
    epoch_costs: list[float] = []
    try:
        for epoch in range(config.epochs):
            kernels.shuffle(order, rng_state)
            costs: list[float] = []

            def work(worker: int, job: tuple[int, int]) -> tuple[float, int]:
                return kernels.train_entries(
                    order, job[0], job[1], rows, cols, log_x, weight, word_vectors, context_vectors,
                    word_bias, context_bias, word_gradsq, context_gradsq, word_bias_gradsq,
                    context_bias_gradsq, config.lr, kernels.GRAD_CLIP)

            def done(job: tuple[int, int], result: tuple[float, int], epoch: int = epoch,
                     costs: list[float] = costs) -> None:
                cost, trained = result
                costs.append(cost)
                bar.update(job[1] - job[0], epoch, config.lr, cost, trained)

            run_jobs(jobs, work, done, threads)
            total = float(np.sum(costs))
            if not np.isfinite(total):
                raise EmbedtrainError(
                    f"GloVe training diverged in epoch {epoch + 1} (the cost became "
                    f"{'NaN' if np.isnan(total) else 'infinite'}); try a lower --lr (now {config.lr:g})")
            epoch_costs.append(total / matrix.nnz)
            log.debug("epoch %d/%d: average weighted cost %.6f", epoch + 1, config.epochs,
                      total / matrix.nnz)
    finally:
        bar.close()
    check_finite(config.model, word_vectors, context_vectors, word_bias, context_bias)
    arrays = {"word_vectors": word_vectors, "context_vectors": context_vectors,
              "word_bias": word_bias, "context_bias": context_bias}
    stats = {"fit_seconds": round(time.perf_counter() - started, 3),
             "epoch_costs": [round(c, 6) for c in epoch_costs]}
    return arrays, stats


def _load_matrix(path: str, corpus, config: GloVeConfig,
                 options: RunOptions) -> tuple[CooccurrenceMatrix, GloVeConfig, dict[str, Any]]:
    """A saved matrix, the settings it was counted with, and a vocabulary check."""
    matrix = CooccurrenceMatrix.load(path)
    saved = {k: v for k, v in matrix.settings.items() if k in COUNTING_SETTINGS}
    changed = {k: v for k, v in saved.items() if getattr(config, k) != v}
    if changed:
        # The counts were made with these settings; the model file must say so.
        log.info("using the counting settings of %s: %s", path,
                 ", ".join(f"{k.replace('_', '-')} {v}" for k, v in changed.items()))
        config = dataclasses.replace(config, **changed)
    stats: dict[str, Any] = {"cooccur_file": str(path)}
    expected: Vocab | None = None
    source = ""
    if corpus is not None:
        expected, stream, stats = prepare_corpus(corpus, config, dataclasses.replace(options, save_vocab=None))
        stream.close()
        stats["cooccur_file"] = str(path)
        source = "the corpus gives"
    elif options.read_vocab:
        expected = Vocab.load(options.read_vocab).restricted(config.min_count, config.max_vocab)
        source = f"--read-vocab {options.read_vocab} gives"
    if expected is not None and expected.words != matrix.vocab.words:
        raise EmbedtrainError(
            f"the vocabulary of co-occurrence file {path} ({len(matrix.vocab):,} words) does not match "
            f"the one {source} ({len(expected):,} words{_first_difference(matrix.vocab, expected)})")
    if options.save_vocab:
        matrix.vocab.save(options.save_vocab)
    stats.update(count_seconds=0.0, merge_seconds=0.0, cooccur_spills=0)
    return matrix, config, stats


def _first_difference(a: Vocab, b: Vocab) -> str:
    for i, (x, y) in enumerate(zip(a.words, b.words)):
        if x != y:
            return f"; word {i} is {x!r} in the file, {y!r} here"
    return ""
