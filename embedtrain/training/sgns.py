"""The task of the skip-gram family (word2vec skip-gram and CBOW, FastText): the
weights, the tables drawn from the vocabulary, and one call of the kernel per chunk.

A :class:`SgnsTask` can also run without a stream (``stream=None``): a cluster
worker calls :meth:`SgnsTask.train_chunk` on chunks of its own part of the input.
"""
from __future__ import annotations

import copy

import numpy as np

from ..corpus import TokenStream
from ..corpus.stream import SENTENCE_END
from ..kernels import sgns as kernels
from ..kernels.common import scheduled_lr, sigmoid_tables
from ..vocab import HuffmanTree, NoiseSampler, Vocab

WEIGHT_NAMES = ("input_vectors", "output_vectors", "output_hs")


class SgnsTask:
    """One skip-gram-family model in training (see :class:`~embedtrain.training.runner.Task`).

    ``arrays``: ``input_vectors`` [R, dim] (R = V word rows, plus n-gram rows for
    FastText), ``output_vectors`` [V or 0, dim], ``output_hs`` [V-1 or 0, dim];
    ``rows``: (offsets int64 [V+1], ids int32 [*]), each word's input rows;
    ``keep_prob``: subsampling; ``lr_floor``/``lr_offset``: the schedule's
    (common.WORD2VEC_* or common.FASTTEXT_*); ``epoch_decay``: the fraction of an
    epoch's share of the linear decay that the rate falls within the epoch (1: the
    linear schedule; 0.5: gensim's corpus_file schedule with 2 workers, each epoch
    starting where the linear schedule stands).
    """

    unit = "word"
    token_map: np.ndarray | None = None   # word id -> the id this thread trains it as (with_own_rows)

    def __init__(self, kind: str, config, vocab: Vocab, arrays: dict[str, np.ndarray], *,
                 arch: int, rows: tuple[np.ndarray, np.ndarray], keep_prob: np.ndarray,
                 use_hs: bool, lr_floor: float, lr_offset: float, shuffle: bool = False,
                 stream: TokenStream | None = None, epoch_decay: float = 1.0,
                 own_rows: tuple[str, ...] = ()):
        self.kind = kind
        # the arrays whose first rows (the most frequent words') each thread keeps as its own
        # between jobs (training/own_rows.py), as the family names them; an empty one (no
        # negative sampling: no output rows) leaves every row shared
        self.own_rows_arrays = tuple(own_rows)
        self.config = config
        self.arrays = arrays
        self.stream = stream
        self.epochs = config.epochs
        self.units_per_epoch = stream.n_tokens if stream is not None else 0
        self.n_jobs = stream.n_chunks if stream is not None else 0
        self.lr_floor, self.lr_offset = lr_floor, lr_offset
        self.epoch_decay = float(epoch_decay)
        noise = vocab.noise_sampler(config.ns_exponent)
        tree = vocab.huffman() if use_hs else HuffmanTree.empty(len(vocab))
        sigmoid, log_sigmoid = sigmoid_tables()
        self._weigh()
        self.rows = kernels.SgnsRows(*rows)
        self.tables = kernels.SgnsTables(keep_prob, noise.prob, noise.alias, tree.offsets, tree.codes,
                                         tree.points, sigmoid, log_sigmoid)
        self.settings = kernels.SgnsSettings(arch, config.window, config.negative, bool(use_hs),
                                             bool(shuffle), float(config.lr), float(lr_floor),
                                             float(lr_offset), 0, 0)

    @property
    def total_words(self) -> int:
        return self.units_per_epoch * self.epochs

    def train_chunk(self, tokens: np.ndarray, words_done: int, total_words: int,
                    rng_state: np.ndarray) -> tuple[int, float, int]:
        """The kernel on one chunk; the schedule stands at words_done / total_words of a
        run of ``self.epochs`` epochs of total_words / epochs words each."""
        if self.epoch_decay == 1.0:
            params = self.settings._replace(words_done=int(words_done), total_words=int(total_words))
        else:
            # The kernel's rate is 1 - (done + seen) / (total + offset); with the numbers
            # divided by epoch_decay it falls epoch_decay times as fast within the chunk
            # (and so the epoch), and each epoch starts where the linear schedule stands.
            c, offset = self.epoch_decay, self.lr_offset
            _, within = divmod(int(words_done), max(int(total_words) // self.epochs, 1))
            done = (int(words_done) - within) / c + within
            params = self.settings._replace(words_done=float(done),
                                            total_words=float((total_words + offset) / c - offset))
        return kernels.train_chunk(tokens, self.weights, self.rows, self.tables, params, rng_state)

    # ------------------------------------------------------------------ runner's Task
    def begin_epoch(self, epoch: int) -> None:
        pass

    def run_job(self, epoch: int, job: int, rng_state: np.ndarray) -> tuple[int, float, int]:
        words_done = epoch * self.units_per_epoch + int(self.stream.chunk_words[job])
        tokens = self.stream.chunk(job)
        if self.token_map is not None:            # a thread with rows of its own (with_own_rows)
            tokens = self.token_map[tokens]
        return self.train_chunk(tokens, words_done, self.total_words, rng_state)

    def lr_at(self, units_done: int) -> float:
        return scheduled_lr(self.config.lr, units_done, self.units_per_epoch, self.epochs, self.lr_floor,
                            self.lr_offset, self.epoch_decay)

    def epoch_loss(self, loss_sum: float, examples: int) -> float:
        return loss_sum / examples if examples else 0.0

    def state_arrays(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)

    # ------------------------------------------------------------------ replicas (--replicas)
    def replicated(self) -> dict[str, str | None]:
        """The arrays a replica trains a copy of, each with where its most frequently
        trained rows are: "first" (word2vec's rows are the words, most frequent first),
        "last" (the Huffman tree's inner nodes: the root is the last row, and every word's
        path starts there) or None."""
        return {"input_vectors": "first", "output_vectors": "first", "output_hs": "last"}

    # ------------------------------------------------------------------ threads' own rows
    def use_array(self, name: str, array: np.ndarray) -> None:
        """Train ``array`` (the same values, moved) as ``name`` from now on: in this task's
        arrays, which the model is made of."""
        self.arrays[name] = array
        self._weigh()

    def with_arrays(self, arrays: dict[str, np.ndarray]) -> "SgnsTask":
        """This task training ``arrays`` in place of its own (the rest shared)."""
        other = copy.copy(self)
        other.arrays = {**self.arrays, **arrays}
        other._weigh()
        return other

    def with_own_rows(self, arrays: dict[str, np.ndarray], own: int, first: int) -> "SgnsTask | None":
        """This task on a thread that keeps the rows of words 0..``own``-1 as its own
        (training/own_rows.py): each of ``arrays`` is one of this task's (a row a word, V
        rows) with more rows after it, and this thread's copies of those words' rows are rows
        ``first``..``first + own - 1`` (``first`` > V: the kernel never reads the rows between).
        The copy names word w < own ``first + w`` everywhere it trains: in its tokens, in the
        noise words it draws (the same distribution), and in the tables read by word
        (subsampling, and the offsets of the input row lists and Huffman paths, whose new
        entries point at the moved words' lists: nothing else is copied); the kernel is the
        same. None when the kernel would read a row by word from an array not in ``arrays``
        (word2vec's input rows)."""
        offsets, ids = self.rows
        words = len(self.tables.keep_prob)
        if (not len(ids) and "input_vectors" not in arrays) or first <= words or \
                any(len(a) < first + own for a in arrays.values()):
            return None
        gap = first - words
        moved = np.arange(own)
        tables = self.tables
        noise = NoiseSampler(tables.noise_prob, tables.noise_alias).moved(own, gap)
        other = self.with_arrays(arrays)
        other.tables = tables._replace(
            keep_prob=np.concatenate([tables.keep_prob, np.zeros(gap, tables.keep_prob.dtype),
                                      tables.keep_prob[:own]]),
            noise_prob=noise.prob, noise_alias=noise.alias,
            hs_offsets=_moved_offsets(tables.hs_offsets, own, gap))
        if len(ids):
            other.rows = kernels.SgnsRows(_moved_offsets(offsets, own, gap), ids)
        token_map = np.arange(words + 1, dtype=np.int32)
        token_map[moved] = first + moved
        token_map[words] = SENTENCE_END           # the separator, read at index -1
        other.token_map = token_map
        return other

    def _weigh(self) -> None:
        """The kernel's weights tuple, of this task's arrays."""
        self.weights = kernels.SgnsWeights(*(self.arrays[name] for name in WEIGHT_NAMES))


def _moved_offsets(offsets: np.ndarray, own: int, gap: int) -> np.ndarray:
    """The offsets of per-word lists (word w's are ``values[offsets[w]:offsets[w+1]]``) with
    ids ``V + gap + w`` (``gap`` >= 1) naming the lists of words w < ``own`` in the same
    ``values``: entries V + gap .. V + gap + own are offsets[0..own]. The ids between have
    empty lists (the last of them a reversed range, which a loop over it never enters)."""
    words = len(offsets) - 1
    return np.concatenate([offsets, np.full(gap - 1, offsets[words], dtype=offsets.dtype),
                           offsets[:own + 1]])


def identity_rows(vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's rows: word w is row w alone (the kernel's convention: empty arrays)."""
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
