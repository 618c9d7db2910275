"""The co-occurrence matrix of GloVe and its two file formats.

Matrix file (``--save-cooccur``; ``--cooccur`` reads it): a zip archive (stored)
that ``numpy.load`` also opens, with ``meta.json`` (``{"format":
"embedtrain-cooccur", "format_version": 1, "vocab_size", "entries", "tokens",
"settings": {window, distance_weighting, min_count, ...}}``), ``vocab.txt``
(``word count`` lines; line i is id i) and ``rows.npy``/``cols.npy`` (int32) and
``values.npy`` (float64): the upper triangle, row <= col, sorted by (row, col).
X[i, j] = X[j, i]; a diagonal entry is stored once.

Partitioned matrix (``--save-cooccur`` with ``--ray``; ``--cooccur`` reads it with
or without Ray): a directory holding ``meta.json`` (``{"format":
"embedtrain-cooccur-partitioned", "format_version": 1, "vocab_size", "entries",
"tokens", "settings", "partitions": [{"file", "rows": [lo, hi], "entries"}, ...]}``),
``vocab.txt`` as above, and one ``part-NNNNN.bin`` per partition: the upper-triangle
entries whose row lies in ``[lo, hi)``, sorted, as little-endian int64 records
(key = row * vocab_size + col, then the float64 bits of the value), the format of
the counter's spill files (cooccur.py). The partitions' entries, concatenated in
order, are the single file's. Written under a temporary name and renamed when complete.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..config import fields_with
from ..errors import EmbedtrainError
from ..vocab import Vocab
from .archive import read_archive, write_archive

COOCCUR_FORMAT = "embedtrain-cooccur"
COOCCUR_FORMAT_VERSION = 1
# Settings that decide the counts (their role "counting"); a saved matrix records them.
COUNTING_SETTINGS = fields_with("counting", "glove")
RECORD_BYTES = 16        # a partition or run file is int64 (key, value bits) records
WRITE_BLOCK = 1 << 18    # records written at a time


# --------------------------------------------------------------------------- the matrix

@dataclass
class CooccurrenceMatrix:
    """A symmetric co-occurrence matrix over ``vocab``: its upper triangle."""

    vocab: Vocab
    rows: np.ndarray      # int32 [m], rows <= cols, sorted by (row, col)
    cols: np.ndarray      # int32 [m]
    values: np.ndarray    # float64 [m], > 0
    settings: dict[str, Any] = field(default_factory=dict)
    n_tokens: int = 0     # corpus tokens counted
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_stored(self) -> int:
        return int(len(self.rows))

    @property
    def n_diagonal(self) -> int:
        return int(np.count_nonzero(self.rows == self.cols))

    @property
    def nnz(self) -> int:
        """Non-zero entries of the full matrix (both triangles)."""
        return 2 * self.n_stored - self.n_diagonal

    def dense(self) -> np.ndarray:
        """float64 [V, V], the full matrix (small vocabularies only: tests, inspection)."""
        out = np.zeros((len(self.vocab), len(self.vocab)))
        out[self.rows, self.cols] = self.values
        out[self.cols, self.rows] = self.values
        return out

    def save(self, path: str | os.PathLike) -> Path:
        meta = {"format": COOCCUR_FORMAT, "format_version": COOCCUR_FORMAT_VERSION,
                "embedtrain_version": __version__, "vocab_size": len(self.vocab),
                "entries": self.n_stored, "nonzero": self.nnz, "tokens": int(self.n_tokens),
                "settings": self.settings,
                "storage": "upper triangle: rows <= cols, sorted; the matrix is symmetric"}
        arrays = {"rows": self.rows, "cols": self.cols, "values": self.values}
        return write_archive(path, meta, self.vocab, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CooccurrenceMatrix":
        """Read a file written by :meth:`save` (or a partitioned directory, see the module
        docstring); any damage is one EmbedtrainError naming it."""
        p = Path(path)
        if p.is_dir():
            return load_partitioned(p)
        meta, vocab, arrays = read_archive(p, COOCCUR_FORMAT, COOCCUR_FORMAT_VERSION,
                                          "co-occurrence file", ("rows", "cols", "values"),
                                          hint=" (write one with --save-cooccur)")
        rows, cols, values = arrays["rows"], arrays["cols"], arrays["values"]
        problem = _check_arrays(rows, cols, values, len(vocab)) or _check_meta(meta)
        if problem:
            raise EmbedtrainError(f"{p}: damaged co-occurrence file ({problem})")
        return cls(vocab, rows, cols, values, dict(meta.get("settings") or {}),
                   int(meta.get("tokens", 0)))


def _check_meta(meta: dict[str, Any]) -> str:
    """The counting settings must be ones a GloVe model accepts (training adopts them)."""
    from ..config import GloVeConfig

    settings = meta.get("settings") or {}
    tokens = meta.get("tokens", 0)
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0:
        return f"tokens {tokens!r} is not a whole number"
    if not isinstance(settings, dict):
        return "its settings are not an object"
    try:
        GloVeConfig(**{k: v for k, v in settings.items() if k in COUNTING_SETTINGS})
    except EmbedtrainError as exc:
        return f"settings: {exc}"
    return ""


def _check_arrays(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, vocab_size: int) -> str:
    if rows.ndim != 1 or cols.ndim != 1 or values.ndim != 1:
        return "arrays that are not one-dimensional"
    if rows.shape != cols.shape or rows.shape != values.shape:
        return (f"arrays of different lengths (rows {len(rows):,}, cols {len(cols):,}, "
                f"values {len(values):,})")
    if rows.dtype != np.int32 or cols.dtype != np.int32 or values.dtype != np.float64:
        return (f"unexpected array types (rows {rows.dtype}, cols {cols.dtype}, values "
                f"{values.dtype}; expected int32, int32, float64)")
    if len(rows) == 0:
        return "no entries"
    if rows.min() < 0 or (rows > cols).any() or cols.max() >= vocab_size:
        return f"word ids outside the upper triangle of a {vocab_size}-word vocabulary"
    if not (np.isfinite(values).all() and (values > 0).all()):
        return "values that are not positive numbers"
    return ""


# --------------------------------------------------------------------------- partitioned

PARTITIONED_FORMAT = "embedtrain-cooccur-partitioned"
PARTITIONED_FORMAT_VERSION = 1
PARTITION_META = "meta.json"
PARTITION_VOCAB = "vocab.txt"


def partition_name(p: int) -> str:
    return f"part-{p:05d}.bin"


def write_partition_records(path: str | os.PathLike, keys: np.ndarray, values: np.ndarray) -> int:
    """Sorted (key, value) records to ``path`` under a temporary name, renamed when
    complete; returns the bytes written."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            _write_records(handle, keys, values)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise EmbedtrainError(f"cannot write co-occurrence partition {path}: {exc.strerror or exc}") from None
    return len(keys) * RECORD_BYTES


