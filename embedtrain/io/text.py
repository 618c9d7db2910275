"""Text vector files: word2vec/fastText ``.vec`` (a ``V dim`` header) and GloVe
(no header), read and written.

Text is parsed a block of lines at a time by numpy's C parser, so no Python code
runs per number; words are decoded as UTF-8 with replacement characters for
invalid bytes.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..vectors import Vectors
from .atomic import atomic_output
from .float_text import FLOAT_FORMAT, RECORD, format_values

# Written values keep 6 significant digits, like word2vec.c's "%lf" keeps 6 decimals;
# the model file (.etm) keeps the exact float32 weights.
TEXT_FLOAT_FORMAT = FLOAT_FORMAT  # "%.6g"
# Rows formatted at a time: 1024 rows of 100 floats held 7 MB of Python floats and strings at
# the peak of a skip-gram run; 256 hold a quarter and write as fast (issue 28).
WRITE_BATCH_ROWS = 256
# Text files are parsed in blocks of about this many bytes (bounds the extra memory).
READ_BLOCK_BYTES = 1 << 20
# Readers split on ASCII whitespace, so a written word must not contain any.
_SEPARATORS = frozenset(" \t\n\r\x0b\x0c")
UTF8_BOM = b"\xef\xbb\xbf"  # some editors start UTF-8 files with it: skipped


def _parse_header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) != 2 or not all(x.isdigit() for x in parts):
        return None
    return int(parts[0]), int(parts[1])


def read_text(path: str | os.PathLike, header: bool) -> Vectors:
    """word2vec / fastText text (``header=True``) or GloVe text (``header=False``)."""
    p = Path(path)
    words: list[str] = []
    blocks: list[np.ndarray] = []  # without a header; with one, rows go straight to ``matrix``
    matrix = None
    n_words = dim = None
    line_no = 0  # 1-based number of the last line read
    with open(p, "rb") as f:
        if f.read(len(UTF8_BOM)) != UTF8_BOM:
            f.seek(0)
        if header:
            first = f.readline()
            line_no = 1
            parsed = _parse_header(first)
            if parsed is None:
                raise EmbedtrainError(f"{p}, line 1: expected a 'words dim' header, found "
                                      f"{_show(first)}")
            n_words, dim = parsed
            if dim == 0:
                raise EmbedtrainError(f"{p}, line 1: the header gives dimension 0")
            _check_header_fits(p, n_words, dim, 2 * dim + 2)  # "w 0 ... 0\n"
            matrix = np.empty((n_words, dim), dtype=np.float32)
        while True:
            lines = f.readlines(READ_BLOCK_BYTES)
            if not lines:
                break
            block_words, rests, numbers = [], [], []
            for offset, line in enumerate(lines, start=line_no + 1):
                parts = line.split(None, 1)
                if not parts:
                    continue  # blank line
                block_words.append(parts[0])
                rests.append(parts[1] if len(parts) > 1 else b"")
                numbers.append(offset)
            line_no += len(lines)
            if not rests:
                continue
            if dim is None:
                dim = len(rests[0].split())
                if dim == 0:
                    raise EmbedtrainError(f"{p}, line {numbers[0]}: a word with no values")
            if n_words is not None and len(words) + len(rests) > n_words:
                raise EmbedtrainError(f"{p}, line {numbers[n_words - len(words)]}: the header "
                                      f"says {n_words} words but the file has more lines")
            block = _parse_block(p, rests, numbers, dim, header)
            if matrix is not None:
                matrix[len(words):len(words) + len(block)] = block
            else:
                blocks.append(block)
            words.extend(w.decode("utf-8", errors="replace") for w in block_words)
    if n_words is not None and len(words) != n_words:
        raise EmbedtrainError(f"{p}: the header says {n_words} words but the file has {len(words)} "
                              f"(truncated file?)")
    if not words:
        raise EmbedtrainError(f"{p} holds no vectors")
    if matrix is None:
        matrix = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return Vectors(words, matrix)


def _check_header_fits(p: Path, n_words: int, dim: int, min_row_bytes: int) -> None:
    """Refuse a header that announces more data than the file can hold (before allocating)."""
    size = p.stat().st_size
    if n_words * min_row_bytes > size:
        raise EmbedtrainError(f"{p}: the header says {n_words:,} words of dimension {dim} but the "
                              f"file ends at byte offset {size:,} (truncated file or bad header?)")


def _parse_block(path: Path, rests: list[bytes], numbers: list[int], dim: int,
                 header: bool) -> np.ndarray:
    """The numbers of a block of lines as float32 [len(rests), dim]; errors name the line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            matrix = np.loadtxt(io.BytesIO(b"\n".join(rests)), dtype=np.float32, comments=None,
                                delimiter=None, ndmin=2)
        if matrix.shape == (len(rests), dim):
            return matrix
    except ValueError:
        pass
    # Something is wrong: find the first bad line (slow, but only on the error path).
    what = "the header's dimension" if header else "the first line's count"
    for line_no, rest in zip(numbers, rests):
        values = rest.split()
        if len(values) != dim:
            raise EmbedtrainError(f"{path}, line {line_no}: expected {dim} values ({what}), "
                                  f"found {len(values)}")
        for value in values:
            try:
                float(value)
            except ValueError:
                raise EmbedtrainError(f"{path}, line {line_no}: {_show(value)} is not a number") from None
    raise EmbedtrainError(f"{path}, lines {numbers[0]}-{numbers[-1]}: could not parse the vectors")


