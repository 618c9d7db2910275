"""The product of training: words and a float32 matrix, with similarity queries."""
from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

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

    def __getitem__(self, word: str | Sequence[str]) -> np.ndarray:
        """``word``'s vector; a list of words gives their rows stacked (gensim's ``kv[[a, b]]``)."""
        if isinstance(word, (list, tuple)):
            return np.vstack([self.get_vector(w) for w in word]) if word else \
                np.zeros((0, self.dim), np.float32)
        return self.get_vector(word)

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The vector of ``word`` (scaled to unit length with ``norm``); subclasses may
        build one for unknown words."""
        i = self.index.get(word)
        if i is None:
            vec = self.vector_for_unknown(word)
            if vec is None:
                raise UnknownWordError(f"word {word!r} is not in the vocabulary")
            return _unit(vec) if norm else vec
        return self.unit_vectors[i] if norm else self.vectors[i]

    # gensim's names (KeyedVectors) for what Vectors holds
    @property
    def index_to_key(self) -> list[str]:
        return self.words

    @property
    def key_to_index(self) -> dict[str, int]:
        return self.index

    @property
    def vector_size(self) -> int:
        return self.dim

    @property
    def norms(self) -> np.ndarray:
        """float32 [V]: each row's length (gensim's ``norms``, filled when first read)."""
        if getattr(self, "_norms", None) is None:
            self._norms = np.linalg.norm(self.vectors, axis=1)
        return self._norms

    def fill_norms(self, force: bool = False) -> None:
        """Compute the row lengths and unit rows now (again with ``force``)."""
        if force:
            self._norms, self._unit = None, None
        self.norms, self.unit_vectors  # noqa: B018 - computed and kept

    def get_normed_vectors(self) -> np.ndarray:
        return self.unit_vectors

    def get_index(self, key: str | int, default: int | None = None) -> int:
        """The row of ``key`` (an int within range is its own row); ``default`` or an error."""
        i = self.index.get(key) if isinstance(key, str) else None
        if i is not None:
            return i
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise UnknownWordError(f"word {key!r} is not in the vocabulary")

    def has_index_for(self, key: str) -> bool:
        return key in self.index

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

    def most_similar(self, positive: Any = None, negative: Any = None, topn: int | None = 10,
                     clip_start: int = 0, clip_end: int | None = None, restrict_vocab: int | None = None,
                     indexer: Any = None):
        """Words nearest by cosine to the weighted mean of the unit ``positive`` vectors minus
        the ``negative`` ones (3CosAdd), as gensim's ``KeyedVectors.most_similar``: a word,
        a vector (used as it is, not scaled) or a list of them; a ``(word, weight)`` pair
        weighs an item. Query words are excluded from the answers. ``topn=None``: the
        cosine of every word (an array); ``restrict_vocab``: the first N words only."""
        if indexer is not None:
            raise EmbedtrainError("most_similar(indexer=...) is not supported: embedtrain searches "
                                  "exactly (leave indexer out)")
        if isinstance(topn, (int, np.integer)) and topn < 1:
            return []
        positive, negative = _as_list(positive), _as_list(negative)
        keys, weights = [], []
        for item, sign in [(p, 1.0) for p in positive] + [(n, -1.0) for n in negative]:
            if isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], tuple):
                keys.append(item[0])
                weights.append(float(item[1]))
            else:
                keys.append(item)
                weights.append(sign)
        if not keys:
            raise EmbedtrainError("most_similar needs at least one word or vector")
        query = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True,
                                     ignore_missing=False)
        exclude = {self.index[k] for k in keys if isinstance(k, str) and k in self.index}
        if (self.neighbour_index is not None and topn and not restrict_vocab and not clip_start
                and clip_end is None):  # approximate (neighbours.py: attach_index)
            return self.neighbour_index.nearest(self, query, int(topn), sorted(exclude))
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_end = len(self) if clip_end is None else min(clip_end, len(self))
        scores = self._cosines(query, clip_start, clip_end)
        if not topn:
            return scores
        skip = [i - clip_start for i in exclude if clip_start <= i < clip_end]
        return self._top(scores, topn, skip, offset=clip_start)

    def nearest(self, query: np.ndarray, topn: int = 10, exclude: Iterable[str] = (),
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        norm = float(np.linalg.norm(query))
        unit_query = np.asarray(query, dtype=np.float32) / (norm or 1.0)
        if self.neighbour_index is not None and not restrict_vocab:  # approximate (neighbours.py)
            skip = [self.index[w] for w in exclude if w in self.index]
            return self.neighbour_index.nearest(self, unit_query, topn, skip)
        scores = self._cosines(unit_query, 0, restrict_vocab)
        skip = [self.index[w] for w in exclude if w in self.index and self.index[w] < len(scores)]
        return self._top(scores, topn, skip)

    def _cosines(self, query: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
        """float32: the unit rows ``start:stop`` (all when stop is None or 0) times ``query``
        (a unit vector [dim], or [dim, k]). LazyVectors scores rows without a float32 matrix."""
        return self.unit_vectors[start:stop or None] @ query

    def similar_by_word(self, word: str, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector: np.ndarray, topn: int | None = 10,
                          restrict_vocab: int | None = None):
        return self.most_similar(positive=[np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def get_mean_vector(self, keys: Sequence[Any], weights: Sequence[float] | np.ndarray | None = None,
                        pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """The weighted mean of the vectors of ``keys`` (words or vectors; words' vectors
        scaled to unit length with ``pre_normalize``), divided by the sum of the absolute
        weights; unit length with ``post_normalize`` (gensim's get_mean_vector)."""
        if len(keys) == 0:
            raise EmbedtrainError("get_mean_vector needs at least one key")
        w = np.ones(len(keys), np.float32) if weights is None else np.asarray(weights, np.float32)
        if w.shape != (len(keys),):
            raise EmbedtrainError(f"{len(keys)} keys but {w.size} weights")
        mean = np.zeros(self.dim, np.float32)
        total = 0.0
        for key, weight in zip(keys, w):
            if isinstance(key, np.ndarray):
                vec = key
            elif self.has_vector(key):
                vec = self.get_vector(key, norm=pre_normalize)
            elif not ignore_missing:
                raise UnknownWordError(f"word {key!r} is not in the vocabulary")
            else:
                continue
            mean += weight * vec
            total += abs(float(weight))
        if total > 0:
            mean = mean / total
        return _unit(mean) if post_normalize else mean

    def most_similar_cosmul(self, positive: Any = None, negative: Any = None, topn: int | None = 10,
                            restrict_vocab: int | None = None, epsilon: float | None = None):
        """Words maximising the product of the ``positive`` cosines divided by the product of
        the ``negative`` ones, each shifted to [0, 1] (3CosMul: Levy & Goldberg 2014, eq. 4
        and footnote 7; ``epsilon`` keeps it finite: COSMUL_EPSILON, gensim's 1e-6 through
        the gensim module). Words or vectors (used as they are); query words are excluded
        from the answers. ``topn=None``: every word's score."""
        if isinstance(topn, (int, np.integer)) and topn < 1:
            return []
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise EmbedtrainError("most_similar_cosmul needs at least one positive word")
        pos = np.stack([self._term(w) for w in positive])
        neg = np.stack([self._term(w) for w in negative]) if negative else None
        pos_cos = self._cosines(pos.T, 0, restrict_vocab)
        scores = cosmul_scores(pos_cos, None if neg is None else self._cosines(neg.T, 0, restrict_vocab),
                               COSMUL_EPSILON if epsilon is None else epsilon)
        if not topn:
            return scores
        skip = [self.index[w] for w in positive + negative
                if isinstance(w, str) and w in self.index and self.index[w] < len(pos_cos)]
        return self._top(scores, topn, skip)

    def _term(self, word: str | np.ndarray) -> np.ndarray:
        """A 3CosMul term: a word's unit vector, or a vector as it is (as gensim takes it)."""
        return np.asarray(word, np.float32) if isinstance(word, np.ndarray) else self.get_vector(word, norm=True)

    # ------------------------------------------------------------------ gensim's other queries
    def rank_by_centrality(self, words: Sequence[str], use_norm: bool = True) -> list[tuple[float, str]]:
        """(cosine to the mean, word) for the known ``words``, nearest the mean first."""
        used = [w for w in words if self.has_vector(w)]
        if not used:
            raise EmbedtrainError("rank_by_centrality needs at least one known word")
        rows = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float32)
        mean = self.get_mean_vector(list(rows), post_normalize=True)
        return sorted(zip((float(x) for x in rows @ mean), used), reverse=True)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of ``words`` (unknown words are left out)."""
        return self.rank_by_centrality(words)[-1][1]

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine of ``vector_1`` [dim] with each row of ``vectors_all`` [n, dim]."""
        norm = np.linalg.norm(vector_1)
        return (vectors_all @ vector_1) / (norm * np.linalg.norm(vectors_all, axis=1))

    def distances(self, word_or_vector: str | np.ndarray, other_words: Sequence[str] = ()) -> np.ndarray:
        """1 - cosine from ``word_or_vector`` to each of ``other_words`` (default: every word)."""
        vec = self.get_vector(word_or_vector) if isinstance(word_or_vector, str) else word_or_vector
        others = self.vectors if not other_words else self.vectors[[self.get_index(w) for w in other_words]]
        return 1 - self.cosine_similarities(np.asarray(vec), others)

    def distance(self, w1: str, w2: str) -> float:
        """1 - :meth:`similarity`."""
        return 1 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine between the means of two lists of words (their raw vectors)."""
        if not (len(ws1) and len(ws2)):
            raise EmbedtrainError("n_similarity needs two non-empty lists of words")
        mean1 = self.get_mean_vector(ws1, pre_normalize=False)
        mean2 = self.get_mean_vector(ws2, pre_normalize=False)
        return float(_unit(mean1) @ _unit(mean2))

    def closer_than(self, word1: str, word2: str) -> list[str]:
        """The words closer to ``word1`` than ``word2`` is."""
        all_distances = self.distances(word1)
        i1, i2 = self.get_index(word1), self.get_index(word2)
        return [self.words[i] for i in np.flatnonzero(all_distances < all_distances[i2]) if i != i1]

    def rank(self, word1: str, word2: str) -> int:
        """``word2``'s rank among ``word1``'s neighbours (1: the nearest)."""
        return len(self.closer_than(word1, word2)) + 1

    def most_similar_to_given(self, word: str, words: Sequence[str]) -> str:
        """The one of ``words`` most similar to ``word``."""
        return words[int(np.argmax([self.similarity(word, w) for w in words]))]

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """cos(wa, wb) over the sum of wa's ``topn`` nearest cosines (Leeuwenberg et al. 2016, eq. 1)."""
        sims = self.most_similar(wa, topn=topn)
        if not sims:
            raise EmbedtrainError("relative_cosine_similarity needs at least one neighbour")
        return float(self.similarity(wa, wb)) / sum(s for _, s in sims)

    def get_vecattr(self, word: str, attr: str) -> int:
        """gensim's per-word attributes: ``"count"`` is the only one embedtrain keeps."""
        if attr != "count" or self.counts is None:
            raise EmbedtrainError(f"no attribute {attr!r}: these vectors keep "
                                  f"{'counts only' if self.counts is not None else 'no counts'}")
        return int(self.counts[self.get_index(word)])

    def vectors_for_all(self, words: Iterable[str], allow_inference: bool = True) -> "Vectors":
        """Vectors of ``words`` (each once, in order; FastText builds unseen ones unless
        ``allow_inference`` is False); words without a vector are left out."""
        chosen = [w for w in dict.fromkeys(words)
                  if (self.has_vector(w) if allow_inference else w in self.index)]
        rows = np.vstack([self.get_vector(w) for w in chosen]) if chosen else np.zeros((0, self.dim), np.float32)
        return Vectors(chosen, rows)

    # ------------------------------------------------------------------ gensim's benchmarks
    def evaluate_word_pairs(self, pairs: str | os.PathLike, delimiter: str = "\t", encoding: str = "utf8",
                            restrict_vocab: int = 300_000, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """gensim's ``evaluate_word_pairs``: ``(pearson, spearman, oov_ratio)``, each
        correlation a ``(statistic, pvalue)`` tuple, the ratio in percent (embedtrain's own
        benchmark with its report is :func:`embedtrain.evaluate.evaluate`)."""
        from .gensim_eval import evaluate_word_pairs

        return evaluate_word_pairs(self, pairs, delimiter, encoding, restrict_vocab, case_insensitive,
                                   dummy4unknown)

    def evaluate_word_analogies(self, analogies: str | os.PathLike, restrict_vocab: int = 300_000,
                                case_insensitive: bool = True, dummy4unknown: bool = False,
                                similarity_function: str = "most_similar"):
        """gensim's ``evaluate_word_analogies``: ``(score, sections)``, each section a dict
        ``{"section", "correct", "incorrect"}`` of (a, b, c, expected) tuples, the last
        "Total accuracy"."""
        from .gensim_eval import evaluate_word_analogies

        return evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive, dummy4unknown,
                                       similarity_function)

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

    def _top(self, scores: np.ndarray, topn: int, skip: list[int], offset: int = 0) -> list[tuple[str, float]]:
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
        return [(self.words[offset + candidates[i]], float(best[i])) for i in top]

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
# most_similar_cosmul uses 1e-6, which embedtrain.compat.gensim passes: the ranking differs
# only when a cosine is near -1).
COSMUL_EPSILON = 1e-3


