"""Approximate nearest-neighbour search: an inverted-file (IVF) index over the unit
word vectors, stored beside the vectors file (``VECTORS.index``).

The unit rows are clustered by spherical k-means into ``lists`` cells (about
sqrt(V)); a query scores the cell centroids, then only the rows of the ``probe``
best cells, exactly (rows read or decoded on demand: a memory-mapped or compressed
model reads only those rows). The recall@10 against exact search, the build and query
times (scripts/bench_compress.py), the comparison with pynndescent and the vocabulary
size below which exact search stays the default (:data:`EXACT_BELOW`;
scripts/bench_index.py) are in docs/benchmarks.md.

Against pynndescent: its queries are 10-60 times faster (0.1 ms against 1-8 ms); this
index builds 12-23 times faster, has a higher recall@10 on real vectors (0.99 against
0.94-0.96), is three arrays (no pickle) and reads only the rows it probes, which suits
mapped and compressed models.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from .errors import EmbedtrainError

log = logging.getLogger("embedtrain")

INDEX_FORMAT = "embedtrain-index"
INDEX_FORMAT_VERSION = 1
INDEX_SUFFIX = ".index"
# Below this many words a query scans every row (exact) unless --index asks for the index.
# Measured (scripts/bench_index.py, docs/benchmarks.md; rows x 300 in memory, one BLAS
# thread, per query): exact 0.67 ms against the index's 0.93 ms at 10,000 rows, 2.4 against
# 1.7 ms at 25,000, 9.6 against 3.0 ms at 50,000; mapped rows make the exact scan dearer still.
EXACT_BELOW = 25_000
# Cells: about LISTS_PER_SQRT x sqrt(V); probed cells per query (recall@10 measured
# in docs/memory.md).
LISTS_PER_SQRT = 1
DEFAULT_PROBE = 16
KMEANS_ROUNDS = 10
# Points the k-means learns from, per cell.
SAMPLE_PER_LIST = 32
BLOCK_ROWS = 1 << 15
DEFAULT_SEED = 1


class NeighbourIndex:
    """``centroids`` float32 [L, dim] (unit), ``offsets`` int64 [L + 1], ``rows`` int32
    [V]: the rows of cell l are ``rows[offsets[l]:offsets[l + 1]]``."""

    def __init__(self, centroids: np.ndarray, offsets: np.ndarray, rows: np.ndarray,
                 probe: int = DEFAULT_PROBE, source: dict | None = None):
        self.centroids, self.offsets, self.rows = centroids, offsets, rows
        self.probe = probe
        self.source = dict(source or {})

    def __len__(self) -> int:
        return len(self.rows)

    def candidates(self, query: np.ndarray, probe: int | None = None) -> np.ndarray:
        """int64: the rows of the ``probe`` cells whose centroids are nearest ``query``."""
        scores = self.centroids @ query
        p = min(probe or self.probe, len(scores))
        cells = np.argpartition(-scores, p - 1)[:p]
        return np.concatenate([self.rows[self.offsets[c]:self.offsets[c + 1]] for c in cells]).astype(np.int64)

    def nearest(self, vectors, query: np.ndarray, topn: int, skip=(), probe: int | None = None):
        """[(word, cosine)]: the best ``topn`` of the probed rows (``query``: unit)."""
        cand = self.candidates(query, probe)
        if len(skip):
            cand = cand[~np.isin(cand, np.asarray(list(skip), dtype=np.int64))]
        cand.sort()  # rows in file order: a mapped file is read forwards
        rows = np.asarray(vectors.vectors[cand], dtype=np.float32)
        norms = np.linalg.norm(rows, axis=1)
        scores = (rows @ query) / np.where(norms == 0, 1.0, norms)
        k = min(topn, len(cand))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(vectors.words[cand[i]], float(scores[i])) for i in top]

    def save(self, path: str | os.PathLike) -> Path:
        """A zip of meta.json and the three .npy arrays (no pickle), written atomically."""
        import json
        import zipfile

        from .io.archive import aligned_member
        from .io.atomic import atomic_output

        meta = {"format": INDEX_FORMAT, "format_version": INDEX_FORMAT_VERSION,
                "probe": self.probe, "source": self.source}
        with atomic_output(path, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                zf.writestr("meta.json", json.dumps(meta))
                for name in ("centroids", "offsets", "rows"):
                    info = aligned_member(f"{name}.npy", handle.tell())
                    with zf.open(info, "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, getattr(self, name), allow_pickle=False)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "NeighbourIndex":
        import json
        import zipfile

        from .io.archive import _DAMAGE, read_arrays

        damaged = f"{path}: damaged neighbour index"
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
                if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
                    raise EmbedtrainError(f"{path} is not an embedtrain neighbour index")
                if meta.get("format_version") != INDEX_FORMAT_VERSION:
                    raise EmbedtrainError(f"{path}: neighbour index version "
                                          f"{meta.get('format_version')!r} is not {INDEX_FORMAT_VERSION}")
                arrays = read_arrays(zf, ("centroids", "offsets", "rows"))
        except EmbedtrainError:
            raise
        except _DAMAGE as exc:
            raise EmbedtrainError(f"{damaged} ({' '.join(str(exc).split())[:200] or type(exc).__name__})") from None
        c, o, r = arrays["centroids"], arrays["offsets"], arrays["rows"]
        if (c.ndim != 2 or c.dtype != np.float32 or o.shape != (len(c) + 1,) or o.dtype != np.int64
                or r.ndim != 1 or r.dtype != np.int32 or o[0] != 0 or o[-1] != len(r)
                or np.any(np.diff(o) < 0) or (len(r) and (r.min() < 0 or r.max() >= len(r)))):
            raise EmbedtrainError(f"{damaged} (its arrays do not fit together)")
        probe = meta.get("probe")
        return cls(c, o, r, probe if isinstance(probe, int) and probe > 0 else DEFAULT_PROBE,
                   meta.get("source") if isinstance(meta.get("source"), dict) else {})


def _unit_block(vectors, start: int, stop: int) -> np.ndarray:
    rows = np.asarray(vectors.vectors[start:stop], dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def build_index(vectors, lists: int | None = None, probe: int = DEFAULT_PROBE,
                seed: int = DEFAULT_SEED, source: dict | None = None) -> NeighbourIndex:
    """Spherical k-means of the unit rows of ``vectors`` (any Vectors, mapped and
    compressed ones too, read in blocks) into ``lists`` cells (default ~sqrt(V))."""
    n, dim = len(vectors), vectors.dim
    if n == 0:
        raise EmbedtrainError("cannot index an empty vocabulary")
    lists = max(1, min(n, lists or int(round(LISTS_PER_SQRT * np.sqrt(n)))))
    rng = np.random.default_rng(seed)
    sample_ids = np.sort(rng.choice(n, size=min(n, SAMPLE_PER_LIST * lists), replace=False))
    sample = np.empty((len(sample_ids), dim), dtype=np.float32)
    for s in range(0, len(sample_ids), BLOCK_ROWS):
        ids = sample_ids[s:s + BLOCK_ROWS]
        rows = np.asarray(vectors.vectors[ids], dtype=np.float32)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        sample[s:s + len(ids)] = rows / np.where(norms == 0, 1.0, norms)
    centroids = sample[rng.choice(len(sample), size=lists, replace=False)].copy()
    for _ in range(KMEANS_ROUNDS):
        assign = _assign(sample, centroids)
        sums = np.zeros((lists, dim), dtype=np.float64)
        np.add.at(sums, assign, sample)
        counts = np.bincount(assign, minlength=lists)
        empty = counts == 0
        if empty.any():  # an empty cell restarts at a random sample point
            sums[empty] = sample[rng.choice(len(sample), size=int(empty.sum()), replace=False)]
        lengths = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = (sums / np.where(lengths == 0, 1.0, lengths)).astype(np.float32)
    assign = np.empty(n, dtype=np.int64)
    for s in range(0, n, BLOCK_ROWS):
        assign[s:s + BLOCK_ROWS] = _assign(_unit_block(vectors, s, min(n, s + BLOCK_ROWS)), centroids)
    order = np.argsort(assign, kind="stable").astype(np.int32)
    offsets = np.zeros(lists + 1, dtype=np.int64)
    np.cumsum(np.bincount(assign, minlength=lists), out=offsets[1:])
    return NeighbourIndex(centroids, offsets, order, probe, source)


def _assign(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The cell (largest dot product with its centroid) of each unit point."""
    out = np.empty(len(points), dtype=np.int64)
    for s in range(0, len(points), 4096):
        out[s:s + 4096] = np.argmax(points[s:s + 4096] @ centroids.T, axis=1)
    return out


