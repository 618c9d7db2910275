"""The product of training: words and a float32 matrix, with similarity queries."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .errors import EmbedtrainError


class UnknownWordError(EmbedtrainError, KeyError):
    """A word that has no vector."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown word"


class Vectors:
    """Word vectors: ``words[i]`` has the row ``vectors[i]``; most frequent first.

    ``counts`` is optional (files from other tools may not carry counts).
    """

    # An approximate neighbour index (neighbours.attach_index) that most_similar then
    # uses; None: exact search over every row.
    neighbour_index = None

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but a vectors array of shape {vectors.shape}")
        self.words = list(words)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.index: dict[str, int] = {}
        for i, w in enumerate(self.words):
            self.index.setdefault(w, i)
        self._unit: np.ndarray | None = None

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __iter__(self):
        return iter(self.words)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} words, dim {self.dim})"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_vector(word)

    def get_vector(self, word: str) -> np.ndarray:
        """The vector of ``word``; subclasses may build one for unknown words."""
        i = self.index.get(word)
        if i is None:
            vec = self.vector_for_unknown(word)
            if vec is None:
                raise UnknownWordError(f"word {word!r} is not in the vocabulary")
            return vec
        return self.vectors[i]

    def vector_for_unknown(self, word: str) -> np.ndarray | None:
        """Hook for models that can build vectors for unseen words (FastText)."""
        return None

    def has_vector(self, word: str) -> bool:
        return word in self.index or self.vector_for_unknown(word) is not None

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero); computed once."""
        if self._unit is None:
            self._unit = unit_rows(self.vectors)
        return self._unit

    # ------------------------------------------------------------------ queries
    def similarity(self, a: str, b: str) -> float:
        va, vb = self._unit_of(a), self._unit_of(b)
        return float(va @ vb)

    def most_similar(self, positive: str | np.ndarray | Iterable[str | np.ndarray],
                     negative: Iterable[str | np.ndarray] = (), topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words nearest by cosine to the mean of the unit ``positive`` minus ``negative``
        vectors (gensim's 3CosAdd). Query words are excluded from the answers."""
        if isinstance(positive, (str, np.ndarray)):
            positive = [positive]
        positive, negative = list(positive), list(negative)
        exclude = {w for w in positive + negative if isinstance(w, str)}
        parts = [self._unit_of(w) for w in positive] + [-self._unit_of(w) for w in negative]
        if not parts:
            raise EmbedtrainError("most_similar needs at least one word or vector")
        query = np.mean(parts, axis=0)
        return self.nearest(query, topn=topn, exclude=exclude, restrict_vocab=restrict_vocab)

    def nearest(self, query: np.ndarray, topn: int = 10, exclude: Iterable[str] = (),
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        norm = float(np.linalg.norm(query))
        unit_query = np.asarray(query, dtype=np.float32) / (norm or 1.0)
        if self.neighbour_index is not None and not restrict_vocab:  # approximate (neighbours.py)
            skip = [self.index[w] for w in exclude if w in self.index]
            return self.neighbour_index.nearest(self, unit_query, topn, skip)
        scores = self._cosines(unit_query, restrict_vocab)
        skip = [self.index[w] for w in exclude if w in self.index and self.index[w] < len(scores)]
        return self._top(scores, topn, skip)

    def _cosines(self, query: np.ndarray, limit: int | None) -> np.ndarray:
        """float32: the unit rows (the first ``limit``, or all) times ``query`` (unit
        vector [dim], or [dim, k])."""
        unit = self.unit_vectors[:limit] if limit else self.unit_vectors
        return unit @ query

    def most_similar_cosmul(self, positive: str | Iterable[str], negative: Iterable[str] = (),
                            topn: int = 10, restrict_vocab: int | None = None
                            ) -> list[tuple[str, float]]:
        """Words maximising the product of the ``positive`` cosines divided by the product of
        the ``negative`` ones, each shifted to [0, 1] (3CosMul: Levy & Goldberg 2014, eq. 4
        and footnote 7). Query words are excluded from the answers."""
        if isinstance(positive, str):
            positive = [positive]
        positive, negative = list(positive), list(negative)
        if not positive:
            raise EmbedtrainError("most_similar_cosmul needs at least one positive word")
        pos = np.stack([self._unit_of(w) for w in positive])
        neg = np.stack([self._unit_of(w) for w in negative]) if negative else None
        pos_cos = self._cosines(pos.T, restrict_vocab)
        scores = cosmul_scores(pos_cos, None if neg is None else self._cosines(neg.T, restrict_vocab))
        skip = [self.index[w] for w in positive + negative
                if isinstance(w, str) and w in self.index and self.index[w] < len(pos_cos)]
        return self._top(scores, topn, skip)

    def analogy(self, a: str, b: str, c: str, topn: int = 10, method: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Answers to a : b :: c : ? by 3CosAdd (b - a + c) or 3CosMul."""
        if method == "3cosadd":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn,
                                     restrict_vocab=restrict_vocab)
        if method == "3cosmul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn,
                                            restrict_vocab=restrict_vocab)
        raise EmbedtrainError(f"unknown analogy method {method!r} (choose 3cosadd or 3cosmul)")

    def _top(self, scores: np.ndarray, topn: int, skip: list[int]) -> list[tuple[str, float]]:
        """The ``topn`` best scores, never a row in ``skip`` (the query's own words) nor a
        score that is not a finite number (a row of NaNs in a foreign file)."""
        valid = np.isfinite(scores)
        valid[skip] = False
        candidates = np.flatnonzero(valid)
        k = min(topn, len(candidates))
        if k <= 0:
            return []
        best = scores[candidates]
        top = np.argpartition(-best, k - 1)[:k]
        top = top[np.argsort(-best[top], kind="stable")]
        return [(self.words[candidates[i]], float(best[i])) for i in top]

    def _unit_of(self, word: str | np.ndarray) -> np.ndarray:
        if isinstance(word, np.ndarray):
            vec = word.astype(np.float32)
        elif word in self.index:
            return self.unit_vectors[self.index[word]]
        else:
            vec = self.get_vector(word)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec


# Keeps 3CosMul finite when the negative term is 0; Levy & Goldberg use 0.001 (gensim's
# most_similar_cosmul uses 1e-6: the ranking differs only when a cosine is near -1).
COSMUL_EPSILON = 1e-3


def cosmul_scores(pos_cos: np.ndarray, neg_cos: np.ndarray | None) -> np.ndarray:
    """3CosMul from cosines: ``pos_cos`` [..., P] and ``neg_cos`` [..., N] (or None) give
    prod((1 + pos) / 2) / (prod((1 + neg) / 2) + epsilon) over the last axis."""
    score = np.prod((1.0 + pos_cos) * 0.5, axis=-1)
    if neg_cos is not None and neg_cos.shape[-1]:
        score = score / (np.prod((1.0 + neg_cos) * 0.5, axis=-1) + COSMUL_EPSILON)
    return score.astype(np.float32, copy=False)


# Rows checked at a time for NaN/inf (bounds the temporary boolean array).
FINITE_CHECK_ROWS = 1 << 16


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """float32: ``matrix``'s rows scaled to unit length (zero rows stay zero; rows near
    float32's limit, whose squares overflow, are measured in float64)."""
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    huge = np.flatnonzero(~np.isfinite(norms[:, 0]))
    if len(huge):
        norms[huge] = np.linalg.norm(matrix[huge].astype(np.float64), axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def finite_rows(matrix: np.ndarray) -> np.ndarray:
    """bool [rows]: True where every value of the row is a finite number."""
    out = np.empty(matrix.shape[0], dtype=bool)
    for start in range(0, matrix.shape[0], FINITE_CHECK_ROWS):
        out[start:start + FINITE_CHECK_ROWS] = np.isfinite(
            matrix[start:start + FINITE_CHECK_ROWS]).all(axis=1)
    return out


class FastTextVectors(Vectors):
    """Word vectors of a FastText model; any word with at least one n-gram has a
    vector: the mean of its n-gram rows (fastText's getWordVector for unseen words).

    A word with no n-gram at all (shorter than --minn - 2 characters, or a model
    trained with --maxn 0) has no vector here, where fastText would return zeros.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None,
                 ngrams, minn: int, maxn: int, bucket: int):
        """``ngrams``: the n-gram rows (an ngram_rows.NgramRows: ``lookup(buckets)``)."""
        super().__init__(words, vectors, counts)
        self.ngrams = ngrams
        self.minn, self.maxn, self.bucket = minn, maxn, bucket

    def ngram_buckets(self, word: str) -> np.ndarray:
        """int32: the bucket of each n-gram of ``word`` (fastText's order)."""
        if self.maxn <= 0 or self.bucket <= 0:
            return np.zeros(0, dtype=np.int32)
        from .subwords import ngram_buckets  # numba: only for a FastText model's vectors

        return ngram_buckets(word, self.minn, self.maxn, self.bucket)

    def vector_for_unknown(self, word: str) -> np.ndarray | None:
        buckets = self.ngram_buckets(word)
        if len(buckets) == 0:
            return None
        return self.ngrams.lookup(buckets).mean(axis=0, dtype=np.float32)

    def has_vector(self, word: str) -> bool:
        return word in self.index or len(self.ngram_buckets(word)) > 0


# Rows scored at a time when the matrix is read or decoded on demand (LazyVectors).
SCAN_BLOCK_ROWS = 1 << 16


class LazyVectors(Vectors):
    """Word vectors whose matrix is read or decoded on demand: a memory-mapped file
    (``Model.load(path, mmap=True)``) or compressed rows (quantization.py). ``vectors`` is
    anything with ``shape`` and numpy-style row indexing that returns float32 rows
    (optionally ``dots(query, start, stop)`` and ``norms()``, faster ways to score and
    measure rows without decoding them). Nothing builds the float32 [V, dim] matrix:
    queries scan the rows in blocks of :data:`SCAN_BLOCK_ROWS`, ``unit_vectors`` is a
    view that scales the rows it is asked for.
    """

    def __init__(self, words: Sequence[str], rows, counts: np.ndarray | None = None,
                 index: dict[str, int] | None = None):
        """``index``: word -> row, when the caller has it (a model's vocabulary: distinct
        words), so that a million-word model does not build a second one."""
        if len(rows.shape) != 2 or rows.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but rows of shape {rows.shape}")
        self.words = words if isinstance(words, list) else list(words)
        self.vectors = rows
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if index is None:
            index = {}
            for i, w in enumerate(self.words):
                index.setdefault(w, i)
        self.index = index
        self._unit = None
        self._norms: np.ndarray | None = None

    def get_vector(self, word: str) -> np.ndarray:
        i = self.index.get(word)
        if i is None:
            return super().get_vector(word)
        return np.asarray(self.vectors[i], dtype=np.float32)

    def norms(self) -> np.ndarray:
        """float32 [V]: each row's length (measured once, block by block)."""
        if self._norms is None:
            rows = self.vectors
            if hasattr(rows, "norms"):
                self._norms = rows.norms()
            else:
                out = np.empty(rows.shape[0], dtype=np.float32)
                for start in range(0, rows.shape[0], SCAN_BLOCK_ROWS):
                    out[start:start + SCAN_BLOCK_ROWS] = np.linalg.norm(
                        np.asarray(rows[start:start + SCAN_BLOCK_ROWS], dtype=np.float32), axis=1)
                self._norms = out
        return self._norms

    @property
    def unit_vectors(self) -> "UnitRows":
        return UnitRows(self)

    def _cosines(self, query: np.ndarray, limit: int | None) -> np.ndarray:
        rows = self.vectors
        n = min(limit or rows.shape[0], rows.shape[0])
        norms = self.norms()[:n]
        out = np.empty((n,) + query.shape[1:], dtype=np.float32)
        for start in range(0, n, SCAN_BLOCK_ROWS):
            stop = min(start + SCAN_BLOCK_ROWS, n)
            if hasattr(rows, "dots"):
                out[start:stop] = rows.dots(query, start, stop)
            else:
                out[start:stop] = np.asarray(rows[start:stop], dtype=np.float32) @ query
        safe = np.where(norms == 0, 1.0, norms).astype(np.float32)
        return out / (safe if query.ndim == 1 else safe[:, None])


class UnitRows:
    """The unit-length rows of a :class:`LazyVectors`, scaled when indexed."""

    def __init__(self, vectors: LazyVectors):
        self._vectors = vectors
        self.shape = vectors.vectors.shape
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        """The rows asked for, each divided by its length (measured here: one row asked
        for does not measure every row of a mapped file)."""
        rows = np.asarray(self._vectors.vectors[key], dtype=np.float32)
        norms = np.linalg.norm(rows, axis=-1, keepdims=True)
        return rows / np.where(norms == 0, np.float32(1.0), norms).astype(np.float32)

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class LazyFastTextVectors(LazyVectors, FastTextVectors):
    """:class:`LazyVectors` of a FastText model: unseen words get the mean of their
    n-gram rows (``ngrams``: an ngram_rows.NgramRows over rows read on demand)."""

    def __init__(self, words: Sequence[str], rows, counts: np.ndarray | None, ngrams,
                 minn: int, maxn: int, bucket: int):
        LazyVectors.__init__(self, words, rows, counts)
        self.ngrams = ngrams
        self.minn, self.maxn, self.bucket = minn, maxn, bucket