def cosmul_scores(pos_cos: np.ndarray, neg_cos: np.ndarray | None,
                  epsilon: float = COSMUL_EPSILON) -> np.ndarray:
    """3CosMul from cosines: ``pos_cos`` [..., P] and ``neg_cos`` [..., N] (or None) give
    prod((1 + pos) / 2) / (prod((1 + neg) / 2) + epsilon) over the last axis."""
    score = np.prod((1.0 + pos_cos) * 0.5, axis=-1)
    if neg_cos is not None and neg_cos.shape[-1]:
        score = score / (np.prod((1.0 + neg_cos) * 0.5, axis=-1) + epsilon)
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


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return (vec / norm).astype(np.float32, copy=False) if norm else vec


def _as_list(value: Any) -> list:
    """gensim's _ensure_list: None -> [], a word or a 1-d vector -> [it], a 2-d array -> its rows."""
    if value is None:
        return []
    if isinstance(value, (str, int, np.integer)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return list(value)
    return list(value)


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


class FloretVectors(FastTextVectors):
    """Word vectors of a floret model (``--floret``): every word, in the vocabulary or
    not, is the mean of the table rows its ``<word>`` and its n-grams hash to
    (``hash_count`` rows each; embedtrain/floret.py), as spaCy computes it."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None,
                 ngrams, minn: int, maxn: int, bucket: int, hash_count: int):
        super().__init__(words, vectors, counts, ngrams, minn, maxn, bucket)
        self.hash_count = hash_count

    def ngram_buckets(self, word: str) -> np.ndarray:
        """int32: the table rows of ``word`` (floret's order; none for the empty string,
        which spaCy gives a zero vector)."""
        if not word:
            return np.zeros(0, dtype=np.int32)
        from .floret import floret_table  # numba: only for a floret model's vectors

        return floret_table([word], self.minn, self.maxn, self.bucket, self.hash_count).rows


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
        words), so that a million-word model does not build a second one; ``counts``
        may be a function that returns them (called when they are first read)."""
        if len(rows.shape) != 2 or rows.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but rows of shape {rows.shape}")
        # a list, or a model's words left in its file (mapped_vocab.MappedWords: decoded
        # when indexed), which list() would decode all at once
        self.words = words if isinstance(words, list) or getattr(words, "in_place", False) else list(words)
        self.vectors = rows
        self.counts = counts if counts is None or callable(counts) else np.asarray(counts, dtype=np.int64)
        if index is None:
            index = {}
            for i, w in enumerate(self.words):
                index.setdefault(w, i)
        self.index = index
        self._unit = None
        self._norms: np.ndarray | None = None

    @property
    def counts(self) -> np.ndarray | None:
        """int64 [V] or None; given as a function (a mapped vocabulary's, parsed when
        first read), called when first read."""
        if callable(self._counts):
            self._counts = np.asarray(self._counts(), dtype=np.int64)
        return self._counts

    @counts.setter
    def counts(self, value) -> None:
        self._counts = value

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        i = self.index.get(word)
        if i is None:
            return super().get_vector(word, norm=norm)
        row = np.asarray(self.vectors[i], dtype=np.float32)
        return _unit(row) if norm else row

    @property
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

    def _cosines(self, query: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
        rows = self.vectors
        first = min(start, rows.shape[0])
        n = min(stop or rows.shape[0], rows.shape[0])
        norms = self.norms[first:n]
        out = np.empty((max(n - first, 0),) + query.shape[1:], dtype=np.float32)
        for a in range(first, n, SCAN_BLOCK_ROWS):
            b = min(a + SCAN_BLOCK_ROWS, n)
            if hasattr(rows, "dots"):
                out[a - first:b - first] = rows.dots(query, a, b)
            else:
                out[a - first:b - first] = np.asarray(rows[a:b], dtype=np.float32) @ query
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
