"""Token streams: int32 ids with ``SENTENCE_END`` between sentences, in temporary files.

Two stages: a :class:`RawCorpus` holds provisional ids (first-seen order) and their
counts, made once from any token source (text files, Python token lists, ids made
elsewhere); :meth:`RawCorpus.to_stream` maps them onto a finished vocabulary and
writes the :class:`TokenStream` that every epoch reads in chunks, so memory does
not grow with the length of the corpus.
"""
from __future__ import annotations

import itertools
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Sequence

import numpy as np

from ..config import MAX_LINE_TOKENS
from ..errors import EmbedtrainError
from ..io.atomic import describe_os_error
from .tokens import TokenTable

SENTENCE_END = -1            # separator id in token streams (the kernels take it from here)
JOB_TOKENS = 50_000          # tokens per training job (a chunk cut at a sentence end)
# The last TAPER_JOBS jobs' worth of a stream is cut into jobs TAPER_PARTS times shorter, so
# that threads end an epoch closer together (the one done first waits less for the other):
# nothing measurable on the text8 prefix, 1.20x for two threads on 30,000 tokens
# (docs/benchmarks.md, "Fixed costs again, and an epoch's shorter last jobs"). A stream below TAPER_JOBS jobs is all short
# jobs, so that two threads share a small corpus. One thread trains the same bytes.
TAPER_JOBS, TAPER_PARTS = 2, 4


# --------------------------------------------------------------------------- raw ids

@dataclass
class RawCorpus:
    """The corpus as provisional ids (first-seen order), before a vocabulary is chosen."""

    words: list[str]
    counts: np.ndarray          # int64 [n_types], occurrences of each provisional id
    ids_file: BinaryIO          # int32 provisional ids with SENTENCE_END between sentences
    n_entries: int              # ids + separators in ids_file
    n_tokens: int               # ids alone
    n_sentences: int
    invalid_bytes: int = 0

    def blocks(self, block_entries: int = 1 << 20) -> Iterator[np.ndarray]:
        for start in range(0, self.n_entries, block_entries):
            count = min(block_entries, self.n_entries - start)
            yield _pread_int32(self.ids_file, start, count)

    def to_stream(self, vocab_index: dict[str, int], tmp_dir: str | None = None,
                  job_tokens: int | None = None) -> "TokenStream":
        """Map provisional ids to vocabulary ids, dropping out-of-vocabulary tokens; jobs
        end at the first sentence end past every ``job_tokens`` tokens (JOB_TOKENS), a
        quarter of that in the stream's last part (TAPER_JOBS).

        As in word2vec.c and gensim, dropped tokens are removed before windows are
        formed, so a window reaches past them. Sentences left empty disappear.
        """
        remap = np.empty(len(self.words) + 1, dtype=np.int32)  # last slot: SENTENCE_END
        remap[:-1] = np.fromiter(map(vocab_index.get, self.words, itertools.repeat(-2)), dtype=np.int32,
                                 count=len(self.words))
        remap[-1] = SENTENCE_END
        kept = int(self.counts[remap[:-1] >= 0].sum())
        writer = _StreamWriter(tmp_dir, job_tokens, expected=kept + (self.n_entries - self.n_tokens))
        try:
            for raw in self.blocks():
                mapped = remap[raw]
                writer.add(mapped[mapped != -2])
            return writer.finish()
        except BaseException:
            writer.file.close()
            raise

    def close(self) -> None:
        self.ids_file.close()


