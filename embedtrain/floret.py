"""floret's hashed rows: words and character n-grams in one table (spaCy's floret vectors).

floret (explosion/floret, a fork of fastText 0.9.2; ``-mode floret``) keeps no row per
word. A word wrapped in ``<`` ``>`` and each of its character n-grams (fastText's,
subwords.char_ngrams) is hashed with MurmurHash3_x64_128 over its UTF-8 bytes, seed
2166136261; the 128-bit result (two uint64, h1 and h2) gives up to four 32-bit keys,
``h1 & 0xffffffff``, ``h1 >> 32``, ``h2 & 0xffffffff``, ``h2 >> 32``, of which the first
``hash_count`` are used, each as row ``key % bucket`` of the one ``[bucket, dim]`` table
(floret's Dictionary::murmurhash and computeSubwords, src/dictionary.cc). A word's vector,
seen in training or not, is the mean of all those rows, duplicates included (floret's
FastText::getWordVector; spaCy's Vectors.get_batch in floret mode, which reads the same
table from a ``.floret`` file, io/floret.py).

The rows of a word, in floret's order: the whole ``<word>``'s ``hash_count`` rows, then
each n-gram's (by start position, then length; the whole ``<word>`` again when it has at
most ``maxn`` characters, as fastText lists it). spaCy lists the same n-grams by length,
then start: the same rows in another order, so the same mean up to float32 rounding. With
``minn`` 1 the two differ (spaCy counts the 1-grams ``<`` and ``>``, floret does not), and
with ``maxn`` 0 spaCy hashes empty strings: config.py refuses both with ``--floret``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

from .config import FLORET_MAX_HASH_COUNT as MAX_HASH_COUNT
from .kernels.options import HELPER_OPTIONS, KERNEL_OPTIONS
from .subwords import SubwordTable, _pack, _utf8, char_ngrams

# floret's Dictionary::MURMURHASH_SEED (the FNV-1a offset basis), written into the
# .floret header, where spaCy reads it.
FLORET_HASH_SEED = 2166136261
_C1 = np.uint64(0x87C37B91114253D5)
_C2 = np.uint64(0x4CF5AD432745937F)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_M5 = np.uint64(5)
_N1 = np.uint64(0x52DCE729)
_N2 = np.uint64(0x38495AB5)
_LOW32 = np.uint64(0xFFFFFFFF)
_CONTINUATION_MASK = 0xC0   # UTF-8: a byte 10xxxxxx continues a character
_CONTINUATION = 0x80


@njit(**HELPER_OPTIONS)
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(**HELPER_OPTIONS)
def _fmix(k):
    k ^= k >> np.uint64(33)
    k *= _FMIX1
    k ^= k >> np.uint64(33)
    k *= _FMIX2
    k ^= k >> np.uint64(33)
    return k


@njit(**HELPER_OPTIONS)
def _word64(data, at, n):
    """The little-endian uint64 of ``n`` (<= 8) bytes data[at:at+n]."""
    k = np.uint64(0)
    for b in range(n):
        k |= np.uint64(data[at + b]) << np.uint64(8 * b)
    return k


@njit(**HELPER_OPTIONS)
def murmurhash3_x64_128(data, begin, end, seed):
    """MurmurHash3_x64_128 (Austin Appleby, smhasher) of the bytes data[begin:end]
    (uint8 array) with a 32-bit ``seed``: (h1, h2) as uint64."""
    length = end - begin
    h1 = np.uint64(seed)
    h2 = np.uint64(seed)
    nblocks = length // 16
    for i in range(nblocks):
        at = begin + 16 * i
        k1 = _word64(data, at, 8)
        k2 = _word64(data, at + 8, 8)
        k1 *= _C1
        k1 = _rotl(k1, 31)
        k1 *= _C2
        h1 ^= k1
        h1 = _rotl(h1, 27)
        h1 += h2
        h1 = h1 * _M5 + _N1
        k2 *= _C2
        k2 = _rotl(k2, 33)
        k2 *= _C1
        h2 ^= k2
        h2 = _rotl(h2, 31)
        h2 += h1
        h2 = h2 * _M5 + _N2
    tail = begin + 16 * nblocks
    rest = length & 15
    if rest > 8:
        k2 = _word64(data, tail + 8, rest - 8)
        k2 *= _C2
        k2 = _rotl(k2, 33)
        k2 *= _C1
        h2 ^= k2
    if rest > 0:
        k1 = _word64(data, tail, min(rest, 8))
        k1 *= _C1
        k1 = _rotl(k1, 31)
        k1 *= _C2
        h1 ^= k1
    h1 ^= np.uint64(length)
    h2 ^= np.uint64(length)
    h1 += h2
    h2 += h1
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 += h2
    h2 += h1
    return h1, h2


@njit(**HELPER_OPTIONS)
def _hash_key(h1, h2, k):
    """The k-th 32-bit key (0..3) of a 128-bit hash, in floret's order."""
    if k == 0:
        return h1 & _LOW32
    if k == 1:
        return h1 >> np.uint64(32)
    if k == 2:
        return h2 & _LOW32
    return h2 >> np.uint64(32)


