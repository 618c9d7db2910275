"""Compressed models: word vectors (and a FastText model's n-gram rows) in int8 or
product quantisation, read without ever building the float32 matrix.

``embedtrain compress MODEL.etm -o SMALL.etm --method int8|pq`` (docs/memory.md):

- ``int8``: each row as int8 values and a float32 step per row (kernels/quantize.py,
  the fixed point of the Ray synchronisation): 1/4 of float32 plus 4 bytes a row.
- ``pq``: product quantisation as fastText's ``quantize``: ``--pq-subvectors`` M
  subvectors (M must divide dim; default dim/2, fastText's dsub 2), each the index of
  one of 256 centroids learnt by k-means: M bytes a row plus the codebook
  (256 x dim floats). ``qnorm`` (fastText's -qnorm) stores each row's length apart,
  as one byte (256 levels learnt by k-means), and the direction in PQ.
- ``keep_words``: only the N most frequent words (fastText's -cutoff).
- ``keep_ngrams`` (FastText): only the N stored n-gram rows that the most n-grams of
  vocabulary words land in (as compress-fasttext's prune_ft_freq, which also weighs
  the count by the row's length and reads a dropped bucket as zeros): a dropped bucket
  reads as its initial value, as a bucket training never touched does.
- ``rotation`` (pq): ``random`` or ``opq`` multiplies the rows by an orthogonal
  [dim, dim] matrix before PQ (stored, 4 dim^2 bytes): ``random`` spreads the variance
  over the subvectors; ``opq`` learns it (Ge et al. 2013, OPQ: alternating PQ and the
  orthogonal Procrustes fit of the rows to their codes, starting from the random one).
  Decoding multiplies by its transpose; a query is rotated once.

A compressed model holds what the queries need, not what training needs: the word
vectors (a FastText model's: the mean of its rows, as written to PREFIX.vec) and,
for FastText, the n-gram rows training touched (so an unseen word's vector is the
mean of its decoded n-gram rows; a bucket no word touched keeps its initial value,
computed as ngram_rows.py does). It cannot be trained further.

The file is a model archive (io/archive.py) with ``format_version`` 2 and a
``compression`` object in meta.json; older embedtrain versions refuse it by its
version ("upgrade embedtrain") instead of misreading it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import EmbedtrainError
from .io.archive import check_arrays as check_archive_arrays

COMPRESSION_METHODS = ("int8", "pq")
DEFAULT_METHOD = "int8"
PQ_CENTROIDS = 256
# fastText's ProductQuantizer: 25 rounds of k-means on at most 256 points per centroid.
PQ_NITER = 25
PQ_MAX_POINTS = 256 * PQ_CENTROIDS
# fastText's default subvector size (-dsub 2): --pq-subvectors defaults to dim / 2.
DEFAULT_PQ_DSUB = 2
DEFAULT_SEED = 1
PQ_ROTATIONS = ("none", "random", "opq")
DEFAULT_PQ_ROTATION = "none"
# OPQ's alternation: rounds of (PQ of the rotated sample, Procrustes), each PQ with this
# many k-means rounds (or --pq-iterations if fewer); the final codebook gets the full niter.
OPQ_ROUNDS = 6
OPQ_KMEANS_NITER = 8
# Rows encoded or decoded at a time (bounds the float32 temporaries).
CODE_BLOCK_ROWS = 1 << 15


# ---------------------------------------------------------------------- rows
class CodedRows:
    """A float32 [n, dim] matrix stored compressed; rows decode when indexed.

    ``parts``: int8: ``values`` int8 [n, dim], ``steps`` float32 [n]; pq: ``codes`` uint8
    [n, M], ``codebook`` float32 [M, 256, dim / M] and, with qnorm, ``norm_codes`` uint8
    [n] and ``norm_codebook`` float32 [256] (row = its length x its decoded direction);
    with a rotation, ``rotation`` float32 [dim, dim] (orthogonal R: the codes are of
    row @ R, so a row decodes as decoded @ R.T).
    """

    def __init__(self, method: str, parts: dict[str, np.ndarray]):
        self.method = method
        self.parts = parts
        if method == "int8":
            self.shape = parts["values"].shape
        else:
            m, _, dsub = parts["codebook"].shape
            self.shape = (parts["codes"].shape[0], m * dsub)
        self.dtype = np.dtype(np.float32)
        self.ndim = 2
        self._norms: np.ndarray | None = None

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.parts.values())

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """float32 [k, dim]: rows ``ids`` decoded."""
        from .kernels.quantize import int8_decode, pq_decode, rotate_back

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.shape[0]):
            raise IndexError(f"row index out of range for {self.shape[0]} rows")
        out = np.empty((len(ids), self.shape[1]), dtype=np.float32)
        p = self.parts
        if self.method == "int8":
            int8_decode(p["values"], p["steps"], ids, out)
        else:
            pq_decode(p["codes"], p["codebook"], ids, out)
            if "rotation" in p:
                rotate_back(out, p["rotation"])
            if "norm_codes" in p:
                out *= p["norm_codebook"][p["norm_codes"][ids]][:, None]
        return out

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            return self.rows(np.array([i]))[0]
        if isinstance(key, slice):
            return self.rows(np.arange(*key.indices(self.shape[0])))
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        return self.rows(key.reshape(-1)).reshape(key.shape + (self.shape[1],))

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def dots(self, query: np.ndarray, start: int, stop: int) -> np.ndarray:
        """float32 [stop - start] (or [.., k] for query [dim, k]): rows times ``query``,
        without decoding a row: int8 multiplies the integers and scales by the step; PQ
        adds M entries of a per-query table of centroid dot products."""
        from .kernels.quantize import pq_dot_tables, pq_dots

        p = self.parts
        if self.method == "int8":
            block = p["values"][start:start + (stop - start)].astype(np.float32)
            out = block @ query
            return out * (p["steps"][start:stop] if query.ndim == 1 else p["steps"][start:stop, None])
        queries = query[:, None] if query.ndim == 1 else query
        if "rotation" in p:  # row . q = (codes' row @ R.T) . q = codes' row . (q @ R)
            queries = (p["rotation"].T @ queries).astype(np.float32)
        out = np.empty((stop - start, queries.shape[1]), dtype=np.float32)
        for j in range(queries.shape[1]):
            tables = pq_dot_tables(p["codebook"], np.ascontiguousarray(queries[:, j], dtype=np.float32))
            pq_dots(p["codes"], tables, start, stop, out[:, j])
        if "norm_codes" in p:
            out *= p["norm_codebook"][p["norm_codes"][start:stop]][:, None]
        return out[:, 0] if query.ndim == 1 else out

    def norms(self) -> np.ndarray:
        """float32 [n]: each decoded row's length (PQ: from the centroids' lengths)."""
        if self._norms is None:
            from .kernels.quantize import pq_dots

            p = self.parts
            n = self.shape[0]
            out = np.empty(n, dtype=np.float32)
            if self.method == "int8":
                for s in range(0, n, CODE_BLOCK_ROWS):
                    block = p["values"][s:s + CODE_BLOCK_ROWS].astype(np.float32)
                    out[s:s + CODE_BLOCK_ROWS] = np.linalg.norm(block, axis=1) * p["steps"][s:s + CODE_BLOCK_ROWS]
            else:
                squares = (p["codebook"].astype(np.float32) ** 2).sum(axis=2)
                pq_dots(p["codes"], squares, 0, n, out)
                np.sqrt(np.maximum(out, 0), out=out)
                if "norm_codes" in p:
                    out *= np.abs(p["norm_codebook"][p["norm_codes"]])
            self._norms = out
        return self._norms


class ShiftedRows:
    """``rows`` seen from row ``offset`` on: ngram_rows.NgramRows indexes n-gram rows
    after the V word rows, which a compressed model stores apart."""

    def __init__(self, rows: CodedRows, offset: int):
        self.rows, self.offset = rows, offset
        self.shape = (offset + rows.shape[0], rows.shape[1])

    def __getitem__(self, key) -> np.ndarray:
        return self.rows[np.asarray(key, dtype=np.int64) - self.offset]


# ---------------------------------------------------------------------- encoding
def encode_rows(matrix: np.ndarray, method: str, subvectors: int | None = None, qnorm: bool = False,
                seed: int = DEFAULT_SEED, niter: int = PQ_NITER,
                max_points: int = PQ_MAX_POINTS, rotation: str = DEFAULT_PQ_ROTATION) -> dict[str, np.ndarray]:
    """The compressed parts of float32 ``matrix`` [n, dim] (see :class:`CodedRows`)."""
    from .kernels.quantize import int8_encode, kmeans, pq_encode

    n, dim = matrix.shape
    if method == "int8":
        values = np.empty((n, dim), dtype=np.int8)
        steps = np.empty(n, dtype=np.float32)
        for s in range(0, n, CODE_BLOCK_ROWS):
            block = np.ascontiguousarray(matrix[s:s + CODE_BLOCK_ROWS], dtype=np.float32)
            int8_encode(block, values[s:s + CODE_BLOCK_ROWS], steps[s:s + CODE_BLOCK_ROWS])
        return {"values": values, "steps": steps}
    m = check_subvectors(subvectors, dim)
    if n < PQ_CENTROIDS:
        raise EmbedtrainError(f"pq needs at least {PQ_CENTROIDS} rows to learn its centroids; "
                              f"this model has {n:,} (use --method int8)")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, max_points), replace=False))
    points = np.ascontiguousarray(matrix[sample], dtype=np.float32)
    parts: dict[str, np.ndarray] = {}
    if qnorm:
        lengths = np.linalg.norm(points, axis=1).astype(np.float32)
        points = points / np.where(lengths == 0, 1.0, lengths)[:, None]
        norm_codebook = np.empty((PQ_CENTROIDS, 1), dtype=np.float32)
        kmeans(np.ascontiguousarray(lengths[:, None]), norm_codebook, niter, seed)
        parts["norm_codebook"] = np.ascontiguousarray(norm_codebook[:, 0])
    rotate = None
    if rotation != "none":
        rotate = pq_rotation(points, m, rotation, seed, min(niter, OPQ_KMEANS_NITER))
        parts["rotation"] = rotate
        points = np.ascontiguousarray(points @ rotate, dtype=np.float32)
    codebook = pq_codebook(points, m, niter, seed)
    codes = np.empty((n, m), dtype=np.uint8)
    norm_codes = np.empty(n, dtype=np.uint8) if qnorm else None
    for s in range(0, n, CODE_BLOCK_ROWS):
        block = np.ascontiguousarray(matrix[s:s + CODE_BLOCK_ROWS], dtype=np.float32)
        if qnorm:
            lengths = np.linalg.norm(block, axis=1).astype(np.float32)
            block = block / np.where(lengths == 0, 1.0, lengths)[:, None]
            norm_codes[s:s + len(block)] = np.abs(
                lengths[:, None] - parts["norm_codebook"][None, :]).argmin(axis=1)
        if rotate is not None:
            block = np.ascontiguousarray(block @ rotate, dtype=np.float32)
        pq_encode(block, codebook, codes[s:s + len(block)])
    parts["codes"], parts["codebook"] = codes, codebook
    if qnorm:
        parts["norm_codes"] = norm_codes
    return parts


def pq_codebook(points: np.ndarray, m: int, niter: int, seed: int) -> np.ndarray:
    """float32 [m, 256, dim / m]: k-means centroids of each subvector of ``points``."""
    from .kernels.quantize import kmeans

    dsub = points.shape[1] // m
    codebook = np.empty((m, PQ_CENTROIDS, dsub), dtype=np.float32)
    for j in range(m):
        kmeans(np.ascontiguousarray(points[:, j * dsub:(j + 1) * dsub]), codebook[j], niter, seed + j + 1)
    return codebook


def random_rotation(dim: int, seed: int) -> np.ndarray:
    """float32 [dim, dim]: an orthogonal matrix drawn uniformly (QR of a Gaussian
    matrix with the signs of R's diagonal folded in, Mezzadri 2007)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def pq_rotation(points: np.ndarray, m: int, rotation: str, seed: int,
                niter: int = OPQ_KMEANS_NITER) -> np.ndarray:
    """float32 [dim, dim]: the orthogonal R applied before PQ (``points @ R`` is coded).

    ``random``: :func:`random_rotation`. ``opq``: from that start, OPQ_ROUNDS rounds of
    (PQ of points @ R with ``niter`` k-means rounds; R = the orthogonal matrix
    that best maps the points onto their decoded codes, U V^T of the SVD of
    points^T decoded: orthogonal Procrustes), as OPQ's non-parametric solution."""
    from .kernels.quantize import pq_decode, pq_encode

    dim = points.shape[1]
    rotate = random_rotation(dim, seed)
    if rotation == "random":
        return rotate
    x = points.astype(np.float64)
    codes = np.empty((len(points), m), dtype=np.uint8)
    decoded = np.empty(points.shape, dtype=np.float32)
    every = np.arange(len(points), dtype=np.int64)
    for r in range(OPQ_ROUNDS):
        rotated = np.ascontiguousarray(points @ rotate, dtype=np.float32)
        codebook = pq_codebook(rotated, m, niter, seed + 7919 * (r + 1))
        pq_encode(rotated, codebook, codes)
        pq_decode(codes, codebook, every, decoded)
        u, _, vt = np.linalg.svd(x.T @ decoded.astype(np.float64))
        rotate = (u @ vt).astype(np.float32)
    return rotate


