"""Graphs for node embeddings: edge lists read into CSR arrays.

An edge list has one edge per line, ``a b`` or ``a b weight``, separated by spaces, tabs
or commas; ``#`` starts a comment; gzip, bzip2, xz and zstd files are decompressed on the fly.
Node ids are any strings without separators (``1`` and ``01`` are different nodes).

What networkx's readers users expect, made explicit:
- a line with one field or more than three, a missing weight with ``weighted``, or a
  weight that is not a positive finite number is an error naming the file and line;
- self-loops are dropped and duplicate edges (``a b`` twice, or ``b a`` after ``a b`` in
  an undirected graph) kept once, with their first weight; both are counted in one
  warning;
- nodes with no edges (given in ``nodes``, e.g. from a label file) are not an error: they
  get a row of their own with no neighbours.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import EmbedtrainError

log = logging.getLogger("embedtrain")

_SEPARATORS = str.maketrans({",": " "})

# Weights are kept as float32: 1e39 would become inf and 1e-50 zero (issue 21).
WEIGHT_LIMITS = (float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max))
WEIGHT_RANGE = f"in float32's range ({WEIGHT_LIMITS[0]:.3g} to {WEIGHT_LIMITS[1]:.3g})"


@dataclass
class Graph:
    """A graph in CSR form. ``nodes[i]`` is node ``i``'s name.

    ``indptr`` int64 [n + 1], ``indices`` int32 [m]: node ``v``'s out-neighbours are
    ``indices[indptr[v]:indptr[v + 1]]``, sorted. An undirected graph stores every edge
    in both rows (m = 2 x edges). ``weights`` float32 [m], or None when unweighted.
    """

    nodes: list[str]
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None
    directed: bool

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        weighted = ", weighted" if self.weighted else ""
        return f"Graph({self.n_nodes:,} nodes, {self.n_edges:,} {kind} edges{weighted})"

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Edges as given: an undirected edge counts once."""
        return len(self.indices) if self.directed else len(self.indices) // 2

    @property
    def weighted(self) -> bool:
        return self.weights is not None

    def degrees(self) -> np.ndarray:
        """int64 [n]: out-degree of every node."""
        return np.diff(self.indptr)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(sources, targets, weights): every edge once (undirected: source < target)."""
        rows = np.repeat(np.arange(self.n_nodes, dtype=np.int32), self.degrees())
        keep = slice(None) if self.directed else rows < self.indices
        w = None if self.weights is None else self.weights[keep]
        return rows[keep], self.indices[keep], w

    def has_edges(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """bool [k]: whether each ``sources[i] -> targets[i]`` is an edge."""
        keys = np.repeat(np.arange(self.n_nodes, dtype=np.int64), self.degrees()) * self.n_nodes \
            + self.indices  # sorted: rows ascending, columns sorted within rows
        query = np.asarray(sources, np.int64) * self.n_nodes + np.asarray(targets, np.int64)
        at = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
        return (keys[at] == query) if len(keys) else np.zeros(len(query), bool)


# --------------------------------------------------------------------------- building

def from_edges(sources: Any, targets: Any, weights: Any = None, *, directed: bool = False,
               nodes: Iterable[Any] | None = None, source_name: str = "the edge arrays") -> Graph:
    """A :class:`Graph` from edge arrays (node ids of any type, or names).

    ``nodes``: further nodes to include even if they have no edge. Node names are
    ``str(id)``.
    """
    src = np.asarray(sources)
    dst = np.asarray(targets)
    if src.ndim != 1 or src.shape != dst.shape:
        raise EmbedtrainError(f"{source_name}: sources and targets must be 1-d arrays of one length "
                              f"(got shapes {src.shape} and {dst.shape})")
    both = np.empty(2 * len(src), dtype=np.result_type(src, dst))
    both[0::2], both[1::2] = src, dst  # interleaved: nodes numbered as they first appear
    names, ids = _factorize(both, nodes)
    a, b = ids[0::2].copy(), ids[1::2].copy()
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64) if not _is_text(weights) else None
        if w is None or w.shape != src.shape:
            raise EmbedtrainError(f"{source_name}: weights must be numbers, one per edge")
        bad = _bad_weights(w)
        if len(bad):
            raise EmbedtrainError(f"{source_name}, edge {int(bad[0])}: weight {w[bad[0]]:g} is not a "
                                  f"positive number {WEIGHT_RANGE}")
    return graph_from_ids(names, a, b, w, directed, source_name)


def _is_text(values: Any) -> bool:
    arr = np.asarray(values)
    return arr.dtype.kind in "USO"


def _factorize(values: np.ndarray | list, extra: Iterable[Any] | None) -> tuple[list[str], np.ndarray]:
    """Names (``str`` of each id) in first-seen order and the int64 id of every value;
    ``extra`` names are added after the others if they are new."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(unique), dtype=np.int64)
        rank[order] = np.arange(len(unique))
        names = [str(u) for u in unique[order].tolist()]
        ids = rank[inverse.reshape(-1)]
    else:
        items = values.tolist() if isinstance(values, np.ndarray) else values
        if not all(type(v) is str for v in items):
            items = [str(v) for v in items]
        names = list(dict.fromkeys(items))  # first-seen order, at C speed
        lookup = {name: i for i, name in enumerate(names)}
        ids = np.fromiter(map(lookup.__getitem__, items), dtype=np.int64, count=len(items))
    if extra is not None:
        known = set(names)
        for v in extra:
            name = str(v)
            if name not in known:
                known.add(name)
                names.append(name)
    return names, ids


