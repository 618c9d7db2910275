"""A model's vocabulary read in place from its file: ``load(path, mmap=True)``.

An eager load makes a Python string of every word, a list and a dict over them (about
1.3 s and 250 MB for a million words: docs/memory.md). A mapped model instead keeps
the archive's ``vocab.txt`` bytes where they are (memory-mapped, read-only) with where
each line starts and where its word ends: ``vocab_offsets.npy``, which model files
store (mapped too: opening reads nothing), or, for a file without it, found in a few
array operations over the bytes (about 0.1 s a million words). A word is looked up by
comparing its UTF-8 bytes with the lines of the same length and last byte (array
operations: 2-10 ms on a million words, 30-60 ms for the first, which measures every
line); a row's word is decoded when asked for; the counts are parsed
from their digits when first read. After :data:`DICT_AFTER_LOOKUPS` distinct words
(a benchmark, a stream of words) the word -> row dict is built once, as an eager load
builds it.

Checks: a scanned vocabulary is checked at open as the eager parser's fast path checks
it (every line one word, one space, a count; no other whitespace); stored offsets are
checked at their ends at open and word by word when read. A count that is not a number
is an error when the counts are first read, a word listed twice when the dict is built
(until then a lookup finds its first line, as LazyVectors does); each one line naming
the file. The CRC-32 of the member is not checked (that would read every byte, as for
the mapped matrices).

Only a vocabulary in exactly the form embedtrain writes, valid UTF-8 and without
Unicode whitespace in a word, takes this path: :func:`map_vocab` returns None for
anything else, which the caller then parses eagerly (Vocab.parse: the same words,
rows and counts, or the error with its line number).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Iterator

import numpy as np

from .errors import EmbedtrainError
from .vocab import Vocab

# Lookups answered by comparing bytes (5-15 ms each on a million words)
# before the word -> row dict is built (about a second on a million words).
DICT_AFTER_LOOKUPS = 50
# Counts of more digits than this could overflow int64: such a file is parsed eagerly.
MAX_COUNT_DIGITS = 18
# Characters str.split() splits on that are not ASCII (the eager parser splits on them).
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


class MappedWords(Sequence):
    """The words of a :class:`MappedVocab`, decoded when indexed (a list's reading
    methods; iterating decodes all of them once and keeps them)."""

    in_place = True  # LazyVectors keeps it as it is (no list)

    def __init__(self, vocab: "MappedVocab"):
        self._vocab = vocab
        self._all: list[str] | None = None

    def __len__(self) -> int:
        return len(self._vocab.seps)

    def __getitem__(self, i):
        if self._all is not None:
            return self._all[i]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        v = self._vocab
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("word index out of range")
        v.check_line(i)
        return bytes(v.blob[v.starts[i]:v.seps[i]]).decode("utf-8")

    def tolist(self) -> list[str]:
        """Every word, as a list (decoded once, then kept)."""
        if self._all is None:
            # checked at open: one space a line, no other whitespace
            parts = bytes(self._vocab.blob).decode("utf-8").split()
            if len(parts) != 2 * len(self):
                raise EmbedtrainError(f"{self._vocab.source}: damaged model file (vocab_offsets does "
                                      f"not fit vocab.txt)")
            self._all = parts[0::2]
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def __add__(self, other) -> list[str]:
        return self.tolist() + list(other)

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple, MappedWords)):
            return len(self) == len(other) and self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # as a list's

    def __repr__(self) -> str:
        return f"MappedWords({len(self)} words)"


class MappedIndex(Mapping):
    """word -> row of a :class:`MappedVocab` (a dict's reading methods): bytes compared
    with the lines of the same length and last byte, then, after :data:`DICT_AFTER_LOOKUPS` lookups,
    a dict."""

    def __init__(self, vocab: "MappedVocab"):
        self._vocab = vocab
        self._dict: dict[str, int] | None = None
        self._seen: dict[str, int | None] = {}  # the words looked up so far
        self._keys: np.ndarray | None = None

    def get(self, word, default=None):
        if not isinstance(word, str):
            return default
        if self._dict is None:
            if word in self._seen:  # a query asks for its words several times
                found = self._seen[word]
                return default if found is None else found
            if len(self._seen) >= DICT_AFTER_LOOKUPS:
                self.as_dict()
        if self._dict is not None:
            return self._dict.get(word, default)
        found = self._find(word)
        self._seen[word] = found
        return default if found is None else found

    def _find(self, word: str) -> int | None:
        default = None
        try:
            data = np.frombuffer(word.encode("utf-8"), dtype=np.uint8)
        except UnicodeEncodeError:  # a lone surrogate: in no UTF-8 file
            return default
        if not len(data):
            return default
        v = self._vocab
        try:
            if self._keys is None:  # each word's length and last byte, in one int64
                starts, seps = np.asarray(v.starts[:-1]), np.asarray(v.seps)
                self._keys = (seps - starts) * 256 + v.blob[seps - 1]
            rows = np.flatnonzero(self._keys == len(data) * 256 + int(data[-1]))
            for k in range(len(data) - 1):
                if not len(rows):
                    return default
                rows = rows[v.blob[v.starts[rows] + k] == data[k]]
        except IndexError:  # offsets beyond vocab.txt
            raise v.damaged() from None
        if not len(rows):
            return default
        v.check_line(int(rows[0]))
        return int(rows[0])

    def as_dict(self) -> dict[str, int]:
        """The word -> row dict (built once; a word listed twice raises EmbedtrainError)."""
        if self._dict is None:
            words = self._vocab.words.tolist()
            index = dict(zip(words, range(len(words))))
            if len(index) != len(words):
                raise EmbedtrainError(f"{self._vocab.source}: damaged model file (vocab.txt "
                                      f"lists a word twice)")
            self._dict = index
        return self._dict

    def __getitem__(self, word) -> int:
        i = self.get(word)
        if i is None:
            raise KeyError(word)
        return i

    def __contains__(self, word) -> bool:
        return self.get(word) is not None

    def __len__(self) -> int:
        return len(self._vocab.seps)

    def __iter__(self) -> Iterator[str]:
        return iter(self._vocab.words)

    def __repr__(self) -> str:
        return f"MappedIndex({len(self)} words)"


class MappedVocab(Vocab):
    """A :class:`Vocab` over the bytes of ``word count`` lines left in place (a
    memory-mapped member of a model file): ``words`` a :class:`MappedWords`, ``index``
    a :class:`MappedIndex`, ``counts`` parsed when first read. Built by :func:`map_vocab`."""

    def __init__(self, blob: np.ndarray, starts: np.ndarray, seps: np.ndarray, source: str):
        self.blob, self.starts, self.seps, self.source = blob, starts, seps, source
        self._counts: np.ndarray | None = None
        self.words = MappedWords(self)
        self.index = MappedIndex(self)
        self.unkept = None

    def damaged(self, where: str = "") -> EmbedtrainError:
        return EmbedtrainError(f"{self.source}: damaged model file (vocab_offsets does not fit "
                               f"vocab.txt{where})")

    def check_line(self, i: int) -> None:
        """Line ``i``'s word bounds are a line start and a space (stored offsets are
        checked word by word, when read); a damaged model file otherwise."""
        start, sep = int(self.starts[i]), int(self.seps[i])
        blob = self.blob
        if not (0 <= start < sep < len(blob) and blob[sep] == 32 and (start == 0 or blob[start - 1] == 10)
                and not (blob[start:sep] < 33).any()):
            raise self.damaged(f" at line {i + 1}")

    @property
    def unkept(self):
        """The words not kept, with their counts (Vocab.unkept), read from the file when
        first asked for (``--continue``, saving): there may be millions of them."""
        if callable(self._unkept):
            self._unkept = self._unkept()
        return self._unkept

    @unkept.setter
    def unkept(self, value) -> None:
        """None, the words, or a function that reads them."""
        self._unkept = value

    @property
    def counts(self) -> np.ndarray:
        """int64 [V], parsed from the lines' digits when first read."""
        if self._counts is None:
            try:
                self._counts = _parse_counts(self.blob, self.seps, self.starts[1:] - 1, self.source)
            except IndexError:  # offsets beyond vocab.txt
                raise self.damaged() from None
        return self._counts

    def __repr__(self) -> str:
        return f"MappedVocab({len(self)} words)"


