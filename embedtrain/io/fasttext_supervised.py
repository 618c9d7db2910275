"""fastText's supervised ``.bin`` (format version 12; 11 read too) and its quantised
``.ftz``: written from a Classifier so that ``fasttext.load_model`` predicts what we
predict, and read so that ``classify predict/test`` use a model fastText trained.

A ``.ftz`` (fastText's quantize, classify/quantization.py) is the same layout with: the
dictionary's pruneidx size (-1: not pruned) followed, after the entries, by that many
int32 (bucket, row) pairs; the input matrix's flag true and a QuantMatrix (bool qnorm,
int64 rows, cols, int32 code bytes; the codes; the ProductQuantizer: int32 dim, nsubq, dsub,
lastdsub, float32 dim x 256 centroids; with qnorm the rows' norm codes and a quantiser of
dim 1); the output matrix's flag (fastText's qout) and a QuantMatrix or a dense matrix.

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


_QUANT_HEAD = struct.Struct("<?2qi")       # QuantMatrix::save: bool qnorm, int64 m, n, int32 codesize
_PQ_HEAD = struct.Struct("<4i")            # ProductQuantizer::save: dim, nsubq, dsub, lastdsub
_PRUNE_PAIR = struct.Struct("<2i")         # Dictionary::save: pruneidx (bucket, row) pairs


def _write_quant_matrix(out, q) -> None:
    """fastText's QuantMatrix::save of a classify.quantmatrix.QuantMatrix."""
    n, dim = q.shape
    out.write(_QUANT_HEAD.pack(q.qnorm, n, dim, n * q.nsubq))
    out.write(np.ascontiguousarray(q.codes, dtype=np.uint8).tobytes())
    out.write(_PQ_HEAD.pack(dim, q.nsubq, q.dsub, q.lastdsub))
    out.write(q.centroids.astype("<f4", copy=False).tobytes())
    if q.qnorm:
        out.write(np.ascontiguousarray(q.norm_codes, dtype=np.uint8).tobytes())
        out.write(_PQ_HEAD.pack(1, 1, 1, 1))   # the norms' quantiser: dim 1, dsub 1
        out.write(q.norm_centroids.astype("<f4", copy=False).tobytes())


def write_supervised_bin(clf, path: str | os.PathLike) -> Path:
    """Write a Classifier as a fastText supervised ``.bin`` (a quantised one: the ``.ftz``
    layout, which is the same file with quantised matrices and the pruned buckets)."""
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
    kept = clf.kept_buckets
    header += _DICT.pack(d.nwords + d.nlabels, d.nwords, d.nlabels, d.ntokens,
                         NOT_PRUNED if kept is None else len(kept))
    entries = b"".join(t + b"\0" + _ENTRY_TAIL.pack(int(n), WORD_ENTRY)
                       for t, n in zip(d.words, d.word_counts.tolist()))
    entries += b"".join(t + b"\0" + _ENTRY_TAIL.pack(int(n), LABEL_ENTRY)
                        for t, n in zip(d.labels, d.label_counts.tolist()))
    if kept is not None:
        pairs = np.empty((len(kept), 2), dtype="<i4")
        pairs[:, 0], pairs[:, 1] = kept, np.arange(len(kept))
        entries += pairs.tobytes()
    with atomic_output(path, "wb") as out:
        out.write(header)
        out.write(entries)
        for matrix in (clf.input_vectors, clf.output_vectors):
            if isinstance(matrix, np.ndarray):
                _write_matrix(out, np.ascontiguousarray(matrix, dtype=np.float32))
            else:
                out.write(struct.pack("<?", True))
                _write_quant_matrix(out, matrix)
    return Path(path)


