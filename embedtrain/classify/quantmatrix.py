"""fastText's QuantMatrix and ProductQuantizer (src/quantmatrix.cc, productquantizer.cc):
the rows of a quantised classifier (classify/quantization.py), in fastText's layout, which
allows a last subvector shorter than the others (``lastdsub``, when dsub does not divide
the dimension). The word-vector compression of quantization.py keeps equal subvectors
(its codebook is one [M, 256, dim / M] array); both learn their centroids with the same
kernels (kernels/quantize.py: k-means as fastText's, nearest-centroid codes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EmbedtrainError
from ..quantization import PQ_CENTROIDS, PQ_MAX_POINTS, PQ_NITER


@dataclass
class QuantMatrix:
    """A float32 [n, dim] matrix stored as fastText's QuantMatrix: ``codes`` uint8
    [n, nsubq] index the ``centroids`` float32 [dim * 256], laid out as fastText's
    ProductQuantizer keeps them (subquantizer m < nsubq - 1: centroid i at
    ``(m * 256 + i) * dsub``; the last: at ``m * 256 * dsub + i * lastdsub``). With qnorm,
    ``norm_codes`` uint8 [n] index ``norm_centroids`` float32 [256] and a row is its norm
    times its decoded direction (QuantMatrix::addRowToVector)."""

    codes: np.ndarray
    centroids: np.ndarray
    dim: int
    dsub: int
    norm_codes: np.ndarray | None = None
    norm_centroids: np.ndarray | None = None

    @property
    def nsubq(self) -> int:
        return -(-self.dim // self.dsub)

    @property
    def lastdsub(self) -> int:
        return self.dim - (self.nsubq - 1) * self.dsub

    @property
    def qnorm(self) -> bool:
        return self.norm_codes is not None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.codes.shape[0], self.dim)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.codes, self.centroids, self.norm_codes,
                                      self.norm_centroids) if a is not None)

    def check(self) -> str:
        """What is wrong with the arrays ("" if nothing)."""
        n = self.codes.shape[0] if self.codes.ndim == 2 else -1
        if self.dim < 1 or self.dsub < 1 or self.dsub > self.dim:
            return f"dim {self.dim} and dsub {self.dsub}"
        if self.codes.dtype != np.uint8 or self.codes.ndim != 2 or self.codes.shape[1] != self.nsubq:
            return f"codes of shape {self.codes.shape}, not [n, {self.nsubq}] bytes"
        if self.centroids.dtype != np.float32 or self.centroids.shape != (self.dim * PQ_CENTROIDS,):
            return f"{self.centroids.size} centroid values, not {self.dim * PQ_CENTROIDS}"
        if (self.norm_codes is None) != (self.norm_centroids is None):
            return "norm codes without norm centroids (or the reverse)"
        if self.norm_codes is not None:
            if self.norm_codes.dtype != np.uint8 or self.norm_codes.shape != (n,):
                return f"norm codes of shape {self.norm_codes.shape}, not [{n}]"
            if self.norm_centroids.dtype != np.float32 or self.norm_centroids.shape != (PQ_CENTROIDS,):
                return f"norm centroids of shape {self.norm_centroids.shape}, not [{PQ_CENTROIDS}]"
        if not np.isfinite(self.centroids).all() or (
                self.norm_centroids is not None and not np.isfinite(self.norm_centroids).all()):
            return "centroids hold NaN or infinite values, as a training run that diverged leaves them"
        return ""

    def codebooks(self) -> tuple[np.ndarray, np.ndarray]:
        """(head float32 [nsubq - 1, 256, dsub], last float32 [256, lastdsub]): views."""
        split = (self.nsubq - 1) * PQ_CENTROIDS * self.dsub
        head = self.centroids[:split].reshape(self.nsubq - 1, PQ_CENTROIDS, self.dsub)
        return head, self.centroids[split:].reshape(PQ_CENTROIDS, self.lastdsub)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """float32 [k, dim]: rows ``ids`` decoded, each value ``norm * centroid value``
        (the float32 product fastText's addcode adds)."""
        ids = np.asarray(ids, dtype=np.int64)
        codes = self.codes[ids]
        head, last = self.codebooks()
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        split = (self.nsubq - 1) * self.dsub
        if self.nsubq > 1:
            out[:, :split] = head[np.arange(self.nsubq - 1), codes[:, :-1]].reshape(len(ids), split)
        out[:, split:] = last[codes[:, -1]]
        if self.norm_codes is not None:
            out *= self.norm_centroids[self.norm_codes[ids]][:, None]
        return out

    def __getitem__(self, key) -> np.ndarray:
        return self.rows(np.arange(self.shape[0])[key])

    def __array__(self, dtype=None, copy=None):
        out = self.rows(np.arange(self.shape[0]))
        return out if dtype is None else out.astype(dtype)

    @classmethod
    def encode(cls, matrix: np.ndarray, dsub: int, qnorm: bool, seed: int) -> "QuantMatrix":
        """fastText's QuantMatrix(mat, dsub, qnorm) of float32 ``matrix`` [n, dim]."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        norm_codes = norm_centroids = None
        if qnorm:
            norms = np.sqrt((matrix.astype(np.float64) ** 2).sum(axis=1)).astype(np.float32)
            matrix = matrix / np.where(norms == 0, np.float32(1), norms)[:, None]
            norm_codes, norm_centroids = product_quantize(norms[:, None], 1, seed + 7919)
            norm_codes = np.ascontiguousarray(norm_codes[:, 0])
        codes, centroids = product_quantize(matrix, dsub, seed)
        return cls(codes, centroids, matrix.shape[1], dsub, norm_codes, norm_centroids)


def product_quantize(matrix: np.ndarray, dsub: int, seed: int, niter: int = PQ_NITER,
                     max_points: int = PQ_MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(codes uint8 [n, nsubq], centroids float32 [dim * 256] in fastText's layout) of
    float32 ``matrix`` [n, dim] (ProductQuantizer::train and compute_codes): k-means per
    subvector on at most ``max_points`` rows, drawn anew for each subvector as fastText does."""
    from ..kernels.quantize import kmeans, pq_encode

    n, dim = matrix.shape
    if n < PQ_CENTROIDS:
        raise EmbedtrainError(f"product quantisation needs at least {PQ_CENTROIDS} rows to learn "
                              f"its centroids; this matrix has {n:,}")
    nsubq = -(-dim // dsub)
    lastdsub = dim - (nsubq - 1) * dsub
    rng = np.random.default_rng(seed)
    centroids = np.empty(dim * PQ_CENTROIDS, dtype=np.float32)
    for m in range(nsubq):
        d = dsub if m < nsubq - 1 else lastdsub
        rows = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else slice(None)
        points = np.ascontiguousarray(matrix[rows, m * dsub:m * dsub + d])
        book = np.empty((PQ_CENTROIDS, d), dtype=np.float32)
        kmeans(points, book, niter, seed + m + 1)
        start = m * PQ_CENTROIDS * dsub
        centroids[start:start + PQ_CENTROIDS * d] = book.reshape(-1)
    q = QuantMatrix(np.zeros((0, nsubq), dtype=np.uint8), centroids, dim, dsub)
    head, last = q.codebooks()
    codes = np.empty((n, nsubq), dtype=np.uint8)
    split = (nsubq - 1) * dsub
    if nsubq > 1:
        head_codes = np.empty((n, nsubq - 1), dtype=np.uint8)
        pq_encode(np.ascontiguousarray(matrix[:, :split]), np.ascontiguousarray(head), head_codes)
        codes[:, :-1] = head_codes
    last_codes = np.empty((n, 1), dtype=np.uint8)
    pq_encode(np.ascontiguousarray(matrix[:, split:]), np.ascontiguousarray(last[None]), last_codes)
    codes[:, -1] = last_codes[:, 0]
    return codes, centroids
