"""Kernels of compressed vectors (quantization.py holds the formats; the plain-numpy
references live in tests/reference_quantize.py).

- int8: each row as int8 values and a float32 step per row (the row's largest
  magnitude / 127), the fixed point the Ray synchronisation sends rows in
  (:func:`kernels.sync._encode_row`, reused here): a value is off by at most half a
  step, 1/254 of the row's largest magnitude.
- product quantisation (PQ), as fastText's ``quantize`` (src/productquantizer.cc):
  the row is cut into M subvectors of ``dsub`` values; each subvector is replaced by
  the index (uint8) of the nearest of 256 centroids, learnt per subvector by k-means
  (Lloyd, ``niter`` rounds, first centroids a random sample of the points, an empty
  cluster split from a big one with a +-eps nudge, as fastText's MStep).

Shapes: ``matrix`` float32 [n, dim]; PQ ``codebook`` float32 [M, 256, dsub],
``codes`` uint8 [n, M]; int8 ``values`` int8 [n, dim], ``steps`` float32 [n].
"""
import numpy as np
from numba import njit, prange

from .options import ROW_OPTIONS
from .rng import below, fraction, next_state
from .sync import _decode_row, _encode_row

INT8_LEVELS = 127.0
CENTROIDS = 256
# fastText's ProductQuantizer::eps_: how far an empty cluster's copy is nudged.
SPLIT_EPS = 1e-7


@njit(**ROW_OPTIONS)
def int8_encode(matrix, values, steps):
    """Rows of ``matrix`` into ``values`` (int8 [n, dim]) and ``steps`` (float32 [n])."""
    for i in range(matrix.shape[0]):
        _encode_row(matrix[i], values, steps, i, INT8_LEVELS)


@njit(**ROW_OPTIONS)
def int8_decode(values, steps, rows, out):
    """Rows ``rows`` (int64 [k]) of an int8 matrix as float32 into ``out`` [k, dim]."""
    for j in range(rows.shape[0]):
        _decode_row(values, steps, rows[j], True, out[j])


@njit(**ROW_OPTIONS)
def _nearest(x, start, centroids_t, dist):
    """Index of the centroid nearest to x[start:start + d] (squared L2, float32 sums in
    coordinate order; the first on ties). ``centroids_t`` float32 [d, k]: the centroids
    transposed, so that the inner loop runs over k contiguous values (SIMD);
    ``dist`` float32 [k]: scratch."""
    d, k = centroids_t.shape
    dist[:] = 0
    for t in range(d):
        v = x[start + t]
        for c in range(k):
            diff = v - centroids_t[t, c]
            dist[c] += diff * diff
    best = 0
    best_dist = dist[0]
    for c in range(1, k):
        if dist[c] < best_dist:
            best_dist = dist[c]
            best = c
    return best


@njit(parallel=True, **ROW_OPTIONS)
def _assign(points, centroids, codes):
    """codes[i] = the centroid (float32 [k, d]) nearest to point i (float32 [n, d])."""
    centroids_t = np.ascontiguousarray(centroids.T)
    k = centroids.shape[0]
    for i in prange(points.shape[0]):
        dist = np.empty(k, dtype=np.float32)
        codes[i] = _nearest(points[i], 0, centroids_t, dist)


