"""Quantised classifiers, as fastText's ``quantize`` (src/fasttext.cc FastText::quantize,
src/productquantizer.cc, src/quantmatrix.cc): what fastText writes as ``.ftz``.

    >>> small = embedtrain.classify.quantize(clf, cutoff=100_000, retrain=True,
    ...                                      training_data="train.txt", qnorm=True)
    >>> small.save("model.ftz")     # fasttext.load_model reads it; or small.save("small.etm")

The steps, in fastText's order:

1. ``cutoff`` (pruning, fastText's selectEmbeddings and Dictionary::prune): of the input
   rows (words and n-gram buckets), keep the end-of-line word ``</s>`` and then the rows
   of largest L2 norm, ``cutoff`` in all. Kept words stay in their dictionary order;
   dropped words leave the dictionary (they become unknown words). Kept n-gram buckets
   follow the words in the order they were selected, and a map (fastText's ``pruneidx``)
   sends a hashed bucket to its row; a bucket that is not kept is ignored. Nothing is
   pruned when ``cutoff`` is at least the number of rows.
2. ``retrain``: after pruning, train the kept rows and the (dense) output matrix again on
   the training data, ``epochs`` passes at rate ``lr`` (fastText's command line: 5 and
   0.05, its Args defaults, not the model's settings).
3. The input matrix by product quantisation (:class:`QuantMatrix`): each row cut into
   ``ceil(dim / dsub)`` subvectors of ``dsub`` values (the last one shorter when dsub does
   not divide dim: fastText's ``lastdsub``), each stored as the byte index of one of 256
   centroids learnt by k-means (kernels/quantize.py: 25 rounds on at most 65,536 sampled
   rows, fastText's settings). ``qnorm``: rows are divided by their norm first and the
   norms are quantised apart, by a one-dimensional quantiser of 256 levels.
4. ``qout``: the output matrix the same way with ``dsub`` 2 (fastText's fixed choice).

Where we differ from fastText: the k-means samples and starting centroids come from our
seeded generators (fastText: minstd_rand seeded 1234), so the centroids differ; the file
layout and the decoding are fastText's.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedtrainError
from ..quantization import PQ_CENTROIDS, PQ_MAX_POINTS, PQ_NITER
from .config import QUANTIZE_OUTPUT_DSUB, QuantizeConfig, quantize_config
from .data import EOS, Dictionary

log = logging.getLogger("embedtrain")


@dataclass
class QuantMatrix:
    """A float32 [n, dim] matrix stored as fastText's QuantMatrix: ``codes`` uint8
    [n, nsubq] index the ``centroids`` float32 [dim * 256], laid out as fastText's
    ProductQuantizer keeps them (subquantizer m < nsubq - 1: centroid i at
    ``(m * 256 + i) * dsub``; the last: at ``m * 256 * dsub + i * lastdsub``). With qnorm,
    ``norm_codes`` uint8 [n] index ``norm_centroids`` float32 [256] and a row is its norm
    times its decoded direction (QuantMatrix::addRowToVector)."""

    codes: np.ndarray
    centroids: np.ndarray
    dim: int
    dsub: int
    norm_codes: np.ndarray | None = None
    norm_centroids: np.ndarray | None = None

    @property
    def nsubq(self) -> int:
        return -(-self.dim // self.dsub)

    @property
    def lastdsub(self) -> int:
        return self.dim - (self.nsubq - 1) * self.dsub

    @property
    def qnorm(self) -> bool:
        return self.norm_codes is not None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.codes.shape[0], self.dim)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.codes, self.centroids, self.norm_codes,
                                      self.norm_centroids) if a is not None)

    def check(self) -> str:
        """What is wrong with the arrays ("" if nothing)."""
        n = self.codes.shape[0] if self.codes.ndim == 2 else -1
        if self.dim < 1 or self.dsub < 1 or self.dsub > self.dim:
            return f"dim {self.dim} and dsub {self.dsub}"
        if self.codes.dtype != np.uint8 or self.codes.ndim != 2 or self.codes.shape[1] != self.nsubq:
            return f"codes of shape {self.codes.shape}, not [n, {self.nsubq}] bytes"
        if self.centroids.dtype != np.float32 or self.centroids.shape != (self.dim * PQ_CENTROIDS,):
            return f"{self.centroids.size} centroid values, not {self.dim * PQ_CENTROIDS}"
        if (self.norm_codes is None) != (self.norm_centroids is None):
            return "norm codes without norm centroids (or the reverse)"
        if self.norm_codes is not None:
            if self.norm_codes.dtype != np.uint8 or self.norm_codes.shape != (n,):
                return f"norm codes of shape {self.norm_codes.shape}, not [{n}]"
            if self.norm_centroids.dtype != np.float32 or self.norm_centroids.shape != (PQ_CENTROIDS,):
                return f"norm centroids of shape {self.norm_centroids.shape}, not [{PQ_CENTROIDS}]"
        if not np.isfinite(self.centroids).all() or (
                self.norm_centroids is not None and not np.isfinite(self.norm_centroids).all()):
            return "centroids hold NaN or infinite values"
        return ""

    def codebooks(self) -> tuple[np.ndarray, np.ndarray]:
        """(head float32 [nsubq - 1, 256, dsub], last float32 [256, lastdsub]): views."""
        split = (self.nsubq - 1) * PQ_CENTROIDS * self.dsub
        head = self.centroids[:split].reshape(self.nsubq - 1, PQ_CENTROIDS, self.dsub)
        return head, self.centroids[split:].reshape(PQ_CENTROIDS, self.lastdsub)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """float32 [k, dim]: rows ``ids`` decoded, each value ``norm * centroid value``
        (the float32 product fastText's addcode adds)."""
        ids = np.asarray(ids, dtype=np.int64)
        codes = self.codes[ids]
        head, last = self.codebooks()
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        split = (self.nsubq - 1) * self.dsub
        if self.nsubq > 1:
            out[:, :split] = head[np.arange(self.nsubq - 1), codes[:, :-1]].reshape(len(ids), split)
        out[:, split:] = last[codes[:, -1]]
        if self.norm_codes is not None:
            out *= self.norm_centroids[self.norm_codes[ids]][:, None]
        return out

    def __getitem__(self, key) -> np.ndarray:
        return self.rows(np.arange(self.shape[0])[key])

    def __array__(self, dtype=None, copy=None):
        out = self.rows(np.arange(self.shape[0]))
        return out if dtype is None else out.astype(dtype)

    @classmethod
    def encode(cls, matrix: np.ndarray, dsub: int, qnorm: bool, seed: int) -> "QuantMatrix":
        """fastText's QuantMatrix(mat, dsub, qnorm) of float32 ``matrix`` [n, dim]."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        norm_codes = norm_centroids = None
        if qnorm:
            norms = np.sqrt((matrix.astype(np.float64) ** 2).sum(axis=1)).astype(np.float32)
            matrix = matrix / np.where(norms == 0, np.float32(1), norms)[:, None]
            norm_codes, norm_centroids = product_quantize(norms[:, None], 1, seed + 7919)
            norm_codes = np.ascontiguousarray(norm_codes[:, 0])
        codes, centroids = product_quantize(matrix, dsub, seed)
        return cls(codes, centroids, matrix.shape[1], dsub, norm_codes, norm_centroids)


def product_quantize(matrix: np.ndarray, dsub: int, seed: int, niter: int = PQ_NITER,
                     max_points: int = PQ_MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(codes uint8 [n, nsubq], centroids float32 [dim * 256] in fastText's layout) of
    float32 ``matrix`` [n, dim] (ProductQuantizer::train and compute_codes): k-means per
    subvector on at most ``max_points`` rows, drawn anew for each subvector as fastText does."""
    from ..kernels.quantize import kmeans, pq_encode

    n, dim = matrix.shape
    if n < PQ_CENTROIDS:
        raise EmbedtrainError(f"product quantisation needs at least {PQ_CENTROIDS} rows to learn "
                              f"its centroids; this matrix has {n:,}")
    nsubq = -(-dim // dsub)
    lastdsub = dim - (nsubq - 1) * dsub
    rng = np.random.default_rng(seed)
    centroids = np.empty(dim * PQ_CENTROIDS, dtype=np.float32)
    for m in range(nsubq):
        d = dsub if m < nsubq - 1 else lastdsub
        rows = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else slice(None)
        points = np.ascontiguousarray(matrix[rows, m * dsub:m * dsub + d])
        book = np.empty((PQ_CENTROIDS, d), dtype=np.float32)
        kmeans(points, book, niter, seed + m + 1)
        start = m * PQ_CENTROIDS * dsub
        centroids[start:start + PQ_CENTROIDS * d] = book.reshape(-1)
    q = QuantMatrix(np.zeros((0, nsubq), dtype=np.uint8), centroids, dim, dsub)
    head, last = q.codebooks()
    codes = np.empty((n, nsubq), dtype=np.uint8)
    split = (nsubq - 1) * dsub
    if nsubq > 1:
        head_codes = np.empty((n, nsubq - 1), dtype=np.uint8)
        pq_encode(np.ascontiguousarray(matrix[:, :split]), np.ascontiguousarray(head), head_codes)
        codes[:, :-1] = head_codes
    last_codes = np.empty((n, 1), dtype=np.uint8)
    pq_encode(np.ascontiguousarray(matrix[:, split:]), np.ascontiguousarray(last[None]), last_codes)
    codes[:, -1] = last_codes[:, 0]
    return codes, centroids


# ---------------------------------------------------------------------- pruning
def select_rows(input_vectors: np.ndarray, eos_row: int, cutoff: int) -> np.ndarray:
    """fastText's selectEmbeddings: the ``cutoff`` rows to keep, ``</s>`` (row ``eos_row``,
    -1 if none) first, then by descending L2 norm (ties: the lower row first)."""
    norms = np.sqrt((np.asarray(input_vectors, dtype=np.float64) ** 2).sum(axis=1))
    order = np.argsort(-norms, kind="stable")
    if eos_row >= 0:
        order = np.concatenate([[eos_row], order[order != eos_row]])
    return order[:cutoff]


def prune(dictionary: Dictionary, input_vectors: np.ndarray,
          selected: np.ndarray) -> tuple[Dictionary, np.ndarray, np.ndarray]:
    """fastText's Dictionary::prune: (the dictionary of the kept words, the kept rows:
    words in dictionary order then n-gram rows in selection order, the kept buckets:
    int64, row ``nwords + j`` is bucket ``kept_buckets[j]``)."""
    nwords = dictionary.nwords
    words = np.sort(selected[selected < nwords])
    ngram_rows = selected[selected >= nwords]
    pruned = Dictionary([dictionary.words[i] for i in words], dictionary.word_counts[words],
                        list(dictionary.labels), dictionary.label_counts.copy(),
                        dictionary.ntokens, dictionary.label_prefix)
    rows = np.concatenate([words, ngram_rows])
    return pruned, np.ascontiguousarray(input_vectors[rows]), (ngram_rows - nwords).astype(np.int64)


# ---------------------------------------------------------------------- the call
def quantize(clf, config: QuantizeConfig | None = None, training_data: Any = None,
             output: str | os.PathLike | None = None, **settings: Any):
    """A quantised copy of Classifier ``clf`` (or of the classifier file at that path:
    .etm, fastText's .bin), fastText's ``quantize`` (see the module doc).
    ``training_data`` (a path, bytes or lines, as :func:`classify.train` takes) is what
    ``retrain`` trains on; ``output``: also save it there (``.ftz``: fastText's format,
    otherwise an embedtrain .etm), proven writable before any work. Settings are
    :class:`QuantizeConfig`'s fields."""
    from ..io.atomic import check_writable
    from .model import Classifier

    if config is not None and settings:
        raise EmbedtrainError("give either config or keyword settings, not both")
    config = config or quantize_config(**settings)
    if config.retrain and training_data is None:
        raise EmbedtrainError("--retrain needs the training data (--input TRAIN.txt)")
    if isinstance(training_data, (str, os.PathLike)) and not Path(training_data).is_file():
        raise EmbedtrainError(f"training file {training_data} does not exist")
    if output is not None:
        check_writable(output)
    if isinstance(clf, (str, os.PathLike)):
        clf = Classifier.load(clf)
    small = _quantize(clf, config, training_data)
    if output is not None:
        small.save(output)
    return small


def _quantize(clf, config: QuantizeConfig, training_data: Any):
    from .model import Classifier

    if not isinstance(clf, Classifier):
        raise EmbedtrainError(f"only text classifiers can be quantised (this is a "
                              f"{getattr(clf, 'kind', type(clf).__name__)}); word-vector models "
                              f"compress with 'embedtrain compress'")
    if clf.quantized:
        raise EmbedtrainError("this classifier is quantised already; quantise the model it came from")
    dim = clf.dim
    if config.dsub > dim:
        raise EmbedtrainError(f"--dsub {config.dsub} is larger than the dimension {dim}")
    rows = clf.input_vectors.shape[0]
    prunes = config.cutoff is not None and config.cutoff < rows
    if config.retrain and not prunes:
        log.warning("--retrain applies after a --cutoff below the model's %s input rows; nothing "
                    "to retrain", f"{rows:,}")
    kept = config.cutoff if prunes else rows
    if kept < PQ_CENTROIDS:
        what = f"--cutoff {config.cutoff} keeps" if prunes else "the model has"
        raise EmbedtrainError(f"{what} {kept:,} input rows; product quantisation needs at least "
                              f"{PQ_CENTROIDS} (fastText refuses the same)")
    if config.qout and clf.output_vectors.shape[0] < PQ_CENTROIDS:
        raise EmbedtrainError(f"--qout needs at least {PQ_CENTROIDS} output rows (labels); this "
                              f"model has {clf.output_vectors.shape[0]:,} (fastText refuses the same)")
    dictionary, input_vectors, kept_buckets = clf.dictionary, clf.input_vectors, None
    output_vectors = clf.output_vectors
    stats = dict(clf.stats)
    if prunes:
        eos = dictionary.word_index.get(EOS, -1)
        selected = select_rows(input_vectors, eos, config.cutoff)
        dictionary, input_vectors, kept_buckets = prune(dictionary, input_vectors, selected)
        output_vectors = output_vectors.copy()
        if config.retrain:
            input_vectors, output_vectors, retrain_stats = _retrain(
                clf, dictionary, input_vectors, output_vectors, kept_buckets, config, training_data)
            stats["retrain"] = retrain_stats
    quant_input = QuantMatrix.encode(input_vectors, config.dsub, config.qnorm, config.seed)
    quant_output = (QuantMatrix.encode(output_vectors, QUANTIZE_OUTPUT_DSUB, config.qnorm,
                                       config.seed + 1) if config.qout else output_vectors)
    stats["quantization"] = {**config.to_dict(), "source_input_rows": int(rows),
                             "input_rows": int(input_vectors.shape[0])}
    bucket = clf.bucket
    return Classifier(clf.config, dictionary, quant_input, quant_output, stats,
                      kept_buckets=kept_buckets if prunes else None, bucket=bucket)


def _retrain(clf, dictionary, input_vectors, output_vectors, kept_buckets, config, training_data):
    import dataclasses

    from .model import Classifier, _source_lines, run_training
    from .data import tokenize

    raw, name = _source_lines(training_data)
    token_lines = [tokenize(line) for line in raw]
    settings = dataclasses.replace(clf.config, epochs=config.epochs, lr=config.lr,
                                   threads=config.threads, seed=config.seed)
    dense = Classifier(settings, dictionary, input_vectors, output_vectors,
                       kept_buckets=kept_buckets, bucket=clf.bucket)
    enc = dense.encoder.encode(token_lines)
    if not len(enc.labels):
        raise EmbedtrainError(f"{name} has no line with a label the model knows: nothing to retrain on")
    return dense.input_vectors, dense.output_vectors, run_training(dense, enc)
