"""What a Ray worker trains: a model's weights and tables, and one call per chunk.

TEMPORARY ADAPTER. The training wing's rewrite (issue 8) brings a per-model task
object for the skip-gram family with the same ``train_chunk`` signature; when it is
on main, :func:`make_task` builds that instead and this module keeps only
:func:`rows_from_words` (which rows of which matrix a chunk can touch, for sync.py).
Until then it calls the current drivers' helpers and kernels, unchanged.

Every worker builds the initial weights itself from the seed (the values depend
on the seed only), so nothing is broadcast at the start.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..config import CommonConfig, FastTextConfig
from ..models import FastTextModel, Model
from ..vocab import HuffmanTree, Vocab
from .sync import RowsFromWords, subword_rows, word_rows


class SkipGramFamilyTask:
    """Weights (``arrays``) and tables of skip-gram/CBOW/FastText, trained chunk by chunk."""

    def __init__(self, config: CommonConfig, vocab: Vocab, corpus_tokens: int, threads: int):
        self.config = config
        self.vocab = vocab
        self.table = None
        if isinstance(config, FastTextConfig):
            self._init_fasttext(config, vocab, corpus_tokens, threads)
        else:
            self._init_word2vec(config, vocab)

    def _init_word2vec(self, config, vocab: Vocab) -> None:
        from ..kernels import word2vec as kernels
        from ..training.word2vec import init_input_vectors

        v, dim = len(vocab), config.dim
        self.arrays = {
            "input_vectors": init_input_vectors(v, dim, config.seed),
            "output_vectors": np.zeros((v if config.negative else 0, dim), dtype=np.float32),
            "output_hs": np.zeros((max(v - 1, 0) if config.hs else 0, dim), dtype=np.float32),
        }
        keep_prob = vocab.keep_prob(config.sample)
        noise = vocab.noise_sampler(config.ns_exponent)
        tree = vocab.huffman() if config.hs else HuffmanTree.empty(v)
        sigmoid, log_sigmoid = kernels.sigmoid_tables()
        kernel = kernels.skipgram if config.model == "skipgram" else kernels.cbow
        a = self.arrays

        def train_chunk(tokens, words_done, total_words, rng_state):
            return kernel(tokens, a["input_vectors"], a["output_vectors"], a["output_hs"], keep_prob,
                          noise.prob, noise.alias, tree.offsets, tree.codes, tree.points,
                          config.window, config.negative, config.hs, config.lr, words_done,
                          total_words, rng_state, sigmoid, log_sigmoid)

        self.train_chunk = train_chunk
        self.rows_from_words: dict[str, RowsFromWords | None] = {
            "input_vectors": word_rows, "output_vectors": None, "output_hs": None}

    def _init_fasttext(self, config: FastTextConfig, vocab: Vocab, corpus_tokens: int,
                       threads: int) -> None:
        from ..kernels import fasttext as kernels
        from ..kernels import word2vec as w2v
        from ..subwords import subword_table
        from ..training.fasttext import check_memory, discard_keep_prob, init_input_matrix

        v, dim = len(vocab), config.dim
        check_memory(config, v)
        bucket = config.subword_buckets
        table = subword_table(vocab.words, config.minn, config.maxn, bucket)
        self.table = table
        self.arrays = {"input_vectors": init_input_matrix(v + bucket, dim, config.seed, threads),
                       "output_vectors": np.zeros((v, dim), dtype=np.float32)}
        keep_prob = discard_keep_prob(vocab.counts, config.sample, corpus_tokens)
        noise = vocab.noise_sampler(config.ns_exponent)
        sigmoid, log_sigmoid = w2v.sigmoid_tables()
        kernel = kernels.skipgram if config.arch == "skipgram" else kernels.cbow
        a = self.arrays

        def train_chunk(tokens, words_done, total_words, rng_state):
            return kernel(tokens, a["input_vectors"], a["output_vectors"], table.offsets, table.rows,
                          keep_prob, noise.prob, noise.alias, config.window, config.negative,
                          config.lr, words_done, total_words, rng_state, sigmoid, log_sigmoid)

        self.train_chunk = train_chunk
        self.rows_from_words = {"input_vectors": subword_rows(table.offsets, table.rows),
                                "output_vectors": None}


def make_task(config: CommonConfig, vocab: Vocab, corpus_tokens: int, threads: int) -> SkipGramFamilyTask:
    return SkipGramFamilyTask(config, vocab, corpus_tokens, threads)


def make_model(config: CommonConfig, vocab: Vocab, arrays: dict[str, np.ndarray],
               stats: dict[str, Any]) -> Model:
    """The trained model, as the one-machine driver of the same model returns it."""
    if isinstance(config, FastTextConfig):
        from ..subwords import subword_table

        model = FastTextModel(config, vocab, arrays, stats)
        model._table = subword_table(vocab.words, config.minn, config.maxn, config.subword_buckets)
        return model
    return Model(config, vocab, arrays, stats)
