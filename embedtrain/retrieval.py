"""Nearest neighbours across two vector spaces, by cosine or by CSLS, in blocks.

Pure functions over float32 arrays whose rows are already unit length (so a dot product
is a cosine). Scores are computed a block of query rows at a time and never as the whole
queries x keys matrix: a block's scores and their temporaries take at most ``block_bytes``
(config.RETRIEVAL_BLOCK_BYTES), whatever the vocabularies' sizes.

CSLS (cross-domain similarity local scaling; Conneau et al. 2018, "Word translation
without parallel data", section 2.3, as MUSE computes it):

    CSLS(x, y) = 2 cos(x, y) - r_T(x) - r_S(y)

where r_T(x) is the mean cosine of the mapped source vector x with its k nearest target
vectors and r_S(y) that of the target vector y with its k nearest mapped source vectors.
Subtracting r_S(y) penalises "hubs", targets near many sources.
"""
from __future__ import annotations

import numpy as np


# Bytes a block holds per score: the float32 score and what selecting the best makes of
# it (np.partition's float32 copy; np.argpartition's int64 indices).
PARTITION_BYTES = 4 + 4
ARGPARTITION_BYTES = 4 + 8


def block_rows(n_cols: int, block_bytes: int, bytes_per_score: int = 4) -> int:
    """Query rows per block so that a block's scores (and their temporaries, at
    ``bytes_per_score`` a score) fit in ``block_bytes``."""
    return max(1, int(block_bytes) // (bytes_per_score * max(1, int(n_cols))))


def mean_top_similarity(queries: np.ndarray, keys: np.ndarray, k: int,
                        block_bytes: int) -> np.ndarray:
    """float32 [len(queries)]: the mean of each query row's ``k`` largest dot products
    with the rows of ``keys`` (fewer when ``keys`` has fewer rows): CSLS's r."""
    n = queries.shape[0]
    out = np.zeros(n, dtype=np.float32)
    k = min(int(k), keys.shape[0])
    if k <= 0 or n == 0:
        return out
    step = block_rows(keys.shape[0], block_bytes, PARTITION_BYTES)
    for start in range(0, n, step):
        sims = queries[start:start + step] @ keys.T
        # the k largest of each row (a partition: no full sort of the block)
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, sims.shape[1] - k:]
        out[start:start + step] = top.mean(axis=1, dtype=np.float64)
    return out


def top_keys(queries: np.ndarray, keys: np.ndarray, n: int, block_bytes: int,
             key_penalty: np.ndarray | None = None,
             query_penalty: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best keys of each query: (int64 indices [Q, n], float32 scores [Q, n]),
    best first; ties go to the lower key index.

    The score is the dot product, or with ``key_penalty`` (r_S of each key) the CSLS
    score 2 q.k - r_S(k) - r_T(q) (``query_penalty`` is r_T; zero when not given)."""
    n = min(int(n), keys.shape[0])
    q_count = queries.shape[0]
    indices = np.zeros((q_count, n), dtype=np.int64)
    scores = np.zeros((q_count, n), dtype=np.float32)
    if n <= 0 or q_count == 0:
        return indices, scores
    step = block_rows(keys.shape[0], block_bytes, ARGPARTITION_BYTES)
    for start in range(0, q_count, step):
        sims = queries[start:start + step] @ keys.T
        if key_penalty is not None:
            sims *= 2
            sims -= key_penalty[None, :]
            if query_penalty is not None:
                sims -= query_penalty[start:start + step, None]
        rows = np.arange(sims.shape[0])[:, None]
        if n == 1:  # argmax: the first best key on ties
            best = sims.argmax(axis=1)[:, None]
        else:
            kth = sims.shape[1] - n
            best = np.argpartition(sims, kth, axis=1)[:, kth:] if kth > 0 else \
                np.broadcast_to(np.arange(n), sims.shape).copy()
            # best first, lower index first among equal scores (a tie at the n-th place
            # keeps whichever keys argpartition kept)
            order = np.lexsort((best, -sims[rows, best]), axis=1)
            best = np.take_along_axis(best, order, axis=1)
        indices[start:start + step] = best
        scores[start:start + step] = sims[rows, best]
    return indices, scores


def csls_penalties(sources: np.ndarray, targets: np.ndarray, k: int,
                   block_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """(r_T of each source row, r_S of each target row): CSLS's two neighbourhood terms."""
    return (mean_top_similarity(sources, targets, k, block_bytes),
            mean_top_similarity(targets, sources, k, block_bytes))


def mutual_nearest(sources: np.ndarray, targets: np.ndarray, csls_k: int | None,
                   block_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (source row, target row) that are each other's nearest neighbour, by cosine
    or (``csls_k``) by CSLS; int64 arrays, in source order."""
    if len(sources) == 0 or len(targets) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    r_src = r_tgt = None
    if csls_k:
        r_src, r_tgt = csls_penalties(sources, targets, csls_k, block_bytes)
    forward, _ = top_keys(sources, targets, 1, block_bytes, key_penalty=r_tgt)
    backward, _ = top_keys(targets, sources, 1, block_bytes, key_penalty=r_src)
    forward, backward = forward[:, 0], backward[:, 0]
    src = np.flatnonzero(backward[forward] == np.arange(len(sources)))
    return src.astype(np.int64), forward[src]