def _parse_counts(blob: np.ndarray, seps: np.ndarray, newlines: np.ndarray, source: str) -> np.ndarray:
    """int64: the number between each space and newline (at most MAX_COUNT_DIGITS
    digits, checked at open); a byte that is not a digit raises EmbedtrainError."""
    digits = newlines - seps - 1
    if len(seps) and not ((digits >= 1).all() and (digits <= MAX_COUNT_DIGITS).all()
                          and (blob[newlines] == 10).all()):
        raise EmbedtrainError(f"{source}: damaged model file (vocab_offsets does not fit vocab.txt)")
    counts = np.zeros(len(seps), dtype=np.int64)
    scale = np.int64(1)
    for k in range(int(digits.max(initial=0))):  # the k-th digit from the right, where there is one
        d = blob[newlines - 1 - k].astype(np.int64) - 48
        d[digits <= k] = 0
        if d.min(initial=0) < 0 or d.max(initial=0) > 9:
            line = int(np.flatnonzero((d < 0) | (d > 9))[0])
            text = bytes(blob[seps[line] + 1:newlines[line]]).decode("utf-8", errors="replace")
            raise EmbedtrainError(f"{source}: damaged model file (vocab.txt, line {line + 1}: "
                                  f"count {text[:20]!r} is not a whole number)")
        counts += d * scale
        scale *= 10
    return counts


