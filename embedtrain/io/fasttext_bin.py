"""fastText's own binary model format (``.bin``, format version 12): written from a
FastText model so that fastText (``fasttext.load_model``) and gensim
(``load_facebook_model``) load it and give the same vectors for known and unknown words;
and read (versions 11 and 12, as fastText 0.9 and gensim write them) as word vectors
that give unseen words a vector from their n-grams.

Layout, all little-endian (fastText writes native x86 byte order), from fastText's
FastText::saveModel, Args::save, Dictionary::save and DenseMatrix::save
(src/fasttext.cc, args.cc, dictionary.cc, densematrix.cc), as gensim's
models/_fasttext_bin.py reads it:

    int32 magic 793712314, int32 version 12
    args:  int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket,
           minn, maxn, lrUpdateRate; float64 t
    dict:  int32 size, nwords, nlabels; int64 ntokens; int64 pruneidx_size (-1: not pruned);
           per word: UTF-8 bytes, NUL, int64 count, int8 type (0 = word)
    bool quantised input (0); input matrix: int64 rows, int64 cols, float32 data
    bool quantised output (0); output matrix: int64 rows, int64 cols, float32 data

fastText's vocabulary also holds ``</s>`` (the end of each line, as a word); ours
does not, and nothing in the format requires it. fastText gives ``</s>`` no n-grams
(Dictionary::initNgrams), so its vector is its own row; the reader does the same.

Reading checks every count and size against the bytes the file holds before
anything is allocated, so a damaged or truncated file is one EmbedtrainError.
Quantised models (``.ftz``) are refused. The matrices are memory-mapped
copy-on-write: a 7 GB ``cc.*.bin`` is paged in as it is used, never copied.
"""
from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import EmbedtrainError
from .atomic import atomic_output

FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSION = 12
LOSS_NS = 2                         # fastText's loss_name: hs 1, ns 2, softmax 3, ova 4
MODEL_IDS = {"cbow": 1, "skipgram": 2}  # fastText's model_name: cbow 1, sg 2, sup 3
WORD_ENTRY = 0                      # entry_type::word
NOT_PRUNED = -1                     # pruneidx_size_ of an unpruned dictionary
WORD_NGRAMS = 1                     # word n-grams: unsupervised models use 1
LR_UPDATE_RATE = 100                # fastText's default; unused after training
WRITE_BLOCK_ROWS = 1 << 16
READ_VERSIONS = (11, 12)            # 11: fastText before 0.2 (supervised models lack char n-grams)
SUPERVISED = 3                      # model_name::sup
LABEL_ENTRY = 1                     # entry_type::label
EOS = "</s>"                        # fastText's end-of-line word (Dictionary::EOS)
MAX_WORD_BYTES = 1 << 16            # a dictionary word must end (NUL) within this many bytes
ENTRY_MIN_BYTES = 1 + 8 + 1         # NUL, int64 count, int8 type
_ARGS = struct.Struct("<12id")
_DICT = struct.Struct("<3iqq")
_ENTRY_TAIL = struct.Struct("<qb")
_MATRIX = struct.Struct("<2q")


def write_fasttext_bin(model, path: str | os.PathLike) -> Path:
    """Write ``model`` (a FastTextModel) as a fastText ``.bin`` model file."""
    from ..models import FastTextModel

    if not isinstance(model, FastTextModel):
        raise EmbedtrainError(f"only FastText models can be written as fastText .bin "
                              f"(this is a {model.kind} model)")
    config = model.config
    if getattr(config, "floret", False):
        raise EmbedtrainError("fastText's .bin has no floret mode (no word rows): export a --floret "
                              "model with --format floret")
    words = model.vocab.words
    encoded = [w.encode("utf-8", errors="surrogatepass") for w in words]
    for w, b in zip(words, encoded):
        if b"\0" in b:
            raise EmbedtrainError(f"word {w!r} contains a NUL byte, which fastText's format cannot hold")
    ngrams = model.ngrams
    input_rows = len(words) + model.bucket
    output_vectors = np.ascontiguousarray(model.output_vectors, dtype=np.float32)
    ntokens = int(model.stats.get("corpus_tokens") or model.vocab.total_words)

    header = struct.pack("<2i", FASTTEXT_MAGIC, FASTTEXT_VERSION)
    header += struct.pack("<12id", config.dim, config.window, config.epochs, config.min_count,
                          config.negative, WORD_NGRAMS, LOSS_NS, MODEL_IDS[config.arch],
                          model.bucket, config.minn, config.maxn, LR_UPDATE_RATE, config.sample)
    header += struct.pack("<3iqq", len(words), len(words), 0, ntokens, NOT_PRUNED)
    entries = b"".join(b + b"\0" + struct.pack("<qb", c, WORD_ENTRY)
                       for b, c in zip(encoded, model.vocab.counts.tolist()))
    with atomic_output(path, "wb") as out:
        out.write(header)
        out.write(entries)
        out.write(struct.pack("<?", False))
        # the full matrix, bucket rows that training never touched included
        out.write(struct.pack("<2q", input_rows, config.dim))
        for start in range(0, input_rows, WRITE_BLOCK_ROWS):
            block = ngrams.full_rows(start, min(start + WRITE_BLOCK_ROWS, input_rows))
            out.write(block.astype("<f4", copy=False).tobytes())
        _write_matrix(out, output_vectors)
    return Path(path)


