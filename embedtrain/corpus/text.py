"""Text corpora: files, directories, stdin, compressed or not, into provisional ids.

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
import logging
import lzma
import os
import queue
import re
import sys
import threading
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from ..config import MAX_LINE_TOKENS
from ..errors import EmbedtrainError
from ..extras import install_hint
from ..io.compression import HEAD_BYTES, NAMES as COMPRESSIONS, READ_ERRORS, compression_of
from .stream import RawBuilder, RawCorpus

log = logging.getLogger("embedtrain.corpus")

READ_BLOCK_BYTES = 1 << 20   # bytes read at a time: bounds the Python token lists
STDIN = "-"
# Blocks a read-ahead thread may hold ready (blocks_ahead): each READ_BLOCK_BYTES or so.
AHEAD_BLOCKS = 2

ZSTD_INPUT_BYTES = 4096  # compressed bytes decompressed at a time
# Containers recognised only to be refused in one line (their bytes are no text).
_UNSUPPORTED = {b"PK\x03\x04": "a zip archive", b"\x04\x22\x4d\x18": "lz4-compressed",
                b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive"}


class _ZstdReader:
    """zstd decompression through the optional ``zstandard`` package (imported only
    for a zstd corpus). Frames follow one another (``zstd a b > c`` concatenates);
    a truncated frame or corrupt data raises ValueError like the other decompressors.
    Input goes in small pieces, so a highly compressible piece cannot expand to more
    than about ZSTD_INPUT_BYTES / 4 * 128 KB (the largest zstd block) at once."""

    def __init__(self, raw: BinaryIO, name: str):
        try:
            import zstandard
        except ImportError:
            raise EmbedtrainError(f"{name} is zstd-compressed; reading it needs the zstandard "
                                  f"package: {install_hint('zstd')}") from None
        self._zstd = zstandard
        self._raw = raw
        self._frame = zstandard.ZstdDecompressor().decompressobj()
        self._in_frame = False   # input was given to the current frame and it has not ended
        self._out = bytearray()
        self._done = False
        self._pos = 0            # decompressed bytes handed out

    def _feed(self, data: bytes) -> None:
        while data:
            try:
                self._out += self._frame.decompress(data)
            except self._zstd.ZstdError as exc:
                raise ValueError(f"corrupt zstd data: {exc}") from None
            self._in_frame = not self._frame.eof
            if not self._frame.eof:
                return
            data = self._frame.unused_data  # the next frame, if any
            self._frame = self._zstd.ZstdDecompressor().decompressobj()

    def read(self, n: int) -> bytes:
        while len(self._out) < n and not self._done:
            data = self._raw.read(ZSTD_INPUT_BYTES)
            if not data:
                self._done = True
                if self._in_frame:
                    raise ValueError("truncated zstd data (the last frame does not end)")
                break
            self._feed(data)
        out = bytes(self._out[:n])
        del self._out[:n]
        self._pos += len(out)
        return out

    # Forward seeking (decompressing to get there), as gzip's, bz2's and lzma's readers
    # do: a Ray worker whose part starts inside the file skips to it (distributed/split.py).
    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < self._pos:
            raise ValueError("a zstd stream seeks forward from its start only")
        while self._pos < offset and self.read(min(offset - self._pos, 1 << 20)):
            pass
        return self._pos

    def close(self) -> None:
        self._raw.close()


_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}  # zstd: _ZstdReader
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
    head = raw.peek(HEAD_BYTES)[:HEAD_BYTES] if hasattr(raw, "peek") else b""
    name = "standard input" if path == STDIN else path
    kind = compression_of(head)
    if kind == "zstd":
        return _ZstdReader(raw, name)  # type: ignore[return-value]
    if kind is not None:
        return _OPENERS[kind](raw)  # type: ignore[return-value]
    for magic, what in _UNSUPPORTED.items():
        if head.startswith(magic):
            if path != STDIN:
                raw.close()
            raise EmbedtrainError(f"{name} is {what}, not text; corpora may be plain text or "
                                  f"{COMPRESSIONS}-compressed text: extract it first")
    return raw


def iter_blocks(path: str) -> Iterator[bytes]:
    """Blocks of decompressed bytes, each ending at a newline or a whitespace byte
    (except at end of input), so no token or UTF-8 character is ever split."""
    stream = open_source(path)
    carry = b""
    name = "standard input" if path == STDIN else path
    try:
        while True:
            try:
                block = stream.read(READ_BLOCK_BYTES)
            except READ_ERRORS as exc:
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


def blocks_ahead(path: str) -> Iterator[bytes]:
    """:func:`iter_blocks`' blocks, each read and decompressed on a helper thread while the
    caller works on the ones before (at most AHEAD_BLOCKS wait). Reading a file and gzip's,
    bzip2's, xz's and zstd's decompressors release the GIL, and so does the tokenising
    kernel, so the two overlap: a gzip-compressed corpus reads in 0.64-0.76 of the time
    (docs/benchmarks.md, "Reading a block ahead"). The same blocks in the same order; an error in reading is
    raised here, as :func:`iter_blocks` raises it. Leaving early (an error of the caller's,
    an interrupt) stops the helper and waits for it, which closes the file. Standard input
    is read as :func:`iter_blocks` reads it: a pipe's writer already runs beside us, and a
    read from a terminal could keep the helper waiting."""
    if path == STDIN:
        yield from iter_blocks(path)
        return
    handoff: queue.Queue = queue.Queue(AHEAD_BLOCKS)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def read() -> None:
        blocks = iter_blocks(path)
        try:
            for block in blocks:
                if not offer((block, None)):
                    return
            offer((None, None))
        except BaseException as exc:  # handed to the caller, raised there
            offer((None, exc))
        finally:
            blocks.close()

    helper = threading.Thread(target=read, name="embedtrain-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            block, exc = handoff.get()
            if exc is not None:
                raise exc
            if block is None:
                return
            yield block
    finally:
        stop.set()
        helper.join()


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

# Every character beyond ASCII that str.split() splits on (tests/test_tokens.py checks this
# against the running Python's str.isspace), and a search for any of them in UTF-8.
UNICODE_SPACES = "\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_UNICODE_SPACE = re.compile(b"|".join(re.escape(c.encode("utf-8")) for c in UNICODE_SPACES))


def ascii_separated(block: bytes, lowercase: bool) -> bytes:
    """A block of text (from :func:`iter_blocks`) as UTF-8 in which only ASCII whitespace
    separates tokens, for corpus/tokens.py: the tokens and lines of :func:`tokenise_block`.

    An ASCII block is kept as it is (lowercased by ``bytes.lower``: A-Z only, as
    ``str.lower`` does for ASCII); so is valid UTF-8 without a whitespace character beyond
    ASCII (lowercased by Python's rules when asked). Any other block is decoded
    (:func:`decode`: invalid bytes become U+FFFD and are counted), lowercased when asked,
    split on every whitespace character as ``str.split()`` splits, and joined again with
    single spaces, its newlines kept, and its last line open exactly when it is open in
    the block."""
    if block.isascii():
        return block.lower() if lowercase else block
    if not _UNICODE_SPACE.search(block):
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text.lower().encode("utf-8") if lowercase else block
    text = decode(block)
    if lowercase:
        text = text.lower()
    lines = [" ".join(line.split()) for line in text.split("\n")]
    if not lines[-1] and not text.endswith("\n"):
        lines[-1] = " "  # a last line of whitespace alone is still open
    return "\n".join(lines).encode("utf-8")


def tokenise_block(block: bytes, lowercase: bool = False) -> tuple[list[str], list[int], bool]:
    """A block of text (from :func:`iter_blocks`) as whitespace tokens, the token count of
    each of its lines, and whether its last line continues in the next block."""
    text = decode(block)
    if lowercase:
        text = text.lower()
    tokens: list[str] = []
    lengths: list[int] = []
    for line in text.split("\n"):
        toks = line.split()
        tokens.extend(toks)
        lengths.append(len(toks))
    # A block that does not end in a newline leaves its last line open.
    ends_open = not text.endswith("\n")
    if not ends_open:
        lengths.pop()  # the empty piece after the final newline
    return tokens, lengths, ends_open


def encode(paths: Iterable[str | os.PathLike], *, lowercase: bool = False,
           max_line_tokens: int = MAX_LINE_TOKENS, tmp_dir: str | None = None,
           read_ahead: bool = False) -> RawCorpus:
    """Tokenise every source once: whitespace-separated tokens, a line is a sentence.

    Lines longer than ``max_line_tokens`` are cut into pieces of at most that many
    tokens, so a one-line corpus (text8) is trained on in full. ``read_ahead`` reads each
    next block on a helper thread (:func:`blocks_ahead`); the result is the same.
    """
    sources = expand_sources(paths)
    builder = RawBuilder(max_line_tokens, tmp_dir)
    _InvalidBytes.count = 0
    blocks_of = blocks_ahead if read_ahead else iter_blocks
    try:
        for source in sources:
            for block in blocks_of(source):
                builder.add_text(ascii_separated(block, lowercase))
            builder.end_source()
        raw = builder.finish(_InvalidBytes.count)
    except BaseException:
        builder.close()
        raise
    if raw.invalid_bytes:
        log.warning("replaced %d bytes that were not valid UTF-8", raw.invalid_bytes)
    return raw
