"""Plain-Python references for floret (embedtrain/floret.py): MurmurHash3_x64_128 on Python
ints, and a word's table rows enumerated as spaCy's Vectors._get_ngrams does (by n-gram
length, then start), independent of the numba code and of fastText's enumeration."""
from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
C1, C2 = 0x87C37B91114253D5, 0x4CF5AD432745937F


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK64


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK64
    return k ^ (k >> 33)


def murmurhash3_x64_128(data: bytes, seed: int) -> tuple[int, int]:
    """smhasher's MurmurHash3_x64_128: (h1, h2)."""
    h1 = h2 = seed
    n = len(data)
    for i in range(n // 16):
        k1 = int.from_bytes(data[16 * i:16 * i + 8], "little")
        k2 = int.from_bytes(data[16 * i + 8:16 * i + 16], "little")
        h1 ^= (_rotl((k1 * C1) & MASK64, 31) * C2) & MASK64
        h1 = (_rotl(h1, 27) + h2) & MASK64
        h1 = (h1 * 5 + 0x52DCE729) & MASK64
        h2 ^= (_rotl((k2 * C2) & MASK64, 33) * C1) & MASK64
        h2 = (_rotl(h2, 31) + h1) & MASK64
        h2 = (h2 * 5 + 0x38495AB5) & MASK64
    tail = data[16 * (n // 16):]
    if len(tail) > 8:
        h2 ^= (_rotl((int.from_bytes(tail[8:], "little") * C2) & MASK64, 33) * C1) & MASK64
    if tail:
        h1 ^= (_rotl((int.from_bytes(tail[:8], "little") * C1) & MASK64, 31) * C2) & MASK64
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    return h1, h2


def keys(text: str, hash_count: int, seed: int) -> list[int]:
    h1, h2 = murmurhash3_x64_128(text.encode("utf-8"), seed)
    return [h1 & 0xFFFFFFFF, h1 >> 32, h2 & 0xFFFFFFFF, h2 >> 32][:hash_count]


def spacy_order_rows(word: str, minn: int, maxn: int, bucket: int, hash_count: int, seed: int) -> list[int]:
    """The table rows of ``word`` as spaCy lists them (``<word>``, then n-grams by length)."""
    key = "<" + word + ">"
    strings = [key] + [key[start:start + n] for n in range(minn, maxn + 1)
                       for start in range(0, len(key) - n + 1)]
    return [k % bucket for s in strings for k in keys(s, hash_count, seed)]


def mean_rows(table: np.ndarray, rows: list[int]) -> np.ndarray:
    """float64 mean of ``table``'s rows (duplicates counted)."""
    return table[np.asarray(rows, dtype=np.int64)].astype(np.float64).mean(axis=0)
