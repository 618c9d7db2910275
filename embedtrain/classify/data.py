"""fastText's supervised text format and its dictionary: reading labelled lines,
counting words and labels, and turning each line into the input rows and labels
the kernels train on.

A line holds whitespace-separated tokens; those starting with the label prefix
(``__label__``) are its labels, anywhere on the line; the others are its words.
Everything follows fastText 0.9.2's Dictionary (src/dictionary.cc) so that a model
exported to fastText's ``.bin`` predicts what we predict, and we predict what a
fastText ``.bin`` predicts:

* tokens are split on the bytes `` \\n\\r\\t\\v\\f\\0`` (Dictionary::readWord) and kept as
  bytes: words that are not valid UTF-8 hash as fastText hashes them;
* each line ends with the word ``</s>`` (Dictionary::EOS), which is in the
  vocabulary, has its own row and no character n-grams;
* a known word's rows are its own row, then (``maxn > 0``) its character n-gram rows;
  an unknown word has only its n-gram rows (none without ``maxn``); unknown labels
  are ignored (Dictionary::getLine, addSubwords);
* word n-grams: the 32-bit hashes of a line's words (known or not, ``</s>``
  included), each sign-extended to 64 bits, combined as ``h = h * 116049371 + next``
  (mod 2**64) and mapped to row ``nwords + h % bucket`` (Dictionary::addWordNgrams).

Where we differ: fastText sorts the dictionary with an unstable sort; we break ties
between equal counts by first appearance. A last line without a newline still ends
in ``</s>`` here (fastText's file reader stops at the end of the file instead).
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from ..errors import EmbedtrainError
from ..kernels.options import KERNEL_OPTIONS
from ..subwords import _fnv_step, _subword_rows, _U_BASIS

log = logging.getLogger("embedtrain")

EOS = b"</s>"
WORD_NGRAM_MULTIPLIER = np.uint64(116049371)   # Dictionary::addWordNgrams
# Bytes fastText's readWord treats as spaces besides Python's bytes.split() set.
NUL = b"\0"


def tokenize(line: bytes) -> list[bytes]:
    """The tokens of one line (without its newline), then ``</s>``."""
    if NUL in line:
        line = line.replace(NUL, b" ")
    toks = line.split()
    toks.append(EOS)
    return toks


def read_lines(path: str | os.PathLike, what: str = "input") -> list[bytes]:
    """The lines of ``path`` as bytes (one warning counts lines that are not UTF-8)."""
    p = Path(path)
    if p.is_dir():
        raise EmbedtrainError(f"{what} file {p} is a directory")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise EmbedtrainError(f"{what} file {p} does not exist") from None
    except PermissionError:
        raise EmbedtrainError(f"cannot read {what} file {p}: permission denied") from None
    return split_lines(data, str(p))


def split_lines(data: bytes, name: str) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        bad = 0
        for line in lines:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
        log.warning("%s: %s line%s not valid UTF-8; their bytes are used as they are (as fastText "
                    "does)", name, f"{bad:,}", " is" if bad == 1 else "s are")
    return lines


def show(token: bytes) -> str:
    """A token for display."""
    return token.decode("utf-8", errors="replace")


@dataclass
class Dictionary:
    """Words then labels, each sorted by descending count (fastText's Dictionary)."""

    words: list[bytes]
    word_counts: np.ndarray          # int64 [nwords]
    labels: list[bytes]
    label_counts: np.ndarray         # int64 [nlabels]
    ntokens: int                     # every token read, labels and </s> included
    label_prefix: bytes = b"__label__"
    word_index: dict = field(default_factory=dict, repr=False)
    label_index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.label_index = {w: i for i, w in enumerate(self.labels)}

    @property
    def nwords(self) -> int:
        return len(self.words)

    @property
    def nlabels(self) -> int:
        return len(self.labels)


def _sorted_by_count(counts: dict[bytes, int], min_count: int) -> tuple[list[bytes], np.ndarray]:
    # dicts keep first-appearance order; sorted() is stable: ties stay in that order
    items = sorted(((t, c) for t, c in counts.items() if c >= min_count), key=lambda tc: -tc[1])
    return [t for t, _ in items], np.array([c for _, c in items], dtype=np.int64)


def build_dictionary(token_lines: list[list[bytes]], label_prefix: bytes, min_count: int,
                     min_count_label: int) -> Dictionary:
    """Count words and labels (fastText's Dictionary::readFromFile and threshold)."""
    counts = Counter(chain.from_iterable(token_lines))   # first-appearance order kept
    words = {t: c for t, c in counts.items() if not t.startswith(label_prefix)}
    labels = {t: c for t, c in counts.items() if t.startswith(label_prefix)}
    ntokens = sum(counts.values())
    w, wc = _sorted_by_count(words, min_count)
    lab, lc = _sorted_by_count(labels, min_count_label)
    return Dictionary(w, wc, lab, lc, ntokens, label_prefix)


@dataclass
class Encoded:
    """Lines as the kernels read them (CSR): line i's input rows are
    ``rows[offsets[i]:offsets[i+1]]``, its labels ``labels[label_offsets[i]:label_offsets[i+1]]``,
    and it counts ``tokens[i]`` tokens towards the learning-rate schedule."""

    offsets: np.ndarray         # int64 [n+1]
    rows: np.ndarray            # int32
    label_offsets: np.ndarray   # int64 [n+1]
    labels: np.ndarray          # int32
    tokens: np.ndarray          # int64 [n]
    unlabelled: int = 0         # lines with words but no label (blank lines not counted)
    unseen_labels: dict = field(default_factory=dict)  # label -> count, labels the model lacks

    def __len__(self) -> int:
        return len(self.tokens)


def _pack(tokens: list[bytes], wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    parts = [b"<" + t + b">" for t in tokens] if wrap else tokens
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    if parts:
        np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)), out=starts[1:])
    return np.frombuffer(b"".join(parts), dtype=np.uint8), starts


