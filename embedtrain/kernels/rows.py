"""Row primitives: a word's input is a list of rows of the input matrix (word2vec:
its own row; FastText: its own row and its character n-gram rows). These are the
few operations the hot loops do on such a list. Each takes the rows' length ``dim`` from
its caller (see kernels/losses.py)."""
import numpy as np
from numba import njit

from .memory import CACHE_LINE_FLOATS, prefetch
from .options import HELPER_OPTIONS


@njit(**HELPER_OPTIONS)
def mean_of_rows(input_vectors, rows, r0, r1, out, dim):
    """out = mean of input_vectors[rows[r0:r1]] (float32 [dim])."""
    for k in range(dim):
        out[k] = 0.0
    for r in range(r0, r1):
        row = rows[r]
        for k in range(dim):
            out[k] += input_vectors[row, k]
    scale = np.float32(1.0) / np.float32(r1 - r0)
    for k in range(dim):
        out[k] *= scale


@njit(**HELPER_OPTIONS)
def add_to_rows(input_vectors, rows, r0, r1, grad, dim):
    """input_vectors[rows[r]] += grad for r in [r0, r1) (rows of length ``dim``)."""
    for r in range(r0, r1):
        row = rows[r]
        for k in range(dim):
            input_vectors[row, k] += grad[k]


@njit(**HELPER_OPTIONS)
def prefetch_rows(input_vectors, rows, r0, r1, dim):
    """Start loading input_vectors[rows[r0:r1]] (rows of length ``dim``) into the cache (a
    hint; no effect on results)."""
    for r in range(r0, r1):
        row = rows[r]
        for k in range(0, dim, CACHE_LINE_FLOATS):
            prefetch(input_vectors, (row, k))
        prefetch(input_vectors, (row, dim - 1))  # a row need not start on a cache line
