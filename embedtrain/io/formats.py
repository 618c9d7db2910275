"""Vector file formats: reading and writing what other tools use.

Formats (the name is what ``--format`` takes):

``model``
    an embedtrain model file (``.etm``), see :mod:`embedtrain.models`.
``word2vec-text`` (also ``fasttext-vec``: fastText's ``.vec`` is the same format)
    a ``V dim`` header line, then ``word v1 ... vdim`` per line.
``glove``
    ``word v1 ... vdim`` per line, no header (Stanford GloVe's ``vectors.txt``).
``word2vec-binary``
    a ``V dim\\n`` header, then per word: the UTF-8 word, a space, ``dim`` little-endian
    float32 values, and (word2vec.c) a newline, which gensim leaves out.
``npy``
    ``OUT.npy`` (float32 [V, dim]) beside ``OUT.vocab.txt`` (one word per line, same order).

Readers detect the format from the content; the text formats live in
:mod:`embedtrain.io.text`.
"""
from __future__ import annotations

import logging
import mmap
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..vectors import Vectors, finite_rows
from .atomic import atomic_group, atomic_output
from .compression import compression_of
from .text import (UTF8_BOM, WRITE_BATCH_ROWS, _check_header_fits, _check_words, _parse_header, _show,
                   rows_or_array,
                   read_text, write_glove, write_word2vec_text)

log = logging.getLogger("embedtrain")

# Bytes looked at to tell the formats apart.
SNIFF_BYTES = 1 << 16
NPY_MAGIC = b"\x93NUMPY"
FASTTEXT_MAGIC_BYTES = (793712314).to_bytes(4, "little")  # fastText's .bin starts with it
NPY_VOCAB_SUFFIX = ".vocab.txt"
BINARY_DTYPE = np.dtype("<f4")
# A binary record's word must end (in a space) within this many bytes.
MAX_WORD_BYTES = 1 << 16

READ_FORMATS = ("model", "word2vec-text", "fasttext-vec", "glove", "word2vec-binary", "npy",
                "fasttext-bin")
WRITE_FORMATS = ("word2vec-text", "word2vec-binary", "glove", "npy")


# ---------------------------------------------------------------------- reading
def load_vectors(path: str | os.PathLike, format: str | None = None, mmap: bool = False) -> Vectors:
    """Read word vectors from any supported file; ``format=None`` detects it.

    An embedtrain model file gives ``Model.load(path).vectors``, so a FastText
    model's vectors still build vectors for unseen words. ``mmap``: a model file's
    weights are memory-mapped, not read (other formats refuse it).
    """
    p = Path(path)
    if not p.exists():
        raise EmbedtrainError(f"vectors file {p} does not exist")
    if p.is_dir():
        raise EmbedtrainError(f"{p} is a directory, not a vectors file")
    fmt = format or detect_format(p)
    if mmap and fmt != "model":
        raise EmbedtrainError(f"--mmap maps embedtrain model files (.etm) only; {p} is {fmt}")
    if fmt == "model":
        from ..models import Model  # numba loads with it: only when a model file is read

        return Model.load(p, mmap=mmap).vectors
    if fmt == "vectors-archive":
        from .archive import VECTORS_ARCHIVE, VECTORS_ARCHIVE_VERSION, read_archive

        _, vocab, arrays = read_archive(p, VECTORS_ARCHIVE, VECTORS_ARCHIVE_VERSION, "vectors file",
                                        array_names=["vectors"])
        matrix = arrays.get("vectors")
        if matrix is None or matrix.ndim != 2 or matrix.shape[0] != len(vocab) or matrix.dtype != np.float32:
            raise EmbedtrainError(f"{p}: damaged vectors file (no float32 [words, dim] vectors)")
        return Vectors(vocab.words, matrix, vocab.counts if vocab.counts.any() else None)
    if fmt == "fasttext-bin":
        from .fasttext_bin import read_fasttext_bin

        return read_fasttext_bin(p)
    if fmt in ("word2vec-text", "fasttext-vec"):
        return usable_rows(read_text(p, header=True), p)
    if fmt == "glove":
        return usable_rows(read_text(p, header=False), p)
    if fmt == "word2vec-binary":
        return usable_rows(read_word2vec_binary(p), p)
    if fmt == "npy":
        return usable_rows(read_npy(p), p)
    raise EmbedtrainError(f"unknown vectors format {fmt!r} (choose from {', '.join(READ_FORMATS)})")


