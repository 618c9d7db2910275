"""The GloVe family (Pennington, Socher and Manning 2014): the training driver.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import COMBINE_PROTOCOLS, STRATA_PROTOCOL, GLOVE_ROUND_ENTRIES, GLOVE_SHARED_ADAGRAD, GLOVE_SIZE_RULE, GLOVE_SYNC_EVERY, GLOVE_SYNC_PROTOCOL, GloVeConfig, fields_with
from ..errors import EmbedtrainError
from ..vocab import Vocab
from .base import Family

if TYPE_CHECKING:  # pragma: no cover
    from ..io.cooc import CooccurrenceMatrix
    from ..models import GloVeModel
    from ..training.prepare import RunOptions

log = logging.getLogger("embedtrain")

# Entries per training job: tens of milliseconds of work, so the progress bar
# moves and Ctrl-C is answered quickly.
JOB_ENTRIES = 1 << 17


def train_glove(config: GloVeConfig, corpus, options: "RunOptions", *, cooccur: str | None = None,
                save_cooccur: str | None = None) -> "GloVeModel":
    """Count (or load, ``cooccur``) the co-occurrence matrix, then fit GloVe to it.
    ``save_cooccur``: also write the counted matrix to this file."""
    from ..cooccur import count_cooccurrences, table_slots
    from ..io.atomic import check_writable
    from ..training.prepare import drive, prepare_corpus
    from ..training.runner import check_finite, summary_line

    threads = config.worker_threads
    if save_cooccur:
        check_writable(save_cooccur)
    started = time.perf_counter()
    if options.init is not None:   # --continue: the model's saved matrix plus the new text's
        matrix, stats = _continued_matrix(options.init, cooccur, corpus, config, options)
    elif cooccur:
        matrix, config, stats = _load_matrix(cooccur, corpus, config, options)
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
    config = sized_config(config, int(matrix.n_tokens))
    stats.update(matrix.stats)
    if save_cooccur:
        saving = time.perf_counter()
        matrix.save(save_cooccur)
        stats["save_cooccur_seconds"] = round(time.perf_counter() - saving, 3)
    fitting = time.perf_counter()
    if options.resume_checkpoint is not None:
        arrays = GLOVE.resumed_arrays(options.resume_checkpoint, matrix.vocab, None)
    elif options.init is not None:
        arrays = GLOVE.grown_arrays(options.init, config, matrix.vocab, None)
    else:
        arrays = initial_arrays(len(matrix.vocab), config.dim, config.seed)
    task = GloVeTask(config, matrix, arrays)
    result = drive(task, config, options, matrix.vocab, stats, lambda: matrix_fingerprint(matrix))
    check_finite(config.model, *GLOVE.trained_arrays(arrays))
    seconds = time.perf_counter() - started - stats.get("read_seconds", 0.0)
    stats.update(fit_seconds=round(time.perf_counter() - fitting, 3),
                 epoch_costs=[round(h["loss"], 6) for h in result.history],
                 words_trained=int(matrix.n_tokens), train_seconds=round(seconds, 3),
                 words_per_second=round(matrix.n_tokens / max(seconds, 1e-9)),
                 nonzero_entries=matrix.nnz)
    from ..training.continuing import lineage, lineage_so_far

    record = stats.pop("corpus", None) or {"source": f"co-occurrence matrix {cooccur}"}
    stats["lineage"] = lineage(lineage_so_far(options.init) if options.init is not None else None, record,
                               dict(stats, vocab_words=len(matrix.vocab)), config.epochs)
    model = GLOVE.finished_model(config, matrix.vocab, arrays, stats)
    log.debug(summary_line(model))
    return model


# The settings GloVe chooses from the corpus size when they are not given (config.py,
# GLOVE_SIZE_RULE).
SIZED_SETTINGS = ("x_max", "epochs")


def corpus_defaults(tokens: int) -> dict[str, Any]:
    """--x-max and --epochs for a corpus of ``tokens`` vocabulary tokens (GLOVE_SIZE_RULE)."""
    for below, x_max, epochs in GLOVE_SIZE_RULE:
        if below is None or tokens < below:
            return {"x_max": float(x_max), "epochs": int(epochs)}
    raise AssertionError("GLOVE_SIZE_RULE ends with a row for any size")  # pragma: no cover


def sized_config(config: GloVeConfig, tokens: int) -> GloVeConfig:
    """``config`` with the settings left to the corpus size (None: x_max, epochs) chosen
    for ``tokens`` (the vocabulary tokens the matrix was counted from), and the choice
    said in the log. The one place they are resolved: one machine, --cooccur, --continue
    and Ray call it once the tokens are known; the resolved values are what the model
    file and checkpoints record, so a resumed run does not choose again."""
    open_ = [name for name in SIZED_SETTINGS if getattr(config, name) is None]
    if not open_:
        return config
    chosen = {name: corpus_defaults(tokens)[name] for name in open_}
    config = dataclasses.replace(config, **chosen)
    said = {"x_max": f"x-max {config.x_max:g}", "epochs": f"{config.epochs} epochs"}
    log.info("GloVe: %.1f M tokens: %s (give %s to override)", tokens / 1e6,
             ", ".join(said[n] for n in open_), "/".join("--" + n.replace("_", "-") for n in open_))
    return config


WEIGHT_NAMES = ("word_vectors", "context_vectors", "word_bias", "context_bias")
GRADSQ_NAMES = ("word_gradsq", "context_gradsq", "word_bias_gradsq", "context_bias_gradsq")
# The order of the entries: the rng state before the shuffle of epoch SHUFFLE_EPOCH.
SHUFFLE_STATE, SHUFFLE_EPOCH = "shuffle_state", "shuffle_epoch"


def initial_arrays(vocab_size: int, dim: int, seed: int) -> dict[str, np.ndarray]:
    """glove.c's initialize_parameters: every weight, biases included, uniform in
    [-0.5, 0.5) / dim; every AdaGrad sum 1, so the first step is eta * gradient;
    and the state of the random order in which entries are visited."""
    from ..kernels.rng import seed_states

    rng = np.random.default_rng(seed)

    def uniform(*shape: int) -> np.ndarray:
        return (rng.random(shape, dtype=np.float32) - np.float32(0.5)) / np.float32(dim)

    arrays = {"word_vectors": uniform(vocab_size, dim), "context_vectors": uniform(vocab_size, dim),
              "word_bias": uniform(vocab_size), "context_bias": uniform(vocab_size),
              "word_gradsq": np.ones((vocab_size, dim), dtype=np.float32),
              "context_gradsq": np.ones((vocab_size, dim), dtype=np.float32),
              "word_bias_gradsq": np.ones(vocab_size, dtype=np.float32),
              "context_bias_gradsq": np.ones(vocab_size, dtype=np.float32),
              SHUFFLE_STATE: seed_states(seed, 1)[0], SHUFFLE_EPOCH: np.zeros(1, dtype=np.int64)}
    return arrays


class GloVeTask:
    """GloVe for the runner: every epoch visits the non-zero entries in a fresh random
    order, in jobs of JOB_ENTRIES on Hogwild threads (AdaGrad, glove.c's numerics).

    The entries are the stored upper triangle, each visited as itself (ids < m) and
    as its mirror image (ids m + i); see kernels.glove.train_entries.
    """

    kind = "glove"
    unit = "entry"

    def __init__(self, config: GloVeConfig, matrix: "CooccurrenceMatrix", arrays: dict[str, np.ndarray]):
        from ..kernels import glove as kernels

        self.kernels = kernels
        self.config = config
        self.matrix = matrix
        self.arrays = arrays
        self.epochs = config.epochs
        log_x, weight = kernels.glove_targets(matrix.values, config.x_max, config.alpha)
        self.entries = (matrix.rows, matrix.cols, log_x, weight)
        self.weights = tuple(arrays[n] for n in WEIGHT_NAMES)
        self.gradsq = tuple(arrays[n] for n in GRADSQ_NAMES)
        ids = 2 * matrix.n_stored
        self.order = np.empty(ids, dtype=np.int32 if ids < 2 ** 31 else np.int64)
        self.units_per_epoch = ids
        self.n_jobs = -(-ids // JOB_ENTRIES)
        self._state = arrays[SHUFFLE_STATE].copy()      # before the shuffle of epoch _next
        self._next = int(arrays[SHUFFLE_EPOCH][0])
        self._current = -1                               # the epoch ``order`` is for

    def begin_epoch(self, epoch: int) -> None:
        """Draw this epoch's order (also when resuming in its middle: the checkpoint
        holds the rng state before this epoch's shuffle)."""
        if self._current == epoch:
            return
        while self._next < epoch:  # resumed at an epoch boundary: replay the last shuffle
            self.kernels.shuffle(self.order, self._state)
            self._next += 1
        self.arrays[SHUFFLE_STATE][:] = self._state
        self.arrays[SHUFFLE_EPOCH][0] = epoch
        self.kernels.shuffle(self.order, self._state)
        self._next = epoch + 1
        self._current = epoch

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        start = job * JOB_ENTRIES
        end = min(start + JOB_ENTRIES, self.units_per_epoch)
        cost, trained = self.kernels.train_entries(self.order, start, end, self.entries, self.weights,
                                                   self.gradsq, self.config.lr, self.kernels.GRAD_CLIP)
        return end - start, cost, trained

    def lr_at(self, units_done: int) -> float:
        return self.config.lr  # AdaGrad: a constant eta

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / self.matrix.nnz  # glove.c's average cost per non-zero entry

    def state_arrays(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)


def matrix_fingerprint(matrix: "CooccurrenceMatrix") -> dict[str, Any]:
    """What identifies a co-occurrence matrix for a checkpoint (the counts are float
    sums, so only the entries' positions are hashed)."""
    from ..io.checkpoint import digest

    return {"entries": matrix.n_stored, "tokens": int(matrix.n_tokens),
            "positions": digest(matrix.rows, matrix.cols)}


def _load_matrix(path: str, corpus, config: GloVeConfig,
                 options: "RunOptions") -> tuple["CooccurrenceMatrix", GloVeConfig, dict[str, Any]]:
    """A saved matrix, the settings it was counted with, and a vocabulary check."""
    from ..io.cooc import CooccurrenceMatrix
    from ..training.prepare import prepare_corpus

    matrix = CooccurrenceMatrix.load(path)
    saved = {k: v for k, v in matrix.settings.items() if k in fields_with("counting", "glove")}
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


# Counting settings a continued run must share with the saved matrix (--min-count may
# change: it decides which new words join).
SAME_COUNTING = ("window", "distance_weighting", "lowercase", "max_line_tokens")


def _continued_matrix(model: "GloVeModel", cooccur: str | None, corpus, config: GloVeConfig,
                      options: "RunOptions") -> tuple["CooccurrenceMatrix", dict[str, Any]]:
    """--continue: the co-occurrence matrix of the model's text (``cooccur``, saved with
    --save-cooccur when it was trained) plus the new text's counts, over the grown
    vocabulary (entries of the same pair are summed)."""
    from ..cooccur import count_cooccurrences, table_slots
    from ..io.cooc import CooccurrenceMatrix
    from ..kernels import glove as kernels
    from ..training.continuing import old_positions
    from ..training.prepare import prepare_corpus

    old = CooccurrenceMatrix.load(cooccur)
    if old.vocab.words != model.vocab.words:
        raise EmbedtrainError(f"co-occurrence file {cooccur} is not the model's: its vocabulary of "
                              f"{len(old.vocab):,} words differs from the model's {len(model.vocab):,}"
                              f"{_first_difference(old.vocab, model.vocab)}")
    for name in SAME_COUNTING:
        if name in old.settings and old.settings[name] != getattr(config, name):
            raise EmbedtrainError(f"--{name.replace('_', '-')} {getattr(config, name)} differs from "
                                  f"{cooccur}'s ({old.settings[name]}): continue with the settings "
                                  "the matrix was counted with")
    table_slots(config.memory, config.worker_threads, config.window)
    vocab, stream, stats = prepare_corpus(corpus, config, options)   # the grown vocabulary
    with stream:
        new = count_cooccurrences(stream, vocab, config, threads=config.worker_threads,
                                  tmp_dir=options.tmp_dir, progress=options.progress)
    v = len(vocab)
    moved = old_positions(old.vocab, vocab)
    a, b = moved[old.rows], moved[old.cols]
    old_keys = np.minimum(a, b) * v + np.maximum(a, b)   # the old entries under their new ids
    order = np.argsort(old_keys)                          # (each pair once: ids move, none merge)
    keys, values = kernels.merge_sum(old_keys[order], old.values[order],
                                     new.rows.astype(np.int64) * v + new.cols, new.values)
    matrix = CooccurrenceMatrix(vocab, (keys // v).astype(np.int32), (keys % v).astype(np.int32),
                                values, new.settings, old.n_tokens + new.n_tokens, new.stats)
    stats["cooccur_file"] = str(cooccur)
    log.info("continuing from %s: %s entries, %s with the new text", cooccur, f"{old.n_stored:,}",
             f"{matrix.n_stored:,}")
    return matrix, stats


def _first_difference(a: Vocab, b: Vocab) -> str:
    for i, (x, y) in enumerate(zip(a.words, b.words)):
        if x != y:
            return f"; word {i} is {x!r} in the file, {y!r} here"
    return ""


class GloVe(Family):
    """Counting, then AdaGrad over the co-occurrence entries (a round counts entries)."""

    name = "glove"
    title = "GloVe"
    configs = {"glove": GloVeConfig}
    unit = "entry"
    run_options = ("cooccur", "save_cooccur")
    # GloVe fits the co-occurrence matrix of all its text, which a model file does not keep:
    # a continued run needs the one saved with --save-cooccur (docs/training.md,
    # "Continuing on new text")
    continuable = True
    ray = True
    # in strata (the default) nothing is combined and a step is one block of the matrix; with a
    # combination rule a sync sends whole changed rows of four matrices, so GloVe syncs less
    # often (docs/ray.md, "GloVe on Ray", "GloVe in strata")
    ray_sync_every = GLOVE_SYNC_EVERY
    ray_round_words = GLOVE_ROUND_ENTRIES  # entry visits a round over all workers (config.py)
    ray_sync_protocol = GLOVE_SYNC_PROTOCOL
    ray_sync_protocols = COMBINE_PROTOCOLS + (STRATA_PROTOCOL,)
    ray_sync_dtypes = ("float32",)
    ray_dtype_reason = " (its AdaGrad sums)"
    ray_overlap = False
    ray_counting = True
    # docs/ray.md, "GloVe in strata": 17.5 M tokens, 15 epochs, seeds 1-3, 8-32 workers
    ray_measured_workers = 32
    ray_beyond = "within 0.005 analogy accuracy of one machine at 8-32 workers in strata, and not on more"
    ray_section = "GloVe in strata"

    def ray_measured(self, protocol=None):
        if protocol in (None, STRATA_PROTOCOL):
            return super().ray_measured(protocol)
        # the combination rules (docs/ray.md, "GloVe at 8-32 workers": the same corpus)
        return 8, (f"with --sync-protocol {protocol} 0.020 analogy accuracy below one machine at 8 "
                   "workers (\"scaled\"), 0.027 below it at 32, and not on more"), "GloVe at 8-32 workers"
    # every worker's squared steps were taken: each worker adds its own N times while it
    # trains a round, and their mean over the workers holds each once (config.py)
    ray_summed = () if GLOVE_SHARED_ADAGRAD else GRADSQ_NAMES
    ray_averaged = GRADSQ_NAMES if GLOVE_SHARED_ADAGRAD else ()

    def ray_lr_scale(self, workers: int) -> float:
        return 1.0  # AdaGrad's per-coordinate rates

    def check_ray(self, config, dist):
        super().check_ray(config, dist)
        if (dist.sync_protocol or self.ray_sync_protocol) == STRATA_PROTOCOL and dist.sync_every is not None:
            raise EmbedtrainError("--sync-every does not apply to GloVe in strata (--sync-protocol strata): "
                                  "a worker's step is one block of the matrix, 1 / workers^2 of it")

    def lr_at(self, config, units_done, units_per_epoch):
        return config.lr  # AdaGrad: a constant eta

    ray_arrays = WEIGHT_NAMES + GRADSQ_NAMES

    def checkpoint_shapes(self, config, vocab, layout):
        v, dim = len(vocab), config.dim
        out = {name: ([(v, dim) if "vectors" in name or name in ("word_gradsq", "context_gradsq") else (v,)],
                      np.float32) for name in WEIGHT_NAMES + GRADSQ_NAMES}
        out[SHUFFLE_STATE] = ([(1,)], np.uint64)
        out[SHUFFLE_EPOCH] = ([(1,)], np.int64)
        return out

    def check_checkpoint(self, checkpoint, config, vocab, layout, required=None):
        super().check_checkpoint(checkpoint, config, vocab, layout, required)
        arrays = checkpoint.arrays
        for name in GRADSQ_NAMES:   # AdaGrad divides by their square roots
            if name in arrays and arrays[name].size and not (arrays[name] > 0).all():
                raise checkpoint.damaged(f"{name} holds values that are not positive")
        if SHUFFLE_EPOCH in arrays and not 0 <= int(arrays[SHUFFLE_EPOCH][0]) <= config.epochs:
            raise checkpoint.damaged(f"{SHUFFLE_EPOCH} {int(arrays[SHUFFLE_EPOCH][0])} is not an epoch "
                                     "of the run")

    def trained_arrays(self, arrays):
        return tuple(arrays[n] for n in WEIGHT_NAMES)

    def check_continuing(self, model, corpus, extra):
        if not extra.get("cooccur"):
            raise EmbedtrainError("continuing a GloVe model needs the co-occurrence matrix of its text: "
                                  "give --cooccur FILE, saved with --save-cooccur when it was trained "
                                  "(without one, train again on the old and new text together)")
        if not corpus:
            raise EmbedtrainError("--continue needs the new text: embedtrain train NEW... --continue "
                                  "MODEL.etm --cooccur OLD.cooc")

    def grown_arrays(self, model, config, vocab, layout):
        """Each old word keeps its word and context vectors and biases under its new id; new
        words start as in a fresh run over ``vocab``; every AdaGrad sum starts at 1 as in a
        fresh run (a model file does not keep them)."""
        from ..training.continuing import old_positions

        arrays = initial_arrays(len(vocab), config.dim, config.seed)
        rows = old_positions(model.vocab, vocab)
        for name in WEIGHT_NAMES:
            arrays[name][rows] = model.arrays[name]
        return arrays

    def finished_model(self, config, vocab, arrays, stats, layout=None):
        return self.model_class(config.model)(config, vocab, {n: arrays[n] for n in WEIGHT_NAMES}, stats)

    def train(self, config, corpus, options, **extra):
        return train_glove(config, corpus, options, **extra)



GLOVE = GloVe()