def graph_from_ids(names: list[str], a: np.ndarray, b: np.ndarray, w: np.ndarray | None, directed: bool,
           source_name: str) -> Graph:
    n = len(names)
    if len(a) == 0:
        raise EmbedtrainError(f"{source_name} holds no edges")
    loops = a == b
    n_loops = int(loops.sum())
    if n_loops:
        a, b = a[~loops], b[~loops]
        w = None if w is None else w[~loops]
    n_repeated = _count_repeats(a * n + b)  # the same pair in the same direction
    lo, hi = (a, b) if directed else (np.minimum(a, b), np.maximum(a, b))
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = np.sort(order[first])  # the first occurrence of each edge, in input order
    n_reversed = int(len(key) - len(keep)) - n_repeated  # undirected: 'b a' after 'a b'
    a, b = a[keep], b[keep]
    w = None if w is None else w[keep]
    dropped = [f"{count:,} {what}{'' if count == 1 else 's'}"
               for count, what in ((n_loops, "self-loop"), (n_repeated, "duplicate edge")) if count]
    if dropped:
        log.warning("%s: dropped %s (the first of each edge kept)", source_name, " and ".join(dropped))
    if n_reversed:  # expected when a directed list is read as undirected (citations)
        log.debug("%s: %s edges given in both directions, kept once", source_name, f"{n_reversed:,}")
    if len(a) == 0:
        raise EmbedtrainError(f"{source_name} holds no edges other than self-loops")
    rows, cols = (a, b) if directed else (np.concatenate([a, b]), np.concatenate([b, a]))
    if w is not None and not directed:
        w = np.concatenate([w, w])
    order = np.argsort(rows * n + cols)
    indices = cols[order].astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    weights = None if w is None else w[order].astype(np.float32)
    return Graph(nodes=names, indptr=indptr, indices=indices, weights=weights, directed=directed)


def _count_repeats(keys: np.ndarray) -> int:
    ordered = np.sort(keys)  # a sort: numpy's hash-based unique is slower on int64 keys
    return int((ordered[1:] == ordered[:-1]).sum())


# --------------------------------------------------------------------------- edge-list files

