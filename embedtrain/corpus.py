"""Reading a corpus: files, directories, stdin, compressed or not, into arrays of ids.

The text is parsed exactly once per run. :func:`encode` tokenises it into
provisional ids (first-seen order) and counts them; :meth:`RawCorpus.to_stream`
maps those onto a finished :class:`~embedtrain.vocab.Vocab` and writes the
training stream: int32 vocabulary ids with ``SENTENCE_END`` between sentences, in a
temporary file. Trainers read that file in chunks every epoch, so memory does not
grow with the length of the corpus.
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import logging
import lzma
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import numpy as np

from .config import MAX_LINE_TOKENS
from .errors import EmbedtrainError

log = logging.getLogger(__name__)

SENTENCE_END = -1            # separator id in token streams
READ_BLOCK_BYTES = 1 << 20   # bytes read at a time: bounds the Python token lists
JOB_TOKENS = 50_000          # tokens per training job (a chunk cut at a sentence end)
STDIN = "-"

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_WHITESPACE_BYTES = b" \t\r\n\v\f"


# --------------------------------------------------------------------------- sources

def expand_sources(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Files to read, in order: directories expand to every file inside them (sorted).

    Fails now, before any work, on a path that does not exist or cannot be read.
    """
    out: list[str] = []
    for raw in paths:
        path = str(raw)
        if path == STDIN:
            out.append(STDIN)
            continue
        p = Path(path)
        if p.is_dir():
            inside = sorted(
                str(f) for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not inside:
                raise EmbedtrainError(f"corpus directory {p} contains no files")
            out.extend(inside)
        elif p.exists():
            if not os.access(p, os.R_OK):
                raise EmbedtrainError(f"corpus file {p} is not readable")
            out.append(path)
        else:
            raise EmbedtrainError(f"corpus file {p} does not exist")
    if not out:
        raise EmbedtrainError("no corpus given")
    return out


def open_source(path: str) -> BinaryIO:
    """A binary stream of the decompressed bytes of ``path`` (``-`` is stdin)."""
    if path == STDIN:
        raw: BinaryIO = io.BufferedReader(sys.stdin.buffer) if not hasattr(sys.stdin.buffer, "peek") \
            else sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb")
        except OSError as exc:
            raise EmbedtrainError(f"cannot open {path}: {exc.strerror or exc}") from None
    head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
    for magic, opener in _MAGIC.items():
        if head.startswith(magic):
            return opener(raw)  # type: ignore[return-value]
    return raw


def iter_blocks(path: str) -> Iterator[bytes]:
    """Blocks of decompressed bytes, each ending at a newline or a whitespace byte
    (except at end of input), so no token or UTF-8 character is ever split."""
    stream = open_source(path)
    carry = b""
    try:
        while True:
            try:
                block = stream.read(READ_BLOCK_BYTES)
            except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
                name = "standard input" if path == STDIN else path
                raise EmbedtrainError(f"cannot read {name}: corrupt or truncated compressed data ({exc})") from None
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # a very long line: cut after its last whitespace byte instead
                cut = max(data.rfind(c) for c in (b" ", b"\t", b"\r", b"\v", b"\f")) + 1
            if cut == 0:  # one gigantic token; keep reading (it will be cut by the caller)
                cut = len(data) if len(data) > 16 * READ_BLOCK_BYTES else 0
            carry = data[cut:]
            if cut:
                yield data[:cut]
        if carry:
            yield carry
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


# --------------------------------------------------------------------------- decoding

class _InvalidBytes:
    """Counts bytes that were not valid UTF-8 (each replaced by U+FFFD)."""

    count = 0

    @classmethod
    def handler(cls, exc: UnicodeDecodeError) -> tuple[str, int]:
        cls.count += exc.end - exc.start
        return "\ufffd", exc.end


codecs.register_error("embedtrain-count", _InvalidBytes.handler)


def decode(data: bytes) -> str:
    """UTF-8 text; invalid bytes become U+FFFD and are counted, never an error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="embedtrain-count")


# --------------------------------------------------------------------------- encoding

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

    def to_stream(self, vocab_index: dict[str, int], tmp_dir: str | None = None) -> "TokenStream":
        """Map provisional ids to vocabulary ids, dropping out-of-vocabulary tokens.

        As in word2vec.c and gensim, dropped tokens are removed before windows are
        formed, so a window reaches past them. Sentences left empty disappear.
        """
        remap = np.full(len(self.words) + 1, -2, dtype=np.int32)  # last slot: SENTENCE_END
        for i, word in enumerate(self.words):
            remap[i] = vocab_index.get(word, -2)
        remap[-1] = SENTENCE_END
        writer = _StreamWriter(tmp_dir)
        for raw in self.blocks():
            mapped = remap[raw]
            writer.add(mapped[mapped != -2])
        return writer.finish()

    def close(self) -> None:
        self.ids_file.close()


def encode(paths: Iterable[str | os.PathLike], *, lowercase: bool = False,
           max_line_tokens: int = MAX_LINE_TOKENS, tmp_dir: str | None = None) -> RawCorpus:
    """Tokenise every source once: whitespace-separated tokens, a line is a sentence.

    Lines longer than ``max_line_tokens`` are cut into pieces of at most that many
    tokens, so a one-line corpus (text8) is trained on in full.
    """
    sources = expand_sources(paths)
    index: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    lookup = index.__getitem__
    counts = np.zeros(0, dtype=np.int64)
    ids_file = tempfile.TemporaryFile(prefix="embedtrain-raw-", dir=tmp_dir)
    n_entries = n_tokens = n_sentences = 0
    _InvalidBytes.count = 0
    try:
        for source in sources:
            open_line = 0  # tokens already emitted for the line still open at a block edge
            for block in iter_blocks(source):
                text = decode(block)
                if lowercase:
                    text = text.lower()
                tokens: list[str] = []
                lengths: list[int] = []
                lines = text.split("\n")
                for line in lines:
                    toks = line.split()
                    tokens.extend(toks)
                    lengths.append(len(toks))
                # A block that does not end in a newline leaves its last line open.
                ends_open = not text.endswith("\n")
                if text.endswith("\n"):
                    lengths.pop()  # the empty piece after the final newline
                ids = np.fromiter(map(lookup, tokens), dtype=np.int32, count=len(tokens))
                if len(index) > len(counts):
                    grow = max(len(index) - len(counts), len(counts) // 2, 1024)
                    counts = np.concatenate([counts, np.zeros(grow, np.int64)])
                if len(ids):
                    counts += np.bincount(ids, minlength=len(counts))
                entries, n_sent, open_line = _with_separators(ids, lengths, ends_open, open_line,
                                                              max_line_tokens)
                ids_file.write(entries.tobytes())
                n_entries += len(entries)
                n_tokens += len(ids)
                n_sentences += n_sent
            if open_line:  # the source ended without a final newline
                ids_file.write(np.int32(SENTENCE_END).tobytes())
                n_entries += 1
                n_sentences += 1
        ids_file.flush()
    except BaseException:
        ids_file.close()
        raise
    if _InvalidBytes.count:
        log.warning("replaced %d bytes that were not valid UTF-8", _InvalidBytes.count)
    words = list(index)
    return RawCorpus(words=words, counts=counts[: len(words)].copy(), ids_file=ids_file,
                     n_entries=n_entries, n_tokens=n_tokens, n_sentences=n_sentences,
                     invalid_bytes=_InvalidBytes.count)


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


def _pread_int32(handle: BinaryIO, start: int, count: int) -> np.ndarray:
    data = os.pread(handle.fileno(), count * 4, start * 4)
    if len(data) != count * 4:
        raise EmbedtrainError("temporary token file was truncated (disk full?)")
    return np.frombuffer(data, dtype=np.int32)


# --------------------------------------------------------------------------- token stream

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

    def __init__(self, tmp_dir: str | None):
        self.file = tempfile.TemporaryFile(prefix="embedtrain-ids-", dir=tmp_dir)
        self.n_entries = 0
        self.n_tokens = 0
        self.starts = [0]
        self.words = [0]
        self.prev_was_end = True  # so that a leading separator is dropped

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
        # job boundaries: after the first sentence end at or past every JOB_TOKENS entries
        end_pos = np.flatnonzero(is_end) + self.n_entries + 1
        words_before = np.cumsum(~is_end)
        for pos in end_pos:
            if pos - self.starts[-1] >= JOB_TOKENS:
                local = pos - self.n_entries - 1
                self.starts.append(int(pos))
                self.words.append(self.n_tokens + int(words_before[local]))
        self.file.write(entries.tobytes())
        self.n_entries += len(entries)
        self.n_tokens += int(len(entries) - is_end.sum())

    def finish(self) -> TokenStream:
        if not self.prev_was_end:
            self.add(np.array([SENTENCE_END], dtype=np.int32))
        if self.starts[-1] != self.n_entries:
            self.starts.append(self.n_entries)
            self.words.append(self.n_tokens)
        self.file.flush()
        return TokenStream(file=self.file, n_entries=self.n_entries, n_tokens=self.n_tokens,
                           chunk_starts=np.asarray(self.starts, dtype=np.int64),
                           chunk_words=np.asarray(self.words, dtype=np.int64))