def _write_matrix(out, matrix: np.ndarray) -> None:
    """``matrix`` as fastText writes a dense one: its quantisation flag (false), shape, values."""
    out.write(struct.pack("<?", False))
    out.write(struct.pack("<2q", matrix.shape[0], matrix.shape[1]))
    little = matrix.astype("<f4", copy=False)
    for start in range(0, little.shape[0], WRITE_BLOCK_ROWS):
        out.write(little[start:start + WRITE_BLOCK_ROWS].tobytes())


# ---------------------------------------------------------------------- reading
class _Cursor:
    """Reads little-endian fields from ``buf``; running past its end is an error."""

    def __init__(self, buf, path: Path):
        self.buf, self.path, self.pos, self.size = buf, path, 0, len(buf)

    def fail(self, problem: str) -> EmbedtrainError:
        kind = ".ftz" if str(self.path).endswith(".ftz") else ".bin"
        return EmbedtrainError(f"{self.path}: damaged fastText {kind} file ({problem})")

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise self.fail(f"{what} needs {n:,} bytes at byte offset {self.pos:,}, the file has "
                            f"{self.size:,} (truncated?)")

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        self.need(layout.size, what)
        values = layout.unpack_from(self.buf, self.pos)
        self.pos += layout.size
        return values

    def flag(self, what: str) -> bool:
        self.need(1, what)
        value = self.buf[self.pos]
        self.pos += 1
        if value > 1:
            raise self.fail(f"{what} is {value}, not a boolean")
        return bool(value)