def read_edge_list(path: str | os.PathLike, *, directed: bool = False, weighted: bool = False,
                   nodes: Iterable[Any] | None = None) -> Graph:
    """Read an edge list file (see the module docstring for the format and the checks)."""
    from ..corpus.text import decode, iter_blocks

    name = os.fspath(path)
    if name != "-" and not os.path.isfile(name):
        raise EmbedtrainError(f"edge list {name} does not exist" if not os.path.exists(name)
                              else f"edge list {name} is not a file")
    index: dict[str, int] = {}   # node name -> id, in first-seen order
    id_blocks: list[np.ndarray] = []     # int64 [2k] per block: a, b interleaved
    weight_blocks: list[np.ndarray] = []
    line = 0
    for block in iter_blocks(name):
        text = decode(block).translate(_SEPARATORS)
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if "#" in text:
            lines = [s.split("#", 1)[0] if "#" in s else s for s in lines]
        rows = [s.split() for s in lines]
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        bad = np.flatnonzero((lengths == 1) | (lengths > 3) | ((lengths == 2) if weighted else False))
        if len(bad):
            i = int(bad[0])
            found = " ".join(rows[i])[:80]
            if weighted and lengths[i] == 2:
                raise EmbedtrainError(f"{name}, line {line + i + 1}: no weight (with --weighted every "
                                      f"line is 'a b weight'): {found!r}")
            raise EmbedtrainError(f"{name}, line {line + i + 1}: expected 'a b' or 'a b weight', "
                                  f"got {found!r}")
        filled = [r for r in rows if r]
        numbers = np.flatnonzero(lengths) + line + 1
        line += len(lines)
        if not filled:
            continue
        # Names become ids block by block, so memory holds one block of strings at a time.
        both: list[str] = [""] * (2 * len(filled))
        both[0::2] = [r[0] for r in filled]
        both[1::2] = [r[1] for r in filled]
        for node in dict.fromkeys(both):  # the block's names in first-seen order
            if node not in index:
                index[node] = len(index)
        id_blocks.append(np.fromiter(map(index.__getitem__, both), dtype=np.int64, count=len(both)))
        if weighted:
            w = _parse_weights([r[2] for r in filled], numbers, name)
            bad = _bad_weights(w)
            if len(bad):
                raise EmbedtrainError(f"{name}, line {int(numbers[bad[0]])}: weight "
                                      f"{filled[bad[0]][2]!r} is not a positive number {WEIGHT_RANGE}")
            weight_blocks.append(w)
    if not id_blocks:
        raise EmbedtrainError(f"edge list {name} holds no edges")
    ids = np.concatenate(id_blocks)
    del id_blocks
    a, b = ids[0::2].copy(), ids[1::2].copy()
    del ids
    names = list(index)
    for node in nodes or ():
        if str(node) not in index:
            index[str(node)] = len(names)
            names.append(str(node))
    w = np.concatenate(weight_blocks) if weighted else None
    return graph_from_ids(names, a, b, w, directed, name)


def _bad_weights(w: np.ndarray) -> np.ndarray:
    """Positions of weights that are not finite, positive and within float32's normal range."""
    return np.flatnonzero(~(np.isfinite(w) & (w >= WEIGHT_LIMITS[0]) & (w <= WEIGHT_LIMITS[1])))


def _parse_weights(weights: Sequence[str], numbers: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.array(weights, dtype=np.float64)
    except ValueError:
        for i, text in enumerate(weights):
            try:
                float(text)
            except ValueError:
                raise EmbedtrainError(f"{name}, line {int(numbers[i])}: weight {text!r} is not a "
                                      "number") from None
        raise  # pragma: no cover - numpy and float() disagree


def load_graph(graph: Any, *, directed: bool = False, weighted: bool | None = None,
               nodes: Iterable[Any] | None = None) -> Graph:
    """What a user passed as a graph: a :class:`Graph`, an edge-list path, a tuple
    ``(sources, targets)`` / ``(sources, targets, weights)`` of arrays, a networkx graph,
    a scipy sparse adjacency matrix (``nodes``: its rows' names) or a pandas or polars
    DataFrame of edges (columns ``source``, ``target``, optional ``weight``).

    ``weighted=None``: weighted exactly when weights are given (arrays); a file, a
    networkx graph, a matrix or a DataFrame is read unweighted unless ``weighted=True``.
    networkx, scipy, pandas and polars are never imported here: an object of theirs is
    recognised by its type's module.
    """
    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, (str, os.PathLike)):
        return read_edge_list(graph, directed=directed, weighted=bool(weighted), nodes=nodes)
    if isinstance(graph, tuple) and len(graph) in (2, 3):
        weights = graph[2] if len(graph) == 3 and weighted is not False else None
        if weighted and weights is None:
            raise EmbedtrainError("weighted=True needs (sources, targets, weights)")
        return from_edges(graph[0], graph[1], weights, directed=directed, nodes=nodes)
    library = type(graph).__module__.split(".")[0]
    if library == "networkx":
        return from_networkx(graph, directed=directed, weighted=bool(weighted), nodes=nodes)
    if library == "scipy" and hasattr(graph, "tocoo"):
        return from_sparse(graph, directed=directed, weighted=bool(weighted), nodes=nodes)
    if library in ("pandas", "polars") and hasattr(graph, "columns"):
        return from_dataframe(graph, directed=directed, weighted=bool(weighted), nodes=nodes)
    raise EmbedtrainError(f"cannot read a graph from a {type(graph).__name__}: give an edge-list path, "
                          "a tuple (sources, targets[, weights]), a networkx graph, a scipy sparse "
                          "adjacency matrix or a pandas/polars DataFrame of edges")


