"""Document vectors from word vectors: one vector per line of text.

``mean`` (the default) is fastText's ``print-sentence-vectors`` for unsupervised models
(``FastText::getSentenceVector``, src/fasttext.cc): the text is split on whitespace;
each word's vector (a FastText model builds one for an unseen word from its n-grams)
is scaled to unit length and the document's vector is the mean of those unit vectors.
A word with no vector, or whose vector is all zeros, is left out and not counted; a
document with no such word has the zero vector, as in fastText.

``sif`` is the smooth inverse frequency embedding of Arora, Liang and Ma (2017, "A
simple but tough-to-beat baseline for sentence embeddings", Algorithm 1): each word's
vector (not normalised, as in the paper) weighted by ``a / (a + p(w))``, with p(w) the
word's share of the model's training counts, averaged over the document's words that
have a vector; then the projection of every document onto the first singular vector of
the matrix of those averages (the "common component", computed over the documents
given, without centring, as the paper's code does with TruncatedSVD) is removed. A word
with a vector but no count (a FastText model's unseen word) has p(w) = 0 (weight 1), as
the paper's code gives words outside its frequency table. The common component of one
document is that document's own direction (removing it leaves zeros), so SIF refuses
fewer than two documents with words unless a ``component`` computed over other
documents is given (:func:`common_component`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import EmbedtrainError
from .vectors import Vectors

# Arora et al. (2017), section 4.1: a in [1e-4, 1e-3] works well; their code's default.
SIF_A = 1e-3
METHODS = ("mean", "sif")


def tokenise(documents: Iterable[str | Sequence[str]], lowercase: bool = False) -> list[list[str]]:
    """Each document as a list of whitespace tokens (a list of tokens is kept as is)."""
    out = []
    for doc in documents:
        if isinstance(doc, str):
            out.append((doc.lower() if lowercase else doc).split())
        else:
            out.append([w.lower() for w in doc] if lowercase else list(doc))
    return out


class _Lookup:
    """Each word's row in a stacked matrix of the vocabulary's vectors followed by the
    vectors built for unseen words (FastText), computed once per distinct word."""

    def __init__(self, vectors: Vectors):
        self.vectors = vectors
        self.extra: list[np.ndarray] = []
        self.extra_index: dict[str, int] = {}

    def row(self, word: str) -> int:
        """The word's row, or -1 when it has no vector."""
        i = self.vectors.index.get(word)
        if i is not None:
            return i
        j = self.extra_index.get(word)
        if j is None:
            vec = self.vectors.vector_for_unknown(word)
            j = -1
            if vec is not None:
                j = len(self.vectors) + len(self.extra)
                self.extra.append(np.asarray(vec, dtype=np.float32))
            self.extra_index[word] = j
        return j

    def matrix(self) -> np.ndarray:
        if not self.extra:
            return self.vectors.vectors
        return np.concatenate([self.vectors.vectors, np.stack(self.extra)])


def _rows(vectors: Vectors, docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix float32 [R, dim], rows int64 [n] of every word that has a vector,
    offsets int64 [docs + 1] into rows)."""
    lookup = _Lookup(vectors)
    rows: list[int] = []
    offsets = [0]
    for doc in docs:
        for word in doc:
            r = lookup.row(word)
            if r >= 0:
                rows.append(r)
        offsets.append(len(rows))
    return lookup.matrix(), np.asarray(rows, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def _doc_sums(values: np.ndarray, offsets: np.ndarray, dim: int) -> np.ndarray:
    """float64 [docs, dim]: the sum of each document's slice of ``values`` [n, dim]."""
    out = np.zeros((len(offsets) - 1, dim), dtype=np.float64)
    lengths = np.diff(offsets)
    nonempty = np.flatnonzero(lengths)
    if len(values):
        out[nonempty] = np.add.reduceat(values.astype(np.float64), offsets[nonempty], axis=0)
    return out