@njit(**HELPER_OPTIONS)
def _push_rows(data, begin, end, seed, hash_count, ubucket, rows, total, fill):
    if fill:
        h1, h2 = murmurhash3_x64_128(data, begin, end, seed)
        for k in range(hash_count):
            rows[total + k] = np.int32(_hash_key(h1, h2, k) % ubucket)
    return total + hash_count


@njit(**KERNEL_OPTIONS)
def _floret_rows(data, starts, minn, maxn, bucket, hash_count, seed, offsets, rows, fill):
    """Enumerate (fill=False: count) the floret rows of each wrapped word in ``data``.

    data     uint8 [*]     the words as UTF-8, each wrapped in '<' '>', back to back
    starts   int64 [n+1]   word i is data[starts[i]:starts[i+1]]
    offsets  int64 [n+1]   word i's rows are rows[offsets[i]:offsets[i+1]]
                           (written when fill=False, read when fill=True)
    rows     int32 [*]     written when fill=True: key % bucket for the first hash_count
                           keys of the whole word, then of each n-gram (floret's order)
    """
    n_words = starts.shape[0] - 1
    ubucket = np.uint64(bucket)
    total = 0
    for w in range(n_words):
        if fill:
            total = offsets[w]
        else:
            offsets[w] = total
        begin = starts[w]
        end = starts[w + 1]
        total = _push_rows(data, begin, end, seed, hash_count, ubucket, rows, total, fill)
        if maxn <= 0:
            continue
        for i in range(begin, end):
            if (data[i] & _CONTINUATION_MASK) == _CONTINUATION:
                continue
            j = i
            n = 1
            while j < end and n <= maxn:
                j += 1
                while j < end and (data[j] & _CONTINUATION_MASK) == _CONTINUATION:
                    j += 1
                if n >= minn and not (n == 1 and (i == begin or j == end)):
                    total = _push_rows(data, i, j, seed, hash_count, ubucket, rows, total, fill)
                n += 1
    if not fill:
        offsets[n_words] = total
    return total


def floret_table(words: Sequence[str], minn: int, maxn: int, bucket: int, hash_count: int,
                 seed: int = FLORET_HASH_SEED) -> SubwordTable:
    """Each word's rows of the ``[bucket, dim]`` floret table (CSR, floret's order)."""
    if bucket <= 0:
        raise ValueError("floret needs --bucket of at least 1")
    data, starts = _pack(words)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int32)
    args = (max(minn, 1), maxn, bucket, hash_count, np.uint64(seed))
    total = _floret_rows(data, starts, *args, offsets, empty, False)
    rows = np.empty(total, dtype=np.int32)
    _floret_rows(data, starts, *args, offsets, rows, True)
    return SubwordTable(offsets=offsets, rows=rows)


def floret_hashes(text: str, hash_count: int = MAX_HASH_COUNT, seed: int = FLORET_HASH_SEED) -> np.ndarray:
    """uint32 [hash_count]: the 32-bit keys of ``text`` (hashed as it is, no '<' '>')."""
    data = np.frombuffer(_utf8(text), dtype=np.uint8)
    h1, h2 = murmurhash3_x64_128(data, 0, len(data), np.uint64(seed))
    keys = [int(h1) & 0xFFFFFFFF, int(h1) >> 32, int(h2) & 0xFFFFFFFF, int(h2) >> 32]
    return np.array(keys[:hash_count], dtype=np.uint32)


def floret_strings(word: str, minn: int, maxn: int) -> list[str]:
    """The strings floret hashes for ``word``: ``<word>``, then its n-grams."""
    return ["<" + word + ">"] + (char_ngrams(word, minn, maxn) if maxn > 0 else [])
