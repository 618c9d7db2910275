"""Extrinsic evaluation: how well document vectors built from word vectors (or a doc2vec
model) serve a text classification task.

A logistic-regression classifier (scikit-learn, the ``extrinsic`` extra) is fitted on
the vectors of the training file's documents and scored on the test file's: accuracy
and macro-F1 (the mean over the test file's labels of each label's F1). The features
are standardised first (mean 0, variance 1 on the training documents), so that the
result does not hang on the scale of the vectors (a mean of unit vectors is shorter
than a SIF average); the regression is scikit-learn's default (L2, C = 1, lbfgs, the
multinomial loss), with enough iterations to converge.

Labelled files hold one document per line, in either of two formats, told from the
first lines that carry text:

- ``LABEL text...``: the first token is the label (TREC's files in the shared data);
- fastText's: one or more ``__label__X`` tokens anywhere on the line (the first one is
  the document's label here; the rest of the line is the text).

Empty lines are skipped; lines without a label (fastText's format) and label-only lines
are left out and counted in one warning each; invalid UTF-8 bytes become U+FFFD.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import EmbedtrainError

log = logging.getLogger("embedtrain")

FASTTEXT_LABEL_PREFIX = "__label__"
# Lines looked at to tell the two formats apart.
SNIFF_LINES = 20
# lbfgs iterations: enough for the standardised features of a few thousand documents.
MAX_ITER = 2000


@dataclass
class LabelledDocuments:
    """Documents (token lists) and their labels, read from one file."""
    path: str
    labels: list[str]
    docs: list[list[str]]
    format: str                   # "label-first" or "fasttext"
    unlabelled: int = 0           # lines left out: text but no label
    label_only: int = 0           # lines left out: a label but no text


@dataclass
class ClassificationResult:
    """What :func:`evaluate_classification` measured."""
    accuracy: float
    macro_f1: float
    train_documents: int
    test_documents: int
    labels: list[str]
    unseen_test_labels: dict[str, int] = field(default_factory=dict)
    method: str = "mean"
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "train_documents": self.train_documents, "test_documents": self.test_documents,
                "labels": self.labels, "unseen_test_labels": self.unseen_test_labels,
                "method": self.method, "per_label": self.per_label}


def detect_label_format(lines: list[str]) -> str:
    """"fasttext" when any of the first lines with text holds a ``__label__`` token,
    else "label-first"."""
    seen = 0
    for line in lines:
        tokens = line.split()
        if not tokens:
            continue
        if any(t.startswith(FASTTEXT_LABEL_PREFIX) for t in tokens):
            return "fasttext"
        seen += 1
        if seen >= SNIFF_LINES:
            break
    return "label-first"


def read_lines(path: str | os.PathLike) -> list[str]:
    """The lines of a text file (``-``: stdin; compressed files are read through),
    invalid UTF-8 bytes replaced by U+FFFD (counted in one warning)."""
    from .corpus.text import _InvalidBytes, decode, open_source

    p = str(path)
    if p != "-":
        if not Path(p).exists():
            raise EmbedtrainError(f"{p} does not exist")
        if Path(p).is_dir():
            raise EmbedtrainError(f"{p} is a directory, not a text file")
    _InvalidBytes.count = 0
    stream = open_source(p)
    try:
        data = stream.read()
    except (OSError, EOFError) as exc:
        raise EmbedtrainError(f"cannot read {p}: {exc}") from None
    finally:
        if p != "-":
            stream.close()
    text = decode(data)
    if _InvalidBytes.count:
        log.warning("embedtrain: warning: %s: %d byte%s not valid UTF-8 (read as U+FFFD)",
                    "standard input" if p == "-" else p, _InvalidBytes.count,
                    "" if _InvalidBytes.count == 1 else "s")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_labelled(path: str | os.PathLike, lowercase: bool = False) -> LabelledDocuments:
    """The labelled documents of ``path`` (either format, detected); warns once for lines
    without a label and once for label-only lines; refuses a file with no document."""
    lines = read_lines(path)
    fmt = detect_label_format(lines)
    labels: list[str] = []
    docs: list[list[str]] = []
    unlabelled = label_only = 0
    for line in lines:
        tokens = line.split()
        if not tokens:
            continue
        if fmt == "fasttext":
            found = [t for t in tokens if t.startswith(FASTTEXT_LABEL_PREFIX)]
            text = [t for t in tokens if not t.startswith(FASTTEXT_LABEL_PREFIX)]
            if not found:
                unlabelled += 1
                continue
            label = found[0][len(FASTTEXT_LABEL_PREFIX):]
        else:
            label, text = tokens[0], tokens[1:]
        if not text:
            label_only += 1
            continue
        labels.append(label)
        docs.append([t.lower() for t in text] if lowercase else text)
    name = str(path)
    if unlabelled:
        log.warning("embedtrain: warning: %s: left out %d line%s without a %s label", name, unlabelled,
                    "" if unlabelled == 1 else "s", FASTTEXT_LABEL_PREFIX)
    if label_only:
        log.warning("embedtrain: warning: %s: left out %d line%s with a label but no text", name,
                    label_only, "" if label_only == 1 else "s")
    if not docs:
        raise EmbedtrainError(f"{name} holds no labelled document ('LABEL text' or "
                              f"'{FASTTEXT_LABEL_PREFIX}X text' lines)")
    return LabelledDocuments(name, labels, docs, fmt, unlabelled, label_only)


def _sklearn():
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, f1_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        from .extras import install_hint

        raise EmbedtrainError(f"eval-classify needs scikit-learn: {install_hint('extrinsic')}") from None
    return LogisticRegression, accuracy_score, f1_score, make_pipeline, StandardScaler


def classification_scores(train_x: np.ndarray, train_y: list[str], test_x: np.ndarray,
                          test_y: list[str], seed: int = 0) -> tuple[float, float, dict, list]:
    """(accuracy, macro-F1, per-label precision/recall/F1, labels) of a logistic regression
    fitted on (train_x, train_y) and scored on (test_x, test_y)."""
    LogisticRegression, accuracy_score, f1_score, make_pipeline, StandardScaler = _sklearn()
    from sklearn.metrics import precision_recall_fscore_support

    if len(set(train_y)) < 2:
        raise EmbedtrainError(f"the training file has {len(set(train_y))} label; a classifier "
                              "needs at least 2")
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER, random_state=seed))
    # one BLAS thread: the products are small, and on a loaded machine BLAS's threads made
    # the fit 7x slower (TREC: 38 s against 5 s)
    with threadpool_limits(1):
        clf.fit(train_x, train_y)
        predicted = clf.predict(test_x)
    labels = sorted(set(test_y))
    accuracy = float(accuracy_score(test_y, predicted))
    macro = float(f1_score(test_y, predicted, labels=labels, average="macro", zero_division=0))
    p, r, f, n = precision_recall_fscore_support(test_y, predicted, labels=labels, zero_division=0)
    per_label = {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                       "support": int(n[i])} for i, lab in enumerate(labels)}
    return accuracy, macro, per_label, sorted(set(train_y))


def evaluate_classification(vectors: str | os.PathLike | Any, train: str | os.PathLike,
                            test: str | os.PathLike, method: str = "mean", a: float | None = None,
                            lowercase: bool | None = None, seed: int = 0) -> ClassificationResult:
    """Accuracy and macro-F1 of logistic regression on document vectors.

    ``vectors``: a vectors file any embedtrain command reads, an embedtrain model file
    (a doc2vec model infers each document's vector), or a loaded Vectors/Model;
    ``method``: "mean" (fastText's sentence vectors) or "sif" (documents.py) for word
    vectors; ``lowercase``: lowercase the documents (default: as the model was trained;
    False for vectors files). Test labels absent from the training file are reported
    (counted in ``unseen_test_labels`` and one warning): every such document counts as
    an error.
    """
    from .documents import DocumentEmbedder

    _sklearn()  # the one-line error before any file is read
    embedder = DocumentEmbedder.from_source(vectors, method=method, a=a, lowercase=lowercase)
    train_docs = read_labelled(train, embedder.lowercase)
    test_docs = read_labelled(test, embedder.lowercase)
    # SIF's common component: the training documents', applied to the test documents too
    train_x = embedder.embed(train_docs.docs)
    test_x = embedder.embed(test_docs.docs)
    known = set(train_docs.labels)
    unseen: dict[str, int] = {}
    for lab in test_docs.labels:
        if lab not in known:
            unseen[lab] = unseen.get(lab, 0) + 1
    if unseen:
        log.warning("embedtrain: warning: %s: %d test document%s with label%s the training file "
                    "never has (%s): counted as errors", test_docs.path, sum(unseen.values()),
                    "" if sum(unseen.values()) == 1 else "s", "" if len(unseen) == 1 else "s",
                    ", ".join(sorted(unseen)))
    accuracy, macro, per_label, labels = classification_scores(
        train_x, train_docs.labels, test_x, test_docs.labels, seed)
    return ClassificationResult(accuracy, macro, len(train_docs.docs), len(test_docs.docs), labels,
                                unseen, embedder.method, per_label)