def from_networkx(graph: Any, *, directed: bool = False, weighted: bool = False,
                  nodes: Iterable[Any] | None = None) -> Graph:
    """A networkx graph's edges (node attributes ignored; with ``weighted`` the edge
    attribute ``weight``, 1 where missing, as networkx's own default). Nodes are numbered
    in the graph's node order and named ``str(node)``; nodes without edges are kept.
    ``directed`` decides, as for a file (a DiGraph read undirected merges a -> b and b -> a)."""
    names = [str(v) for v in graph.nodes]
    lookup = {v: i for i, v in enumerate(graph.nodes)}
    if len(set(names)) != len(names):
        raise EmbedtrainError("networkx graph: two nodes have the same name as text (str(node))")
    edges = list(graph.edges(data="weight", default=1.0)) if weighted else list(graph.edges())
    if not edges:
        raise EmbedtrainError("the networkx graph holds no edges")
    a = np.fromiter((lookup[e[0]] for e in edges), dtype=np.int64, count=len(edges))
    b = np.fromiter((lookup[e[1]] for e in edges), dtype=np.int64, count=len(edges))
    w = None
    if weighted:
        try:
            w = np.array([e[2] for e in edges], dtype=np.float64)
        except (TypeError, ValueError):
            raise EmbedtrainError("networkx graph: an edge 'weight' is not a number") from None
        _check_weights(w, "networkx graph")
    return graph_from_ids(_with_extra(names, nodes), a, b, w, directed, "networkx graph")


def from_sparse(matrix: Any, *, directed: bool = False, weighted: bool = False,
                nodes: Iterable[Any] | None = None) -> Graph:
    """A scipy sparse adjacency matrix: entry (i, j) is an edge i -> j (its value the weight
    with ``weighted``; explicit zeros are no edge). ``nodes``: the rows' names (default
    ``"0"``, ``"1"``, ...); every row is a node, with or without edges."""
    if len(matrix.shape) != 2 or matrix.shape[0] != matrix.shape[1]:
        raise EmbedtrainError(f"an adjacency matrix must be square (got shape {matrix.shape})")
    n = matrix.shape[0]
    names = [str(v) for v in nodes] if nodes is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise EmbedtrainError(f"nodes= names {len(names)} nodes for an adjacency matrix of {n} rows")
    if len(set(names)) != n:
        raise EmbedtrainError("nodes= names a node twice")
    coo = matrix.tocoo()
    keep = coo.data != 0
    a, b = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    w = None
    if weighted:
        w = np.asarray(coo.data[keep], dtype=np.float64)
        _check_weights(w, "adjacency matrix")
    return graph_from_ids(names, a, b, w, directed, "adjacency matrix")


def from_dataframe(frame: Any, *, directed: bool = False, weighted: bool = False,
                   nodes: Iterable[Any] | None = None) -> Graph:
    """A pandas or polars DataFrame of edges: columns ``source`` and ``target`` (node ids of
    any type; names are ``str(id)``) and, with ``weighted``, ``weight``."""
    columns = [str(c) for c in frame.columns]
    missing = [c for c in ("source", "target") + (("weight",) if weighted else ()) if c not in columns]
    if missing:
        raise EmbedtrainError(f"the DataFrame has no {', '.join(repr(c) for c in missing)} column "
                              f"(it has {', '.join(columns)})")
    def column(name: str) -> np.ndarray:
        values = frame[name]
        return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)

    weights = column("weight") if weighted else None
    return from_edges(column("source"), column("target"), weights, directed=directed, nodes=nodes,
                      source_name="the DataFrame")


def _check_weights(w: np.ndarray, source_name: str) -> None:
    bad = _bad_weights(w)
    if len(bad):
        raise EmbedtrainError(f"{source_name}, edge {int(bad[0])}: weight {w[bad[0]]:g} is not a "
                              f"positive number {WEIGHT_RANGE}")


def _with_extra(names: list[str], nodes: Iterable[Any] | None) -> list[str]:
    if nodes is None:
        return names
    known = set(names)
    extra = [str(v) for v in nodes if str(v) not in known]
    return names + list(dict.fromkeys(extra))
