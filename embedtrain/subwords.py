"""fastText-compatible character n-grams and their hashing (Bojanowski et al. 2017, section 3.2).

A word is wrapped in ``<`` and ``>``; its n-grams are the substrings of ``minn`` to
``maxn`` characters (Unicode characters, not bytes). Each n-gram is hashed with
32-bit FNV-1a over its UTF-8 bytes and mapped to one of ``bucket`` rows. Everything
here follows fastText's ``Dictionary::computeSubwords`` and ``Dictionary::hash``
(src/dictionary.cc, fastText 0.9.2) exactly, so our n-gram rows line up with
fastText's and a model exported to its ``.bin`` format gives the same vectors:

* n-grams are enumerated by start position (UTF-8 continuation bytes are never a
  start), then by length 1..maxn, and kept from ``minn`` on. Duplicates are kept
  (``<aaaa>`` yields ``aaa`` twice), as fastText pushes them twice.
* the 1-grams ``<`` and ``>`` alone are never used (this matters only for minn=1);
  the whole ``<word>`` *is* an n-gram when it has at most ``maxn`` characters.
* the hash xors each byte *sign-extended* to 32 bits (``uint32_t(int8_t(c))``):
  fastText's historical quirk, kept by fastText for compatibility. Bytes >= 0x80
  (every byte of a non-ASCII character) hash differently from textbook FNV-1a.

In the input matrix ``[V + bucket, dim]`` (fastText's layout) word ``i`` is row
``i`` and n-gram bucket ``b`` is row ``V + b``. :func:`subword_table` gives each
word's rows as a CSR structure (``offsets`` int64 [V+1], ``rows`` int32) for the
kernels: the word's own row first, then its n-gram rows in fastText's order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .kernels.options import HELPER_OPTIONS, KERNEL_OPTIONS  # first: numba without SciPy/PyYAML
from numba import njit  # noqa: E402

BOW = "<"   # begin-of-word marker (fastText's Dictionary::BOW)
EOW = ">"   # end-of-word marker (Dictionary::EOW)
FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
_MASK_32 = 0xFFFFFFFF
_CONTINUATION_MASK = 0xC0   # UTF-8: a byte 10xxxxxx continues a character
_CONTINUATION = 0x80
# numba scalar arithmetic widens to 64 bits, so the hash lives in a uint64 masked to 32 bits.
_U32 = np.uint64(_MASK_32)
_SIGN_EXTEND = np.uint64(0xFFFFFF00)  # int8 -> uint32 of a byte >= 0x80 sets the top 24 bits
_U_BASIS = np.uint64(FNV_OFFSET_BASIS)
_U_PRIME = np.uint64(FNV_PRIME)


def _utf8(word: str) -> bytes:
    # surrogatepass: a lone surrogate (possible in a Python str, never in decoded
    # text) still becomes bytes instead of an exception.
    return word.encode("utf-8", errors="surrogatepass")


# --------------------------------------------------------------------------- plain Python

def fnv1a_32(data: bytes) -> int:
    """fastText's 32-bit FNV-1a of ``data``, with its signed-byte quirk."""
    h = FNV_OFFSET_BASIS
    for byte in data:
        signed = byte - 256 if byte >= 0x80 else byte
        h = ((h ^ (signed & _MASK_32)) * FNV_PRIME) & _MASK_32
    return h


def char_ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """The n-grams of ``<word>`` that fastText uses, in fastText's order."""
    wrapped = BOW + word + EOW
    size = len(wrapped)
    out = []
    for i in range(size):
        for n in range(1, maxn + 1):
            if i + n > size:
                break
            if n >= minn and not (n == 1 and (i == 0 or i + n == size)):
                out.append(wrapped[i:i + n])
    return out


# --------------------------------------------------------------------------- compiled

@njit(**HELPER_OPTIONS)
def _fnv_step(h, byte):
    """One FNV-1a step on a uint64 holding a 32-bit hash; ``byte`` is sign-extended."""
    b = np.uint64(byte)
    if b >= np.uint64(0x80):
        b |= _SIGN_EXTEND
    return ((h ^ b) * _U_PRIME) & _U32


