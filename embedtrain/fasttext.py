"""FastText (Bojanowski, Grave, Joulin and Mikolov 2017): word vectors built from a
word row plus character n-gram rows, so that any word, seen in training or not,
gets a vector.

Layout (fastText's): one input matrix ``input_vectors`` float32 [V + bucket, dim],
rows 0..V-1 for the vocabulary words and row V + b for n-gram bucket b, and
``output_vectors`` float32 [V, dim] for negative sampling. A word's vector is the
mean of its rows (subwords.py lists them). With ``--maxn 0`` there are no n-grams
and no bucket rows (fastText sets bucket to 0 then, too).

Memory: the bucket rows take bucket x dim x 4 bytes (2,000,000 x 100 x 4 = 800 MB at
the defaults) for the whole run, and the model file (.etm) holds them too.
:func:`check_memory` compares that with the memory available before anything is
read or allocated; ``--bucket`` shrinks it (rare n-grams then share rows).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Sequence

import numpy as np

from .config import FastTextConfig
from .errors import EmbedtrainError
from .model import Model
from .parallel import run_jobs
from .subwords import SubwordTable, subword_table
from .training import Corpus, RunOptions, check_finite, prepare_corpus, run_epochs, summary_line
from .vectors import Vectors
from .vocab import Vocab

log = logging.getLogger("embedtrain")

FLOAT_BYTES = 4
INT32_ROWS = 2**31 - 1            # rows are indexed with int32, as in fastText
INIT_BLOCK_ROWS = 65_536          # rows per job when filling the input matrix
# Leave this much of the available memory to the rest of the process (corpus
# buffers, vocabulary, Python) when judging whether the matrices fit.
MEMORY_HEADROOM = 0.9


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


def matrix_bytes(config: FastTextConfig, vocab_size: int = 0) -> int:
    """Bytes of the input (words + buckets) and output matrices."""
    return (2 * vocab_size + effective_bucket(config)) * config.dim * FLOAT_BYTES


def check_memory(config: FastTextConfig, vocab_size: int = 0) -> None:
    """Fail with a clear message, before allocating, when the matrices cannot fit."""
    bucket = effective_bucket(config)
    if vocab_size + bucket > INT32_ROWS:
        raise EmbedtrainError(f"--bucket {bucket:,} plus {vocab_size:,} words exceeds {INT32_ROWS:,} "
                              "rows (fastText's int32 limit); use a smaller --bucket")
    needed = matrix_bytes(config, vocab_size)
    available = available_memory()
    if available is not None and needed > MEMORY_HEADROOM * available:
        raise EmbedtrainError(
            f"--bucket {bucket:,} needs {needed / 1e9:,.1f} GB for the n-gram matrix (bucket x dim x 4 "
            f"bytes) but only {available / 1e9:,.1f} GB of memory is available; use a smaller "
            "--bucket or --dim")


def effective_bucket(config: FastTextConfig) -> int:
    """Bucket rows actually used: none without subwords (as fastText's Args does)."""
    return config.bucket if config.maxn > 0 else 0


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
    depend on the seed only, not on the thread count."""
    from .kernels import fasttext as kernels
    from .kernels.rng import MASK_64, next_state_py

    try:
        matrix = np.empty((rows, dim), dtype=np.float32)
    except MemoryError:
        raise EmbedtrainError(f"out of memory allocating the {rows:,} x {dim} input matrix; "
                              "use a smaller --bucket") from None
    bound = 1.0 / dim
    blocks = list(range(0, rows, INIT_BLOCK_ROWS))

    def work(worker: int, first: int):
        _, block_seed = next_state_py((seed * 0x9E3779B97F4A7C15 + first) & MASK_64)
        kernels.uniform_fill(matrix, first, min(first + INIT_BLOCK_ROWS, rows), -bound, bound,
                             np.uint64(block_seed))

    run_jobs(blocks, work, lambda job, result: None, threads)
    return matrix


def train_fasttext(config: FastTextConfig, corpus: Corpus, options: RunOptions) -> "FastTextModel":
    """Train FastText skip-gram or CBOW with negative sampling."""
    from .kernels import fasttext as kernels
    from .kernels import word2vec as w2v

    check_memory(config)  # before reading anything
    vocab, stream, stats = prepare_corpus(corpus, config, options)
    with stream:
        v, dim = len(vocab), config.dim
        check_memory(config, v)
        bucket = effective_bucket(config)
        threads = config.worker_threads
        table = subword_table(vocab.words, config.minn, config.maxn, bucket)
        log.info("input matrix: %s word rows + %s n-gram rows x %d (%.0f MB); %.1f rows per word",
                 f"{v:,}", f"{bucket:,}", dim, (v + bucket) * dim * FLOAT_BYTES / 1e6,
                 len(table.rows) / max(v, 1))
        input_vectors = init_input_matrix(v + bucket, dim, config.seed, threads)
        output_vectors = np.zeros((v, dim), dtype=np.float32)
        keep_prob = discard_keep_prob(vocab.counts, config.sample, stats["corpus_tokens"])
        noise = vocab.noise_sampler(config.ns_exponent)
        sigmoid, log_sigmoid = w2v.sigmoid_tables()
        kernel = kernels.skipgram if config.arch == "skipgram" else kernels.cbow

        def call_kernel(tokens, words_done, total_words, rng_state):
            return kernel(tokens, input_vectors, output_vectors, table.offsets, table.rows,
                          keep_prob, noise.prob, noise.alias, config.window, config.negative,
                          config.lr, words_done, total_words, rng_state, sigmoid, log_sigmoid)

        seconds = run_epochs(stream, config, options, call_kernel)
        total_words = stream.n_tokens * config.epochs
    check_finite("fasttext", output_vectors)
    stats.update(words_trained=total_words, train_seconds=round(seconds, 3),
                 words_per_second=round(total_words / max(seconds, 1e-9)), threads=threads,
                 subword_rows=int(len(table.rows)))
    model = FastTextModel(config, vocab, {"input_vectors": input_vectors,
                                          "output_vectors": output_vectors}, stats)
    model._table = table
    check_finite("fasttext", model.word_matrix())
    log.debug(summary_line(model))
    return model


# --------------------------------------------------------------------------- vectors

class FastTextVectors(Vectors):
    """Word vectors of a FastText model; any word with at least one n-gram has a
    vector: the mean of its n-gram rows (fastText's getWordVector for unseen words).

    A word with no n-gram at all (shorter than --minn - 2 characters, or a model
    trained with --maxn 0) has no vector here, where fastText would return zeros.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None,
                 input_vectors: np.ndarray, minn: int, maxn: int, bucket: int):
        super().__init__(words, vectors, counts)
        self.input_vectors = input_vectors
        self.minn, self.maxn, self.bucket = minn, maxn, bucket

    def ngram_rows(self, word: str) -> np.ndarray:
        """int32: rows of the input matrix for the n-grams of ``word`` (fastText's order)."""
        if self.maxn <= 0 or self.bucket <= 0:
            return np.zeros(0, dtype=np.int32)
        return subword_table([word], self.minn, self.maxn, self.bucket, row_base=len(self.words),
                             with_word=False).rows

    def vector_for_unknown(self, word: str) -> np.ndarray | None:
        rows = self.ngram_rows(word)
        if len(rows) == 0:
            return None
        return self.input_vectors[rows].mean(axis=0, dtype=np.float32)

    def has_vector(self, word: str) -> bool:
        return word in self.index or len(self.ngram_rows(word)) > 0


# --------------------------------------------------------------------------- model

class FastTextModel(Model):
    """A trained FastText model: ``arrays`` holds ``input_vectors`` [V + bucket, dim]
    (word rows, then n-gram bucket rows) and ``output_vectors`` [V, dim].

    ``model["anyword"]`` works for words outside the vocabulary; PREFIX.vec holds the
    vocabulary words with the same vectors the model gives for them.
    """

    def __init__(self, config: FastTextConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
                 stats: dict[str, Any] | None = None):
        super().__init__(config, vocab, arrays, stats)
        rows = arrays["input_vectors"].shape[0]
        expected = len(vocab) + effective_bucket(config)
        if rows != expected:
            raise EmbedtrainError(f"FastText model has {rows:,} input rows; its vocabulary and "
                                  f"--bucket call for {expected:,} (damaged model file?)")
        self._table: SubwordTable | None = None
        self._word_matrix: np.ndarray | None = None

    @property
    def bucket(self) -> int:
        return effective_bucket(self.config)

    @property
    def input_vectors(self) -> np.ndarray:
        return self.arrays["input_vectors"]

    @property
    def output_vectors(self) -> np.ndarray:
        return self.arrays["output_vectors"]

    def subword_table(self) -> SubwordTable:
        """Each vocabulary word's input rows (own row, then n-gram rows)."""
        if self._table is None:
            c = self.config
            self._table = subword_table(self.vocab.words, c.minn, c.maxn, self.bucket)
        return self._table

    def word_matrix(self) -> np.ndarray:
        """float32 [V, dim]: each vocabulary word's vector, the mean of its rows."""
        if self._word_matrix is None:
            from .kernels.fasttext import word_vectors

            table = self.subword_table()
            out = np.empty((len(self.vocab), self.config.dim), dtype=np.float32)
            word_vectors(self.input_vectors, table.offsets, table.rows, out)
            self._word_matrix = out
        return self._word_matrix

    def make_vectors(self) -> FastTextVectors:
        c = self.config
        return FastTextVectors(self.vocab.words, self.word_matrix(), self.vocab.counts,
                               self.input_vectors, c.minn, c.maxn, self.bucket)

    def subwords(self, word: str) -> list[str]:
        """The character n-grams that form ``word``'s vector (besides its own row when known)."""
        from .subwords import char_ngrams

        c = self.config
        return char_ngrams(word, c.minn, c.maxn) if self.bucket else []