@njit(**KERNEL_OPTIONS)
def _hashes(data, starts, out):
    """out[i] = fastText's hash of token i, sign-extended from int32 to 64 bits (uint64)."""
    for i in range(starts.shape[0] - 1):
        h = _U_BASIS
        for j in range(starts[i], starts[i + 1]):
            h = _fnv_step(h, data[j])
        if h >= np.uint64(0x80000000):
            h |= np.uint64(0xFFFFFFFF00000000)
        out[i] = h


def token_hashes(tokens: list[bytes]) -> np.ndarray:
    """uint64: each token's 32-bit FNV-1a hash as fastText keeps it (int32, widened)."""
    data, starts = _pack(tokens, wrap=False)
    out = np.empty(len(tokens), dtype=np.uint64)
    _hashes(data, starts, out)
    return out


def subword_rows(tokens: list[bytes], minn: int, maxn: int, bucket: int, row_base: int,
                 with_word: bool) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64, rows int32): each token's own row (``with_word``: row i) then its
    character n-gram rows ``row_base + hash % bucket`` (subwords.py's enumeration, on bytes)."""
    if maxn <= 0 or bucket <= 0:
        maxn = 0
    data, starts = _pack(tokens, wrap=True)
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int32)
    total = _subword_rows(data, starts, max(minn, 1), maxn, bucket, row_base, with_word,
                          offsets, empty, False)
    rows = np.empty(total, dtype=np.int32)
    _subword_rows(data, starts, max(minn, 1), maxn, bucket, row_base, with_word, offsets, rows, True)
    return offsets, rows


@njit(**KERNEL_OPTIONS)
def _line_rows(entries, line_offsets, entry_hash, table_offsets, table_rows, nwords, bucket,
               word_ngrams, out_offsets, out_rows, fill):
    """Count (fill=False) or write each line's input rows: its words' table rows, then
    its word n-gram rows (fastText's Dictionary::addWordNgrams).

    entries       int64 [T]    each word token's entry in the table
    line_offsets  int64 [n+1]  line i's word tokens are entries[line_offsets[i]:line_offsets[i+1]]
    entry_hash    uint64 [E]   each entry's word hash (sign-extended int32)
    out_offsets   int64 [n+1]  written when fill=False, read when fill=True
    out_rows      int32        written when fill=True
    """
    n = line_offsets.shape[0] - 1
    total = 0
    ubucket = np.uint64(bucket) if bucket > 0 else np.uint64(1)
    for i in range(n):
        if fill:
            total = out_offsets[i]
        else:
            out_offsets[i] = total
        a = line_offsets[i]
        b = line_offsets[i + 1]
        for p in range(a, b):
            e = entries[p]
            for r in range(table_offsets[e], table_offsets[e + 1]):
                if fill:
                    out_rows[total] = table_rows[r]
                total += 1
        if word_ngrams > 1 and bucket > 0:
            for p in range(a, b):
                h = entry_hash[entries[p]]
                q = p + 1
                while q < b and q < p + word_ngrams:
                    h = h * WORD_NGRAM_MULTIPLIER + entry_hash[entries[q]]
                    if fill:
                        out_rows[total] = np.int32(nwords + np.int64(h % ubucket))
                    total += 1
                    q += 1
    if not fill:
        out_offsets[n] = total
    return total