@njit(**KERNEL_OPTIONS)
def _subword_rows(data, starts, minn, maxn, bucket, row_base, with_word, offsets, rows, fill):
    """Enumerate (fill=False: count) the rows of each wrapped word in ``data``.

    data     uint8 [*]     the words as UTF-8, each wrapped in '<' '>', back to back
    starts   int64 [n+1]   word i is data[starts[i]:starts[i+1]]
    offsets  int64 [n+1]   written: word i's rows are rows[offsets[i]:offsets[i+1]]
                           (read when fill=True, written when fill=False)
    rows     int32 [*]     written when fill=True: i (if with_word), then row_base + hash % bucket
    The hash is updated byte by byte: FNV-1a of a longer n-gram continues from
    the state of its prefix, so each start position is hashed in one pass.
    """
    n_words = starts.shape[0] - 1
    ubucket = np.uint64(bucket) if bucket > 0 else np.uint64(1)
    total = 0
    for w in range(n_words):
        if fill:
            total = offsets[w]
        else:
            offsets[w] = total
        if with_word:
            if fill:
                rows[total] = w
            total += 1
        begin = starts[w]
        end = starts[w + 1]
        for i in range(begin, end):
            if (data[i] & _CONTINUATION_MASK) == _CONTINUATION:
                continue
            h = _U_BASIS
            j = i
            n = 1
            while j < end and n <= maxn:
                # one character: its first byte, then its continuation bytes
                h = _fnv_step(h, data[j])
                j += 1
                while j < end and (data[j] & _CONTINUATION_MASK) == _CONTINUATION:
                    h = _fnv_step(h, data[j])
                    j += 1
                if n >= minn and not (n == 1 and (i == begin or j == end)):
                    if fill:
                        rows[total] = np.int32(row_base + np.int64(h % ubucket))
                    total += 1
                n += 1
    if not fill:
        offsets[n_words] = total
    return total


@dataclass(frozen=True)
class SubwordTable:
    """Rows of the input matrix that make up each word's representation (CSR)."""

    offsets: np.ndarray  # int64 [n+1]
    rows: np.ndarray     # int32 [offsets[-1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, i: int) -> np.ndarray:
        return self.rows[self.offsets[i]:self.offsets[i + 1]]


def _pack(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [b"<" + _utf8(w) + b">" for w in words]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    if encoded:
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return data, starts


def subword_table(words: Sequence[str], minn: int, maxn: int, bucket: int,
                  row_base: int | None = None, with_word: bool = True) -> SubwordTable:
    """Each word's input rows: its own row ``i`` (when ``with_word``), then
    ``row_base + hash(ngram) % bucket`` for each n-gram (``row_base`` defaults to
    ``len(words)``: fastText's layout). ``maxn == 0`` or ``bucket == 0`` means no
    n-grams."""
    if row_base is None:
        row_base = len(words)
    if maxn <= 0 or bucket <= 0:
        maxn = 0
    data, starts = _pack(words)
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int32)
    total = _subword_rows(data, starts, max(minn, 1), maxn, bucket, row_base, with_word,
                          offsets, empty, False)
    rows = np.empty(total, dtype=np.int32)
    _subword_rows(data, starts, max(minn, 1), maxn, bucket, row_base, with_word, offsets, rows, True)
    return SubwordTable(offsets=offsets, rows=rows)


def ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> np.ndarray:
    """int32: ``hash(ngram) % bucket`` for each n-gram of ``word`` (fastText's order)."""
    return subword_table([word], minn, maxn, bucket, row_base=0, with_word=False).rows


def ngram_hashes(word: str, minn: int, maxn: int) -> np.ndarray:
    """uint32: the full 32-bit hash of each n-gram of ``word`` (fastText's order)."""
    return np.array([fnv1a_32(_utf8(g)) for g in char_ngrams(word, minn, maxn)], dtype=np.uint32)
