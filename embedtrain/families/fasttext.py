"""FastText (Bojanowski, Grave, Joulin and Mikolov 2017): word vectors built from a
word row plus character n-gram rows, so that any word, seen in training or not,
gets a vector.

Layout (fastText's): one input matrix ``input_vectors`` float32 [V + bucket, dim],
rows 0..V-1 for the vocabulary words and row V + b for n-gram bucket b, and
``output_vectors`` float32 [V, dim] for negative sampling. A word's vector is the
mean of its rows (subwords.py lists them). With ``--maxn 0`` there are no n-grams
and no bucket rows (fastText sets bucket to 0 then, too).

Memory: the full bucket rows would take bucket x dim x 4 bytes (2,000,000 x 100 x 4
= 800 MB at the defaults), but training touches only the buckets that vocabulary
words' n-grams use, so only those are allocated, trained and stored (the compact
layout of ngram_rows.py; 125,101 rows on text8-prefix); the other rows keep their
initial values, which the model computes on demand. :func:`check_memory` compares
the matrices with the memory available before they are allocated.
"""
from __future__ import annotations

import logging
import os


import numpy as np

from ..config import FASTTEXT_MAX_LR_SCALE, FASTTEXT_ROUND_WORDS, FASTTEXT_SYNC_EVERY, FastTextConfig
from ..errors import EmbedtrainError
from ..ngram_rows import INIT_BLOCK_ROWS, compact_table, initial_rows, stored_row_ids, used_buckets
from ..parallel import run_jobs
from ..subwords import subword_table
from ..vocab import Vocab
from .base import StreamFamily, writable_copy

log = logging.getLogger("embedtrain")

FLOAT_BYTES = 4
INT32_ROWS = 2**31 - 1            # rows are indexed with int32, as in fastText
# Leave this much of the available memory to the rest of the process (corpus
# buffers, vocabulary, Python) when judging whether the matrices fit.
MEMORY_HEADROOM = 0.9
# The arrays whose frequent words' rows a second thread keeps as its own (training/own_rows.py):
# the output rows only (a row a word). The input matrix holds the n-gram rows too, and keeping
# the words' rows there did not make two threads faster when it was tried (docs/benchmarks.md,
# "Input rows too"). On a small corpus the output rows trade some WordSim-353 for analogies against
# sharing every row, which costs their speed (docs/benchmarks.md, "FastText's two threads on a
# small corpus").
OWN_ROWS_ARRAYS = ("output_vectors",)


# --------------------------------------------------------------------------- memory

def available_memory() -> int | None:
    """Bytes this process may still allocate: MemAvailable, capped by a cgroup limit."""
    candidates = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            candidates.append(max(int(limit) - usage, 0))
        break
    return min(candidates) if candidates else None


def matrix_bytes(config: FastTextConfig, vocab_size: int = 0, ngram_rows: int | None = None) -> int:
    """Bytes of the input (words + n-gram rows; all buckets unless ``ngram_rows`` is
    given) and output matrices."""
    rows = config.subword_buckets if ngram_rows is None else ngram_rows
    return (config.word_rows(vocab_size) + vocab_size + rows) * config.dim * FLOAT_BYTES


def check_memory(config: FastTextConfig, vocab_size: int = 0, ngram_rows: int | None = None) -> None:
    """Fail with a clear message, before allocating, when the matrices cannot fit
    (``ngram_rows``: the bucket rows training uses; without it only the row limit is
    checked, since how many buckets the vocabulary uses is not known yet)."""
    bucket = config.subword_buckets
    if vocab_size + bucket > INT32_ROWS:
        raise EmbedtrainError(f"--bucket {bucket:,} plus {vocab_size:,} words exceeds {INT32_ROWS:,} "
                              "rows (fastText's int32 limit); use a smaller --bucket")
    if ngram_rows is None:
        return
    needed = matrix_bytes(config, vocab_size, ngram_rows)
    available = available_memory()
    if available is not None and needed > MEMORY_HEADROOM * available:
        raise EmbedtrainError(
            f"the FastText matrices need {needed / 1e9:,.1f} GB ({vocab_size:,} words and {ngram_rows:,} "
            f"n-gram rows x dim x 4 bytes) but only {available / 1e9:,.1f} GB of memory is available; "
            "use a smaller --bucket or --dim")