class RawBuilder:
    """Builds a :class:`RawCorpus` from blocks of tokens, whatever their source.

    Tokens get provisional ids in first-seen order, from a ``dict`` for tokens given as
    strings (:meth:`add`) or from a :class:`~embedtrain.corpus.tokens.TokenTable` for
    text (:meth:`add_text`), one or the other; a sentence is cut after every
    ``max_line_tokens`` tokens, so one-line corpora train on every token.
    """

    def __init__(self, max_line_tokens: int = MAX_LINE_TOKENS, tmp_dir: str | None = None):
        self.max_line_tokens = max_line_tokens
        self.index: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        self.table: TokenTable | None = None
        self.counts = np.zeros(0, dtype=np.int64)
        self.tmp_dir = tmp_dir
        self.ids_file = temporary_file("embedtrain-raw-", tmp_dir)
        self.n_entries = self.n_tokens = self.n_sentences = 0
        self.open_line = 0  # tokens already written of the line left open by the last block

    def add(self, tokens: Sequence[str], lengths: list[int], ends_open: bool = False) -> None:
        """Add lines: ``tokens`` of all of them, ``lengths`` their token counts; the
        last line continues in the next block when ``ends_open``."""
        assert self.table is None, "a RawBuilder takes tokens or text, not both"
        ids = np.fromiter(map(self.index.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        self._add_lines(ids, len(self.index), lengths, ends_open)

    def add_text(self, text: bytes) -> None:
        """Add the lines of a block of text that only ASCII whitespace separates
        (:func:`~embedtrain.corpus.text.ascii_separated`); its last line continues in the
        next block unless it ends in a newline."""
        assert not self.index, "a RawBuilder takes tokens or text, not both"
        if self.table is None:
            self.table = TokenTable()
        ids, lengths = self.table.read(text)
        self._add_lines(ids, len(self.table), lengths, not text.endswith(b"\n"))

    def words(self) -> list[str]:
        """The tokens added so far, by provisional id."""
        return self.table.words() if self.table is not None else list(self.index)

    def _add_lines(self, ids: np.ndarray, n_words: int, lengths: list[int], ends_open: bool) -> None:
        if n_words > len(self.counts):
            grow = max(n_words - len(self.counts), len(self.counts) // 2, 1024)
            self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
        if len(ids):
            self.counts += np.bincount(ids, minlength=len(self.counts))
        entries, n_sent, self.open_line = _with_separators(ids, lengths, ends_open, self.open_line,
                                                           self.max_line_tokens)
        write_temporary(self.ids_file, entries.tobytes(), self.tmp_dir)
        self.n_entries += len(entries)
        self.n_tokens += len(ids)
        self.n_sentences += n_sent

    def add_ids(self, entries: np.ndarray) -> None:
        """Add ids that index a word list known to the caller, ``SENTENCE_END`` between
        sequences (counts are the caller's: see :class:`~embedtrain.corpus.source.IdSequences`)."""
        entries = np.asarray(entries, dtype=np.int32)
        if not len(entries):
            return
        ends = entries == SENTENCE_END
        self.ids_file.write(entries.tobytes())
        self.n_entries += len(entries)
        self.n_tokens += int(len(entries) - ends.sum())
        self.n_sentences += int(ends.sum())
        self.open_line = 0 if ends[-1] else 1

    def end_source(self) -> None:
        """Close the line a source left open (it ended without a final newline)."""
        if self.open_line:
            write_temporary(self.ids_file, np.int32(SENTENCE_END).tobytes(), self.tmp_dir)
            self.n_entries += 1
            self.n_sentences += 1
            self.open_line = 0

    def finish(self, invalid_bytes: int = 0) -> RawCorpus:
        self.end_source()
        write_temporary(self.ids_file, b"", self.tmp_dir, flush=True)
        words = self.words()
        return RawCorpus(words=words, counts=self.counts[: len(words)].copy(), ids_file=self.ids_file,
                         n_entries=self.n_entries, n_tokens=self.n_tokens,
                         n_sentences=self.n_sentences, invalid_bytes=invalid_bytes)

    def close(self) -> None:
        self.ids_file.close()


def _with_separators(ids: np.ndarray, lengths: list[int], ends_open: bool, open_line: int,
                     max_line_tokens: int) -> tuple[np.ndarray, int, int]:
    """Insert SENTENCE_END after every line and every ``max_line_tokens`` tokens of a line.

    ``lengths`` are the token counts of the block's lines; the first may continue a
    line of which ``open_line`` tokens were written by earlier blocks, and the last
    is still open when ``ends_open``. Returns the entries, the number of separators
    and the tokens written so far of the line left open. Empty sentences that this
    may produce are dropped when the training stream is written.
    """
    cuts: list[int] = []
    pos = 0
    last = len(lengths) - 1
    for i, length in enumerate(lengths):
        done = open_line if i == 0 else 0
        k = max_line_tokens - done % max_line_tokens  # next cut, from this piece's start
        while k <= length:
            cuts.append(pos + k)
            k += max_line_tokens
        if i == last and ends_open:
            open_line = done + length
        else:
            if not cuts or cuts[-1] != pos + length:
                cuts.append(pos + length)
            open_line = 0
        pos += length
    entries = np.insert(ids, np.asarray(cuts, dtype=np.int64), SENTENCE_END)
    return entries, len(cuts), open_line


def temporary_file(prefix: str, tmp_dir: str | None) -> BinaryIO:
    """An unnamed temporary file (nothing is left behind, even after kill -9)."""
    try:
        return tempfile.TemporaryFile(prefix=prefix, dir=tmp_dir)
    except OSError as exc:
        raise EmbedtrainError(f"cannot create a temporary file in {tmp_dir or tempfile.gettempdir()}: "
                              f"{describe_os_error(exc)}") from None


def write_temporary(handle: BinaryIO, data: bytes, tmp_dir: str | None, flush: bool = False) -> None:
    """Write to a temporary token file; a full disk is one line suggesting --tmp-dir."""
    try:
        if data:
            handle.write(data)
        if flush:
            handle.flush()
    except OSError as exc:
        where = tmp_dir or tempfile.gettempdir()
        raise EmbedtrainError(f"cannot write the temporary token file in {where}: "
                              f"{describe_os_error(exc)} (give --tmp-dir a directory on a larger "
                              f"disk)") from None


def _pread_int32(handle: BinaryIO, start: int, count: int) -> np.ndarray:
    data = os.pread(handle.fileno(), count * 4, start * 4)
    if len(data) != count * 4:
        raise EmbedtrainError("temporary token file was truncated (disk full?)")
    return np.frombuffer(data, dtype=np.int32)


# --------------------------------------------------------------------------- token stream

def line_contexts(n_tokens: int, squared_lengths: int) -> float:
    """Mean words per word in the same sentence, from the sentences' word count and the sum
    of their squared lengths: the contexts a word gets with a whole-sentence window
    (``--window 0``), whose cost is quadratic in length."""
    return squared_lengths / n_tokens if n_tokens else 0.0


@dataclass
class TokenStream:
    """Vocabulary ids of the whole corpus, SENTENCE_END between sentences, on disk.

    ``chunk_starts[i]:chunk_starts[i+1]`` is training job ``i`` (it ends at a
    sentence end); ``chunk_words[i]`` is the number of word tokens before job ``i``,
    used for the learning-rate schedule.
    """

    file: BinaryIO
    n_entries: int
    n_tokens: int
    chunk_starts: np.ndarray = field(repr=False)
    chunk_words: np.ndarray = field(repr=False)
    squared_lengths: int = 0    # sum over sentences of (words in it) ** 2
    longest: int = 0            # words in the longest sentence

    @property
    def line_contexts(self) -> float:
        return line_contexts(self.n_tokens, self.squared_lengths)

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_starts) - 1

    def chunk(self, i: int) -> np.ndarray:
        start, stop = int(self.chunk_starts[i]), int(self.chunk_starts[i + 1])
        return _pread_int32(self.file, start, stop - start)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.n_chunks):
            yield self.chunk(i)

    def sentences(self) -> Iterator[np.ndarray]:
        """Each sentence as an int32 array (for tests and small tools)."""
        for chunk in self:
            ends = np.flatnonzero(chunk == SENTENCE_END)
            start = 0
            for end in ends:
                yield chunk[start:end]
                start = end + 1

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "TokenStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _StreamWriter:
    """Builds a TokenStream block by block, choosing job boundaries as it goes."""

    def __init__(self, tmp_dir: str | None, job_tokens: int | None = None, expected: int | None = None):
        self.tmp_dir = tmp_dir
        self.job_tokens = JOB_TOKENS if job_tokens is None else job_tokens
        # ``expected``: about the entries to come (TAPER_JOBS); None: every job job_tokens long
        self.taper_from = (expected - TAPER_JOBS * self.job_tokens) if expected else None
        self.short_job = max(1, self.job_tokens // TAPER_PARTS)
        self.file = temporary_file("embedtrain-ids-", tmp_dir)
        self.n_entries = 0
        self.n_tokens = 0
        self.starts = [0]
        self.words = [0]
        self.prev_was_end = True  # so that a leading separator is dropped
        self.open_words = 0       # words of the sentence still open at the end of the last block
        self.squared_lengths = 0
        self.longest = 0

    def add(self, entries: np.ndarray) -> None:
        if not len(entries):
            return
        is_end = entries == SENTENCE_END
        prev = np.empty_like(is_end)
        prev[0] = self.prev_was_end
        prev[1:] = is_end[:-1]
        keep = ~(is_end & prev)  # no empty sentences
        entries = entries[keep]
        if not len(entries):
            return
        is_end = is_end[keep]
        self.prev_was_end = bool(is_end[-1])
        self._measure(is_end)
        # job boundaries: after the first sentence end at or past every job_tokens entries;
        # the k-th end of the block (from 0), at index e, has e - k words before it in the block
        ends = np.flatnonzero(is_end)
        for k, pos in enumerate((ends + (self.n_entries + 1)).tolist()):
            size = self.short_job if self.taper_from is not None and pos >= self.taper_from else self.job_tokens
            if pos - self.starts[-1] >= size:
                self.starts.append(pos)
                self.words.append(self.n_tokens + int(ends[k]) - k)
        write_temporary(self.file, entries.tobytes(), self.tmp_dir)
        self.n_entries += len(entries)
        self.n_tokens += int(len(entries) - is_end.sum())

    def _measure(self, is_end: np.ndarray) -> None:
        """Sentence lengths for TokenStream.line_contexts (separators at ``is_end``)."""
        ends = np.flatnonzero(is_end)
        if not len(ends):
            self.open_words += len(is_end)
            return
        lengths = np.diff(ends, prepend=-1) - 1
        lengths[0] += self.open_words
        self.squared_lengths += int(np.dot(lengths, lengths))
        self.longest = max(self.longest, int(lengths.max()))
        self.open_words = len(is_end) - int(ends[-1]) - 1

    def finish(self) -> TokenStream:
        if not self.prev_was_end:
            self.add(np.array([SENTENCE_END], dtype=np.int32))
        if self.starts[-1] != self.n_entries:
            self.starts.append(self.n_entries)
            self.words.append(self.n_tokens)
        write_temporary(self.file, b"", self.tmp_dir, flush=True)
        return TokenStream(file=self.file, n_entries=self.n_entries, n_tokens=self.n_tokens,
                           chunk_starts=np.asarray(self.starts, dtype=np.int64),
                           chunk_words=np.asarray(self.words, dtype=np.int64),
                           squared_lengths=self.squared_lengths, longest=self.longest)