def _keep_rows(offsets: np.ndarray, rows: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets, rows) with only the rows where ``keep``."""
    line_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    out = np.zeros_like(offsets)
    np.cumsum(np.bincount(line_of[keep], minlength=len(offsets) - 1), out=out[1:])
    return out, rows[keep]


class LineEncoder:
    """Turns token lines into :class:`Encoded` for one dictionary and its settings."""

    def __init__(self, dictionary: Dictionary, minn: int, maxn: int, bucket: int, word_ngrams: int,
                 kept_buckets: np.ndarray | None = None):
        """``kept_buckets``: a pruned model's n-gram buckets (fastText's pruneidx): bucket
        ``kept_buckets[j]`` is row ``nwords + j``; the other buckets are dropped."""
        self.dictionary = dictionary
        self.minn, self.maxn, self.bucket, self.word_ngrams = minn, maxn, bucket, word_ngrams
        self.kept_buckets = None
        if kept_buckets is not None:  # sorted, for a binary search (a table of every bucket
            self.kept_order = np.argsort(kept_buckets, kind="stable")  # could be 2**31 long)
            self.kept_buckets = np.asarray(kept_buckets, dtype=np.int64)[self.kept_order]
        nwords = dictionary.nwords
        self.table_offsets, self.table_rows = subword_rows(dictionary.words, minn, maxn, bucket,
                                                           nwords, True)
        if EOS in dictionary.word_index:  # no n-grams for </s> (Dictionary::initNgrams)
            self._drop_ngrams(dictionary.word_index[EOS])
        self.hashes = token_hashes(dictionary.words)

    def _drop_ngrams(self, i: int) -> None:
        o, r = self.table_offsets, self.table_rows
        keep = np.ones(len(r), dtype=bool)
        keep[o[i] + 1:o[i + 1]] = False
        removed = o[i + 1] - o[i] - 1
        self.table_rows = r[keep]
        o = o.copy()
        o[i + 1:] -= removed
        self.table_offsets = o

    def _pruned(self, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """n-gram rows mapped through a pruned model's buckets; dropped buckets removed
        (fastText's Dictionary::pushHash)."""
        nwords = self.dictionary.nwords
        ngram = np.flatnonzero(rows >= nwords)
        buckets = rows[ngram].astype(np.int64) - nwords
        pos = np.searchsorted(self.kept_buckets, buckets)
        pos_ok = np.minimum(pos, max(len(self.kept_buckets) - 1, 0))
        found = (pos < len(self.kept_buckets)) & (self.kept_buckets[pos_ok] == buckets) \
            if len(self.kept_buckets) else np.zeros(len(buckets), dtype=bool)
        mapped = rows.copy()
        mapped[ngram] = -1
        mapped[ngram[found]] = nwords + self.kept_order[pos_ok[found]]
        return _keep_rows(offsets, mapped, mapped >= 0)

    def encode(self, token_lines: list[list[bytes]]) -> Encoded:
        d = self.dictionary
        prefix = d.label_prefix
        index, label_index = d.word_index, d.label_index
        nwords = d.nwords
        n = len(token_lines)
        flat = list(chain.from_iterable(token_lines))
        lengths = np.fromiter(map(len, token_lines), dtype=np.int64, count=n)
        # one code per distinct token: a word's table entry (>= 0), a known label
        # -(id + 2), a label the model lacks -1
        code: dict[bytes, int] = {}
        unknown: list[bytes] = []
        unseen_tokens: set[bytes] = set()
        for t in dict.fromkeys(flat):
            lid = label_index.get(t)
            if lid is not None:
                code[t] = -(lid + 2)
                continue
            e = index.get(t)
            if e is None:
                if t.startswith(prefix):
                    code[t] = -1
                    unseen_tokens.add(t)
                    continue
                e = nwords + len(unknown)
                unknown.append(t)
            code[t] = e
        codes = np.fromiter(map(code.__getitem__, flat), dtype=np.int64, count=len(flat))
        line_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
        is_word = codes >= 0
        is_label = codes <= -2
        any_label = np.bincount(line_of[codes < 0], minlength=n) > 0
        unlabelled = int(np.count_nonzero(~any_label & (lengths > 1)))
        unseen: dict[bytes, int] = {}
        if unseen_tokens:
            for t in flat:
                if t in unseen_tokens:
                    unseen[t] = unseen.get(t, 0) + 1
        entries = codes[is_word]
        lo = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(line_of[is_word], minlength=n), out=lo[1:])
        labels = (-codes[is_label] - 2).astype(np.int32)
        label_offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(line_of[is_label], minlength=n), out=label_offsets[1:])
        table_offsets, table_rows, hashes = self.table_offsets, self.table_rows, self.hashes
        if unknown:
            o, r = subword_rows(unknown, self.minn, self.maxn, self.bucket, nwords, False)
            table_offsets = np.concatenate([table_offsets, table_offsets[-1] + o[1:]])
            table_rows = np.concatenate([table_rows, r])
            hashes = np.concatenate([hashes, token_hashes(unknown)])
        out_offsets = np.zeros(n + 1, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int32)
        total = _line_rows(entries, lo, hashes, table_offsets, table_rows, nwords, self.bucket,
                           self.word_ngrams, out_offsets, empty, False)
        rows = np.empty(total, dtype=np.int32)
        _line_rows(entries, lo, hashes, table_offsets, table_rows, nwords, self.bucket,
                   self.word_ngrams, out_offsets, rows, True)
        if self.kept_buckets is not None:
            out_offsets, rows = self._pruned(out_offsets, rows)
        return Encoded(out_offsets, rows, label_offsets, labels, lengths, unlabelled, unseen)