# --------------------------------------------------------------------------- training

def discard_keep_prob(counts: np.ndarray, sample: float, corpus_tokens: int) -> np.ndarray:
    """float32 [V]: fastText's keep-probability sqrt(t/f) + t/f, capped at 1, with f the
    word's share of *all* corpus tokens (Dictionary::initTableDiscard counts words
    below --min-count too; word2vec.c counts vocabulary words only)."""
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    ratio = sample * corpus_tokens / np.asarray(counts, dtype=np.float64)
    return np.minimum(np.sqrt(ratio) + ratio, 1.0).astype(np.float32)


def init_input_matrix(rows: int, dim: int, seed: int, threads: int) -> np.ndarray:
    """float32 [rows, dim], uniform in [-1/dim, 1/dim) like fastText's input matrix
    (DenseMatrix::uniform), filled in blocks on ``threads`` threads. The values
    depend on the seed only, not on the thread count. Training allocates only the
    rows it uses (:func:`initial_stored_rows`, same values); this full matrix is what
    those values are defined by, and what tests compare with."""
    from ..kernels.rng import MASK_64, next_state_py, uniform_fill

    try:
        matrix = np.empty((rows, dim), dtype=np.float32)
    except MemoryError:
        raise EmbedtrainError(f"out of memory allocating the {rows:,} x {dim} input matrix; "
                              "use a smaller --bucket") from None
    bound = 1.0 / dim
    blocks = list(range(0, rows, INIT_BLOCK_ROWS))

    def work(worker: int, first: int):
        _, block_seed = next_state_py((seed * 0x9E3779B97F4A7C15 + first) & MASK_64)
        uniform_fill(matrix, first, min(first + INIT_BLOCK_ROWS, rows), -bound, bound,
                             np.uint64(block_seed))

    run_jobs(blocks, work, lambda job, result: None, threads)
    return matrix


