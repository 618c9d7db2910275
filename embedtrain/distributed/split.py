"""Dividing the input among workers, and reading one worker's share of it.

The input (a list of files) is seen as one sequence of decompressed bytes. It is
cut into ``workers`` contiguous parts of about equal size: a cut that falls near
a file boundary moves to it (so many files are handed out whole), otherwise it
cuts inside the file (so one big file is shared). A part is a list of
:class:`Piece` s, byte ranges of files; only a part's first piece can start inside
a file and only its last can end inside one.

A cut inside a file is a *nominal* byte offset. Its effective position is just
after the first ASCII whitespace byte at or after it (:func:`effective_cut`), so a
cut never splits a token or a UTF-8 character (ASCII bytes never occur inside a
multi-byte sequence), and the two workers on either side of it agree on where it
is without talking to each other. Correctness never depends on the sizes used to
place the cuts, only the balance does: compressed files are cut at offsets of an
*estimated* decompressed size (io/compression.py: gzip's ISIZE field, a zstd
frame's content size; a ratio otherwise), and a worker
whose piece starts inside one decompresses from the start and skips to it.

Tokens are exactly those of :func:`embedtrain.corpus.text.encode` on the whole
input; how sentences are rebuilt across cuts is in :mod:`.parts`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from ..corpus.text import READ_BLOCK_BYTES, STDIN, expand_sources, open_source
from ..io.compression import READ_ERRORS, decompressed_size
from ..errors import EmbedtrainError

# A cut that lands within this fraction of a part's size from a file boundary
# moves to the boundary: files are handed out whole when there are many.
SNAP_FRACTION = 0.1
_WHITESPACE = re.compile(rb"[ \t\n\r\v\f]")


@dataclass(frozen=True)
class InputFile:
    """A corpus file and its (estimated, for compressed files) decompressed size."""

    path: str
    size: int
    compression: str | None = None


@dataclass(frozen=True)
class Piece:
    """Bytes ``[start, stop)`` of a file's decompressed stream (nominal offsets;
    ``stop`` None means to the end). See :func:`effective_cut`."""

    path: str
    start: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class Part:
    """One worker's share of the input: pieces in input order."""

    index: int
    pieces: tuple[Piece, ...]

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.pieces]


# --------------------------------------------------------------------------- driver side

def describe_inputs(paths: list[str]) -> list[InputFile]:
    """Expand ``paths`` (directories to their files) and size each file.

    Runs wherever the files are readable (a worker node); stdin cannot be shared.
    """
    if any(str(p) == STDIN for p in paths):
        raise EmbedtrainError("--ray cannot read standard input: give corpus files that every "
                              "worker can read")
    out = []
    for path in expand_sources(paths):
        out.append(_describe(path))
    if not any(f.size for f in out):
        raise EmbedtrainError("the corpus is empty: no tokens were found")
    return out


def _describe(path: str) -> InputFile:
    try:
        size, kind = decompressed_size(path)
    except OSError as exc:
        raise EmbedtrainError(f"cannot read {path}: {exc.strerror or exc}") from None
    return InputFile(path, size, kind)