def usable_rows(vectors: Vectors, source: Path) -> Vectors:
    """``vectors`` without rows holding NaN or infinities and without repeated words
    (the first row of a word is kept), each with one warning: such rows would rank
    first or last in every query, or answer a query with its own word."""
    finite = finite_rows(vectors.vectors)
    keep = finite.copy()
    if not finite.any():
        raise EmbedtrainError(f"{source}: no vector is usable (every one holds NaN or infinite values)")
    if not finite.all():
        bad = np.flatnonzero(~finite)
        log.warning("embedtrain: warning: %s: left out %s vector%s holding NaN or infinite values "
                    "(first: %r, row %d)", source, f"{len(bad):,}", "" if len(bad) == 1 else "s",
                    vectors.words[bad[0]], bad[0] + 1)
    if len(vectors.index) != len(vectors.words):
        first = np.zeros(len(vectors.words), dtype=bool)
        first[list(vectors.index.values())] = True
        repeated = np.flatnonzero(~first)
        keep &= first
        log.warning("embedtrain: warning: %s: left out %s repeated word%s (first: %r, row %d); the "
                    "first row of each word is kept", source, f"{len(repeated):,}",
                    "" if len(repeated) == 1 else "s", vectors.words[repeated[0]], repeated[0] + 1)
    if keep.all():
        return vectors
    words = [w for w, k in zip(vectors.words, keep) if k]
    counts = None if vectors.counts is None else vectors.counts[keep]
    return Vectors(words, vectors.vectors[keep], counts)


def detect_format(path: str | os.PathLike) -> str:
    """The format of a vectors file, told from its first bytes. Files that are no
    vectors file (compressed, a co-occurrence file, a damaged header) are named as
    what they look like, in one EmbedtrainError."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        raise EmbedtrainError(f"{p} is empty")
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(FASTTEXT_MAGIC_BYTES):
        return "fasttext-bin"
    compression = compression_of(head)
    if compression:
        raise EmbedtrainError(f"{p} is {compression}-compressed; vectors files are read "
                              f"uncompressed: decompress it first")
    if head.startswith(b"PK"):  # a zip archive: ours, or damaged
        from .cooc import COOCCUR_FORMAT
        from .archive import VECTORS_ARCHIVE, is_archive_of

        if is_archive_of(p, COOCCUR_FORMAT):
            raise EmbedtrainError(f"{p} is a GloVe co-occurrence file, not vectors (train on it "
                                  f"with: embedtrain train --model glove --cooccur {p})")
        if is_archive_of(p, VECTORS_ARCHIVE):  # KeyedVectors.save (compat/gensim.py)
            return "vectors-archive"
        return "model"  # Model.load names what is wrong with it
    head = head.removeprefix(UTF8_BOM)
    first, newline, rest = head.partition(b"\n")
    header = _parse_header(first)
    if header is None:
        if len(first.split()) > 1 and not _looks_like_text(first, whole=bool(newline) or len(head) < SNIFF_BYTES):
            raise EmbedtrainError(f"{p} does not look like a vectors file: line 1 is {_show(first)}, "
                                  f"neither a 'words dim' header nor 'word v1 v2 ...' "
                                  f"({_what_bytes(head)})")
        return "glove"
    if header[1] == 0:
        raise EmbedtrainError(f"{p}, line 1: the header {_show(first)} gives dimension 0")
    if not newline:
        raise EmbedtrainError(f"{p}: a 'words dim' header ({_show(first)}) and no vectors")
    complete = len(head) < SNIFF_BYTES  # the whole file is in ``head``
    line, line_end, more = rest.partition(b"\n")
    if not line.strip() and not more.strip() and complete:
        return "word2vec-text"  # a header and nothing else: read_text reports it
    if _looks_like_text(line, whole=bool(line_end) or complete):
        # word2vec text; unless every line is "integer number": one-dimensional GloVe.
        rows = [ln for ln in head.split(b"\n")[:-1 if not complete else None] if ln.strip()]
        if header[1] != 1 and all(len(ln.split()) == 2 for ln in rows) and len(rows) > 1:
            return "glove"
        return "word2vec-text"
    return "word2vec-binary"


def _what_bytes(head: bytes) -> str:
    """A hint at what a file that is not vectors holds."""
    if b"\0" in head[:1024]:
        return "it holds binary data"
    try:
        head[:1024].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 1020:
            return "it is not UTF-8 text"
    return "a text file of another kind?"


def _looks_like_text(line: bytes, whole: bool) -> bool:
    """A word followed by numbers (the last one may be cut off unless ``whole``)."""
    parts = line.split()
    values = parts[1:] if whole else parts[1:-1]
    if not values:
        return False
    try:
        [float(x) for x in values]
    except ValueError:
        return False
    return True


def read_word2vec_binary(path: str | os.PathLike) -> Vectors:
    """word2vec.c's binary format; the newline after each vector is optional (gensim omits it)."""
    p = Path(path)
    with open(p, "rb") as f:
        first = f.readline()
        parsed = _parse_header(first)
        if parsed is None:
            raise EmbedtrainError(f"{p}, byte offset 0: expected a 'words dim' header, found "
                                  f"{_show(first)}")
        n_words, dim = parsed
        if os.fstat(f.fileno()).st_size == len(first):
            buf = first  # nothing after the header (mmap cannot map an empty range)
        else:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _parse_binary(p, buf, len(first), n_words, dim)
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()