def line_offsets(blob: np.ndarray) -> np.ndarray | None:
    """int64 [2, V + 1]: where each ``word count`` line of ``blob`` starts (row 0) and
    where its space is (row 1), each row ending in len(blob); None when the text is not exactly in the
    form embedtrain writes (one space a line between a word and 1 to MAX_COUNT_DIGITS
    digits' worth of bytes, newline-terminated, no other ASCII whitespace). What a model
    file stores as ``vocab_offsets.npy``, and what opening an older one computes."""
    n = blob.shape[0]
    if n == 0 or blob[n - 1] != 10:
        return None
    separators = np.flatnonzero(blob < 33)  # spaces, newlines, and nothing else there
    if len(separators) % 2:
        return None
    seps, newlines = separators[0::2], separators[1::2]
    if not ((blob[seps] == 32).all() and (blob[newlines] == 10).all()):
        return None
    out = np.empty((2, len(newlines) + 1), dtype=np.int64)
    out[0, 0] = 0
    out[0, 1:] = newlines + 1
    out[1, :-1] = seps
    out[1, -1] = n
    digits = newlines - seps - 1
    if not ((seps > out[0, :-1]).all() and (digits >= 1).all() and (digits <= MAX_COUNT_DIGITS).all()):
        return None  # an empty word or count, a count that may not fit in int64
    return out


def map_vocab(blob: np.ndarray, source: str, offsets: np.ndarray | None = None) -> MappedVocab | None:
    """The vocabulary of the ``word count`` lines in ``blob`` (uint8, e.g. a read-only
    view of a mapped file), left in place; None when the text is not exactly in the
    form embedtrain writes (the caller then parses it eagerly: the same result, or the
    error with its line number). ``offsets``: the file's ``vocab_offsets.npy`` (mapped:
    nothing is scanned; each word's bounds are checked when it is read), else they are
    found (:func:`line_offsets`, about 0.1 s on a million words). ``source`` names the
    file in later errors."""
    if offsets is None:
        offsets = line_offsets(blob)
        if offsets is None:
            return None
    elif (offsets.ndim != 2 or offsets.shape[0] != 2 or offsets.shape[1] < 2
          or offsets[0, 0] != 0 or offsets[0, -1] != len(blob) or offsets[1, -1] != len(blob)):
        raise EmbedtrainError(f"{source}: damaged model file (vocab_offsets does not fit vocab.txt)")
    if blob.max(initial=0) >= 128:
        try:
            text = bytes(blob).decode("utf-8")
        except UnicodeDecodeError:
            return None  # read eagerly, which replaces what is not UTF-8
        if _UNICODE_SPACE.search(text):
            return None
    return MappedVocab(blob, offsets[0], offsets[1, :-1], source)