def check_subvectors(subvectors: int | None, dim: int) -> int:
    """The number of PQ subvectors (default dim / 2); one that does not divide dim fails."""
    if subvectors is None:
        return max(dim // DEFAULT_PQ_DSUB, 1) if dim % DEFAULT_PQ_DSUB == 0 else dim
    if isinstance(subvectors, bool) or not isinstance(subvectors, (int, np.integer)) or subvectors < 1:
        raise EmbedtrainError(f"--pq-subvectors must be a whole number >= 1, not {subvectors!r}")
    if dim % subvectors:
        raise EmbedtrainError(f"--pq-subvectors {subvectors} does not divide the dimension {dim} "
                              f"(choose a divisor of {dim}, e.g. {dim // DEFAULT_PQ_DSUB if dim % 2 == 0 else dim})")
    return int(subvectors)


def expected_parts(method: str, n: int, dim: int, parts: dict[str, np.ndarray]) -> dict:
    """check_arrays' table (shapes, dtype) for one set of coded rows of ``n`` rows."""
    if method == "int8":
        return {"values": ([(n, dim)], np.int8), "steps": ([(n,)], np.float32)}
    codebook = parts.get("codebook")
    m = codebook.shape[0] if codebook is not None and codebook.ndim == 3 else 0
    dsub = dim // m if m and dim % m == 0 else 0
    table = {"codes": ([(n, m)], np.uint8), "codebook": ([(m, PQ_CENTROIDS, dsub)], np.float32)}
    if "norm_codes" in parts or "norm_codebook" in parts:
        table.update({"norm_codes": ([(n,)], np.uint8), "norm_codebook": ([(PQ_CENTROIDS,)], np.float32)})
    if "rotation" in parts:
        table["rotation"] = ([(dim, dim)], np.float32)
    return table


# ---------------------------------------------------------------------- the model
WORDS, NGRAMS = "words", "ngrams"


def _split(arrays: dict[str, np.ndarray], group: str) -> dict[str, np.ndarray]:
    prefix = group + "_"
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def compressed_parts(model, method: str = DEFAULT_METHOD, pq_subvectors: int | None = None,
                     keep_words: int | None = None, qnorm: bool = False, seed: int = DEFAULT_SEED,
                     keep_ngrams: int | None = None, rotation: str = DEFAULT_PQ_ROTATION,
                     niter: int = PQ_NITER):
    """(vocab, arrays, info) of ``model`` compressed (see the module doc); ``model`` is
    a models.Model (its word_matrix, vocab, config; a FastText model's stored rows)."""
    from .vocab import Vocab

    check_settings(method, model.config.dim, pq_subvectors, keep_words, qnorm, keep_ngrams,
                   model.kind, rotation, niter)
    words = model.word_matrix()
    v = len(model.vocab)
    kept = v if keep_words is None else min(keep_words, v)
    pq = {"rotation": rotation, "niter": niter} if method == "pq" else {}
    arrays = {f"{WORDS}_{k}": a for k, a in
              encode_rows(words[:kept], method, pq_subvectors, qnorm, seed, **pq).items()}
    info: dict[str, Any] = {"method": method, "source_vocab_size": v}
    if method == "pq":
        info.update(subvectors=check_subvectors(pq_subvectors, model.config.dim), qnorm=bool(qnorm))
        if rotation != DEFAULT_PQ_ROTATION:
            info["rotation"] = rotation
        if niter != PQ_NITER:
            info["kmeans_rounds"] = niter
    if model.kind == "fasttext":
        stored = model.input_vectors[v:]
        buckets = model.ngram_buckets
        if buckets is None:  # the full layout: every bucket row is stored
            buckets = np.arange(model.bucket, dtype=np.int32)
        if keep_ngrams is not None:
            positions = most_used_ngram_rows(model, keep_ngrams)
            stored, buckets = stored[positions], buckets[positions]
            info["keep_ngrams"] = int(keep_ngrams)
        if len(stored):
            arrays.update({f"{NGRAMS}_{k}": a for k, a in
                           encode_rows(stored, method, pq_subvectors, qnorm, seed + 1000, **pq).items()})
        arrays["ngram_buckets"] = np.ascontiguousarray(buckets, dtype=np.int32)
    vocab = Vocab(model.vocab.words[:kept], model.vocab.counts[:kept])
    return vocab, arrays, info


def ngram_row_uses(model) -> np.ndarray:
    """int64 [T]: for each stored n-gram row of a FastText model, how many n-grams of its
    vocabulary words land in it (a word's n-gram counted once per occurrence in the word)."""
    table = model.subword_table()
    v = model.word_rows
    rows = table.rows[table.rows >= v].astype(np.int64) - v
    return np.bincount(rows, minlength=model.input_vectors.shape[0] - v)


def most_used_ngram_rows(model, keep: int) -> np.ndarray:
    """int64 [<= keep], increasing: the positions (among the stored n-gram rows) of the
    ``keep`` rows the vocabulary's words use most (ties: the lower bucket); a row no
    word uses is never kept (it reads as its initial value anyway)."""
    uses = ngram_row_uses(model)
    order = np.lexsort((np.arange(len(uses)), -uses))[:keep]
    return np.sort(order[uses[order] > 0])


def check_settings(method: str, dim: int, pq_subvectors, keep_words, qnorm: bool, keep_ngrams=None,
                   kind: str | None = None, rotation: str = DEFAULT_PQ_ROTATION, niter: int = PQ_NITER) -> None:
    """Refuse bad compression settings (before anything is read or written)."""
    if method not in COMPRESSION_METHODS:
        raise EmbedtrainError(f"unknown compression method {method!r} (choose from "
                              f"{', '.join(COMPRESSION_METHODS)})")
    if rotation not in PQ_ROTATIONS:
        raise EmbedtrainError(f"unknown --pq-rotation {rotation!r} (choose from {', '.join(PQ_ROTATIONS)})")
    if method == "pq":
        check_subvectors(pq_subvectors, dim)
        if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 1:
            raise EmbedtrainError(f"--pq-iterations must be a whole number >= 1, not {niter!r}")
    elif pq_subvectors is not None or qnorm or rotation != DEFAULT_PQ_ROTATION or niter != PQ_NITER:
        raise EmbedtrainError("--pq-subvectors, --qnorm, --pq-rotation and --pq-iterations apply to "
                              "--method pq only")
    if keep_words is not None and (isinstance(keep_words, bool) or keep_words < 1):
        raise EmbedtrainError(f"--keep-words must be >= 1, not {keep_words!r}")
    if keep_ngrams is not None:
        if isinstance(keep_ngrams, bool) or not isinstance(keep_ngrams, (int, np.integer)) or keep_ngrams < 1:
            raise EmbedtrainError(f"--keep-ngrams must be a whole number >= 1, not {keep_ngrams!r}")
        if kind is not None and kind != "fasttext":
            raise EmbedtrainError(f"--keep-ngrams applies to FastText models only; this is a {kind} model")


def check_compressed_arrays(info: dict, config, vocab_size: int, arrays: dict[str, np.ndarray]) -> str:
    """What is wrong with a compressed model's arrays ("" if nothing)."""
    method = info.get("method")
    if method not in COMPRESSION_METHODS:
        return f"unknown compression method {method!r}"
    dim = config.dim
    words = _split(arrays, WORDS)
    table = {f"{WORDS}_{k}": v for k, v in expected_parts(method, vocab_size, dim, words).items()}
    if config.model == "fasttext":
        buckets = arrays.get("ngram_buckets")
        if buckets is None or buckets.dtype != np.int32 or buckets.ndim != 1:
            return "ngram_buckets is missing or not int32 [T]"
        if len(buckets) and (buckets[0] < 0 or buckets[-1] >= config.subword_buckets
                             or not (np.diff(buckets) > 0).all()):
            return f"ngram_buckets is not an increasing list of buckets below {config.subword_buckets:,}"
        table["ngram_buckets"] = ([buckets.shape], np.int32)
        if len(buckets):
            ngrams = _split(arrays, NGRAMS)
            table.update({f"{NGRAMS}_{k}": v for k, v in
                          expected_parts(method, len(buckets), dim, ngrams).items()})
    if method == "pq":
        for group in (WORDS, NGRAMS):
            codebook = arrays.get(f"{group}_codebook")
            if codebook is not None and (codebook.ndim != 3 or dim % max(codebook.shape[0], 1)
                                         or codebook.shape[0] * codebook.shape[2] != dim):
                return (f"the codebook {group}_codebook of shape {codebook.shape} does not match "
                        f"dimension {dim}")
    return check_archive_arrays(table, arrays)


def coded_rows(info: dict, arrays: dict[str, np.ndarray], group: str) -> CodedRows:
    return CodedRows(info["method"], _split(arrays, group))