def initial_stored_rows(vocab_size: int, buckets: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """float32 [V + T, dim]: the compact input matrix (word rows, then the rows of
    ``buckets``) with the values :func:`init_input_matrix` gives those rows."""
    try:
        return initial_rows(stored_row_ids(vocab_size, buckets), dim, seed)
    except MemoryError:
        raise EmbedtrainError(f"out of memory allocating the {vocab_size + len(buckets):,} x {dim} input "
                              "matrix; use a smaller --bucket or --dim") from None


def training_table(config: FastTextConfig, vocab: Vocab):
    """(each word's rows in the compact layout, the buckets used int32 [T])."""
    if config.floret:
        from ..floret import floret_table

        full = floret_table(vocab.words, config.minn, config.maxn, config.bucket, config.hash_count)
    else:
        full = subword_table(vocab.words, config.minn, config.maxn, config.subword_buckets)
    word_rows = config.word_rows(len(vocab))
    buckets = used_buckets(full, word_rows)
    return compact_table(full, word_rows, buckets), buckets


class FastText(StreamFamily):
    """Skip-gram or CBOW with negative sampling over a word's own row plus its n-gram
    rows, in the compact layout (the n-gram rows the vocabulary uses)."""

    name = "fasttext"
    title = "FastText"
    configs = {"fasttext": FastTextConfig}
    continuable = True
    ray = True
    # its n-gram rows, shared by thousands of words, go stale faster than word rows
    # (docs/ray.md, "Combining the replicas": at 500,000 four workers lost 0.033 WordSim-353)
    ray_sync_every = FASTTEXT_SYNC_EVERY
    # and at most FASTTEXT_ROUND_WORDS a round over all workers (config.py)
    ray_round_words = FASTTEXT_ROUND_WORDS
    # docs/ray.md, "FastText at 32 workers": 17.5 M tokens, the defaults, seeds 1-3
    ray_measured_workers = 32
    ray_beyond = ("above one machine at 2-16 workers, within 0.01 analogy accuracy of it at 32, "
                  "and not on more")
    ray_section = "FastText at 32 workers"

    def ray_lr_scale(self, workers):
        # the square root, at most FASTTEXT_MAX_LR_SCALE (config.py)
        return min(super().ray_lr_scale(workers), FASTTEXT_MAX_LR_SCALE)

    def check_before_reading(self, config):
        check_memory(config)

    def check_ray(self, config, dist):
        if config.floret:
            raise EmbedtrainError("--floret does not train on Ray yet (train it on one machine)")
        super().check_ray(config, dist)

    def layout(self, config, vocab):
        """(each word's rows in the compact layout, the buckets used int32 [T])."""
        table, buckets = training_table(config, vocab)
        check_memory(config, len(vocab), len(buckets))
        word_rows = config.word_rows(len(vocab))
        log.info("input matrix: %s word rows + %s of %s n-gram rows x %d (%.0f MB); %.1f rows per word",
                 f"{word_rows:,}", f"{len(buckets):,}", f"{config.subword_buckets:,}", config.dim,
                 (word_rows + len(buckets)) * config.dim * FLOAT_BYTES / 1e6,
                 len(table.rows) / max(len(vocab), 1))
        return table, buckets

    def fresh_arrays(self, config, vocab, layout):
        _, buckets = layout
        v, dim = len(vocab), config.dim
        return {"input_vectors": initial_stored_rows(config.word_rows(v), buckets, dim, config.seed),
                "output_vectors": np.zeros((v, dim), dtype=np.float32),
                "output_hs": np.zeros((0, dim), dtype=np.float32),
                "ngram_buckets": buckets}

    def grown_arrays(self, model, config, vocab, layout):
        """Each old word keeps its own input row and its output row under its new id, each
        n-gram bucket the model stored keeps its row (buckets are hashed: new words share
        them); new word rows and new buckets' rows start as in a fresh run over ``vocab``
        (the seeded value of their row in the full [V + bucket, dim] layout of the grown
        vocabulary, the value the model computes for any bucket it does not store)."""
        from ..training.continuing import old_positions

        arrays = self.fresh_arrays(config, vocab, layout)
        _, buckets = layout
        # --floret: no word rows, the table rows come first
        old_w, w = model.config.word_rows(len(model.vocab)), config.word_rows(len(vocab))
        rows = old_positions(model.vocab, vocab)
        if w:
            arrays["input_vectors"][rows] = model.input_vectors[:old_w]
        arrays["output_vectors"][rows] = model.output_vectors
        kept = model.ngram_buckets
        if kept is None:  # the full layout (older files): keep the buckets the old words use
            kept = training_table(config, model.vocab)[1]
            values = model.input_vectors[old_w + kept.astype(np.int64)]
        else:
            values = model.input_vectors[old_w:]
        at = np.searchsorted(buckets, kept)
        if len(kept) and (at.max() >= len(buckets) or not np.array_equal(buckets[at], kept)):
            raise EmbedtrainError("the model's n-gram rows are not among the grown vocabulary's "
                                  "(its --minn/--maxn/--bucket differ from this run's?)")
        arrays["input_vectors"][w + at] = values
        return arrays

    def checkpoint_shapes(self, config, vocab, layout):
        v, dim, stored = len(vocab), config.dim, len(layout[1])
        w = config.word_rows(v)
        # the compact layout; or every bucket row (a checkpoint written before it)
        return {"input_vectors": ([(w + stored, dim), (w + config.subword_buckets, dim)], np.float32),
                "output_vectors": ([(v, dim)], np.float32), "output_hs": ([(0, dim)], np.float32),
                "ngram_buckets": ([(stored,)], np.int32)}

    def resumed_arrays(self, checkpoint, vocab, layout):
        self.check_checkpoint(checkpoint, checkpoint.config, vocab, layout, required=self.ray_arrays)
        return resumed_arrays(checkpoint, checkpoint.config.word_rows(len(vocab)), layout[1])

    def make_task(self, config, vocab, arrays, corpus_tokens, layout, stream=None):
        """The kernel's view of a FastText model: each word's own row plus its n-gram rows
        (in the layout of ``arrays["input_vectors"]``)."""
        from ..kernels import sgns as kernels
        from ..training.sgns import SgnsTask

        table, _ = layout
        if config.arch == "cbow":
            arch = kernels.CBOW
        else:
            arch = kernels.SKIPGRAM_CENTRE_SHARED if config.shared_negatives else kernels.SKIPGRAM_CENTRE
        return SgnsTask("fasttext", config, vocab, arrays, arch=arch,
                        rows=(table.offsets, table.rows),
                        keep_prob=discard_keep_prob(vocab.counts, config.sample, corpus_tokens),
                        use_hs=False, lr_floor=self.lr_schedule(config)[0],
                        lr_offset=self.lr_schedule(config)[1], stream=stream, own_rows=OWN_ROWS_ARRAYS)

    def lr_schedule(self, config):
        from ..kernels.common import FASTTEXT_LR_FLOOR, FASTTEXT_LR_OFFSET

        floor = FASTTEXT_LR_FLOOR if config.min_lr is None else config.min_lr / config.lr
        return floor, FASTTEXT_LR_OFFSET, 1.0  # fastText's linear schedule

    def trained_arrays(self, arrays):
        return (arrays["output_vectors"],)

    def finished_model(self, config, vocab, arrays, stats, layout):
        from ..training.runner import check_finite

        table, buckets = layout
        stats["subword_rows"] = int(len(table.rows))
        stats["ngram_rows_stored"] = int(len(buckets))
        model = self.model_class(config.model)(
            config, vocab, {"input_vectors": arrays["input_vectors"],
                            "output_vectors": arrays["output_vectors"], "ngram_buckets": buckets}, stats)
        model._table = table
        check_finite("fasttext", model.word_matrix())
        return model

    def replica_rows(self, config, layout):
        from ..distributed.sync import subword_rows

        table, _ = layout
        return {"input_vectors": subword_rows(table.offsets, table.rows),
                "output_vectors": None, "output_hs": None}

    def row_masses(self, task, vocab, counts, lr):
        from .sgns import sgns_row_masses

        return sgns_row_masses(task, vocab, counts, lr)


def resumed_arrays(checkpoint, vocab_size: int, buckets: np.ndarray) -> dict[str, np.ndarray]:
    """A checkpoint's arrays in the compact layout (a checkpoint written before compact
    storage holds every bucket row: keep the used ones); ``vocab_size``: the word rows
    before the bucket rows (none with --floret)."""
    arrays = writable_copy(checkpoint.arrays)
    stored = arrays.get("ngram_buckets")
    if stored is None and arrays["input_vectors"].shape[0] == vocab_size + checkpoint.config.subword_buckets:
        arrays["input_vectors"] = np.ascontiguousarray(
            arrays["input_vectors"][stored_row_ids(vocab_size, buckets)])
    elif stored is None or not np.array_equal(stored, buckets) or \
            arrays["input_vectors"].shape[0] != vocab_size + len(buckets):
        raise EmbedtrainError(f"{checkpoint.path}: damaged checkpoint file (its n-gram rows do not "
                              "match the vocabulary's n-grams)")
    arrays["ngram_buckets"] = buckets
    return arrays


FASTTEXT = FastText()
