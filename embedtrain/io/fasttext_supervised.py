"""fastText's supervised ``.bin`` (format version 12; 11 read too): written from a
Classifier so that ``fasttext.load_model`` predicts what we predict, and read so that
``classify predict/test`` use a model fastText trained.

The layout is the unsupervised one (io/fasttext_bin.py) with model 3 (sup), the loss
(hs 1, ns 2, softmax 3, ova 4), word n-grams, the dictionary's labels after its words
(type 1, with their prefix) and an output matrix of one row per label. fastText does
not store the label prefix: a loaded model uses ``__label__``. The input matrix has
``nwords + bucket`` rows, where bucket is 0 without word or character n-grams.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ..errors import EmbedtrainError
from .atomic import atomic_output
from .fasttext_bin import (_ARGS, _DICT, _ENTRY_TAIL, ENTRY_MIN_BYTES, FASTTEXT_MAGIC,
                           FASTTEXT_VERSION, LABEL_ENTRY, LR_UPDATE_RATE, MAX_WORD_BYTES,
                           NOT_PRUNED, SUPERVISED, WORD_ENTRY, _read_matrix, _write_matrix,
                           open_fasttext_bin)

LOSS_IDS = {"hs": 1, "ns": 2, "softmax": 3, "ova": 4}   # fastText's loss_name
LOSS_NAMES = {v: k for k, v in LOSS_IDS.items()}
WINDOW = 5           # -ws: unused by supervised models, stored as fastText's default
SAMPLE = 1e-4        # -t: likewise
DEFAULT_LABEL_PREFIX = "__label__"


def write_supervised_bin(clf, path: str | os.PathLike) -> Path:
    """Write a Classifier as a fastText supervised ``.bin``."""
    c, d = clf.config, clf.dictionary
    for tok in d.words + d.labels:
        if b"\0" in tok:
            raise EmbedtrainError(f"{tok!r} contains a NUL byte, which fastText's format cannot hold")
    if c.label_prefix != DEFAULT_LABEL_PREFIX:
        import logging
        logging.getLogger("embedtrain").warning(
            "fastText's .bin does not store the label prefix %r: fastText will read labels "
            "with %r in new text", c.label_prefix, DEFAULT_LABEL_PREFIX)
    header = struct.pack("<2i", FASTTEXT_MAGIC, FASTTEXT_VERSION)
    header += _ARGS.pack(c.dim, WINDOW, c.epochs, c.min_count, c.negative, c.word_ngrams,
                         LOSS_IDS[c.loss], SUPERVISED, clf.bucket, c.minn, c.maxn, LR_UPDATE_RATE,
                         SAMPLE)
    header += _DICT.pack(d.nwords + d.nlabels, d.nwords, d.nlabels, d.ntokens, NOT_PRUNED)
    entries = b"".join(t + b"\0" + _ENTRY_TAIL.pack(int(n), WORD_ENTRY)
                       for t, n in zip(d.words, d.word_counts.tolist()))
    entries += b"".join(t + b"\0" + _ENTRY_TAIL.pack(int(n), LABEL_ENTRY)
                        for t, n in zip(d.labels, d.label_counts.tolist()))
    with atomic_output(path, "wb") as out:
        out.write(header)
        out.write(entries)
        _write_matrix(out, np.ascontiguousarray(clf.input_vectors, dtype=np.float32))
        _write_matrix(out, np.ascontiguousarray(clf.output_vectors, dtype=np.float32))
    return Path(path)


def is_supervised_bin(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8 + _ARGS.size)
    except OSError:
        return False
    if len(head) < 8 + _ARGS.size:
        return False
    magic, _version = struct.unpack_from("<2i", head)
    return magic == FASTTEXT_MAGIC and _ARGS.unpack_from(head, 8)[7] == SUPERVISED


def read_supervised_bin(path: str | os.PathLike):
    """(config, dictionary, input_vectors, output_vectors, stats) of fastText's supervised
    ``.bin`` (unquantised): what Classifier.load builds a Classifier from."""
    from ..classify.config import classify_config
    from ..classify.data import Dictionary

    p = Path(path)
    cur, version, settings = open_fasttext_bin(p)
    (dim, _ws, epoch, min_count, neg, word_ngrams, loss, model_id, bucket, minn, maxn,
     _lr_update, _t) = settings
    if model_id != SUPERVISED:
        raise EmbedtrainError(f"{p} is a fastText word-vector model, not a classifier (a "
                              f"supervised model)")
    if version == 11:
        maxn = 0
    if loss not in LOSS_NAMES or dim < 1 or bucket < 0 or minn < 0 or maxn < 0 or word_ngrams < 1:
        raise cur.fail(f"settings loss {loss}, dim {dim}, bucket {bucket}, minn {minn}, maxn {maxn}")
    size, nwords, nlabels, ntokens, prune_size = cur.unpack(_DICT, "the dictionary header")
    if nwords < 0 or nlabels < 1 or size != nwords + nlabels:
        raise cur.fail(f"dictionary of {size} entries: {nwords} words and {nlabels} labels")
    if prune_size != NOT_PRUNED:
        raise EmbedtrainError(f"{p} is a pruned (quantised) fastText model; embedtrain reads "
                              f"unquantised .bin files only")
    cur.need(size * ENTRY_MIN_BYTES, f"a dictionary of {size:,} entries")
    tokens, counts = [], []
    for i in range(size):
        end = cur.buf.find(b"\0", cur.pos, cur.pos + MAX_WORD_BYTES)
        if end < 0:
            raise cur.fail(f"dictionary entry {i + 1} of {size:,} has no end")
        tokens.append(bytes(cur.buf[cur.pos:end]))
        cur.pos = end + 1
        count, kind = cur.unpack(_ENTRY_TAIL, f"dictionary entry {i + 1}")
        if kind != (WORD_ENTRY if i < nwords else LABEL_ENTRY) or count < 0:
            raise cur.fail(f"dictionary entry {i + 1} has type {kind} and count {count}")
        counts.append(count)
    input_vectors = _read_matrix(cur, "input", nwords + bucket, dim)
    output_vectors = _read_matrix(cur, "output", nlabels, dim)
    if cur.pos != cur.size:
        raise cur.fail(f"{cur.size - cur.pos:,} bytes after the output matrix")
    try:
        config = classify_config(dim=dim, epochs=max(epoch, 1), min_count=max(min_count, 1),
                                 negative=max(neg, 1), word_ngrams=word_ngrams,
                                 loss=LOSS_NAMES[loss], bucket=max(bucket, 1), minn=minn,
                                 maxn=maxn)
    except EmbedtrainError as exc:
        raise cur.fail(str(exc)) from None
    dictionary = Dictionary(tokens[:nwords], np.array(counts[:nwords], dtype=np.int64),
                            tokens[nwords:], np.array(counts[nwords:], dtype=np.int64), ntokens,
                            DEFAULT_LABEL_PREFIX.encode())
    # copies: the classifier may train on or be saved; the mmap stays private anyway
    return (config, dictionary, np.array(input_vectors), np.array(output_vectors),
            {"source": f"fastText .bin {p.name}"})