@njit(**ROW_OPTIONS)
def kmeans(points, centroids, niter, seed):
    """k-means of ``points`` (float32 [n, d], n >= k) into ``centroids`` (float32 [k, d],
    overwritten), fastText's scheme: k distinct random points as the first centroids,
    ``niter`` rounds of assignment then means; an empty cluster takes a copy of a cluster
    picked with probability growing with its size, nudged by +-SPLIT_EPS, and half its
    points. Returns the int32 cluster of each point (its last assignment)."""
    n, d = points.shape
    k = centroids.shape[0]
    state = np.uint64(seed)
    perm = np.arange(n)
    for i in range(k):  # partial Fisher-Yates: k distinct points
        state, bits = next_state(state)
        j = i + below(bits, n - i)
        perm[i], perm[j] = perm[j], perm[i]
        for t in range(d):
            centroids[i, t] = points[perm[i], t]
    codes = np.zeros(n, dtype=np.int32)
    counts = np.zeros(k, dtype=np.int64)
    sums = np.zeros((k, d), dtype=np.float64)
    for _ in range(niter):
        _assign(points, centroids, codes)
        counts[:] = 0
        sums[:] = 0.0
        for i in range(n):
            c = codes[i]
            counts[c] += 1
            for t in range(d):
                sums[c, t] += points[i, t]
        for c in range(k):
            if counts[c]:
                for t in range(d):
                    centroids[c, t] = sums[c, t] / counts[c]
        for c in range(k):
            if counts[c] == 0:
                m = 0
                while True:
                    state, bits = next_state(state)
                    if fraction(bits) * (n - k) < counts[m] - 1:
                        break
                    m = (m + 1) % k
                for t in range(d):
                    sign = (t % 2) * 2 - 1
                    centroids[c, t] = centroids[m, t] + sign * SPLIT_EPS
                    centroids[m, t] -= sign * SPLIT_EPS
                counts[c] = counts[m] // 2
                counts[m] -= counts[c]
    return codes


@njit(parallel=True, **ROW_OPTIONS)
def pq_encode(matrix, codebook, codes):
    """The PQ code of every row of ``matrix`` into ``codes`` (uint8 [n, M])."""
    n, dim = matrix.shape
    m_count, k, dsub = codebook.shape
    codebook_t = np.empty((m_count, dsub, k), dtype=np.float32)
    for m in range(m_count):
        codebook_t[m] = codebook[m].T
    for i in prange(n):
        dist = np.empty(k, dtype=np.float32)
        row = matrix[i]
        for m in range(m_count):
            codes[i, m] = _nearest(row, m * dsub, codebook_t[m], dist)


@njit(**ROW_OPTIONS)
def pq_decode(codes, codebook, rows, out):
    """Rows ``rows`` (int64 [k]) of a PQ matrix as float32 into ``out`` [k, M * dsub]."""
    m_count, _, dsub = codebook.shape
    for j in range(rows.shape[0]):
        r = rows[j]
        for m in range(m_count):
            c = codes[r, m]
            for t in range(dsub):
                out[j, m * dsub + t] = codebook[m, c, t]


@njit(**ROW_OPTIONS)
def pq_dot_tables(codebook, query):
    """float32 [M, 256]: the dot product of each centroid with its slice of ``query``."""
    m_count, k, dsub = codebook.shape
    out = np.zeros((m_count, k), dtype=np.float32)
    for m in range(m_count):
        for c in range(k):
            s = np.float32(0.0)
            for t in range(dsub):
                s += codebook[m, c, t] * query[m * dsub + t]
            out[m, c] = s
    return out


@njit(parallel=True, **ROW_OPTIONS)
def pq_dots(codes, tables, start, stop, out):
    """out[i - start] = row i . query for rows [start, stop), from ``tables``
    (pq_dot_tables of the query): M table lookups per row, no row decoded."""
    m_count = codes.shape[1]
    for i in prange(start, stop):
        s = np.float32(0.0)
        for m in range(m_count):
            s += tables[m, codes[i, m]]
        out[i - start] = s


@njit(parallel=True, **ROW_OPTIONS)
def rotate_back(rows, rotation):
    """rows @ rotation.T in place (float32 [k, dim]; ``rotation`` float32 [dim, dim]): a
    row coded after rotation decoded back, each value summed in coordinate order, so a
    row decodes to the same floats alone or in a batch."""
    k, dim = rows.shape
    for i in prange(k):
        row = rows[i].copy()
        for a in range(dim):
            s = np.float32(0.0)
            for b in range(dim):
                s += row[b] * rotation[a, b]
            rows[i, a] = s