def split_inputs(files: list[InputFile], workers: int) -> list[Part]:
    """``workers`` contiguous parts of about equal (decompressed) size."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    total = sum(f.size for f in files)
    starts = []  # global offset of each file
    pos = 0
    for f in files:
        starts.append(pos)
        pos += f.size
    target = total / workers
    cuts = [0]
    for k in range(1, workers):
        ideal = round(k * target)
        # nearest file boundary (a file start), if close enough
        nearest = min(starts + [total], key=lambda s: abs(s - ideal))
        cut = nearest if abs(nearest - ideal) <= SNAP_FRACTION * target else ideal
        cuts.append(max(cut, cuts[-1]))
    cuts.append(total)
    parts = []
    for k in range(workers):
        lo, hi = cuts[k], cuts[k + 1]
        pieces = []
        for f, s in zip(files, starts):
            e = s + f.size
            if hi <= s or lo >= e or (lo == hi):
                continue
            start = max(lo - s, 0)
            stop = None if hi >= e else hi - s
            pieces.append(Piece(f.path, start, stop))
        parts.append(Part(k, tuple(pieces)))
    _check_cover(files, parts)
    return parts


def _check_cover(files: list[InputFile], parts: list[Part]) -> None:
    """Every byte of every file in exactly one piece (a bug, not bad input, if not)."""
    pieces = [p for part in parts for p in part.pieces]
    expected_next: dict[str, int] = {}
    for p in pieces:
        assert expected_next.get(p.path, 0) == p.start, (p, expected_next)
        expected_next[p.path] = p.stop if p.stop is not None else -1
    for f in files:
        if f.size:
            assert expected_next.get(f.path) == -1, f


# --------------------------------------------------------------------------- worker side

@dataclass
class PieceEnds:
    """Filled in while a piece is read: whether it starts and ends at a line end."""

    starts_line: bool = True
    ends_line: bool = True
    at_eof: bool = True


def effective_cut(data: bytes, nominal: int) -> int | None:
    """Where a cut at ``nominal`` falls in ``data`` (a prefix of the stream): just after
    the first whitespace byte at or after ``nominal - 1``; None if ``data`` has none."""
    if nominal <= 0:
        return 0
    m = _WHITESPACE.search(data, nominal - 1)
    return m.end() if m else None


def iter_piece_blocks(piece: Piece, ends: PieceEnds) -> Iterator[bytes]:
    """Decompressed bytes of ``piece`` from its effective start to its effective stop,
    in blocks that end at whitespace (as :func:`~embedtrain.corpus.text.iter_blocks`).

    ``ends`` is filled in: ``starts_line`` (the byte before the start is a newline,
    or the start is the file's), ``ends_line`` (same for the stop, or end of file).
    """
    stream = open_source(piece.path)
    try:
        yield from _read_range(stream, piece, ends)
    except READ_ERRORS as exc:
        if isinstance(exc, EmbedtrainError):
            raise
        raise EmbedtrainError(f"cannot read {piece.path}: {exc}") from None
    finally:
        stream.close()


def _read_range(stream: BinaryIO, piece: Piece, ends: PieceEnds) -> Iterator[bytes]:
    pos = 0            # stream offset of data[0]
    data = b""
    eof = False

    def more() -> bool:
        nonlocal data, eof
        block = stream.read(READ_BLOCK_BYTES)
        if not block:
            eof = True
            return False
        data += block
        return True

    # --- the effective start
    if piece.start > 0:
        skip = piece.start - 1
        if stream.seekable():
            stream.seek(skip)   # gzip/bz2/xz streams decompress forward to get there
        else:  # pragma: no cover - every source we open is seekable
            while skip > 0 and stream.read(min(skip, READ_BLOCK_BYTES)):
                skip = piece.start - 1 - stream.tell()
        pos = piece.start - 1
        while True:
            cut = effective_cut(data, 1)
            if cut is not None:
                ends.starts_line = data[cut - 1:cut] == b"\n"
                data = data[cut:]
                pos += cut
                break
            pos += len(data)
            data = b""
            if not more():
                ends.starts_line = ends.ends_line = ends.at_eof = True
                return
    # --- blocks up to the effective stop
    stop = piece.stop
    if stop is not None and pos >= stop:  # a token spans the whole piece: nothing here
        ends.ends_line = ends.starts_line
        ends.at_eof = False
        return
    while True:
        if stop is not None and pos + len(data) >= stop:
            cut = effective_cut(data, stop - pos)
            if cut is not None:
                ends.ends_line = data[cut - 1:cut] == b"\n"
                ends.at_eof = False
                if cut:
                    yield data[:cut]
                return
        if eof or not more():
            ends.ends_line = ends.at_eof = True
            if data:
                yield data
            return
        if len(data) >= READ_BLOCK_BYTES and (stop is None or pos + len(data) < stop):
            cut = data.rfind(b"\n") + 1 or (max(data.rfind(c) for c in (b" ", b"\t", b"\r", b"\v", b"\f")) + 1)
            if cut:
                yield data[:cut]
                pos += cut
                data = data[cut:]
