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
3. The input matrix by product quantisation (classify/quantmatrix.py): each row cut into
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
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedtrainError
from ..quantization import PQ_CENTROIDS
from .config import QUANTIZE_OUTPUT_DSUB, QuantizeConfig, quantize_config
from .data import EOS, Dictionary
from .quantmatrix import QuantMatrix

log = logging.getLogger("embedtrain")


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

    from .model import Classifier, _source_lines
    from .training import run_training
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
