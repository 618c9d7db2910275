"""One worker's part of the corpus: tokenised once on the worker's node, then made
into exactly the sentences a one-machine run would have.

A one-machine run (:func:`embedtrain.corpus.text.encode`) makes a sentence of every
line and cuts a line after every ``max_line_tokens`` tokens counted from the line's
start. A part may start or end inside a line (one-line corpora such as text8 are
nothing but that), so a worker cannot place those cuts alone. The rule here:

* a sentence belongs to the part in which its first token lies;
* pass 1 (:func:`tokenise_part`) tokenises the part into provisional ids with a
  separator at every line end only, and reports how many tokens it has before its
  first line end (``head``) and after its last (``tail``);
* the driver (:func:`plan_sentences`) walks the parts in order and works out, for
  each, how many tokens of its line came before it (``carried``), hence how many of
  its leading tokens finish a sentence begun in an earlier part (``fragment``), and
  which part that is (``owner``);
* pass 2 (:meth:`PartCorpus.fragment`, :meth:`PartCorpus.to_stream`): each part
  hands its leading fragment (at most ``max_line_tokens`` ids) to its owner, places
  the cuts with the right offset, and maps to vocabulary ids.

The streams of all parts, concatenated in order, equal the one-machine stream
(tests/test_distributed_parts.py checks it, including lines across cuts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..corpus.stream import SENTENCE_END, RawBuilder, RawCorpus, TokenStream, _StreamWriter
from ..corpus.text import _InvalidBytes, ascii_separated
from .split import Part, PieceEnds, iter_piece_blocks

# Pass 1 separates lines only: no line is cut (cuts need the line's start, see above).
NO_CUTS = 2**62


@dataclass(frozen=True)
class PartSummary:
    """What the driver needs from pass 1 of one part."""

    words: list[str]          # provisional words, first-seen order within the part
    counts: np.ndarray        # int64 occurrences of each
    n_tokens: int
    head_open: bool           # the part starts inside a line
    tail_open: bool           # the part ends inside a line (not at the end of a file)
    head: int                 # tokens before the part's first line end (all if none)
    tail: int                 # tokens after its last line end (all if none)
    closed: bool              # the part holds a line end
    invalid_bytes: int = 0


@dataclass(frozen=True)
class SentencePlan:
    """Pass 2 instructions for one part (from :func:`plan_sentences`)."""

    carried: int     # tokens of the part's first line that lie before the part
    fragment: int    # leading tokens that belong to a sentence begun earlier
    owner: int       # part that owns that sentence (-1 when fragment is 0)


class PartCorpus:
    """A part tokenised into provisional ids (pass 1), kept on its worker's node."""

    def __init__(self, raw: RawCorpus, summary: PartSummary, max_line_tokens: int):
        self.raw = raw
        self.summary = summary
        self.max_line_tokens = max_line_tokens
        self._remap: np.ndarray | None = None

    def set_vocab(self, vocab_index: dict[str, int]) -> None:
        remap = np.full(len(self.raw.words) + 1, -2, dtype=np.int32)  # last slot: SENTENCE_END
        for i, word in enumerate(self.raw.words):
            remap[i] = vocab_index.get(word, -2)
        remap[-1] = SENTENCE_END
        self._remap = remap

    def _map(self, entries: np.ndarray) -> np.ndarray:
        assert self._remap is not None, "set_vocab first"
        mapped = self._remap[entries]
        return mapped[mapped != -2]

    def fragment(self, n: int) -> np.ndarray:
        """Vocabulary ids of the first ``n`` tokens (they lie before any line end)."""
        if n == 0:
            return np.zeros(0, dtype=np.int32)
        first = next(self.raw.blocks(n))
        assert not (first == SENTENCE_END).any()
        return self._map(first[:n])

    def to_stream(self, plan: SentencePlan, appended: Sequence[np.ndarray] = (),
                  tmp_dir: str | None = None, job_tokens: int | None = None) -> TokenStream:
        """This part's sentences as vocabulary ids: its leading fragment removed, cuts
        placed from the line's true start, and the fragments of later parts that
        finish its last sentence ``appended``; jobs of about ``job_tokens`` entries
        (cut at sentence ends)."""
        m = self.max_line_tokens
        writer = _StreamWriter(tmp_dir, job_tokens)
        skip = plan.fragment
        line_pos = plan.carried if self.summary.head_open else 0  # tokens of the current line so far
        for block in self.raw.blocks():
            if skip:
                take = min(skip, len(block))
                block = block[take:]
                skip -= take
                line_pos += take
            if not len(block):
                continue
            entries, line_pos = _cut_lines(block, line_pos, m)
            writer.add(self._map(entries))
        if self.summary.tail_open:
            for ids in appended:
                writer.add(np.asarray(ids, dtype=np.int32))
        writer.add(np.array([SENTENCE_END], dtype=np.int32))
        return writer.finish()

    def close(self) -> None:
        self.raw.close()


