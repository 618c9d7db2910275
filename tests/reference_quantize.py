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
