"""The trained classifier (predict, test, save, load) and the training driver.

    >>> import embedtrain.classify
    >>> clf = embedtrain.classify.train("train.txt", word_ngrams=2)
    >>> clf.predict("which city is the largest ?", k=3)   # [(label, probability), ...]
    >>> clf.test("test.txt", k=1).precision
    >>> clf.save("trec.etm")
"""
from __future__ import annotations

import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import ConfigError, EmbedtrainError
from ..io.atomic import check_writable
from ..kernels.classify import LOSS_CODES, fasttext_sigmoid_table, predict_lines, train_lines
from ..kernels.rng import seed_states, uniform_fill
from ..training.callbacks import EpochInfo, check_callbacks
from .config import ClassifyConfig, classify_config
from .data import (Dictionary, Encoded, LineEncoder, build_dictionary, read_lines, show,
                   split_lines, tokenize)
from .tree import huffman_tree, negative_table

log = logging.getLogger("embedtrain")
FTZ_SUFFIX = ".ftz"   # Classifier.save writes fastText's format to such a name


@dataclass
class TestResult:
    """fastText's test output (its Meter): examples, precision and recall at k, and each
    label's precision, recall and F1 (``per_label``: label -> dict)."""

    examples: int
    k: int
    precision: float
    recall: float
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)
    unseen_labels: dict[str, int] = field(default_factory=dict)
    skipped_lines: int = 0      # lines with no label the model knows, or no input

    def to_dict(self) -> dict[str, Any]:
        def clean(x: float) -> float | None:
            return None if isinstance(x, float) and math.isnan(x) else x
        return {"N": self.examples, "k": self.k, f"P@{self.k}": clean(self.precision),
                f"R@{self.k}": clean(self.recall),
                "per_label": {lab: {m: clean(v) for m, v in d.items()} for lab, d in self.per_label.items()},
                "unseen_labels": self.unseen_labels, "skipped_lines": self.skipped_lines}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


