"""fastText's own binary model format (``.bin``, format version 12), written from a
FastText model so that fastText (``fasttext.load_model``) and gensim
(``load_facebook_model``) load it and give the same vectors for known and unknown words.

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
does not, and nothing in the format requires it.
"""
from __future__ import annotations

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


def write_fasttext_bin(model, path: str | os.PathLike) -> Path:
    """Write ``model`` (a FastTextModel) as a fastText ``.bin`` model file."""
    from ..models import FastTextModel

    if not isinstance(model, FastTextModel):
        raise EmbedtrainError(f"only FastText models can be written as fastText .bin "
                              f"(this is a {model.kind} model)")
    config = model.config
    words = model.vocab.words
    encoded = [w.encode("utf-8", errors="surrogatepass") for w in words]
    for w, b in zip(words, encoded):
        if b"\0" in b:
            raise EmbedtrainError(f"word {w!r} contains a NUL byte, which fastText's format cannot hold")
    input_vectors = np.ascontiguousarray(model.input_vectors, dtype=np.float32)
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
        _write_matrix(out, input_vectors)
        out.write(struct.pack("<?", False))
        _write_matrix(out, output_vectors)
    return Path(path)


def _write_matrix(out, matrix: np.ndarray) -> None:
    out.write(struct.pack("<2q", matrix.shape[0], matrix.shape[1]))
    little = matrix.astype("<f4", copy=False)
    for start in range(0, little.shape[0], WRITE_BLOCK_ROWS):
        out.write(little[start:start + WRITE_BLOCK_ROWS].tobytes())
