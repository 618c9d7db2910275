"""Per-worker random numbers inside kernels: SplitMix64 on an explicit uint64 state.

Each worker thread owns a state; a kernel takes it as a one-element uint64 array,
works on a local copy and writes it back. All arithmetic stays in uint64 (numba
turns uint64 mixed with int64 into float64). SplitMix64 (Steele, Lea and Flood
2014) has good high and low bits, so one draw yields both an index and a uniform
fraction, where word2vec.c's LCG needs one draw for each.
"""
import numpy as np
from numba import njit

from .options import HELPER_OPTIONS, KERNEL_OPTIONS

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
SHIFT_30 = np.uint64(30)
SHIFT_27 = np.uint64(27)
SHIFT_31 = np.uint64(31)
SHIFT_32 = np.uint64(32)
LOW_24_BITS = np.uint64(0xFFFFFF)
INV_2_24 = np.float32(1.0 / (1 << 24))


@njit(**HELPER_OPTIONS)
def next_state(state):
    """Advance the state; returns (new state, 64 random bits)."""
    state = state + GOLDEN_GAMMA
    z = state
    z = (z ^ (z >> SHIFT_30)) * MIX_1
    z = (z ^ (z >> SHIFT_27)) * MIX_2
    return state, z ^ (z >> SHIFT_31)


@njit(**HELPER_OPTIONS)
def below(bits, n):
    """An integer in [0, n) from the high 32 bits (Lemire's multiply-shift, no division)."""
    return np.int64(((bits >> SHIFT_32) * np.uint64(n)) >> SHIFT_32)


@njit(**HELPER_OPTIONS)
def fraction(bits):
    """A float32 in [0, 1) from the low 24 bits."""
    return np.float32(bits & LOW_24_BITS) * INV_2_24


MASK_64 = (1 << 64) - 1


def next_state_py(state: int) -> tuple[int, int]:
    """:func:`next_state` on Python ints (seeding, and the test reference)."""
    state = (state + int(GOLDEN_GAMMA)) & MASK_64
    z = state
    z = ((z ^ (z >> 30)) * int(MIX_1)) & MASK_64
    z = ((z ^ (z >> 27)) * int(MIX_2)) & MASK_64
    return state, z ^ (z >> 31)


def seed_states(seed: int, n: int) -> list[np.ndarray]:
    """Independent starting states for ``n`` workers (SplitMix64 seeding)."""
    out = []
    state = seed & MASK_64
    for _ in range(n):
        state, bits = next_state_py(state)
        out.append(np.array([bits], dtype=np.uint64))
    return out


@njit(**HELPER_OPTIONS)
def _fill_row(row, state, lowf, scale):
    """row[:] = lowf + scale * 24-bit uniforms, two from each 64-bit draw (the last
    draw of an odd-length row gives one). Returns the state after the row's draws."""
    dim = row.shape[0]
    mask = np.uint64(0xFFFFFF)
    for k in range(0, dim - 1, 2):
        state, bits = next_state(state)
        row[k] = lowf + scale * np.float32(bits >> np.uint64(40))
        row[k + 1] = lowf + scale * np.float32((bits >> np.uint64(8)) & mask)
    if dim % 2:
        state, bits = next_state(state)
        row[dim - 1] = lowf + scale * np.float32(bits >> np.uint64(40))
    return state


@njit(**KERNEL_OPTIONS)
def uniform_fill(matrix, first_row, last_row, low, high, seed):
    """matrix[first_row:last_row] = uniform floats in [low, high), from SplitMix64
    seeded with ``seed`` (uint64), so the values do not depend on the thread count.

    matrix float32 [R, dim], written in place.
    """
    state = np.uint64(seed)
    scale = np.float32((high - low) / (1 << 24))
    lowf = np.float32(low)
    for r in range(first_row, last_row):
        state = _fill_row(matrix[r], state, lowf, scale)


@njit(**KERNEL_OPTIONS)
def uniform_rows(out, row_ids, block_rows, low, high, seed):
    """out[i] = row ``row_ids[i]`` of the matrix that :func:`uniform_fill` writes when
    each block of ``block_rows`` rows starting at ``first`` is filled with the seed
    ``next_state(seed * GOLDEN_GAMMA + first)`` (training/fasttext.init_input_matrix),
    computed for that row alone: SplitMix64's state after n draws is the starting
    state plus n * GOLDEN_GAMMA, so a row's draws start in O(1).

    out float32 [n, dim], written; row_ids int64 [n]; seed uint64.
    """
    dim = out.shape[1]
    draws_per_row = np.uint64((dim + 1) // 2)
    scale = np.float32((high - low) / (1 << 24))
    lowf = np.float32(low)
    useed = np.uint64(seed)
    for i in range(row_ids.shape[0]):
        r = row_ids[i]
        first = (r // block_rows) * block_rows
        _, block_seed = next_state(useed * GOLDEN_GAMMA + np.uint64(first))
        state = block_seed + np.uint64(r - first) * draws_per_row * GOLDEN_GAMMA
        _fill_row(out[i], state, lowf, scale)