def mean_vectors(vectors: Vectors, documents: Iterable[str | Sequence[str]],
                 lowercase: bool = False) -> np.ndarray:
    """float32 [docs, dim]: fastText's sentence vector of each document (the mean of the
    unit vectors of its words; zeros for a document without a word that has one)."""
    docs = tokenise(documents, lowercase)
    matrix, rows, offsets = _rows(vectors, docs)
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
    # fastText skips a word whose vector has norm 0 (it neither adds nor counts it)
    keep = norms[rows] > 0
    offsets = np.concatenate([[0], np.cumsum(_kept_lengths(keep, offsets))])
    rows = rows[keep]
    units = matrix[rows] / norms[rows, None]
    sums = _doc_sums(units, offsets, vectors.dim)
    lengths = np.diff(offsets)
    sums[lengths > 0] /= lengths[lengths > 0, None]
    return sums.astype(np.float32)


def _kept_lengths(keep: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    cum = np.concatenate([[0], np.cumsum(keep)])
    return cum[offsets[1:]] - cum[offsets[:-1]]


def word_weights(vectors: Vectors, a: float = SIF_A) -> np.ndarray:
    """float64 [V]: a / (a + p(w)) for each vocabulary word, p(w) = count / total."""
    if vectors.counts is None or len(vectors.counts) != len(vectors):
        raise EmbedtrainError("SIF weights need the words' training counts, which these vectors "
                              "do not carry (use an embedtrain model file, .etm)")
    if not a > 0:
        raise EmbedtrainError(f"SIF's a must be a positive number, not {a!r}")
    total = float(vectors.counts.sum())
    if total <= 0:
        raise EmbedtrainError("SIF weights need word counts, and every count is 0")
    return a / (a + vectors.counts.astype(np.float64) / total)


def weighted_averages(vectors: Vectors, documents: Iterable[str | Sequence[str]], a: float = SIF_A,
                      lowercase: bool = False) -> np.ndarray:
    """float64 [docs, dim]: SIF's first step, the a / (a + p(w))-weighted average of each
    document's word vectors (zeros for a document without a word that has a vector)."""
    weights = word_weights(vectors, a)
    docs = tokenise(documents, lowercase)
    matrix, rows, offsets = _rows(vectors, docs)
    w = np.ones(len(rows), dtype=np.float64)  # words beyond the vocabulary: p(w) = 0
    known = rows < len(vectors)
    w[known] = weights[rows[known]]
    sums = _doc_sums(matrix[rows].astype(np.float64) * w[:, None], offsets, vectors.dim)
    lengths = np.diff(offsets)
    sums[lengths > 0] /= lengths[lengths > 0, None]
    return sums


def common_component(averages: np.ndarray) -> np.ndarray:
    """float64 [dim]: the first right singular vector of ``averages`` [docs, dim] (not
    centred), over its nonzero rows; at least two are needed."""
    rows = averages[np.any(averages != 0, axis=1)]
    if len(rows) < 2:
        raise EmbedtrainError(
            f"SIF removes the first principal component of the documents' vectors, which needs "
            f"at least 2 documents with known words ({len(rows)} given): the component of one "
            "document is its own direction")
    _, _, vt = np.linalg.svd(rows.astype(np.float64), full_matrices=False)
    return vt[0]


def sif_vectors(vectors: Vectors, documents: Iterable[str | Sequence[str]], a: float = SIF_A,
                component: np.ndarray | None = None, lowercase: bool = False) -> np.ndarray:
    """float32 [docs, dim]: SIF embeddings (Arora et al. 2017): the weighted averages with
    their projection on ``component`` removed (default: the common component of these
    documents' averages, :func:`common_component`)."""
    averages = weighted_averages(vectors, documents, a, lowercase)
    u = common_component(averages) if component is None else np.asarray(component, dtype=np.float64)
    if u.shape != (vectors.dim,):
        raise EmbedtrainError(f"SIF component of shape {u.shape} for vectors of dim {vectors.dim}")
    return (averages - np.outer(averages @ u, u)).astype(np.float32)


def document_vectors(vectors: Vectors, documents: Iterable[str | Sequence[str]], method: str = "mean",
                     a: float = SIF_A, lowercase: bool = False) -> np.ndarray:
    """float32 [docs, dim]: one vector per document by ``method`` ("mean" or "sif")."""
    if method == "mean":
        return mean_vectors(vectors, documents, lowercase)
    if method == "sif":
        return sif_vectors(vectors, documents, a, lowercase=lowercase)
    raise EmbedtrainError(f"unknown document-vector method {method!r} (choose {' or '.join(METHODS)})")


def known_word_counts(vectors: Vectors, documents: Sequence[Sequence[str]]) -> np.ndarray:
    """int64 [docs]: how many words of each tokenised document have a vector."""
    _, _, offsets = _rows(vectors, [list(d) for d in documents])
    return np.diff(offsets)


class DocumentEmbedder:
    """Document vectors from one source: word vectors (``mean`` or ``sif``) or a doc2vec
    model (its inference). SIF's common component is computed over the first documents
    embedded and kept for the later calls (a classifier's test documents get the
    training documents' component)."""

    def __init__(self, vectors: Vectors | None, method: str = "mean", a: float | None = None,
                 lowercase: bool = False, doc2vec: Any = None):
        if method not in METHODS:
            raise EmbedtrainError(f"unknown document-vector method {method!r} "
                                  f"(choose {' or '.join(METHODS)})")
        self.vectors = vectors
        self.doc2vec = doc2vec
        self.method = "doc2vec" if doc2vec is not None else method
        if doc2vec is not None and method == "sif":
            raise EmbedtrainError("--sif applies to word vectors; a doc2vec model infers each "
                                  "document's vector")
        if a is not None and method != "sif":
            raise EmbedtrainError("SIF's a applies only with --sif")
        self.a = SIF_A if a is None else float(a)
        if self.method == "sif":
            word_weights(vectors, self.a)  # refuse vectors without counts before reading text
        self.lowercase = lowercase
        self.component: np.ndarray | None = None

    @classmethod
    def from_source(cls, source: Any, method: str = "mean", a: float | None = None,
                    lowercase: bool | None = None) -> "DocumentEmbedder":
        """From a path (a model file or any vectors file), a Model or a Vectors.
        ``lowercase`` None: as the model was trained (False for a vectors file)."""
        from .models import Model  # numba loads with it: only when a model is used

        if isinstance(source, (str, os.PathLike)):
            from .io.formats import detect_format, load_vectors

            p = Path(source)
            if p.exists() and not p.is_dir() and detect_format(p) == "model":
                source = Model.load(p)
            else:
                source = load_vectors(p)
        trained_lower = False
        doc2vec = None
        if isinstance(source, Model):
            trained_lower = bool(getattr(source.config, "lowercase", False))
            if hasattr(source, "infer_vectors"):
                doc2vec = source
            vectors = source.vectors
        elif isinstance(source, Vectors):
            vectors = source
        else:
            raise EmbedtrainError(f"document vectors need word vectors or a model, not {type(source).__name__}")
        return cls(vectors, method, a, trained_lower if lowercase is None else bool(lowercase), doc2vec)

    def embed(self, documents: Iterable[str | Sequence[str]], epochs: int | None = None,
              seed: int | None = None) -> np.ndarray:
        """float32 [docs, dim]: one vector per document (``epochs``/``seed``: doc2vec's
        inference; None: the model's)."""
        docs = tokenise(documents, self.lowercase)
        if self.doc2vec is not None:
            return self.doc2vec.infer_vectors(docs, epochs=epochs, seed=seed)
        if self.method == "mean":
            return mean_vectors(self.vectors, docs)
        averages = weighted_averages(self.vectors, docs, self.a)
        if self.component is None:
            self.component = common_component(averages)
        u = self.component
        return (averages - np.outer(averages @ u, u)).astype(np.float32)

    def known_words(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """int64 [docs]: how many words of each tokenised document have a vector."""
        return known_word_counts(self.vectors, tokenise(documents, self.lowercase))
