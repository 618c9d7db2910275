"""Token sources: what :func:`embedtrain.train` accepts as a corpus.

Every source is read exactly once, by :meth:`TokenSource.encode`, into a
:class:`~embedtrain.corpus.stream.RawCorpus` (provisional ids and counts in a
temporary file); from there on the drivers see only ids, whatever the source was.

- :class:`TextFiles`: paths (files, directories, ``-`` for stdin), as the CLI reads them.
- :class:`TokenLists`: any iterable of token lists (gensim's ``sentences``): a list of
  lists, a generator, a class with ``__iter__``. Iterated once.
- :class:`IdSequences`: ids made elsewhere (graph walks): blocks of int32 indices into a
  fixed list of words, ``SENTENCE_END`` between sequences.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import EmbedtrainError
from .stream import SENTENCE_END, RawBuilder, RawCorpus
from .text import encode

# Token lists are handed to the builder this many tokens at a time (bounds memory).
BLOCK_TOKENS = 1 << 20


@runtime_checkable
class TokenSource(Protocol):
    """Anything that can be read once into provisional ids."""

    def encode(self, *, lowercase: bool, max_line_tokens: int, tmp_dir: str | None) -> RawCorpus:
        ...


@dataclass(frozen=True)
class TextFiles:
    """Whitespace-tokenised text, a line a sentence (see :mod:`embedtrain.corpus.text`)."""

    paths: tuple[str, ...]
    read_ahead: bool = False  # read each next block on a helper thread (corpus/text.blocks_ahead)

    def encode(self, *, lowercase: bool, max_line_tokens: int, tmp_dir: str | None) -> RawCorpus:
        return encode(self.paths, lowercase=lowercase, max_line_tokens=max_line_tokens, tmp_dir=tmp_dir,
                      read_ahead=self.read_ahead)


class TokenLists:
    """An iterable of token lists, each a sentence. The same tokens give the same ids,
    the same vocabulary and (seeded, one thread) the same vectors as a text file with
    one sentence per line."""

    def __init__(self, sentences: Iterable[Sequence[str]]):
        self.sentences = sentences

    def encode(self, *, lowercase: bool, max_line_tokens: int, tmp_dir: str | None) -> RawCorpus:
        builder = RawBuilder(max_line_tokens, tmp_dir)
        tokens: list[str] = []
        lengths: list[int] = []
        try:
            for number, sentence in enumerate(self.sentences, start=1):
                if isinstance(sentence, (str, bytes)):
                    raise EmbedtrainError(
                        f"sentence {number} is a string, not a list of tokens (split it: "
                        f"text.split())")
                try:
                    words = [t.lower() for t in sentence] if lowercase else list(sentence)
                except (TypeError, AttributeError):
                    raise EmbedtrainError(f"sentence {number} is not a list of string tokens "
                                          f"(got {type(sentence).__name__})") from None
                if words and not all(isinstance(t, str) for t in words):
                    bad = next(t for t in words if not isinstance(t, str))
                    raise EmbedtrainError(f"sentence {number}: token {bad!r} is not a string")
                tokens.extend(words)
                lengths.append(len(words))
                if len(tokens) >= BLOCK_TOKENS:
                    builder.add(tokens, lengths)
                    tokens, lengths = [], []
            if lengths:
                builder.add(tokens, lengths)
            return builder.finish()
        except BaseException:
            builder.close()
            raise


class IdSequences:
    """Sequences of ids into ``words`` made elsewhere (e.g. random walks over a graph).

    ``blocks()`` yields int32 arrays of indices into ``words`` with ``SENTENCE_END``
    (-1) after every sequence; it is called once. Counts are taken from the ids, so
    ``Vocab.build`` applies ``min_count`` as for text; ties in count keep the order
    of ``words``.
    """

    def __init__(self, words: Sequence[str], blocks: Callable[[], Iterable[np.ndarray]]):
        self.words = list(words)
        self.blocks = blocks

    def encode(self, *, lowercase: bool, max_line_tokens: int, tmp_dir: str | None) -> RawCorpus:
        builder = RawBuilder(max_line_tokens, tmp_dir)
        n = len(self.words)
        try:
            counts = np.zeros(n, dtype=np.int64)
            for block in self.blocks():
                ids = np.asarray(block, dtype=np.int32)
                inside = ids[ids != SENTENCE_END]
                if len(inside) and (inside.min() < 0 or inside.max() >= n):
                    raise EmbedtrainError(f"id sequences hold ids outside 0..{n - 1}")
                counts += np.bincount(inside, minlength=n)
                builder.add_ids(ids)
            raw = builder.finish()
            raw.words = list(self.words)
            raw.counts = counts
            return raw
        except BaseException:
            builder.close()
            raise


def as_source(corpus: Any, read_ahead: bool = False) -> TokenSource:
    """The token source for what a user passed as ``corpus``.

    A path (str or PathLike) or a list/tuple of paths -> :class:`TextFiles` (reading a
    block ahead on a helper thread when ``read_ahead``: a run with several threads); a
    :class:`TokenSource` as it is; any other iterable -> :class:`TokenLists` (its
    items must be token lists).
    """
    if corpus is None:
        raise EmbedtrainError("no corpus given")
    if isinstance(corpus, (str, os.PathLike)):  # before TokenSource: str has an encode()
        return TextFiles((os.fspath(corpus),), read_ahead)
    if isinstance(corpus, bytes):
        raise EmbedtrainError("give the corpus path as a str, not bytes")
    if isinstance(corpus, TokenSource):
        return corpus
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return TextFiles(tuple(os.fspath(c) for c in corpus), read_ahead)
    if isinstance(corpus, (list, tuple)) and not corpus:
        raise EmbedtrainError("no corpus given (an empty list)")
    if isinstance(corpus, Iterable):
        return TokenLists(corpus)
    raise EmbedtrainError(f"cannot train on a {type(corpus).__name__}: give paths, an iterable of "
                          "token lists, or a token source")