def _show(raw: bytes, limit: int = 40) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")


# ---------------------------------------------------------------------- writing
def _check_words(words: Sequence[str]) -> None:
    joined = "\0".join(words)   # one search a separator: 0.6 ms for 22,541 words, a loop 3.4 ms
    if all(words) and not any(c in joined for c in _SEPARATORS):
        return
    for w in words:
        if not w or not _SEPARATORS.isdisjoint(w):
            raise EmbedtrainError(f"cannot write the word {w!r}: words in vector files may not be "
                                  f"empty or contain whitespace")


def rows_or_array(vectors, dtype):
    """``vectors`` as an array of ``dtype``, unless it is a matrix read or decoded on
    demand (a memory-mapped file, compressed rows): that is kept and sliced in batches."""
    if isinstance(vectors, np.memmap) or (not isinstance(vectors, np.ndarray) and hasattr(vectors, "shape")):
        return vectors
    return np.ascontiguousarray(vectors, dtype=dtype)


def _text_rows(words: Sequence[str], vectors: np.ndarray):
    """The lines of ``vectors``' text, ``f"{word} {row_format % tuple(row)}\\n"``, as UTF-8
    bytes, a batch of rows at a time."""
    row_format = " ".join([TEXT_FLOAT_FORMAT] * vectors.shape[1])
    for start in range(0, len(words), WRITE_BATCH_ROWS):
        block = vectors[start:start + WRITE_BATCH_ROWS]
        batch = words[start:start + WRITE_BATCH_ROWS]
        if block.dtype in (np.float32, np.float16) and block.shape[1]:  # exact in float32
            yield _formatted_rows(batch, np.asarray(block, dtype=np.float32))
        else:
            yield "".join(f"{w} {row_format % tuple(row)}\n" for w, row in zip(batch, block.tolist())).encode()


def _formatted_rows(words: Sequence[str], block: np.ndarray) -> bytes:
    """The lines of a float32 block, its numbers formatted by numpy (float_text.py): each
    value's record ends in a space (the row's last in a newline), the zero bytes of the
    records are dropped, and the rows' text is joined with the words."""
    rows, dim = block.shape
    chars, _ = format_values(block)
    records = chars.reshape(rows, dim, RECORD)
    records[:, :, -1] = ord(" ")
    records[:, -1, -1] = ord("\n")
    # the zero bytes dropped by bytes.translate: a third faster than a boolean mask
    numbers = records.tobytes().translate(None, b"\0").split(b"\n")
    return b"".join([part for word, line in zip(words, numbers)
                     for part in (word.encode("utf-8"), b" ", line, b"\n")])


def write_word2vec_text(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray,
                        header: bool = True) -> None:
    """word2vec text format (``header=False`` gives GloVe's text format). ``vectors``:
    a float32 matrix, or rows read on demand (vectors.LazyVectors), written in batches."""
    vectors = rows_or_array(vectors, np.float32)
    _check_words(words)
    with atomic_output(path, "wb") as out:
        if header:
            out.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        for chunk in _text_rows(words, vectors):
            out.write(chunk)


def write_glove(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> None:
    write_word2vec_text(path, words, vectors, header=False)