def open_fasttext_bin(path: str | os.PathLike) -> tuple["_Cursor", int, tuple]:
    """(a cursor past the header and settings, the format version, the 13 settings of
    fastText's Args) of the fastText ``.bin`` at ``path``, word-vector or supervised. An
    empty file, another magic number or an unknown version: one-line errors."""
    p = Path(path)
    with open(p, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            raise EmbedtrainError(f"{p} is empty")
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # writable, never written back
    cur = _Cursor(buf, p)
    magic, version = cur.unpack(struct.Struct("<2i"), "the header")
    if magic != FASTTEXT_MAGIC:
        raise EmbedtrainError(f"{p} is not a fastText .bin file (no fastText magic number)")
    if version not in READ_VERSIONS:
        raise EmbedtrainError(f"{p} is a fastText .bin file of format version {version}; embedtrain "
                              f"reads versions {' and '.join(map(str, READ_VERSIONS))}")
    return cur, version, cur.unpack(_ARGS, "the settings")


def read_fasttext_bin(path: str | os.PathLike):
    """The word vectors of a fastText ``.bin`` model (a FastTextVectors): vocabulary words
    as fastText's getWordVector gives them, and any other word from its n-grams."""
    from ..ngram_rows import NgramRows
    from ..vectors import FastTextVectors, finite_rows

    p = Path(path)
    cur, version, settings = open_fasttext_bin(p)
    (dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, model_id, bucket, minn, maxn,
     _lr_update, _t) = settings
    if version == 11 and model_id == SUPERVISED:
        maxn = 0  # fastText's loadModel: old supervised models had no char n-grams
    if dim < 1 or bucket < 0 or minn < 0 or maxn < 0 or maxn > 1000:
        raise cur.fail(f"settings dim {dim}, bucket {bucket}, minn {minn}, maxn {maxn}")
    size, nwords, nlabels, _ntokens, prune_size = cur.unpack(_DICT, "the dictionary header")
    if nwords < 1 or nlabels < 0 or size != nwords + nlabels:
        raise cur.fail(f"dictionary of {size} entries: {nwords} words and {nlabels} labels")
    cur.need(size * ENTRY_MIN_BYTES, f"a dictionary of {size:,} entries")
    words, counts = _read_entries(cur, size, nwords)
    if prune_size > 0:
        raise EmbedtrainError(f"{p} is a pruned (quantised) fastText model; embedtrain reads "
                              f"unquantised .bin files only")
    if prune_size < -1:
        raise cur.fail(f"pruned index size {prune_size}")
    input_vectors = _read_matrix(cur, "input", nwords + bucket, dim)
    _read_matrix(cur, "output", nlabels if model_id == SUPERVISED else nwords, dim)
    if cur.pos != cur.size:
        raise cur.fail(f"{cur.size - cur.pos:,} bytes after the output matrix")
    if not finite_rows(input_vectors).all():
        raise cur.fail("the input matrix holds NaN or infinite values")

    subword_rows = bucket if maxn > 0 else 0
    matrix = _word_vectors(words, input_vectors, minn, maxn, subword_rows)
    return FastTextVectors(words, matrix, counts, NgramRows(input_vectors, nwords, subword_rows, None, 0),
                           minn, maxn, subword_rows)


def _read_entries(cur: _Cursor, size: int, nwords: int) -> tuple[list[str], np.ndarray]:
    """The dictionary: words (entries 0..nwords-1, type 0) then labels (type 1)."""
    words: list[str] = []
    counts = np.empty(nwords, dtype=np.int64)
    find, buf = cur.buf.find, cur.buf
    for i in range(size):
        end = find(b"\0", cur.pos, cur.pos + MAX_WORD_BYTES)
        if end < 0:
            raise cur.fail(f"dictionary entry {i + 1} of {size:,} at byte offset {cur.pos:,} "
                           f"has no end")
        raw = buf[cur.pos:end]
        cur.pos = end + 1
        count, kind = cur.unpack(_ENTRY_TAIL, f"dictionary entry {i + 1}")
        expected = 0 if i < nwords else LABEL_ENTRY
        if kind != expected or count < 0:
            raise cur.fail(f"dictionary entry {i + 1} ({_show(raw)}) has type {kind} and count "
                           f"{count}")
        if i < nwords:
            words.append(raw.decode("utf-8", errors="replace"))
            counts[i] = count
    if len(set(words)) != len(words):
        raise cur.fail("a word is listed twice in the dictionary")
    return words, counts


def _read_matrix(cur: _Cursor, name: str, rows: int, dim: int) -> np.ndarray:
    """The ``name`` matrix after its quantisation flag (a quantised one is refused), as a
    view of the file's bytes."""
    if cur.flag(f"the {name} matrix's quantisation flag"):
        raise EmbedtrainError(f"{cur.path} is a quantised fastText model (.ftz); embedtrain reads "
                              f"unquantised .bin files only")
    m, n = cur.unpack(_MATRIX, f"the {name} matrix's shape")
    if m != rows or n != dim:
        raise cur.fail(f"the {name} matrix is {m:,} x {n:,}; the dictionary and settings call "
                       f"for {rows:,} x {dim:,}")
    nbytes = m * n * 4
    cur.need(nbytes, f"the {name} matrix")
    matrix = np.frombuffer(cur.buf, dtype="<f4", count=m * n, offset=cur.pos).reshape(m, n)
    cur.pos += nbytes
    return matrix


def _word_vectors(words: list[str], input_vectors: np.ndarray, minn: int, maxn: int,
                  bucket: int) -> np.ndarray:
    """Each vocabulary word's vector: the mean of its own row and its n-gram rows."""
    from ..kernels.sgns import word_vectors
    from ..subwords import subword_table

    table = subword_table(words, minn, maxn, bucket, row_base=len(words))
    out = np.empty((len(words), input_vectors.shape[1]), dtype=np.float32)
    word_vectors(input_vectors, table.offsets, table.rows, out)
    if EOS in words:  # no n-grams for the end-of-line word (Dictionary::initNgrams)
        i = words.index(EOS)
        out[i] = input_vectors[i]
    return out


def _show(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return repr(text if len(text) <= 40 else text[:40] + "...")