def _parse_binary(p: Path, buf, start: int, n_words: int, dim: int) -> Vectors:
    size = len(buf)
    record = dim * BINARY_DTYPE.itemsize
    _check_header_fits(p, n_words, dim, record + 2)  # word, space, vector
    matrix = np.empty((n_words, dim), dtype=np.float32)
    words: list[str] = []
    find = buf.find
    pos = start
    for i in range(n_words):
        space = find(b" ", pos, pos + MAX_WORD_BYTES)
        if space < 0 or space + 1 + record > size:
            raise EmbedtrainError(f"{p}: truncated binary file: word {i + 1} of {n_words} at byte "
                                  f"offset {pos} needs {record} bytes of vector, the file has "
                                  f"{size} bytes")
        word = buf[pos:space]
        if word[:1] == b"\n":  # word2vec.c's newline after the previous vector
            word = word.lstrip(b"\n")
        words.append(word.decode("utf-8", errors="replace"))
        matrix[i] = np.frombuffer(buf, dtype=BINARY_DTYPE, count=dim, offset=space + 1)
        pos = space + 1 + record
    tail = buf[pos:pos + 64]
    if tail.strip():
        pos += len(tail) - len(tail.lstrip())
        raise EmbedtrainError(f"{p}, byte offset {pos}: data after the {n_words} words the header "
                              f"announces")
    return Vectors(words, matrix)


def npy_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(OUT.npy, OUT.vocab.txt)`` for ``OUT`` or ``OUT.npy``."""
    text = str(path)
    stem = text[:-4] if text.endswith(".npy") else text
    return Path(stem + ".npy"), Path(stem + NPY_VOCAB_SUFFIX)


def read_npy(path: str | os.PathLike) -> Vectors:
    matrix_path, vocab_path = npy_paths(path)
    try:
        matrix = np.load(matrix_path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise EmbedtrainError(f"{matrix_path}: not a readable .npy array ({exc})") from None
    if matrix.ndim != 2 or matrix.dtype.kind != "f":
        raise EmbedtrainError(f"{matrix_path}: expected a 2-D float array, found "
                              f"{matrix.dtype} of shape {matrix.shape}")
    if not vocab_path.exists():
        raise EmbedtrainError(f"{matrix_path}: its word list {vocab_path} does not exist")
    with open(vocab_path, "rb") as f:
        words = [w.decode("utf-8", errors="replace") for w in f.read().split(b"\n")]
    if words and words[-1] == "":
        words.pop()
    words = [w.rstrip("\r") for w in words]
    if len(words) != matrix.shape[0]:
        raise EmbedtrainError(f"{vocab_path} lists {len(words)} words but {matrix_path} has "
                              f"{matrix.shape[0]} rows")
    return Vectors(words, matrix)


def write_word2vec_binary(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> None:
    """word2vec.c's binary layout, with its newline after each vector."""
    vectors = rows_or_array(vectors, BINARY_DTYPE)
    _check_words(words)
    with atomic_output(path, "wb") as out:
        out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode("ascii"))
        for start in range(0, len(words), WRITE_BATCH_ROWS):
            rows = np.ascontiguousarray(vectors[start:start + WRITE_BATCH_ROWS], dtype=BINARY_DTYPE)
            out.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                               for w, row in zip(words[start:start + WRITE_BATCH_ROWS], rows)))


def write_npy(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> tuple[Path, Path]:
    """``OUT.npy`` (float32 matrix) and ``OUT.vocab.txt`` (one word per line)."""
    matrix_path, vocab_path = npy_paths(path)
    for w in words:
        if "\n" in w or "\r" in w:
            raise EmbedtrainError(f"cannot write the word {w!r}: it contains a line break")
    with atomic_group():  # both files appear together or neither does
        with atomic_output(vocab_path, "w", encoding="utf-8", newline="\n") as out:
            out.write("".join(w + "\n" for w in words))
        with atomic_output(matrix_path, "wb") as out:
            np.save(out, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    return matrix_path, vocab_path


def write_vectors(path: str | os.PathLike, vectors: Vectors, format: str) -> list[Path]:
    """Write ``vectors`` in one of :data:`WRITE_FORMATS`; returns the files written."""
    if format == "word2vec-text":
        write_word2vec_text(path, vectors.words, vectors.vectors)
    elif format == "glove":
        write_glove(path, vectors.words, vectors.vectors)
    elif format == "word2vec-binary":
        write_word2vec_binary(path, vectors.words, vectors.vectors)
    elif format == "npy":
        return list(write_npy(path, vectors.words, vectors.vectors))
    else:
        raise EmbedtrainError(f"unknown output format {format!r} (choose from {', '.join(WRITE_FORMATS)})")
    return [Path(path)]
