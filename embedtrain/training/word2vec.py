"""The word2vec driver: skip-gram or CBOW with negative sampling and/or
hierarchical softmax (word2vec.c's numerics)."""
from __future__ import annotations

import logging

import numpy as np

from ..config import SkipGramConfig
from ..kernels import sgns as kernels
from ..kernels.common import WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET
from ..models import Model
from ..vocab import Vocab
from .checkpoint import stream_fingerprint
from .prepare import Corpus, RunOptions, drive, prepare_corpus
from .runner import check_finite, summary_line
from .sgns import SgnsTask, identity_rows

log = logging.getLogger("embedtrain")


def init_input_vectors(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """Uniform in [-0.5/dim, 0.5/dim), as word2vec.c initialises syn0."""
    rng = np.random.default_rng(seed)
    return ((rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))


def initial_arrays(config: SkipGramConfig, vocab_size: int) -> dict[str, np.ndarray]:
    """Fresh weights: random input vectors, zero output weights (word2vec.c)."""
    v, dim = vocab_size, config.dim
    return {"input_vectors": init_input_vectors(v, dim, config.seed),
            "output_vectors": np.zeros((v if config.negative else 0, dim), dtype=np.float32),
            "output_hs": np.zeros((max(v - 1, 0) if config.hs else 0, dim), dtype=np.float32)}


def make_task(config: SkipGramConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
              stream=None) -> SgnsTask:
    """The kernel's view of a word2vec model: one row per word."""
    return SgnsTask(config.model, config, vocab, arrays,
                    arch=kernels.SKIPGRAM if config.model == "skipgram" else kernels.CBOW,
                    rows=identity_rows(len(vocab)), keep_prob=vocab.keep_prob(config.sample),
                    use_hs=config.hs, lr_floor=WORD2VEC_LR_FLOOR, lr_offset=WORD2VEC_LR_OFFSET,
                    shuffle=config.shuffle_lines, stream=stream)


def train_word2vec(config: SkipGramConfig, corpus: Corpus, options: RunOptions) -> Model:
    """Skip-gram or CBOW with negative sampling and/or hierarchical softmax."""
    vocab, stream, stats = prepare_corpus(corpus, config, options)
    with stream:
        if options.resume_checkpoint is not None:
            arrays = writable_copy(options.resume_checkpoint.arrays)
        elif options.resume is not None:
            arrays = {name: options.resume.arrays[name].astype(np.float32, copy=True)
                      for name in ("input_vectors", "output_vectors", "output_hs")}
        else:
            arrays = initial_arrays(config, len(vocab))
        task = make_task(config, vocab, arrays, stream)
        result = drive(task, config, options, vocab, stats, stream_fingerprint(stream))
    check_finite(config.model, arrays["input_vectors"])
    if options.resume is not None:
        stats["resumed_from_words"] = int(options.resume.stats.get("words_trained", 0)) + \
            int(options.resume.stats.get("resumed_from_words", 0))
    total_words = task.total_words
    stats.update(words_trained=total_words, train_seconds=round(result.seconds, 3),
                 words_per_second=round(total_words / max(result.seconds, 1e-9)))
    model = Model(config, vocab, arrays, stats)
    log.debug(summary_line(model))
    return model


def writable_copy(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Arrays read from a file, made writable (copied only where they are not)."""
    return {name: a if a.flags.writeable and a.flags.c_contiguous else np.array(a, order="C")
            for name, a in arrays.items()}
