"""Aligning two vector spaces: an orthogonal map from a source space onto a target space.

The recipe is VecMap's supervised orthogonal mapping (Artetxe et al. 2016, 2018; its
``--normalize unit center unit --orthogonal``) with MUSE's refinement and retrieval
(Conneau et al. 2018):

1. Normalise both spaces: rows to unit length, subtract the mean row, unit length again.
2. Over the dictionary's pairs (rows X_d of the source, Z_d of the target), the
   orthogonal W minimising ||X_d W - Z_d|| is W = U V^T from the SVD X_d^T Z_d = U S V^T
   (Schönemann's orthogonal Procrustes solution).
3. Optionally (``refine``), N times: map the source, take the pairs that are each other's
   nearest neighbours (by CSLS with ``csls``) among the ``refine_vocab`` most frequent
   words of each space, add them to the dictionary and solve step 2 again.

The result is the source mapped into the target's normalised space (``Alignment.source``)
and the target normalised the same way (``Alignment.target``): both sides of the shared
space. The code is embedtrain's own; the recipe and the numbers it should reach are the
peers' (docs/align.md, docs/benchmarks.md#alignment).
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .config import RETRIEVAL_BLOCK_BYTES, AlignConfig
from .errors import EmbedtrainError
from .retrieval import mutual_nearest
from .vectors import Vectors, unit_rows

log = logging.getLogger("embedtrain")

VectorsLike = Vectors | str | os.PathLike
PairsLike = str | os.PathLike | Iterable[tuple[str, str]]


def normalize(matrix: np.ndarray) -> np.ndarray:
    """float32 [V, dim]: rows to unit length, centred (the mean row subtracted), rows to
    unit length again (VecMap's ``--normalize unit center unit``). Zero rows stay zero."""
    out = unit_rows(np.asarray(matrix, dtype=np.float32))
    out -= out.mean(axis=0, dtype=np.float64).astype(np.float32)
    return unit_rows(out)


def procrustes(source_rows: np.ndarray, target_rows: np.ndarray) -> np.ndarray:
    """float64 [dim, dim]: the orthogonal W minimising ||source_rows W - target_rows||_F,
    W = U V^T from the SVD source_rows^T target_rows = U S V^T (in float64)."""
    cross = source_rows.astype(np.float64).T @ target_rows.astype(np.float64)
    u, _, vt = np.linalg.svd(cross)
    return u @ vt


@dataclass
class Alignment:
    """The result of :func:`align`.

    ``source``: the source vectors mapped into the shared space (normalised, times W);
    ``target``: the target vectors normalised the same way; ``W``: the float64 [dim, dim]
    orthogonal map; ``pairs``: the (source word, target word) pairs the final W was solved
    on (the dictionary's, then those refinement added); ``seed_pairs``: how many of them
    came from the dictionary; ``pairs_given``: distinct pairs in the dictionary (or words
    the spaces share, with ``identical``); ``coverage``: the share of those with both
    words in the vectors; ``refined``: pairs per refinement iteration."""

    source: Vectors
    target: Vectors
    W: np.ndarray
    pairs: list[tuple[str, str]]
    seed_pairs: int
    pairs_given: int
    coverage: float
    config: AlignConfig
    refined: list[int] = field(default_factory=list)

    def save(self, path: str | os.PathLike, format: str = "word2vec-text") -> list[Path]:
        """Write the mapped source vectors (atomically); returns the files written."""
        from .io.formats import write_vectors

        return write_vectors(path, self.source, format)

    def to_dict(self) -> dict[str, Any]:
        return {"pairs_given": self.pairs_given, "seed_pairs": self.seed_pairs,
                "pairs": len(self.pairs), "coverage": self.coverage, "refined": list(self.refined),
                "settings": self.config.to_dict()}


def align_config(config: AlignConfig | None, settings: dict[str, Any]) -> AlignConfig:
    """``config`` (or the defaults) with ``settings`` changed; an unknown name is refused."""
    names = [f.name for f in dataclasses.fields(AlignConfig)]
    unknown = sorted(set(settings) - set(names))
    if unknown:
        raise EmbedtrainError(f"unknown alignment setting {unknown[0]!r} (choose from "
                              f"{', '.join(names)})")
    return dataclasses.replace(config or AlignConfig(), **settings)


def as_vectors(vectors: VectorsLike) -> Vectors:
    """Vectors, or the vectors of any file embedtrain reads."""
    if isinstance(vectors, Vectors):
        return vectors
    if isinstance(vectors, (str, os.PathLike)):
        from .io.formats import load_vectors

        return load_vectors(vectors)
    raise EmbedtrainError(f"expected Vectors or a vectors file, got {type(vectors).__name__}")


def as_pairs(pairs: PairsLike) -> list[tuple[str, str]]:
    """The distinct pairs of a dictionary file or of an iterable of (source, target)."""
    if isinstance(pairs, (str, os.PathLike)):
        from .io.dictionary import read_pairs

        return read_pairs(pairs)
    out, seen = [], set()
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(w, str) for w in pair)):
            raise EmbedtrainError(f"a dictionary pair must be two words (source, target), got {pair!r}")
        pair = (pair[0], pair[1])
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


def check_same_dim(source: Vectors, target: Vectors) -> None:
    if source.dim != target.dim:
        raise EmbedtrainError(f"the two spaces differ in dimension (source {source.dim}, target "
                              f"{target.dim}): an orthogonal map needs one dimension")


def shared_pairs(source: Vectors, target: Vectors) -> list[tuple[str, str]]:
    """(w, w) for every word both vocabularies hold, in the source's order."""
    return [(w, w) for w in source.words if w in target.index]


def dictionary_rows(source: Vectors, target: Vectors, pairs: list[tuple[str, str]]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """int64 rows (source, target) of the pairs whose two words have vectors."""
    rows = [(source.index[s], target.index[t]) for s, t in pairs
            if s in source.index and t in target.index]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    src, tgt = zip(*rows)
    return np.asarray(src, dtype=np.int64), np.asarray(tgt, dtype=np.int64)


def seed_dictionary(source: Vectors, target: Vectors, pairs: PairsLike | None,
                    identical: bool) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """The pairs asked for, and the rows of those with vectors; every refusal."""
    if identical and pairs is not None:
        raise EmbedtrainError("give a dictionary (--dictionary) or the words both spaces share "
                              "(--identical), not both")
    if not identical and pairs is None:
        raise EmbedtrainError("alignment needs a dictionary of pairs (--dictionary) or the words "
                              "both spaces share (--identical)")
    check_same_dim(source, target)
    given = shared_pairs(source, target) if identical else as_pairs(pairs)
    src, tgt = dictionary_rows(source, target, given)
    if identical and not len(src):
        raise EmbedtrainError(f"the two vocabularies ({len(source):,} and {len(target):,} words) "
                              f"share no word: nothing to align on")
    if not len(src):
        raise EmbedtrainError(f"no pair of the dictionary has both words in the vectors ({len(given):,} "
                              f"pairs read): nothing to align on")
    return given, src, tgt


def align(source: VectorsLike, target: VectorsLike, pairs: PairsLike | None = None, *,
          identical: bool = False, config: AlignConfig | None = None,
          block_bytes: int = RETRIEVAL_BLOCK_BYTES, **settings: Any) -> Alignment:
    """Map ``source`` onto ``target`` (Vectors or any vectors file) with the orthogonal map
    learned on ``pairs`` (a dictionary file or (source, target) pairs) or, with
    ``identical=True``, on the words both spaces share (two runs of one language).

    ``settings`` are :class:`~embedtrain.config.AlignConfig`'s (``csls``, ``csls_k``,
    ``refine``, ``refine_vocab``). Pairs with a word missing from the vectors are left
    out and reported as ``coverage``; different dimensions, or no usable pair, raise
    EmbedtrainError."""
    config = align_config(config, settings)
    source, target = as_vectors(source), as_vectors(target)
    given, src_rows, tgt_rows = seed_dictionary(source, target, pairs, identical)
    coverage = len(src_rows) / len(given)
    x, z = normalize(source.vectors), normalize(target.vectors)
    w = procrustes(x[src_rows], z[tgt_rows])
    seed = list(zip(src_rows.tolist(), tgt_rows.tolist()))
    used, refined = seed, []
    vocab = config.refine_vocab
    for _ in range(config.refine):
        mapped = (x[:vocab] @ w.astype(np.float32))
        found_src, found_tgt = mutual_nearest(mapped, z[:vocab], config.csls_k if config.csls else None,
                                              block_bytes)
        seed_set = set(seed)
        extra = [p for p in zip(found_src.tolist(), found_tgt.tolist()) if p not in seed_set]
        candidate = seed + extra
        refined.append(len(candidate))
        if candidate == used:  # the dictionary did not change: neither would W
            break
        used = candidate
        rows = np.asarray(used, dtype=np.int64)
        w = procrustes(x[rows[:, 0]], z[rows[:, 1]])
        log.debug("refinement %d: %d pairs (%d found)", len(refined), len(used), len(extra))
    mapped = Vectors(source.words, x @ w.astype(np.float32), source.counts)
    shared = Vectors(target.words, z, target.counts)
    pairs_used = [(source.words[s], target.words[t]) for s, t in used]
    return Alignment(mapped, shared, w, pairs_used, len(seed), len(given), coverage, config, refined)