class Classifier:
    """A fastText-style text classifier: words (and n-grams) -> mean vector -> labels."""

    kind = "classifier"

    def __init__(self, config: ClassifyConfig, dictionary: Dictionary, input_vectors: np.ndarray,
                 output_vectors: np.ndarray, stats: dict[str, Any] | None = None,
                 kept_buckets: np.ndarray | None = None, bucket: int | None = None):
        """``input_vectors`` and ``output_vectors``: float32 arrays, or a quantised
        classifier's classify.quantmatrix.QuantMatrix; ``kept_buckets`` (int64, pruned
        models: row ``nwords + j`` is n-gram bucket ``kept_buckets[j]``) and ``bucket``
        (the n-gram hash range, given when rows were pruned) as fastText's pruneidx."""
        self.config = config
        self.dictionary = dictionary
        self.input_vectors = input_vectors
        self.output_vectors = output_vectors
        self.stats = dict(stats or {})
        self.kept_buckets = kept_buckets
        self._bucket = bucket if kept_buckets is not None else None
        self._encoder: LineEncoder | None = None
        self._tree = None
        self._dense_output: np.ndarray | None = None

    # ------------------------------------------------------------------ basics
    @property
    def labels(self) -> list[str]:
        return [show(lab) for lab in self.dictionary.labels]

    @property
    def words(self) -> list[str]:
        return [show(w) for w in self.dictionary.words]

    @property
    def dim(self) -> int:
        return self.input_vectors.shape[1]

    @property
    def bucket(self) -> int:
        """The n-gram hash range: n-gram rows in the input matrix, unless they were pruned
        (0: none, as fastText when there are no n-grams)."""
        if self._bucket is not None:
            return self._bucket
        return self.input_vectors.shape[0] - self.dictionary.nwords

    @property
    def quantized(self) -> bool:
        """Whether the input matrix is product-quantised (classify/quantization.py)."""
        return not isinstance(self.input_vectors, np.ndarray)

    def __repr__(self) -> str:
        c = self.config
        return (f"Classifier({self.dictionary.nwords:,} words, {self.dictionary.nlabels} labels, "
                f"dim {self.dim}, loss {c.loss}, word_ngrams {c.word_ngrams}"
                f"{', quantised' if self.quantized else ''})")

    @property
    def encoder(self) -> LineEncoder:
        if self._encoder is None:
            c = self.config
            self._encoder = LineEncoder(self.dictionary, c.minn, c.maxn, self.bucket, c.word_ngrams,
                                        self.kept_buckets)
        return self._encoder

    def tree(self):
        if self._tree is None:
            self._tree = huffman_tree(self.dictionary.label_counts)
        return self._tree

    # ------------------------------------------------------------------ prediction
    def _check_k(self, k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"-k must be a whole number of at least 1 (got {k!r})")
        n = self.dictionary.nlabels
        if k > n:
            log.warning("-k %d is more than the model's %d labels: predicting all %d", k, n, n)
            return n
        return k

    @staticmethod
    def _check_threshold(threshold: float) -> float:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"--threshold must be a probability from 0 to 1 (got {threshold!r})")
        return float(threshold)

    def predict_encoded(self, enc: Encoded, k: int, threshold: float):
        """(labels int32 [n, k], probabilities float32 [n, k], counts int32 [n])."""
        n = len(enc)
        out_labels = np.zeros((n, k), dtype=np.int32)
        out_probs = np.zeros((n, k), dtype=np.float32)
        out_count = np.zeros(n, dtype=np.int32)
        tree = self.tree()
        input_vectors, rows = self.input_vectors, enc.rows
        if self.quantized:  # decode only the rows these lines use
            used, rows = np.unique(enc.rows, return_inverse=True)
            input_vectors, rows = self.input_vectors.rows(used), rows.astype(np.int32)
        predict_lines(LOSS_CODES[self.config.loss], input_vectors, self.dense_output(),
                      enc.offsets, rows, k, np.float32(threshold), fasttext_sigmoid_table(),
                      tree.left, tree.right, out_labels, out_probs, out_count)
        return out_labels, out_probs, out_count

    def dense_output(self) -> np.ndarray:
        """The output matrix as float32 (a quantised one decoded once)."""
        if isinstance(self.output_vectors, np.ndarray):
            return self.output_vectors
        if self._dense_output is None:
            self._dense_output = np.asarray(self.output_vectors)
        return self._dense_output

    def predict_lines(self, lines: Sequence[bytes | str], k: int = 1,
                      threshold: float = 0.0) -> list[list[tuple[str, float]]]:
        """Each line's k most probable labels (probability at least ``threshold``), best first."""
        k = self._check_k(k)
        threshold = self._check_threshold(threshold)
        token_lines = [tokenize(x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass"))
                       for x in lines]
        enc = self.encoder.encode(token_lines)
        labs, probs, counts = self.predict_encoded(enc, k, threshold)
        names = self.labels
        return [[(names[labs[i, j]], float(probs[i, j])) for j in range(counts[i])]
                for i in range(len(token_lines))]

    def predict(self, text: str | Sequence[str], k: int = 1,
                threshold: float = 0.0) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
        """The k most probable labels of ``text`` as (label, probability) pairs, best first
        (a list of such lists for a list of texts). Probabilities are fastText's
        (``p + 1e-5``, from its log-probability)."""
        if isinstance(text, (str, bytes)):
            if "\n" in (text if isinstance(text, str) else text.decode("latin-1")):
                raise EmbedtrainError("predict takes one line at a time (the text contains a newline)")
            return self.predict_lines([text], k, threshold)[0]
        return self.predict_lines(list(text), k, threshold)

    def test(self, path: str | os.PathLike, k: int = 1, threshold: float = 0.0) -> TestResult:
        """fastText's ``test``: precision and recall at k over the labelled lines of ``path``."""
        k = self._check_k(k)
        threshold = self._check_threshold(threshold)
        token_lines = [tokenize(line) for line in read_lines(path, "test")]
        return self.test_lines(token_lines, k, threshold, str(path))

    def test_lines(self, token_lines: list[list[bytes]], k: int, threshold: float,
                   name: str = "test data") -> TestResult:
        enc = self.encoder.encode(token_lines)
        labs, probs, counts = self.predict_encoded(enc, k, threshold)
        nl = self.dictionary.nlabels
        gold = np.zeros(nl, dtype=np.int64)
        predicted = np.zeros(nl, dtype=np.int64)
        correct = np.zeros(nl, dtype=np.int64)
        examples = skipped = 0
        for i in range(len(enc)):
            truth = enc.labels[enc.label_offsets[i]:enc.label_offsets[i + 1]]
            if len(truth) == 0 or enc.offsets[i + 1] == enc.offsets[i]:
                if enc.label_offsets[i + 1] > enc.label_offsets[i] or len(token_lines[i]) > 1:
                    skipped += 1
                continue
            examples += 1
            gold[truth] += 1
            tset = set(truth.tolist())
            for j in range(counts[i]):
                lab = labs[i, j]
                predicted[lab] += 1
                if lab in tset:
                    correct[lab] += 1
        # lines whose every label is unknown were counted as skipped only if they had labels
        unseen = {show(t): c for t, c in enc.unseen_labels.items()}
        if unseen:
            log.warning("%s: %d label%s the model never saw (%s); fastText's test ignores them",
                        name, len(unseen), "" if len(unseen) == 1 else "s",
                        ", ".join(sorted(unseen)[:5]) + (", ..." if len(unseen) > 5 else ""))
        if examples == 0:
            raise EmbedtrainError(f"{name} has no line with a label the model knows "
                                  f"(labels start with {show(self.dictionary.label_prefix)})")
        per_label = {}
        for i, name_ in enumerate(self.labels):
            p = _ratio(correct[i], predicted[i])
            r = _ratio(correct[i], gold[i])
            f1 = 2 * p * r / (p + r) if p + r > 0 else float("nan")
            per_label[name_] = {"precision": p, "recall": r, "f1": f1, "gold": int(gold[i]),
                                "predicted": int(predicted[i])}
        return TestResult(examples, k, _ratio(correct.sum(), predicted.sum()),
                          _ratio(correct.sum(), gold.sum()), per_label, unseen, skipped)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write an embedtrain classifier file (.etm); a name ending in ``.ftz`` gets
        fastText's format instead (what ``fasttext quantize`` writes; for a quantised
        classifier, what fastText's ``load_model`` reads)."""
        if str(path).lower().endswith(FTZ_SUFFIX):
            from ..io.fasttext_supervised import write_supervised_bin
            return write_supervised_bin(self, path)
        from ..io.classifier import write_classifier
        return write_classifier(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Classifier":
        """An embedtrain classifier (.etm) or a fastText supervised model (.bin or .ftz)."""
        from ..io.classifier import read_classifier
        *parts, extra = read_classifier(path)
        return cls(*parts, **extra)


# ---------------------------------------------------------------------- training
def _source_lines(source: Any) -> tuple[list[bytes], str]:
    if isinstance(source, (str, os.PathLike)):
        return read_lines(source, "training"), str(source)
    if isinstance(source, (bytes, bytearray)):
        return split_lines(bytes(source), "training data"), "training data"
    try:
        lines = [x if isinstance(x, bytes) else str(x).encode("utf-8", "surrogatepass") for x in source]
    except TypeError:
        raise EmbedtrainError(f"cannot train a classifier on a {type(source).__name__}: give a file "
                              f"path or a list of lines") from None
    return lines, "training data"


INIT_BLOCK_ROWS = 1 << 16   # rows filled from one seed: the values do not depend on --threads


def init_input_matrix(rows: int, dim: int, seed: int, threads: int = 1) -> np.ndarray:
    """Uniform in [-1/dim, 1/dim) (fastText's input->uniform(1.0 / dim)), filled in blocks
    of INIT_BLOCK_ROWS rows, each from its own seed, by ``threads`` threads (fastText
    also fills the matrix in parallel)."""
    m = np.empty((rows, dim), dtype=np.float32)
    blocks = list(range(0, rows, INIT_BLOCK_ROWS))
    block_seeds = seed_states(seed, len(blocks))

    def fill(i: int) -> None:
        start = blocks[i]
        uniform_fill(m, start, min(start + INIT_BLOCK_ROWS, rows), -1.0 / dim, 1.0 / dim,
                     block_seeds[i][0])

    if threads <= 1 or len(blocks) <= 1:
        for i in range(len(blocks)):
            fill(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fill, range(len(blocks))))
    return m


def _load_pretrained(path: str, dictionary: Dictionary, matrix: np.ndarray) -> int:
    from ..io.formats import load_vectors
    vectors = load_vectors(path)
    if vectors.dim != matrix.shape[1]:
        raise ConfigError(f"--pretrained {path} holds vectors of dimension {vectors.dim}; --dim is "
                          f"{matrix.shape[1]}")
    index = vectors.index if hasattr(vectors, "index") else {w: i for i, w in enumerate(vectors.words)}
    found = 0
    for i, w in enumerate(dictionary.words):
        j = index.get(show(w))
        if j is not None:
            matrix[i] = vectors.vectors[j]
            found += 1
    return found


def train(source: Any, config: ClassifyConfig | None = None, callbacks=None,
          **settings: Any) -> Classifier:
    """Train a classifier on fastText's format (``__label__X ... text`` lines): a path, bytes,
    or a list of lines. Settings are :class:`ClassifyConfig`'s fields; ``callbacks``
    (embedtrain.Callback) get each epoch's begin and end (an EpochInfo counting tokens)."""
    if config is not None and settings:
        raise ConfigError("give either config or keyword settings, not both")
    config = config or classify_config(**settings)
    if config.pretrained is not None and not Path(config.pretrained).is_file():
        raise EmbedtrainError(f"pretrained vectors file {config.pretrained} does not exist")
    started = time.perf_counter()
    raw, name = _source_lines(source)
    token_lines = [tokenize(line) for line in raw]
    return train_tokens(token_lines, config, name, started, callbacks)


def train_tokens(token_lines: list[list[bytes]], config: ClassifyConfig, name: str = "training data",
                 started: float | None = None, callbacks=None) -> Classifier:
    """:func:`train` on lines already split into tokens (:func:`data.tokenize`)."""
    started = time.perf_counter() if started is None else started
    prefix = config.label_prefix.encode("utf-8")
    dictionary = build_dictionary(token_lines, prefix, config.min_count, config.min_count_label)
    if dictionary.nlabels == 0:
        raise EmbedtrainError(f"{name} has no labels: fastText's format starts each line with "
                              f"labels such as {config.label_prefix}sports")
    bucket = config.bucket if config.uses_buckets else 0
    encoder = LineEncoder(dictionary, config.minn, config.maxn, bucket, config.word_ngrams)
    enc = encoder.encode(token_lines)
    if enc.unlabelled:
        log.warning("%s: %s line%s without a label (skipped in training)", name,
                    f"{enc.unlabelled:,}", "" if enc.unlabelled == 1 else "s")
    input_vectors = init_input_matrix(dictionary.nwords + bucket, config.dim, config.seed,
                                      config.worker_threads)
    if config.pretrained:
        found = _load_pretrained(config.pretrained, dictionary, input_vectors)
        log.info("pretrained vectors for %s of %s words", f"{found:,}", f"{dictionary.nwords:,}")
    output_vectors = np.zeros((dictionary.nlabels, config.dim), dtype=np.float32)
    clf = Classifier(config, dictionary, input_vectors, output_vectors)
    clf._encoder = encoder
    stats = run_training(clf, enc, callbacks)
    stats.update(lines=len(enc), unlabelled_lines=enc.unlabelled, tokens=dictionary.ntokens,
                 seconds=round(time.perf_counter() - started, 3))
    clf.stats = stats
    return clf


def run_training(clf: Classifier, enc: Encoded, callbacks=None) -> dict[str, Any]:
    """Epochs of Hogwild threads over ``enc``; each thread trains its share of the lines
    (fastText's threads each start at their fraction of the file). The rate decays
    linearly to 0 over every token of every epoch. A NaN loss stops the run."""
    config = clf.config
    threads = min(config.worker_threads, max(1, len(enc)))
    total_tokens = float(enc.tokens.sum()) * config.epochs
    if total_tokens <= 0:
        raise EmbedtrainError("nothing to train on")
    progress = np.zeros(1, dtype=np.int64)
    states = seed_states(config.seed, threads)
    tree = clf.tree()
    neg = negative_table(clf.dictionary.label_counts)
    table = fasttext_sigmoid_table()
    loss_code = LOSS_CODES[config.loss]
    n = len(enc)
    bounds = [n * t // threads for t in range(threads + 1)]
    losses = []
    history = []
    callbacks = check_callbacks(callbacks)
    for cb in callbacks:
        cb.on_train_begin(clf.kind, config.epochs)
    epoch_tokens = int(enc.tokens.sum())
    for epoch in range(config.epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch + 1)
        epoch_started = time.perf_counter()
        results = [None] * threads

        def work(t: int) -> None:
            results[t] = train_lines(loss_code, clf.input_vectors, clf.output_vectors, enc.offsets,
                                     enc.rows, enc.label_offsets, enc.labels, enc.tokens,
                                     bounds[t], bounds[t + 1], np.float32(config.lr), total_tokens,
                                     progress, states[t], table, config.negative, neg,
                                     tree.offsets, tree.points, tree.codes)

        if threads == 1:
            work(0)
        else:
            pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
            for th in pool:
                th.start()
            for th in pool:
                th.join()
        loss = sum(r[0] for r in results)
        examples = sum(r[1] for r in results)
        mean = loss / max(examples, 1)
        if not math.isfinite(mean):
            raise EmbedtrainError(f"training diverged (the loss is NaN or infinite in epoch "
                                  f"{epoch + 1}); try a smaller --lr")
        losses.append(round(mean, 6))
        info = EpochInfo(epoch + 1, config.epochs, mean, epoch_tokens,
                         time.perf_counter() - epoch_started,
                         float(config.lr * max(0.0, 1.0 - progress[0] / total_tokens)), "token")
        history.append(info.to_dict())
        log.debug("epoch %d/%d: loss %.4f", epoch + 1, config.epochs, mean)
        for cb in callbacks:
            cb.on_epoch_end(info)
    for cb in callbacks:
        cb.on_train_end(history)
    return {"epoch_losses": losses, "examples_per_epoch": examples, "threads": threads,
            "history": history}
