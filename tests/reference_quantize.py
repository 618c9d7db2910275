"""Plain-numpy references of the compressed-vector kernels (kernels/quantize.py)."""
from __future__ import annotations

import numpy as np

INT8_LEVELS = np.float32(127.0)


def int8_encode(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 step per row): step = the row's largest |value| / 127."""
    matrix = matrix.astype(np.float32)
    steps = (np.abs(matrix).max(axis=1) / INT8_LEVELS).astype(np.float32)
    inv = np.float32(1.0) / np.where(steps == 0, np.float32(1.0), steps)
    values = np.clip(np.rint(matrix * inv[:, None]), -127, 127)
    values[steps == 0] = 0
    return values.astype(np.int8), steps


def int8_decode(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) * steps[:, None]


def pq_encode(matrix: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """uint8 [n, M]: the nearest centroid (squared L2 summed in float32 in coordinate
    order, first on ties) of each subvector."""
    m, k, dsub = codebook.shape
    codes = np.empty((matrix.shape[0], m), dtype=np.uint8)
    for j in range(m):
        sub = matrix[:, j * dsub:(j + 1) * dsub].astype(np.float32)
        dist = np.zeros((len(sub), k), dtype=np.float32)
        for t in range(dsub):
            diff = sub[:, t:t + 1] - codebook[j][None, :, t]
            dist += diff * diff
        codes[:, j] = dist.argmin(axis=1)
    return codes


def pq_decode(codes: np.ndarray, codebook: np.ndarray, norm_codes=None, norm_codebook=None) -> np.ndarray:
    m = codebook.shape[0]
    out = np.concatenate([codebook[j][codes[:, j]] for j in range(m)], axis=1).astype(np.float32)
    if norm_codes is not None:
        out *= norm_codebook[norm_codes][:, None]
    return out


def cluster_means(points: np.ndarray, codes: np.ndarray, k: int) -> dict[int, np.ndarray]:
    """The mean of the points of each non-empty cluster (k-means' M step)."""
    return {c: points[codes == c].astype(np.float64).mean(axis=0) for c in range(k) if (codes == c).any()}


# ---------------------------------------------------------------------- fastText's layout
# fastText's ProductQuantizer keeps the centroids in one flat float array; subvector m's
# centroid i starts at (m * 256 + i) * dsub, except the last subvector's (of lastdsub
# values when dsub does not divide dim): at m * 256 * dsub + i * lastdsub.
def ft_centroid(centroids: np.ndarray, dim: int, dsub: int, m: int, i: int) -> np.ndarray:
    nsubq = -(-dim // dsub)
    lastdsub = dim - (nsubq - 1) * dsub
    if m == nsubq - 1:
        start = m * 256 * dsub + i * lastdsub
        return centroids[start:start + lastdsub]
    start = (m * 256 + i) * dsub
    return centroids[start:start + dsub]


def ft_compute_codes(matrix: np.ndarray, centroids: np.ndarray, dsub: int) -> np.ndarray:
    """fastText's compute_code per row: the first nearest centroid of each subvector."""
    n, dim = matrix.shape
    nsubq = -(-dim // dsub)
    codes = np.empty((n, nsubq), dtype=np.uint8)
    for m in range(nsubq):
        book = np.stack([ft_centroid(centroids, dim, dsub, m, i) for i in range(256)])
        sub = matrix[:, m * dsub:m * dsub + book.shape[1]].astype(np.float32)
        dist = np.zeros((n, 256), dtype=np.float32)
        for t in range(book.shape[1]):
            diff = sub[:, t:t + 1] - book[None, :, t]
            dist += diff * diff
        codes[:, m] = dist.argmin(axis=1)
    return codes


def ft_decode(codes: np.ndarray, centroids: np.ndarray, dim: int, dsub: int,
              norm_codes=None, norm_centroids=None) -> np.ndarray:
    """fastText's addcode of each row into a zero vector (alpha = the row's norm)."""
    out = np.zeros((codes.shape[0], dim), dtype=np.float32)
    for r in range(codes.shape[0]):
        alpha = np.float32(1) if norm_codes is None else norm_centroids[norm_codes[r]]
        for m in range(codes.shape[1]):
            c = ft_centroid(centroids, dim, dsub, m, int(codes[r, m]))
            for t in range(len(c)):
                out[r, m * dsub + t] += np.float32(alpha * c[t])
    return out


def ft_select_embeddings(matrix: np.ndarray, eos: int, cutoff: int) -> list[int]:
    """fastText's selectEmbeddings: </s> first, then rows by descending L2 norm."""
    norms = [float(np.sqrt((matrix[i].astype(np.float64) ** 2).sum())) for i in range(len(matrix))]
    rest = sorted((i for i in range(len(matrix)) if i != eos), key=lambda i: (-norms[i], i))
    return ([eos] if eos >= 0 else []) + rest[:cutoff - (1 if eos >= 0 else 0)]