def _read_quant_matrix(cur, name: str, rows: int, dim: int):
    """fastText's QuantMatrix::load, every size checked against the settings and the bytes."""
    from ..classify.quantmatrix import QuantMatrix
    from ..quantization import PQ_CENTROIDS

    qnorm, m, n, codesize = cur.unpack(_QUANT_HEAD, f"the quantised {name} matrix's header")
    if m != rows or n != dim:
        raise cur.fail(f"the quantised {name} matrix is {m:,} x {n:,}; the dictionary and settings "
                       f"call for {rows:,} x {dim:,}")

    def quantizer(what: str, width: int, count: int):
        cur.need(count, f"the {what} codes")
        codes = np.frombuffer(cur.buf, dtype=np.uint8, count=count, offset=cur.pos).copy()
        cur.pos += count
        pq_dim, nsubq, dsub, lastdsub = cur.unpack(_PQ_HEAD, f"the {what} quantiser")
        if (pq_dim != width or dsub < 1 or dsub > pq_dim or nsubq != -(-pq_dim // dsub)
                or lastdsub != pq_dim - (nsubq - 1) * dsub):
            raise cur.fail(f"the {what} quantiser has dim {pq_dim}, {nsubq} subvectors, dsub "
                           f"{dsub}, last dsub {lastdsub}")
        cur.need(pq_dim * PQ_CENTROIDS * 4, f"the {what} centroids")
        centroids = np.frombuffer(cur.buf, dtype="<f4", count=pq_dim * PQ_CENTROIDS,
                                  offset=cur.pos).astype(np.float32)
        cur.pos += pq_dim * PQ_CENTROIDS * 4
        return codes, centroids, dsub, nsubq

    if codesize < 0 or codesize % max(m, 1) or (m == 0 and codesize):
        raise cur.fail(f"the quantised {name} matrix has {codesize:,} code bytes for {m:,} rows")
    codes, centroids, dsub, nsubq = quantizer(f"{name} matrix", dim, codesize)
    if codesize != m * nsubq:
        raise cur.fail(f"the quantised {name} matrix has {codesize:,} code bytes, not {m:,} x {nsubq}")
    norm_codes = norm_centroids = None
    if qnorm:
        norm_codes, norm_centroids, _, _ = quantizer(f"{name} norms", 1, m)
    q = QuantMatrix(codes.reshape(m, nsubq), centroids, dim, dsub, norm_codes, norm_centroids)
    problem = q.check()
    if problem:
        raise cur.fail(f"the quantised {name} matrix: {problem}")
    return q


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
    if prune_size < NOT_PRUNED or prune_size > max(bucket, 0):
        raise cur.fail(f"pruned index size {prune_size:,} (bucket {bucket:,})")
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
    kept = None
    if prune_size != NOT_PRUNED:  # fastText's pruneidx: (bucket, row) pairs, any order
        cur.need(prune_size * _PRUNE_PAIR.size, f"the {prune_size:,} pruned n-gram buckets")
        pairs = np.frombuffer(cur.buf, dtype="<i4", count=2 * prune_size,
                              offset=cur.pos).reshape(-1, 2).astype(np.int64)
        cur.pos += prune_size * _PRUNE_PAIR.size
        kept = np.full(prune_size, -1, dtype=np.int64)
        if len(pairs) and (pairs.min() < 0 or pairs[:, 0].max() >= bucket
                           or pairs[:, 1].max() >= prune_size):
            raise cur.fail("a pruned n-gram bucket or its row is out of range")
        kept[pairs[:, 1]] = pairs[:, 0]
        if (kept < 0).any() or len(np.unique(kept)) != prune_size:
            raise cur.fail("the pruned n-gram buckets are not one row each")
    rows = nwords + (bucket if kept is None else prune_size)
    matrices = []
    for name, n in (("input", rows), ("output", nlabels)):
        if cur.flag(f"the {name} matrix's quantisation flag"):
            matrices.append(_read_quant_matrix(cur, name, n, dim))
        else:
            cur.pos -= 1  # _read_matrix reads the flag itself
            matrices.append(np.array(_read_matrix(cur, name, n, dim)))
    input_vectors, output_vectors = matrices
    if kept is not None and isinstance(input_vectors, np.ndarray):
        raise cur.fail("a pruned dictionary with an unquantised input matrix (fastText refuses it)")
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
    # copies (np.array above): the classifier may train on or be saved; the mmap stays private
    extra = {"kept_buckets": kept, "bucket": bucket} if kept is not None else {}
    return (config, dictionary, input_vectors, output_vectors,
            {"source": f"fastText {'.ftz' if not isinstance(input_vectors, np.ndarray) else '.bin'} "
                       f"{p.name}"}, extra)