def read_partition_records(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(keys int64, values float64) of a partition (or run) file."""
    try:
        data = np.fromfile(path, dtype=np.int64)
    except OSError as exc:
        raise EmbedtrainError(f"cannot read co-occurrence partition {path}: {exc.strerror or exc}") from None
    if len(data) % 2:
        raise EmbedtrainError(f"{path}: damaged co-occurrence partition (truncated)")
    records = data.reshape(-1, 2)
    return records[:, 0].copy(), records[:, 1].copy().view(np.float64)


def partitioned_meta(path: str | os.PathLike) -> tuple[dict[str, Any], Vocab]:
    """The meta.json and vocabulary of a partitioned matrix directory, checked."""
    p = Path(path)
    import json

    try:
        meta = json.loads((p / PARTITION_META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmbedtrainError(f"{p} is a directory but not a partitioned co-occurrence matrix "
                              f"(no {PARTITION_META}; write one with --save-cooccur and --ray)") from None
    except (OSError, ValueError) as exc:
        raise EmbedtrainError(f"{p}: damaged co-occurrence matrix ({PARTITION_META}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != PARTITIONED_FORMAT:
        raise EmbedtrainError(f"{p}: not a partitioned co-occurrence matrix")
    if meta.get("format_version") != PARTITIONED_FORMAT_VERSION:
        raise EmbedtrainError(f"{p}: partitioned co-occurrence format version "
                              f"{meta.get('format_version')!r} is not supported")
    vocab = Vocab.load(p / PARTITION_VOCAB)
    parts = meta.get("partitions")
    ok = isinstance(parts, list) and parts and all(
        isinstance(q, dict) and isinstance(q.get("file"), str) and "/" not in q["file"]
        and isinstance(q.get("rows"), list) and len(q["rows"]) == 2 for q in parts)
    problem = "" if ok else "its partitions are not listed"
    problem = problem or _check_meta(meta)
    if not problem and meta.get("vocab_size") != len(vocab):
        problem = f"vocab_size {meta.get('vocab_size')!r} but vocab.txt has {len(vocab)} words"
    if problem:
        raise EmbedtrainError(f"{p}: damaged co-occurrence matrix ({problem})")
    return meta, vocab


def read_partition(directory: str | os.PathLike, entry: dict[str, Any], vocab_size: int,
                   lo: int = 0, hi: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, values) of one partition, restricted to rows in [lo, hi)."""
    path = Path(directory) / entry["file"]
    keys, values = read_partition_records(path)
    hi = vocab_size if hi is None else hi
    a, b = np.searchsorted(keys, [np.int64(lo) * vocab_size, np.int64(hi) * vocab_size])
    keys, values = keys[a:b], values[a:b]
    from ..kernels.glove import split_keys

    rows, cols = split_keys(keys, vocab_size)
    plo, phi = entry["rows"]
    if len(keys) and (rows[0] < plo or rows[-1] >= phi or (np.diff(keys) <= 0).any()):
        raise EmbedtrainError(f"{path}: damaged co-occurrence partition (entries out of order or "
                              f"outside rows {plo}-{phi})")
    return rows, cols, values


def load_partitioned(path: str | os.PathLike) -> CooccurrenceMatrix:
    """A partitioned matrix directory read whole: the one-machine matrix."""
    meta, vocab = partitioned_meta(path)
    pieces = [read_partition(path, entry, len(vocab)) for entry in meta["partitions"]]
    rows = np.concatenate([q[0] for q in pieces])
    cols = np.concatenate([q[1] for q in pieces])
    values = np.concatenate([q[2] for q in pieces])
    problem = _check_arrays(rows, cols, values, len(vocab))
    if not problem and len(rows) > 1:
        keys = rows.astype(np.int64) * len(vocab) + cols
        if (np.diff(keys) <= 0).any():
            problem = "partitions out of order"
    if problem:
        raise EmbedtrainError(f"{path}: damaged co-occurrence matrix ({problem})")
    return CooccurrenceMatrix(vocab, rows, cols, values, dict(meta.get("settings") or {}),
                              int(meta.get("tokens", 0)))


def write_partitioned_meta(directory: str | os.PathLike, vocab: Vocab, settings: dict[str, Any],
                           tokens: int, partitions: list[dict[str, Any]]) -> None:
    """meta.json and vocab.txt of a partitioned matrix whose part files are written."""
    import json

    d = Path(directory)
    entries = int(sum(q["entries"] for q in partitions))
    meta = {"format": PARTITIONED_FORMAT, "format_version": PARTITIONED_FORMAT_VERSION,
            "embedtrain_version": __version__, "vocab_size": len(vocab), "entries": entries,
            "tokens": int(tokens), "settings": settings, "partitions": partitions,
            "storage": "upper triangle: rows <= cols; part files are sorted int64 (row * vocab_size "
                       "+ col, float64 bits of the value) records"}
    try:
        (d / PARTITION_META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        (d / PARTITION_VOCAB).write_text(vocab.to_text(), encoding="utf-8", newline="\n")
    except OSError as exc:
        raise EmbedtrainError(f"cannot write {d}: {exc.strerror or exc}") from None



# --------------------------------------------------------------------------- records

def _write_bytes(handle, data) -> None:
    """The one place run files are written (tests make it fail like a full disk)."""
    handle.write(data)


def _write_records(handle, keys: np.ndarray, values: np.ndarray) -> None:
    """Append (key, value bits) int64 records, a block at a time."""
    for start in range(0, len(keys), WRITE_BLOCK):
        stop = min(start + WRITE_BLOCK, len(keys))
        records = np.empty((stop - start, 2), dtype=np.int64)
        records[:, 0] = keys[start:stop]
        records[:, 1] = values[start:stop].view(np.int64)
        _write_bytes(handle, memoryview(records).cast("B"))
