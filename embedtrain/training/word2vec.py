"""The word2vec driver: skip-gram or CBOW with negative sampling and/or
hierarchical softmax."""
from __future__ import annotations

import logging

import numpy as np

from ..config import SkipGramConfig
from ..models import Model
from ..vocab import HuffmanTree
from .prepare import Corpus, RunOptions, prepare_corpus
from .runner import check_finite, run_epochs, summary_line

log = logging.getLogger("embedtrain")


def init_input_vectors(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """Uniform in [-0.5/dim, 0.5/dim), as word2vec.c initialises syn0."""
    rng = np.random.default_rng(seed)
    return ((rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))


def train_word2vec(config: SkipGramConfig, corpus: Corpus, options: RunOptions) -> Model:
    """Skip-gram or CBOW with negative sampling and/or hierarchical softmax."""
    from ..kernels import word2vec as kernels

    vocab, stream, stats = prepare_corpus(corpus, config, options)
    with stream:
        v, dim = len(vocab), config.dim
        if options.resume is not None:
            saved = options.resume.arrays
            input_vectors = saved["input_vectors"].astype(np.float32, copy=True)
            output_vectors = saved["output_vectors"].astype(np.float32, copy=True)
            output_hs = saved["output_hs"].astype(np.float32, copy=True)
        else:
            input_vectors = init_input_vectors(v, dim, config.seed)
            output_vectors = np.zeros((v if config.negative else 0, dim), dtype=np.float32)
            output_hs = np.zeros((max(v - 1, 0) if config.hs else 0, dim), dtype=np.float32)
        keep_prob = vocab.keep_prob(config.sample)
        noise = vocab.noise_sampler(config.ns_exponent)
        tree = vocab.huffman() if config.hs else HuffmanTree.empty(v)
        sigmoid, log_sigmoid = kernels.sigmoid_tables()
        kernel = kernels.skipgram if config.model == "skipgram" else kernels.cbow

        def call_kernel(tokens, words_done, total_words, rng_state):
            return kernel(tokens, input_vectors, output_vectors, output_hs, keep_prob,
                          noise.prob, noise.alias, tree.offsets, tree.codes, tree.points,
                          config.window, config.negative, config.hs, config.lr, words_done,
                          total_words, rng_state, sigmoid, log_sigmoid)

        seconds = run_epochs(stream, config, options, call_kernel, kernels.MIN_LR_FRACTION)
        total_words = stream.n_tokens * config.epochs
        threads = config.worker_threads
    check_finite(config.model, input_vectors)
    if options.resume is not None:
        stats["resumed_from_words"] = int(options.resume.stats.get("words_trained", 0)) + \
            int(options.resume.stats.get("resumed_from_words", 0))
    stats.update(words_trained=total_words, train_seconds=round(seconds, 3),
                 words_per_second=round(total_words / max(seconds, 1e-9)), threads=threads)
    model = Model(config, vocab, {"input_vectors": input_vectors, "output_vectors": output_vectors,
                                  "output_hs": output_hs}, stats)
    log.debug(summary_line(model))
    return model
