"""The word2vec family: skip-gram and CBOW with negative sampling and/or hierarchical
softmax (word2vec.c's numerics; skip-gram's defaults follow gensim 4 where it scored
higher, docs/training.md). One input row per word."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..config import CBOW_ROUND_WORDS, ROUND_WORDS, CBOWConfig, SkipGramConfig
from .base import StreamFamily

# The arrays whose frequent words' rows a second thread keeps as its own (training/own_rows.py):
# the output rows (the centre and noise words') and the input rows (the context words')
# (docs/benchmarks.md, "Input rows too").
OWN_ROWS_ARRAYS = ("output_vectors", "input_vectors")

# The settings graph training (DeepWalk/node2vec) takes unless told otherwise: every
# node gets a vector, no subsampling, one pass over the walks; skip-gram trains as gensim
# does for DeepWalk/node2vec (PecanPy): negatives drawn per pair and the rate falling over
# the whole pass (the text defaults scored lower on Cora: docs/benchmarks.md, graphs).
# --hs without --negative keeps DeepWalk's original: hierarchical softmax alone.
GRAPH_PRESETS: dict[str, Any] = {"dim": 128, "window": 10, "min_count": 0, "sample": 0.0,
                                 "negative": 5, "epochs": 1, "shared_negatives": False,
                                 "epoch_decay": 1.0}

# The settings item training (train --items, item2vec) takes unless told otherwise, chosen
# by measurement on a validation split of amazon-toys (docs/items.md, "Presets"): every item
# gets a vector (min-count 1); the whole sequence is the window, shuffled each epoch; histories
# longer than 50 items are cut into pieces of 50 (a 550-item history alone made 300,000 of an
# epoch's 2.1 million pairs: the cut saves a quarter of the work for -0.0005 NDCG@10).
ITEM_PRESETS: dict[str, Any] = {"window": 0, "shuffle_lines": True, "min_count": 1, "sample": 1e-4,
                                "negative": 5, "ns_exponent": 0.5, "epochs": 80,
                                "max_line_tokens": 50}


def init_input_vectors(vocab_size: int, dim: int, seed: int, bound: float = 0.5) -> np.ndarray:
    """Uniform in [-bound/dim, bound/dim): word2vec.c initialises syn0 with bound 0.5,
    gensim 4 with 1."""
    rng = np.random.default_rng(seed)
    vectors = (rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
    if bound != 0.5:
        vectors *= np.float32(2.0 * bound)
    return vectors


def initial_arrays(config: SkipGramConfig, vocab_size: int) -> dict[str, np.ndarray]:
    """Fresh weights: random input vectors, zero output weights (word2vec.c)."""
    v, dim = vocab_size, config.dim
    return {"input_vectors": init_input_vectors(v, dim, config.seed, config.init_bound),
            "output_vectors": np.zeros((v if config.negative else 0, dim), dtype=np.float32),
            "output_hs": np.zeros((max(v - 1, 0) if config.hs else 0, dim), dtype=np.float32)}


class Word2Vec(StreamFamily):
    name = "word2vec"
    title = "word2vec"
    configs = {"skipgram": SkipGramConfig, "cbow": CBOWConfig}
    resumable = True
    continuable = True
    graph_presets = GRAPH_PRESETS
    item_presets = ITEM_PRESETS
    ray = True
    ray_round_words = ROUND_WORDS  # measured at 8-32 workers: docs/ray.md, "Words per round"
    # docs/ray.md, "Words per round": 17.5 M tokens, the defaults, seeds 1-3
    ray_measured_workers = 32
    ray_beyond = "within 0.01 analogy accuracy of one machine at up to 32 workers, and not on more"
    ray_section = "Words per round"

    def round_words(self, model=None):
        return CBOW_ROUND_WORDS if model == "cbow" else self.ray_round_words   # config.py

    def fresh_arrays(self, config, vocab, layout):
        return initial_arrays(config, len(vocab))

    def checkpoint_shapes(self, config, vocab, layout):
        v, dim = len(vocab), config.dim
        return {"input_vectors": ([(v, dim)], np.float32),
                "output_vectors": ([(v if config.negative else 0, dim)], np.float32),
                "output_hs": ([(max(v - 1, 0) if config.hs else 0, dim)], np.float32)}

    def continued_arrays(self, model):
        return {name: model.arrays[name].astype(np.float32, copy=True)
                for name in ("input_vectors", "output_vectors", "output_hs")}

    def grown_arrays(self, model, config, vocab, layout):
        """Each old word keeps its input and output rows under its new id; new words' rows
        start as in a fresh run over ``vocab`` (seeded input rows, zero output rows). The
        inner-node rows of hierarchical softmax are kept only when the tree over the merged
        counts is the old tree; otherwise they start at zero, as a fresh run's
        (docs/training.md, "Continuing on new text": a row by index would hold the weights
        of another split of the words)."""
        from ..training.continuing import old_positions, same_huffman_tree

        arrays = initial_arrays(config, len(vocab))
        rows = old_positions(model.vocab, vocab)
        arrays["input_vectors"][rows] = model.arrays["input_vectors"]
        if config.negative:
            arrays["output_vectors"][rows] = model.arrays["output_vectors"]
        if config.hs and same_huffman_tree(model.vocab, vocab):
            arrays["output_hs"][:] = model.arrays["output_hs"]
        return arrays

    def make_task(self, config, vocab, arrays, corpus_tokens, layout, stream=None):
        """The kernel's view of a word2vec model: one row per word."""
        from ..kernels import sgns as kernels
        from ..training.sgns import SgnsTask, identity_rows

        if config.model == "cbow":
            arch = kernels.CBOW
        else:
            shared = config.shared_negatives and not config.hs  # (negative sampling alone)
            arch = kernels.SKIPGRAM_SHARED if shared else kernels.SKIPGRAM
        floor, offset, decay = self.lr_schedule(config)
        return SgnsTask(config.model, config, vocab, arrays, arch=arch, epoch_decay=decay,
                        rows=identity_rows(len(vocab)), keep_prob=vocab.keep_prob(config.sample),
                        use_hs=config.hs, lr_floor=floor, lr_offset=offset,
                        shuffle=config.shuffle_lines, stream=stream, own_rows=OWN_ROWS_ARRAYS)

    def lr_schedule(self, config):
        from ..kernels.common import WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET

        floor = WORD2VEC_LR_FLOOR if config.min_lr is None else config.min_lr / config.lr
        return floor, WORD2VEC_LR_OFFSET, config.epoch_decay

    def replica_rows(self, config, layout):
        from ..distributed.sync import word_rows

        return {"input_vectors": word_rows, "output_vectors": None, "output_hs": None}

    def row_masses(self, task, vocab, counts, lr):
        from .sgns import sgns_row_masses

        return sgns_row_masses(task, vocab, counts, lr)


WORD2VEC = Word2Vec()
