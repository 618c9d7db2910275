"""The trained classifier (predict, test, save, load) and the training driver.

    >>> import embedtrain.classify
    >>> clf = embedtrain.classify.train("train.txt", word_ngrams=2)
    >>> clf.predict("which city is the largest ?", k=3)   # [(label, probability), ...]
    >>> clf.test("test.txt", k=1).precision
    >>> clf.save("trec.etm")
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError, EmbedtrainError
from ..io.atomic import check_writable
from ..kernels.classify import LOSS_CODES, fasttext_sigmoid_table, predict_lines
from ..kernels.rng import seed_states, uniform_fill
from ..training.callbacks import check_callbacks
from .config import ClassifyConfig, classify_config
from .data import (Dictionary, Encoded, LineEncoder, _sorted_by_count, build_dictionary, read_lines,
                   show, split_lines, tokenize)
from .tree import huffman_tree

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


def _add_pretrained(path: str, dictionary: Dictionary, dim: int) -> tuple[Dictionary, list, np.ndarray]:
    """fastText's FastText::getInputMatrixFromFile, up to the matrix: every word of the
    pretrained file is added to the dictionary (Dictionary::add: a new word with count 1,
    a known one counted once more, ``ntokens`` one more each; a word with the label prefix
    is a label), and the dictionary is sorted again and thresholded with min counts 1 and
    0, so words dropped by ``min_count`` come back when the file has them. Returns (the
    grown dictionary, the file's words, their vectors)."""
    from ..io.formats import load_vectors
    vectors = load_vectors(path)
    if vectors.dim != dim:
        raise ConfigError(f"--pretrained {path} holds vectors of dimension {vectors.dim}; --dim is {dim}")
    words, matrix = _every_entry(path, vectors)
    word_counts = dict(zip(dictionary.words, dictionary.word_counts.tolist()))
    label_counts = dict(zip(dictionary.labels, dictionary.label_counts.tolist()))
    prefix = dictionary.label_prefix
    for w in words:
        counts = label_counts if w.startswith(prefix) else word_counts
        counts[w] = counts.get(w, 0) + 1
    w_sorted, wc = _sorted_by_count(word_counts, 1)
    l_sorted, lc = _sorted_by_count(label_counts, 0)
    grown = Dictionary(w_sorted, wc, l_sorted, lc, dictionary.ntokens + len(words), prefix)
    return grown, words, matrix


def _every_entry(path: str, vectors) -> tuple[list[bytes], np.ndarray]:
    """The words of a pretrained file as fastText reads them, a word listed twice twice
    (load_vectors keeps its first row only): for word2vec text, the first token of every
    line after the header, and the rows of the repeated words read again (fastText keeps
    the last). Other formats cannot repeat a word."""
    from ..io.formats import detect_format
    words = [w.encode("utf-8", "surrogatepass") for w in vectors.words]
    matrix = np.asarray(vectors.vectors)
    if detect_format(path) != "word2vec-text":
        return words, matrix
    with open(path, "rb") as f:
        f.readline()
        every = [line.split(None, 1) for line in f if line.strip()]
    if len(every) == len(words):
        return words, matrix
    seen: dict[bytes, int] = {}
    repeated: dict[bytes, bytes] = {}
    for parts in every:
        if parts[0] in seen and len(parts) > 1:
            repeated[parts[0]] = parts[1]
        seen[parts[0]] = 1
    index = {w: i for i, w in enumerate(words)}
    rows = [matrix[index[w]] for w in words]
    last = {w: np.array(rest.split(), dtype=np.float32) for w, rest in repeated.items()}
    out_words = [parts[0] for parts in every]
    out = np.empty((len(out_words), matrix.shape[1]), dtype=np.float32)
    for i, w in enumerate(out_words):
        v = last.get(w)
        out[i] = rows[index[w]] if v is None or v.shape != (matrix.shape[1],) else v
    return out_words, out


def _set_pretrained_rows(dictionary: Dictionary, words: list, vectors: np.ndarray,
                         matrix: np.ndarray) -> int:
    """Each pretrained word's row (the file's last vector for a word listed twice, as in
    fastText); returns how many words have one."""
    found = set()
    for w, v in zip(words, vectors):
        i = dictionary.word_index.get(w)
        if i is not None:
            matrix[i] = v
            found.add(i)
    return len(found)


def train(source: Any, config: ClassifyConfig | None = None, callbacks=None, *,
          checkpoint: str | os.PathLike | None = None, resume: str | os.PathLike | None = None,
          keep_checkpoint: bool = False, progress: bool = False, **settings: Any) -> Classifier:
    """Train a classifier on fastText's format (``__label__X ... text`` lines): a path, bytes,
    or a list of lines. Settings are :class:`ClassifyConfig`'s fields; ``callbacks``
    (embedtrain.Callback) get the run's begin and end, each epoch's, and ``on_progress``
    after every job (tokens counted); ``progress``: a progress bar on stderr.

    ``checkpoint``: write the run's state there every ``checkpoint_every`` seconds (a
    setting); the file is removed when training completes, unless ``keep_checkpoint``.
    ``resume``: a checkpoint of a run that was stopped, continued on the same data to the
    same bytes (with one thread); the settings not given are the checkpoint's, those given
    must be the same (but ``threads`` and ``checkpoint_every``); it is also where this run
    writes its checkpoints unless ``checkpoint`` says otherwise."""
    from ..io.checkpoint import remove_checkpoint

    if config is not None and settings:
        raise ConfigError("give either config or keyword settings, not both")
    started = time.perf_counter()
    resumed = None
    if resume is not None:
        resumed = _resumed(resume, config, settings)
        config = resumed.config
        checkpoint = checkpoint if checkpoint is not None else resumed.path
    else:
        config = config or classify_config(**settings)
        if config.pretrained is not None and not Path(config.pretrained).is_file():
            raise EmbedtrainError(f"pretrained vectors file {config.pretrained} does not exist")
    if config.checkpoint_every and checkpoint is None:
        raise EmbedtrainError("checkpoint_every needs a file to write: give checkpoint=PATH")
    if checkpoint is not None:
        check_writable(checkpoint)
    raw, name = _source_lines(source)
    token_lines = [tokenize(line) for line in raw]
    clf = train_tokens(token_lines, config, name, started, callbacks, progress=progress,
                       checkpoint=checkpoint if config.checkpoint_every else None, resumed=resumed)
    if not keep_checkpoint and checkpoint is not None:
        remove_checkpoint(checkpoint)
    return clf


@dataclass
class _Resumed:
    """A classifier checkpoint, read and checked against the settings of the run resuming it."""

    path: str
    config: ClassifyConfig
    clf: "Classifier"
    state: Any
    fingerprint: dict


def _resumed(resume: str | os.PathLike, config: ClassifyConfig | None,
             settings: dict[str, Any]) -> _Resumed:
    from ..io.classifier import read_classifier_checkpoint

    saved, dictionary, input_vectors, output_vectors, stats, state, fingerprint = \
        read_classifier_checkpoint(resume)
    if config is not None:
        given = {k: v for k, v in config.to_dict().items() if k != "model"}
    else:
        given = {k: v for k, v in settings.items() if v is not None}
    merged = classify_config(**{**{k: v for k, v in saved.to_dict().items() if k != "model"}, **given})
    run = {f.name for f in dataclasses.fields(ClassifyConfig) if "run" in f.metadata.get("roles", ())}
    mine, theirs = saved.to_dict(), merged.to_dict()
    for name in sorted(mine):
        if name not in run and mine[name] != theirs[name]:
            raise EmbedtrainError(f"checkpoint {resume} was written with --{name.replace('_', '-')} "
                                  f"{mine[name]}, this run has {theirs[name]}: resume with the "
                                  f"settings of the interrupted run")
    clf = Classifier(merged, dictionary, input_vectors, output_vectors, stats)
    return _Resumed(os.fspath(resume), merged, clf, state, fingerprint)


def _fingerprint(enc: Encoded) -> dict[str, Any]:
    """What identifies the training data as encoded for the model's dictionary."""
    from ..io.checkpoint import digest
    return {"lines": len(enc), "tokens": int(enc.tokens.sum()),
            "data": digest(enc.offsets, enc.rows, enc.label_offsets, enc.labels, enc.tokens)}


def train_tokens(token_lines: list[list[bytes]], config: ClassifyConfig, name: str = "training data",
                 started: float | None = None, callbacks=None, *, progress: bool = False,
                 checkpoint: str | os.PathLike | None = None, resumed: _Resumed | None = None) -> Classifier:
    """:func:`train` on lines already split into tokens (:func:`data.tokenize`)."""
    from ..training.runner import RunState
    from .training import job_size, run_training

    started = time.perf_counter() if started is None else started
    callbacks = check_callbacks(callbacks)
    bucket = config.bucket if config.uses_buckets else 0
    if resumed is not None:   # the checkpoint's dictionary and weights
        clf = resumed.clf
        encoder = LineEncoder(clf.dictionary, config.minn, config.maxn, bucket, config.word_ngrams)
        enc = encoder.encode(token_lines)
        saved = dict(resumed.fingerprint)
        job_tokens = saved.pop("job_tokens", None)   # the jobs the checkpoint's run was cut into
        if _fingerprint(enc) != saved:
            raise EmbedtrainError(f"checkpoint {resumed.path} was written for another training file "
                                  f"({resumed.fingerprint.get('lines')} lines, this one has {len(enc)}, "
                                  f"or the same number with other text): --resume finishes that run "
                                  f"on its own data")
        start = RunState.from_dict(resumed.state.to_dict())
        log.info("resuming from %s: pass %d, %s tokens done", resumed.path, start.epoch + 1,
                 f"{start.units_done:,}")
    else:
        prefix = config.label_prefix.encode("utf-8")
        dictionary = build_dictionary(token_lines, prefix, config.min_count, config.min_count_label)
        if dictionary.nlabels == 0:
            raise EmbedtrainError(f"{name} has no labels: fastText's format starts each line with "
                                  f"labels such as {config.label_prefix}sports")
        pretrained = None
        if config.pretrained:
            dictionary, *pretrained = _add_pretrained(config.pretrained, dictionary, config.dim)
        encoder = LineEncoder(dictionary, config.minn, config.maxn, bucket, config.word_ngrams)
        enc = encoder.encode(token_lines)
        input_vectors = init_input_matrix(dictionary.nwords + bucket, config.dim, config.seed,
                                          config.worker_threads)
        if pretrained:
            found = _set_pretrained_rows(dictionary, *pretrained, input_vectors)
            log.info("pretrained vectors for %s of %s words", f"{found:,}", f"{dictionary.nwords:,}")
        output_vectors = np.zeros((dictionary.nlabels, config.dim), dtype=np.float32)
        clf = Classifier(config, dictionary, input_vectors, output_vectors)
        start = job_tokens = None
    if enc.unlabelled:
        log.warning("%s: %s line%s without a label (skipped in training)", name,
                    f"{enc.unlabelled:,}", "" if enc.unlabelled == 1 else "s")
    clf._encoder = encoder
    writer = None
    fingerprint = None
    if checkpoint is not None:
        from ..io.classifier import write_classifier_checkpoint
        fingerprint = dict(_fingerprint(enc), job_tokens=job_size(job_tokens))

        def write(state) -> None:
            write_classifier_checkpoint(checkpoint, clf, state, fingerprint)

        writer = write

    resumed_at = None if start is None else {"epoch": start.epoch + 1, "job": start.job,
                                             "units_done": start.units_done}
    stats = run_training(clf, enc, callbacks, progress=progress, checkpoint=writer,
                         checkpoint_every=config.checkpoint_every, start=start,  # advances start
                         job_tokens=job_tokens)
    stats.update(lines=len(enc), unlabelled_lines=enc.unlabelled, tokens=clf.dictionary.ntokens,
                 seconds=round(time.perf_counter() - started, 3))
    if resumed_at is not None:
        stats["resumed_from_checkpoint"] = resumed_at
    clf.stats = stats
    return clf
