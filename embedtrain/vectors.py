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
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._unit = (self.vectors / norms).astype(np.float32)
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
        unit = self.unit_vectors[:restrict_vocab] if restrict_vocab else self.unit_vectors
        norm = float(np.linalg.norm(query))
        scores = unit @ (np.asarray(query, dtype=np.float32) / (norm or 1.0))
        skip = [self.index[w] for w in exclude if w in self.index and self.index[w] < len(unit)]
        scores[skip] = -np.inf
        k = min(topn, len(scores) - len(skip))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in top]

    def analogy(self, a: str, b: str, c: str, topn: int = 10) -> list[tuple[str, float]]:
        """Answers to a : b :: c : ? by 3CosAdd (b - a + c)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    def _unit_of(self, word: str | np.ndarray) -> np.ndarray:
        if isinstance(word, np.ndarray):
            vec = word.astype(np.float32)
        elif word in self.index:
            return self.unit_vectors[self.index[word]]
        else:
            vec = self.get_vector(word)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec
