"""Leave-one-out evaluation of item vectors, as recommender papers report it.

For every sequence of at least two items the last item is the target; the query is the mean of
the unit vectors of the previous ``history`` items that have vectors (gensim's ``most_similar``
averages unit vectors the same way); every item with a vector is a candidate except those seen
earlier in the sequence; candidates are ranked by cosine with the query. HitRate@k is the share
of sequences whose target ranks in the top k, NDCG@k the mean of ``1 / log2(rank + 1)`` over those
hits (rank 1 is the best; one relevant item, so the ideal DCG is 1). Ties in score go to the item
with the lower row (a fixed, arbitrary order: no tool gains from ties).

Misses are counted, not dropped: a target without a vector, or a sequence none of whose history
items has one, counts as a miss (``unknown_targets`` and ``empty_queries`` say how many), so
vectors with a smaller vocabulary do not score higher by evaluating fewer sequences.

The most-popular baseline ranks the same candidates (items not seen earlier in the sequence)
by how often they occur in ``popular_from`` (the training sequences; by default the evaluated
sequences without their targets), ties broken by first occurrence.

Scores come from block matrix products (``BLOCK_QUERIES`` queries at a time) in numpy.
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from ..errors import EmbedtrainError

BLOCK_QUERIES = 512
DEFAULT_K = 10
DEFAULT_HISTORY = 5


def _cases(sequences: Sequence[Sequence[str]], index: dict[str, int], history: int):
    """Per case: target row (-1 unknown), history rows, rows seen earlier."""
    targets, hists, seen = [], [], []
    for seq in sequences:
        if len(seq) < 2:
            continue
        before = seq[:-1]
        targets.append(index.get(seq[-1], -1))
        rows = [index[w] for w in before if w in index]
        seen.append(rows)
        hist = [index[w] for w in before[-history:] if w in index]
        hists.append(hist)
    return np.array(targets, dtype=np.int64), hists, seen


def _rank_block(scores: np.ndarray, targets: np.ndarray, seen: list[list[int]]) -> np.ndarray:
    """1-based rank of each row's target among its candidates (``scores`` float [b, V],
    modified: seen items set to -inf); 0 where the target is not a candidate."""
    b, v = scores.shape
    for i, rows in enumerate(seen):
        if rows:
            scores[i, rows] = -np.inf
    ranks = np.zeros(b, dtype=np.int64)
    ok = targets >= 0
    idx = np.flatnonzero(ok)
    if not len(idx):
        return ranks
    t = targets[idx]
    own = scores[idx, t][:, None]
    sub = scores[idx]
    above = (sub > own).sum(axis=1)
    cols = np.arange(v)[None, :]
    tied_before = ((sub == own) & (cols < t[:, None])).sum(axis=1)
    r = above + tied_before + 1
    r[~np.isfinite(own[:, 0])] = 0       # the target was seen earlier: not a candidate
    ranks[idx] = r
    return ranks


def _metrics(ranks: np.ndarray, k: int) -> tuple[float, float]:
    n = len(ranks)
    if n == 0:
        return 0.0, 0.0
    hit = (ranks >= 1) & (ranks <= k)
    gains = np.zeros(n)
    gains[hit] = 1.0 / np.log2(ranks[hit] + 1.0)
    return float(hit.mean()), float(gains.mean())


def popularity(sequences: Sequence[Sequence[str]], *, drop_last: bool = False) -> dict[str, int]:
    """Item counts in first-occurrence order (``drop_last``: without each sequence's last item)."""
    counts: dict[str, int] = {}
    for seq in sequences:
        for w in (seq[:-1] if drop_last else seq):
            counts[w] = counts.get(w, 0) + 1
    return counts


def rank_items(unit: np.ndarray, words: Sequence[str], sequences: Sequence[Sequence[str]], *,
               history: int = DEFAULT_HISTORY) -> np.ndarray:
    """The 1-based rank of each case's target (0: a miss that cannot rank) for unit vectors
    ``unit`` (float32 [V, d], rows of ``words``)."""
    index = {w: i for i, w in enumerate(words)}
    targets, hists, seen = _cases(sequences, index, history)
    ranks = np.zeros(len(targets), dtype=np.int64)
    for start in range(0, len(targets), BLOCK_QUERIES):
        stop = min(start + BLOCK_QUERIES, len(targets))
        q = np.zeros((stop - start, unit.shape[1]), dtype=np.float32)
        empty = np.zeros(stop - start, dtype=bool)
        for j, rows in enumerate(hists[start:stop]):
            if rows:
                q[j] = unit[rows].mean(axis=0)
            else:
                empty[j] = True
        scores = q @ unit.T
        r = _rank_block(scores, targets[start:stop], seen[start:stop])
        r[empty] = 0
        ranks[start:stop] = r
    return ranks


def popular_ranks(counts: dict[str, int], sequences: Sequence[Sequence[str]]) -> np.ndarray:
    """The most-popular baseline's rank of each case's target (0: a miss)."""
    words = list(counts)
    index = {w: i for i, w in enumerate(words)}
    order = np.argsort(-np.array([counts[w] for w in words], dtype=np.int64), kind="stable")
    position = np.empty(len(words), dtype=np.int64)
    position[order] = np.arange(len(words))
    targets, _, seen = _cases(sequences, index, 0)
    ranks = np.zeros(len(targets), dtype=np.int64)
    for i, (t, rows) in enumerate(zip(targets, seen)):
        if t < 0 or t in rows:
            continue
        pt = position[t]
        ranks[i] = pt + 1 - int(np.count_nonzero(position[list(set(rows))] < pt)) if rows else pt + 1
    return ranks


def evaluate_items(vectors: Any, sequences: Sequence[Sequence[str]], *, k: int = DEFAULT_K,
                   history: int = DEFAULT_HISTORY,
                   popular_from: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """HitRate@k and NDCG@k of ``vectors`` (a Vectors, a Model, or (words, matrix)) on
    ``sequences`` (lists of item names, each's last item the target), beside the
    most-popular baseline (counts from ``popular_from``, by default ``sequences`` without
    their targets). See the module docstring."""
    from ..vectors import unit_rows

    if k < 1:
        raise EmbedtrainError(f"k must be at least 1 (got {k})")
    if history < 1:
        raise EmbedtrainError(f"history must be at least 1 (got {history})")
    if isinstance(vectors, tuple):
        words, matrix = vectors
    else:
        vecs = vectors if isinstance(getattr(vectors, "vectors", None), np.ndarray) else vectors.vectors
        words, matrix = vecs.words, vecs.vectors
    unit = unit_rows(np.asarray(matrix, dtype=np.float32)).astype(np.float32, copy=False)
    cases = [s for s in sequences if len(s) >= 2]
    if not cases:
        raise EmbedtrainError("no sequence of at least 2 items to evaluate")
    index = {w: i for i, w in enumerate(words)}
    ranks = rank_items(unit, words, cases, history=history)
    hr, ndcg = _metrics(ranks, k)
    counts = popularity(popular_from) if popular_from is not None else popularity(cases, drop_last=True)
    pranks = popular_ranks(counts, cases)
    phr, pndcg = _metrics(pranks, k)
    return {"k": k, "history": history, "sequences": len(cases),
            "unknown_targets": sum(1 for s in cases if s[-1] not in index),
            "empty_queries": sum(1 for s in cases if not any(w in index for w in s[:-1][-history:])),
            "items_with_vectors": len(words),
            f"hit_rate@{k}": hr, f"ndcg@{k}": ndcg,
            f"popular_hit_rate@{k}": phr, f"popular_ndcg@{k}": pndcg}


def reference_metrics(ranks: Sequence[int], k: int) -> tuple[float, float]:
    """HitRate@k and NDCG@k from ranks, in plain Python (for readers of the formulas)."""
    hits = [r for r in ranks if 1 <= r <= k]
    n = len(ranks)
    return (len(hits) / n if n else 0.0,
            sum(1 / math.log2(r + 1) for r in hits) / n if n else 0.0)


def load_vectors_for_items(path: str | os.PathLike):
    """(Vectors, Model or None) of a .vec/.bin/.npy/.etm file."""
    from ..models import is_model_file, load_model_file

    name = os.fspath(path)
    if not os.path.exists(name):
        raise EmbedtrainError(f"vectors file {name} does not exist")
    if is_model_file(name):
        model = load_model_file(name, "eval-items")
        return model.vectors, model
    from ..io.formats import load_vectors

    return load_vectors(name), None


def model_lineage(vectors_path: str | os.PathLike, model: Any, words: Sequence[str]) -> list[Any] | None:
    """The lineage of the model behind ``vectors_path``: the model's own, or that of
    ``PREFIX.etm`` beside ``PREFIX.vec`` (what ``embedtrain train`` writes); None if unknown."""
    from ..models import MODEL_SUFFIX, is_model_file

    if model is None:
        name = os.fspath(vectors_path)
        stem = name[: -len(os.path.splitext(name)[1])] if os.path.splitext(name)[1] else name
        beside = stem + MODEL_SUFFIX
        if os.path.isfile(beside) and is_model_file(beside):
            from ..models import Model

            model = Model.load(beside)
            if list(model.vectors.words) != list(words):
                return None   # not the model of these vectors
    if model is None:
        return None
    lineage = model.stats.get("lineage")
    return lineage if isinstance(lineage, list) else None


def eval_items(vectors_path: str | os.PathLike, sequences_path: str | os.PathLike, *,
               k: int = DEFAULT_K, history: int = DEFAULT_HISTORY,
               popular_from: str | os.PathLike | None = None,
               user_col: str | int | None = None) -> dict[str, Any]:
    """``embedtrain eval-items``: :func:`evaluate_items` of a vectors file on a sequence file.
    When the sequence file is a split's evaluation file (items/split.py), vectors that saw its
    held-out items are refused, and the most-popular baseline counts the split's training file
    unless ``popular_from`` names another."""
    from .interactions import read_sequences
    from .split import check_split

    if k < 1:
        raise EmbedtrainError(f"--k must be at least 1 (got {k})")
    if history < 1:
        raise EmbedtrainError(f"--history must be at least 1 (got {history})")
    sequences = read_sequences(sequences_path, user_col=user_col)
    vectors, model = load_vectors_for_items(vectors_path)
    train_path, checked = check_split(sequences_path, vectors.words, model_lineage(vectors_path, model, vectors.words))
    counts_from = popular_from or train_path
    popular = read_sequences(counts_from) if counts_from else None
    result = evaluate_items(vectors, sequences, k=k, history=history, popular_from=popular)
    result.update(vectors_file=os.fspath(vectors_path), sequences_file=os.fspath(sequences_path),
                  popular_from=os.fspath(counts_from) if counts_from
                  else "the evaluated sequences without their targets",
                  split_check=checked)
    return result