def index_path(vectors_path: str | os.PathLike) -> Path:
    return Path(str(vectors_path) + INDEX_SUFFIX)


def _fingerprint(vectors_path: Path) -> dict:
    st = vectors_path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def attach_index(vectors, vectors_path: str | os.PathLike, build: bool = False) -> NeighbourIndex | None:
    """Give ``vectors`` (read from ``vectors_path``) the index stored beside that file:
    with ``build``, built (and written) when missing or made for another version of the
    file; without, used only when it is there, current, and the vocabulary has at least
    :data:`EXACT_BELOW` words. Returns the index attached, or None (exact search)."""
    p = Path(vectors_path)
    target = index_path(p)
    wanted = _fingerprint(p)
    index = None
    if target.exists():
        try:
            index = NeighbourIndex.load(target)
        except EmbedtrainError as exc:
            if not build:
                raise
            log.warning("embedtrain: warning: rebuilding the neighbour index (%s)", exc)
        if index is not None and (index.source != wanted or len(index) != len(vectors)):
            if not build:
                log.warning("embedtrain: warning: %s was made for another version of %s: exact "
                            "search (rebuild it with --index)", target, p)
                return None
            index = None
    if index is None:
        if not build:
            return None
        from .io.atomic import check_writable

        check_writable(target)
        index = build_index(vectors, source=wanted)
        index.save(target)
        log.info("built the neighbour index %s (%s cells)", target, f"{len(index.centroids):,}")
    elif not build and len(vectors) < EXACT_BELOW:
        return None
    vectors.neighbour_index = index
    return index
