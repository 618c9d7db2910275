"""Documents for doc2vec: each line a document (named by its line number from 0), or,
with ``doc_id``, the first token of each line its document's id (lines with the same
id form one document, gensim's TaggedDocument tags).

Unlike the token stream of the other models (read into a temporary file in chunks),
documents are held in memory: a list of each line's tokens, then int32 ids.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np

from ..errors import EmbedtrainError
from .stream import SENTENCE_END


@dataclass
class Documents:
    """Lines of tokens and the document each belongs to."""
    tags: list[str]              # document d's name
    lines: list[list[str]]       # each line's tokens (its id removed with doc_id)
    line_docs: np.ndarray        # int32 [lines]: the document of each line


def _text_lines(paths: list[str], lowercase: bool) -> Iterator[list[str]]:
    from .text import expand_sources, iter_blocks, tokenise_block

    for source in expand_sources(paths):
        pending: list[str] | None = None  # a line continued in the next block
        for block in iter_blocks(source):
            tokens, lengths, ends_open = tokenise_block(block, lowercase)
            pos = 0
            for i, n in enumerate(lengths):
                line = tokens[pos:pos + n]
                pos += n
                if pending is not None:
                    line = pending + line
                    pending = None
                if ends_open and i == len(lengths) - 1:
                    pending = line
                else:
                    yield line
        if pending is not None:
            yield pending


def read_documents(corpus: Any, doc_id: bool, lowercase: bool) -> Documents:
    """The documents of ``corpus``: a path, a list of paths (``-``: stdin) or any
    iterable of token lists."""
    if isinstance(corpus, (str, os.PathLike)):
        lines: Iterable[list[str]] = _text_lines([os.fspath(corpus)], lowercase)
    elif isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus):
        lines = _text_lines([os.fspath(c) for c in corpus], lowercase)
    else:
        lines = ([str(t).lower() if lowercase else str(t) for t in toks] for toks in corpus)
    tags: list[str] = []
    index: dict[str, int] = {}
    kept: list[list[str]] = []
    line_docs: list[int] = []
    for number, toks in enumerate(lines):
        if doc_id:
            if not toks:
                continue  # an empty line names no document
            tag, toks = toks[0], toks[1:]
        else:
            tag = str(number)
        d = index.get(tag)
        if d is None:
            d = index[tag] = len(tags)
            tags.append(tag)
        kept.append(list(toks))
        line_docs.append(d)
    if not tags:
        raise EmbedtrainError("the corpus is empty: no document was found")
    return Documents(tags, kept, np.asarray(line_docs, dtype=np.int32))


def encode_lines(lines: list[list[str]], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(int32 ids with SENTENCE_END after each line, int64 [lines + 1] offsets of each
    line's ids), words outside ``index`` dropped."""
    ids: list[int] = []
    offsets = [0]
    for toks in lines:
        ids.extend(i for i in (index.get(t, -1) for t in toks) if i >= 0)
        offsets.append(len(ids))
    return np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64)


def with_line_ends(ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tokens int32 with SENTENCE_END after each line, int64 [lines + 1] start of each
    line in them)."""
    n_lines = len(offsets) - 1
    tokens = np.empty(len(ids) + n_lines, dtype=np.int32)
    starts = offsets[:-1] + np.arange(n_lines)
    lengths = np.diff(offsets)
    mask = np.ones(len(tokens), dtype=bool)
    mask[starts + lengths] = False
    tokens[mask] = ids
    tokens[~mask] = SENTENCE_END
    return tokens, np.concatenate([starts, [len(tokens)]]).astype(np.int64)
