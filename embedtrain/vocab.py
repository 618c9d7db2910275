"""The vocabulary: words, counts, and the tables trainers draw from it.

Words are sorted by descending count; ties keep the order in which the words
first appeared in the corpus (gensim's order; word2vec.c's qsort leaves ties in
no defined order). Tables derived from the counts: keep-probabilities for
subsampling, an alias table for drawing noise words, and the Huffman tree for
hierarchical softmax.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .io.atomic import atomic_output
from .errors import EmbedtrainError
from .kernels.options import KERNEL_OPTIONS  # first: numba without SciPy/PyYAML (kernels/__init__.py)
from numba import njit  # noqa: E402


@dataclass
class HuffmanTree:
    """Codes and inner-node paths, flattened: word ``w`` uses ``offsets[w]:offsets[w+1]``.

    ``codes`` (uint8) are the branch bits from the root down to the word's leaf,
    ``points`` (int32) the inner nodes (rows of the output matrix, 0..V-2) passed.
    """

    offsets: np.ndarray
    codes: np.ndarray
    points: np.ndarray

    @classmethod
    def empty(cls, vocab_size: int) -> "HuffmanTree":
        """No paths at all: what kernels get when hierarchical softmax is off."""
        return cls(offsets=np.zeros(vocab_size + 1, np.int64), codes=np.zeros(0, np.uint8),
                   points=np.zeros(0, np.int32))

    def code(self, word_id: int) -> np.ndarray:
        return self.codes[self.offsets[word_id]:self.offsets[word_id + 1]]

    def path(self, word_id: int) -> np.ndarray:
        return self.points[self.offsets[word_id]:self.offsets[word_id + 1]]


@dataclass
class NoiseSampler:
    """Walker/Vose alias table for the distribution counts ** exponent.

    Draw: ``i = uniform int in [0, V)``; keep ``i`` if ``u < prob[i]`` else take
    ``alias[i]``. O(1) per draw with 8 bytes per word, where word2vec.c fills a
    100-million-entry (400 MB) unigram table.
    """

    prob: np.ndarray   # float32 [V]
    alias: np.ndarray  # int32 [V]

    @classmethod
    def from_counts(cls, counts: np.ndarray, exponent: float) -> "NoiseSampler":
        return cls.from_weights(np.asarray(counts, dtype=np.float64) ** exponent)

    @classmethod
    def from_weights(cls, weights: np.ndarray) -> "NoiseSampler":
        """The table drawing i with probability weights[i] / weights.sum()."""
        weights = np.asarray(weights, dtype=np.float64)
        prob, alias = _build_alias(weights / weights.sum() * len(weights))
        return cls(prob=prob, alias=alias)

    def probabilities(self) -> np.ndarray:
        """The distribution the table draws from."""
        n = len(self.prob)
        p = self.prob.astype(np.float64) / n
        np.add.at(p, self.alias, (1.0 - self.prob.astype(np.float64)) / n)
        return p

    def moved(self, own: int, gap: int) -> "NoiseSampler":
        """The same distribution with word w < ``own`` drawn as id ``V + gap + w`` instead
        (training/own_rows.py): ids w < own and the ``gap`` ids after the last word's are
        never drawn."""
        weights = self.probabilities()
        weights = np.concatenate([weights, np.zeros(gap), weights[:own]])
        weights[:own] = 0.0
        return NoiseSampler.from_weights(weights)


@dataclass
class WordCounts:
    """Words and their counts, no index (the words a vocabulary did not keep: there may be
    millions of them, and nothing looks one up)."""

    words: list[str]
    counts: np.ndarray   # int64 [n]

    def __len__(self) -> int:
        return len(self.words)

    def to_text(self) -> str:
        """``word count`` lines, as :meth:`Vocab.to_text`."""
        return "".join(f"{w} {c}\n" for w, c in zip(self.words, self.counts.tolist()))


class Vocab:
    """Words sorted by descending count, with a word -> id index."""

    def __init__(self, words: list[str], counts: np.ndarray):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        self.index = dict(zip(self.words, range(len(self.words))))  # as {w: i for ...}, twice as fast
        if len(self.index) != len(self.words):
            raise EmbedtrainError("the vocabulary lists a word twice")
        # The words counted but not kept (below --min-count, beyond --max-vocab) with their
        # counts, when known: a model keeps them so that continuing it on new text merges
        # counts exactly (merged); None when not recorded.
        self.unkept: WordCounts | Vocab | None = None

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words, {self.total_words} tokens)"

    @property
    def total_words(self) -> int:
        return int(self.counts.sum())

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, words: list[str], counts: np.ndarray, min_count: int = 5,
              max_vocab: int | None = None) -> "Vocab":
        """Keep words with count >= min_count, at most ``max_vocab`` of the most frequent.

        ``words`` must be in first-seen order: that order breaks ties in count.
        """
        counts = np.asarray(counts, dtype=np.int64)
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= min_count]
        if max_vocab is not None:
            order = order[:max_vocab]
        if len(order) == 0:
            if len(counts) == 0 or counts.sum() == 0:
                raise EmbedtrainError("the corpus is empty: no tokens were found")
            top = int(counts.max())
            raise EmbedtrainError(
                f"no word occurs at least {min_count} times (the most frequent occurs {top} "
                f"time{'s' if top != 1 else ''}); try a lower --min-count")
        vocab = cls([words[i] for i in order], counts[order])
        left = np.ones(len(counts), dtype=bool)
        left[order] = False
        left &= counts > 0
        vocab.unkept = WordCounts([words[i] for i in np.flatnonzero(left)], counts[left])
        return vocab

    def merged(self, words: list[str], counts: np.ndarray, min_count: int = 5,
               max_vocab: int | None = None) -> "Vocab":
        """This vocabulary grown by a new text's counts (``words`` in first-seen order):
        every word here stays, with its count plus the new text's; another word joins when
        its merged count (the new text's plus its count in :attr:`unkept`, the words this
        vocabulary's corpus had below --min-count) reaches ``min_count``, while the
        vocabulary has fewer than ``max_vocab`` words (the most frequent first). Sorted by
        descending merged count; ties keep this vocabulary's order, then the order of
        :attr:`unkept`, then the new words' first-seen order. The result's :attr:`unkept`
        holds the merged counts of the words left out. (gensim's ``build_vocab(update=True)``,
        which forgets the words below --min-count, so counts only the new text's for them.)"""
        counts = np.asarray(counts, dtype=np.int64)
        merged = self.counts.copy()
        others: dict[str, int] = {}
        if self.unkept is not None:
            others.update(zip(self.unkept.words, self.unkept.counts.tolist()))
        for word, count in zip(words, counts.tolist()):
            i = self.index.get(word)
            if i is not None:
                merged[i] += count
            else:
                others[word] = others.get(word, 0) + count
        other_words = list(others)
        other_counts = np.fromiter(others.values(), dtype=np.int64, count=len(others))
        joining = np.flatnonzero(other_counts >= min_count)
        if max_vocab is not None:
            room = max(max_vocab - len(self), 0)
            joining = np.sort(joining[np.argsort(-other_counts[joining], kind="stable")[:room]])
        all_words = self.words + [other_words[i] for i in joining]
        all_counts = np.concatenate([merged, other_counts[joining]])
        order = np.argsort(-all_counts, kind="stable")
        grown = Vocab([all_words[i] for i in order], all_counts[order])
        left = np.ones(len(other_words), dtype=bool)
        left[joining] = False
        grown.unkept = WordCounts([w for w, keep in zip(other_words, left) if keep], other_counts[left])
        return grown

    def restricted(self, min_count: int = 1, max_vocab: int | None = None) -> "Vocab":
        """This vocabulary re-sorted and trimmed (for a vocabulary read from a file)."""
        return Vocab.build(self.words, self.counts, min_count, max_vocab)

    # ------------------------------------------------------------------ tables
    def keep_prob(self, sample: float) -> np.ndarray:
        """float32 [V]: probability of keeping each occurrence under subsampling.

        word2vec.c's formula (Mikolov et al. 2013, section 2.3 as implemented):
        keep = (sqrt(c / t) + 1) * t / c with t = sample * total words, capped at 1.
        """
        if sample <= 0:
            return np.ones(len(self), dtype=np.float32)
        threshold = sample * self.total_words
        # A word of count 0 (a graph node that starts no walk, kept by --min-count 0)
        # never occurs, so its keep-probability does not matter: 1, without dividing by 0.
        c = np.maximum(self.counts.astype(np.float64), 1.0)
        keep = (np.sqrt(c / threshold) + 1.0) * threshold / c
        return np.minimum(keep, 1.0).astype(np.float32)

    def noise_sampler(self, exponent: float = 0.75) -> NoiseSampler:
        return NoiseSampler.from_counts(self.counts, exponent)

    def huffman(self) -> HuffmanTree:
        offsets, codes, points = _build_huffman(self.counts)
        return HuffmanTree(offsets=offsets, codes=codes, points=points)

    # ------------------------------------------------------------------ files
    def to_text(self) -> str:
        """``word count`` lines, most frequent first (word2vec's -save-vocab format)."""
        return "".join(f"{w} {c}\n" for w, c in zip(self.words, self.counts.tolist()))

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_text` to ``path``."""
        with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
            out.write(self.to_text())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocab":
        """Read ``word count`` lines (word2vec -save-vocab, GloVe vocab_count)."""
        p = Path(path)
        try:
            text = p.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise EmbedtrainError(f"vocabulary file {p} does not exist") from None
        except OSError as exc:
            raise EmbedtrainError(f"cannot read vocabulary file {p}: {exc.strerror or exc}") from None
        return cls.parse(text, str(p))

    @classmethod
    def parse(cls, text: str, source: str) -> "Vocab":
        """``word count`` lines; errors name ``source`` and the line."""
        fast = _parse_well_formed(cls, text)
        if fast is not None:
            return fast
        words: list[str] = []
        counts: list[int] = []
        seen: set[str] = set()
        for number, line in enumerate(text.split("\n"), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise EmbedtrainError(f"{source}, line {number}: expected 'word count', got {line[:60]!r}")
            try:
                count = int(parts[1])
            except ValueError:
                raise EmbedtrainError(f"{source}, line {number}: count {parts[1][:20]!r} is not a whole number") from None
            if count < 0:
                raise EmbedtrainError(f"{source}, line {number}: negative count {count}")
            if parts[0] in seen:
                raise EmbedtrainError(f"{source}, line {number}: word {parts[0]!r} is listed twice")
            seen.add(parts[0])
            words.append(parts[0])
            counts.append(count)
        if not words:
            raise EmbedtrainError(f"vocabulary file {source} lists no words")
        return cls(words, np.asarray(counts, dtype=np.int64))


# Bytes that str.split() takes for whitespace besides space and newline (ASCII).
_OTHER_SPACE_BYTES = np.array([9, 11, 12, 13, 28, 29, 30, 31], dtype=np.uint8)


def _parse_well_formed(cls, text: str):
    """The vocabulary of a text in exactly the form to_text writes (every line one word,
    one space, a count of digits; newline-terminated), checked and split in array
    operations: a million-word model opens in a fraction of a second (Model.load with
    mmap=True, docs/memory.md). None for anything else, which Vocab.parse then reads
    line by line and reports with the line's number (same result when both succeed)."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if not len(data) or data[-1] != 10 or np.isin(data, _OTHER_SPACE_BYTES).any():
        return None
    newlines = np.flatnonzero(data == 10)
    spaces = np.flatnonzero(data == 32)
    if len(spaces) != len(newlines):
        return None
    starts = np.concatenate(([0], newlines[:-1] + 1))
    if not ((spaces > starts).all() and (spaces + 1 < newlines).all()):
        return None  # the i-th space is inside the i-th line, with a word and a count around it
    parts = text.split()
    if len(parts) != 2 * len(newlines):
        return None  # other (Unicode) whitespace inside a word
    counts = parts[1::2]
    digits = "".join(counts)
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return cls(parts[0::2], np.array(list(map(int, counts)), dtype=np.int64))
    except (OverflowError, EmbedtrainError):  # a count beyond int64, a word listed twice
        return None


def _build_alias(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias method. ``scaled`` holds probabilities times V (mean 1). Returns
    (prob float32 [V], alias int32 [V])."""
    n = scaled.shape[0]
    prob = np.zeros(n, dtype=np.float32)
    alias = np.arange(n, dtype=np.int32)
    # the arrays are made here, not in the compiled loop: each allocation there
    # compiles numba's array constructors on a first run (issue 28)
    _fill_alias(np.array(scaled, dtype=np.float64), prob, alias, np.empty(n, dtype=np.int64),
                np.empty(n, dtype=np.int64))
    return prob, alias


@njit(**KERNEL_OPTIONS)
def _fill_alias(work, prob, alias, small, large):
    """:func:`_build_alias`'s loop: work float64 [n] (the scaled probabilities, overwritten),
    prob float32 [n] (zeros) and alias int32 [n] (0..n-1) filled in, small and large
    int64 [n] scratch."""
    n = work.shape[0]
    ns = 0
    nl = 0
    for i in range(n):
        if work[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = work[s]
        alias[s] = g
        work[g] = (work[g] + work[s]) - 1.0
        if work[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    for i in range(nl):
        prob[large[i]] = 1.0
    for i in range(ns):  # only rounding error leaves entries here
        prob[small[i]] = 1.0


@njit(**KERNEL_OPTIONS)
def _build_huffman(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """word2vec.c's linear-time Huffman construction over counts sorted descending.

    Leaves are 0..V-1, inner nodes V..2V-2 (root 2V-2); inner node ``V + k`` is
    row ``k`` of the output matrix.
    """
    v = counts.shape[0]
    total_nodes = 2 * v - 1
    count = np.empty(total_nodes, dtype=np.int64)
    for i in range(v):  # not count[:v] = counts: that compiles numba's shape-error message
        count[i] = counts[i]
    count[v:] = np.iinfo(np.int64).max // 4
    parent = np.zeros(total_nodes, dtype=np.int64)
    binary = np.zeros(total_nodes, dtype=np.uint8)
    pos1 = v - 1
    pos2 = v
    for a in range(v - 1):
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min1 = pos1
            pos1 -= 1
        else:
            min1 = pos2
            pos2 += 1
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min2 = pos1
            pos1 -= 1
        else:
            min2 = pos2
            pos2 += 1
        count[v + a] = count[min1] + count[min2]
        parent[min1] = v + a
        parent[min2] = v + a
        binary[min2] = 1
    lengths = np.zeros(v, dtype=np.int64)
    root = 2 * v - 2
    for a in range(v):
        b = a
        n = 0
        while b != root:
            n += 1
            b = parent[b]
        lengths[a] = n
    offsets = np.zeros(v + 1, dtype=np.int64)
    for a in range(v):
        offsets[a + 1] = offsets[a] + lengths[a]
    codes = np.zeros(offsets[v], dtype=np.uint8)
    points = np.zeros(offsets[v], dtype=np.int32)
    for a in range(v):
        n = lengths[a]
        b = a
        i = 0
        while b != root:
            # walking up from the leaf: fill from the end so codes run root -> leaf
            codes[offsets[a] + n - 1 - i] = binary[b]
            b = parent[b]
            points[offsets[a] + n - 1 - i] = b - v
            i += 1
    return offsets, codes, points
