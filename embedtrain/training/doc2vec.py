"""The task of doc2vec (PV-DBOW): the weights, the vocabulary's tables, and one call of
kernels/doc2vec.py per chunk of lines (see training/runner.py's Task)."""
from __future__ import annotations

import numpy as np

from ..kernels import doc2vec as kernels
from ..kernels.common import WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET, scheduled_lr, sigmoid_tables
from ..vocab import Vocab

# Words per job: small enough that two threads share a few thousand short documents.
CHUNK_WORDS = 20_000


def vocab_tables(config, vocab: Vocab) -> kernels.Doc2VecTables:
    """The tables training and inference read: subsampling, the noise table, sigmoid."""
    noise = vocab.noise_sampler(config.ns_exponent)
    sigmoid, log_sigmoid = sigmoid_tables()
    return kernels.Doc2VecTables(vocab.keep_prob(config.sample), noise.prob, noise.alias, sigmoid,
                                 log_sigmoid)


class Doc2VecTask:
    """PV-DBOW in training: ``arrays`` holds ``doc_vectors`` [D, dim], ``input_vectors``
    and ``output_vectors`` [V, dim]; ``tokens`` int32 (SENTENCE_END after each line),
    ``line_starts`` int64 [lines + 1] into them, ``line_docs`` int32 [lines]."""

    unit = "word"

    def __init__(self, config, vocab: Vocab, arrays: dict[str, np.ndarray], tokens: np.ndarray,
                 line_starts: np.ndarray, line_docs: np.ndarray):
        self.kind = config.model
        self.config = config
        self.arrays = arrays
        self.tokens, self.line_starts, self.line_docs = tokens, line_starts, line_docs
        self.epochs = config.epochs
        words_per_line = np.diff(line_starts) - 1
        self.units_per_epoch = int(words_per_line.sum())
        # jobs: runs of whole lines of about CHUNK_WORDS words
        cum = np.concatenate([[0], np.cumsum(words_per_line)])
        cuts = np.searchsorted(cum, np.arange(CHUNK_WORDS, cum[-1], CHUNK_WORDS), side="left")
        self.job_lines = np.unique(np.concatenate([[0], cuts, [len(words_per_line)]])).astype(np.int64)
        self.job_words = cum[self.job_lines[:-1]]
        self.n_jobs = len(self.job_lines) - 1
        self.weights = kernels.Doc2VecWeights(arrays["doc_vectors"], arrays["input_vectors"],
                                              arrays["output_vectors"])
        self.tables = vocab_tables(config, vocab)
        self.settings = kernels.Doc2VecSettings(config.window, config.negative, bool(config.dbow_words),
                                                float(config.lr), WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET,
                                                0, 0)

    @property
    def total_words(self) -> int:
        return self.units_per_epoch * self.epochs

    def begin_epoch(self, epoch: int) -> None:
        pass

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        l0, l1 = self.job_lines[job], self.job_lines[job + 1]
        tokens = self.tokens[self.line_starts[l0]:self.line_starts[l1]]
        done = epoch * self.units_per_epoch + int(self.job_words[job])
        params = self.settings._replace(words_done=float(done), total_words=float(self.total_words))
        return kernels.train_chunk(tokens, self.line_docs[l0:l1], self.weights, self.tables, params,
                                   rng_state)

    def lr_at(self, units_done: int) -> float:
        return scheduled_lr(self.config.lr, units_done, self.units_per_epoch, self.epochs,
                            WORD2VEC_LR_FLOOR, WORD2VEC_LR_OFFSET, 1.0)

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / examples if examples else 0.0

    def state_arrays(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)