def _cut_lines(block: np.ndarray, line_pos: int, m: int) -> tuple[np.ndarray, int]:
    """Insert SENTENCE_END after every token that is the m-th, 2m-th, ... of its line.

    ``block`` holds ids with SENTENCE_END at line ends; ``line_pos`` tokens of its
    first line came before it. Returns the entries and the tokens of the last line.
    """
    is_end = block == SENTENCE_END
    is_tok = ~is_end
    n = len(block)
    # position of each token within its line: count of tokens since the last line end
    tok_cum = np.cumsum(is_tok)
    last_end = np.maximum.accumulate(np.where(is_end, np.arange(n), -1))
    before_line = np.where(last_end >= 0, tok_cum[np.maximum(last_end, 0)], 0)
    pos = tok_cum - before_line + np.where(last_end >= 0, 0, line_pos)  # 1-based for tokens
    cut_after = np.flatnonzero(is_tok & (pos % m == 0))
    entries = np.insert(block, cut_after + 1, SENTENCE_END)
    new_pos = int(pos[-1]) if not is_end[-1] else 0
    return entries, new_pos


def tokenise_part(part: Part, *, lowercase: bool, max_line_tokens: int,
                  tmp_dir: str | None = None) -> PartCorpus:
    """Pass 1: the part's tokens as provisional ids, a separator at every line end.

    Tokenises exactly as :func:`~embedtrain.corpus.text.encode` does.
    """
    builder = RawBuilder(NO_CUTS, tmp_dir)
    _InvalidBytes.count = 0
    head_open = tail_open = False
    try:
        last = len(part.pieces) - 1
        for i, piece in enumerate(part.pieces):
            ends = PieceEnds()
            for block in iter_piece_blocks(piece, ends):
                builder.add_text(ascii_separated(block, lowercase))
            if i == 0:
                head_open = not ends.starts_line
            if i == last and not ends.at_eof and not ends.ends_line:
                tail_open = True  # the line goes on in the next part: leave it open
            else:
                builder.end_source()
        builder.ids_file.flush()
        words = builder.words()
        raw = RawCorpus(words=words, counts=builder.counts[: len(words)].copy(),
                        ids_file=builder.ids_file, n_entries=builder.n_entries,
                        n_tokens=builder.n_tokens, n_sentences=builder.n_sentences,
                        invalid_bytes=_InvalidBytes.count)
    except BaseException:
        builder.close()
        raise
    head, tail, closed = _line_ends(raw)
    summary = PartSummary(words=raw.words, counts=raw.counts, n_tokens=raw.n_tokens,
                          head_open=head_open, tail_open=tail_open, head=head, tail=tail,
                          closed=closed, invalid_bytes=raw.invalid_bytes)
    return PartCorpus(raw, summary, max_line_tokens)


def _line_ends(raw: RawCorpus) -> tuple[int, int, bool]:
    """(tokens before the first separator, tokens after the last, any separator?)."""
    head = tail = 0
    seen_end = False
    for block in raw.blocks():
        ends = np.flatnonzero(block == SENTENCE_END)
        if not len(ends):
            if not seen_end:
                head += len(block)
            tail += len(block)
            continue
        if not seen_end:
            head += int(ends[0])
            seen_end = True
        tail = len(block) - int(ends[-1]) - 1
    return head, tail, seen_end


# --------------------------------------------------------------------------- driver side

def plan_sentences(summaries: Sequence[PartSummary], max_line_tokens: int) -> list[SentencePlan]:
    """Walk the parts in order: which leading tokens of each finish an earlier sentence."""
    m = max_line_tokens
    plans = []
    carried = 0          # tokens of the open line before the current part
    last_owner = -1      # the latest part in which a sentence starts
    for k, s in enumerate(summaries):
        c = carried if s.head_open else 0
        fragment = 0
        if c % m:
            fragment = min(m - c % m, s.head)
        owner = last_owner if fragment else -1
        plans.append(SentencePlan(carried=c, fragment=fragment, owner=owner))
        if s.n_tokens > fragment:
            last_owner = k
        if s.tail_open:
            carried = s.tail + (0 if s.closed else c)
        else:
            carried = 0
    return plans


def route_fragments(plans: Sequence[SentencePlan], fragments: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Per part, the fragments (``fragments[k]``: part k's ids that finish an earlier
    sentence) that its to_stream appends: each goes to the part where its sentence began."""
    appended: list[list[np.ndarray]] = [[] for _ in plans]
    for k, p in enumerate(plans):
        if p.fragment:
            appended[p.owner].append(fragments[k])
    return appended


def merge_counts(summaries: Sequence[PartSummary]) -> tuple[list[str], np.ndarray]:
    """The words of all parts in first-seen order across the whole input, with their
    total counts: what :class:`~embedtrain.vocab.Vocab.build` gets on one machine."""
    index: dict[str, int] = {}
    total = np.zeros(0, dtype=np.int64)
    for s in summaries:
        ids = np.fromiter((index.setdefault(w, len(index)) for w in s.words), dtype=np.int64,
                          count=len(s.words))
        if len(index) > len(total):
            total = np.concatenate([total, np.zeros(len(index) - len(total), np.int64)])
        np.add.at(total, ids, s.counts)
    return list(index), total
