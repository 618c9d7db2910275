"""Random walks over a :class:`~embedtrain.graphs.read.Graph` as a token source.

Walks are made by the numba kernel in :mod:`embedtrain.kernels.walks`, in batches on
worker threads (the kernel releases the GIL), and handed on in order as int32 blocks
with ``SENTENCE_END`` after every walk: straight into the training token stream
(:class:`~embedtrain.corpus.source.IdSequences`) or into a text file. Memory is the
graph plus a few batches, never walks x length.

Order, as DeepWalk and node2vec do it: ``walks_per_node`` rounds, each starting one walk
from every node in a fresh random order. Every walk draws from its own random stream
(seed and walk number), so the walks do not depend on the number of threads.

The kernel always runs on a worker thread (one with ``threads=1``) while the calling
thread waits, so a signal is handled at once; leaving the generator (Ctrl-C, SIGTERM, an
error downstream) sets the batches' stop flag, which the kernel reads before every walk.
"""
from __future__ import annotations

import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np

from ..config import WalkConfig
from ..corpus.source import IdSequences
from ..corpus.stream import SENTENCE_END
from .read import Graph

# Entries (nodes + separators) per batch of walks handed to one kernel call (4 MB).
STDOUT = "-"                 # the output name of stdout (as "-" is stdin for a corpus)
BATCH_ENTRIES = 1 << 20
# Batches in flight per thread: enough to keep the threads busy while blocks are consumed.
BATCHES_AHEAD = 2
# Walks draw from streams distinct from the training threads' (seeded from the same seed).
WALK_SEED_SALT = 0x5EED_3A1C_0000_0001


class WalkTables:
    """The arrays a walk kernel needs for one graph (alias tables built once, if weighted)."""

    def __init__(self, graph: Graph):
        from ..kernels.walks import neighbour_alias_tables

        self.graph = graph
        if graph.weights is not None:
            self.weights = graph.weights
            self.alias_prob, self.alias_index = neighbour_alias_tables(graph.indptr, graph.weights)
        else:
            self.weights = np.zeros(0, np.float32)
            self.alias_prob = np.zeros(0, np.float32)
            self.alias_index = np.zeros(0, np.int32)


def seed_base(seed: int) -> np.uint64:
    from ..kernels.rng import seed_states

    return seed_states(seed ^ WALK_SEED_SALT, 1)[0][0]


def start_order(n_nodes: int, seed: int, round_: int) -> np.ndarray:
    """int32 [n]: the order in which round ``round_`` starts its walks."""
    return np.random.default_rng([seed, round_]).permutation(n_nodes).astype(np.int32)


def walk_blocks(graph: Graph, walk: WalkConfig, seed: int = 1, threads: int = 1,
                batch_entries: int = BATCH_ENTRIES) -> Iterator[np.ndarray]:
    """int32 blocks of walks (node indices, ``SENTENCE_END`` after each walk), in order."""
    from ..kernels.walks import random_walks

    tables = WalkTables(graph)
    n = graph.n_nodes
    per_batch = max(1, batch_entries // (walk.walk_length + 1))
    base = seed_base(seed)
    inv_p, inv_q = 1.0 / walk.p, 1.0 / walk.q

    def batches():
        for r in range(walk.walks_per_node):
            order = start_order(n, seed, r)
            for start in range(0, n, per_batch):
                yield r * n + start, order[start:start + per_batch]

    stop = np.zeros(1, dtype=np.int8)

    def run(first_walk: int, starts: np.ndarray) -> np.ndarray:
        out = np.empty(len(starts) * (walk.walk_length + 1), dtype=np.int32)
        used = random_walks(graph.indptr, graph.indices, tables.weights, tables.alias_prob,
                            tables.alias_index, starts, walk.walk_length, first_walk, base, inv_p,
                            inv_q, stop, out)
        return out[:used]

    threads = max(threads, 1)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embedtrain-walks") as pool:
        pending: deque = deque()
        try:
            for first_walk, starts in batches():
                pending.append(pool.submit(run, first_walk, starts))
                if len(pending) >= threads * BATCHES_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            stop[0] = 1   # batches still running return after their current walk
            for future in pending:
                future.cancel()


def walk_source(graph: Graph, walk: WalkConfig, seed: int = 1, threads: int = 1) -> IdSequences:
    """The walks as a token source for :func:`embedtrain.train` (node names are the words)."""
    return IdSequences(graph.nodes, lambda: walk_blocks(graph, walk, seed, threads))


def write_walks(graph: Graph, walk: WalkConfig, path: str | os.PathLike, seed: int = 1,
                threads: int = 1) -> int:
    """Write the walks as text, one walk a line, node names separated by spaces
    (atomically; ``-`` writes them to stdout, as it reads stdin for a corpus).
    Returns the number of walks written."""
    from ..io.atomic import atomic_output

    if str(path) == STDOUT:
        return _walk_lines(graph, walk, seed, threads, sys.stdout)
    with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
        return _walk_lines(graph, walk, seed, threads, out)


def _name_lists(graph: Graph, walk: WalkConfig, seed: int, threads: int) -> Iterator[list[list[str]]]:
    """Each block of walks (:func:`walk_blocks`) as a list of walks, each a list of node
    names: the names of a block looked up at once, then cut into walks."""
    names = np.array(graph.nodes, dtype=object)
    for block in walk_blocks(graph, walk, seed, threads):
        ends = np.flatnonzero(block == SENTENCE_END)
        lengths = np.diff(ends, prepend=-1) - 1
        flat = names[block[block != SENTENCE_END]].tolist()
        walks = []
        at = 0
        for length in lengths.tolist():
            walks.append(flat[at:at + length])
            at += length
        yield walks


def _walk_lines(graph: Graph, walk: WalkConfig, seed: int, threads: int, out) -> int:
    walks = 0
    for lists in _name_lists(graph, walk, seed, threads):
        out.write("\n".join(" ".join(w) for w in lists))
        out.write("\n")
        walks += len(lists)
    out.flush()
    return walks


def walks(graph: Any, *, directed: bool | None = None, weighted: bool | None = None, p: float | None = None,
          q: float | None = None, walks_per_node: int | None = None, walk_length: int | None = None,
          nodes: Any = None, seed: int | None = None, threads: int | None = None,
          output: str | os.PathLike | None = None) -> list[list[str]] | int:
    """Random walks over ``graph`` (anything :func:`embedtrain.train_graph` takes: an
    edge-list path, edge arrays, a networkx graph, a scipy sparse matrix, a DataFrame):
    a list of walks, each a list of node names; with ``output``, the walks written there
    as text (as ``embedtrain walks``) and their number returned."""
    from ..config import CommonConfig
    from .read import load_graph

    given = dict(directed=directed, weighted=weighted, p=p, q=q, walks_per_node=walks_per_node,
                 walk_length=walk_length)
    walk = WalkConfig(**{k: v for k, v in given.items() if v is not None})
    common = CommonConfig(**{k: v for k, v in dict(seed=seed, threads=threads).items() if v is not None})
    g = load_graph(graph, directed=walk.directed, nodes=nodes,
                   weighted=weighted if isinstance(graph, tuple) else walk.weighted)
    if output is not None:
        return write_walks(g, walk, output, common.seed, common.worker_threads)
    out: list[list[str]] = []
    for lists in _name_lists(g, walk, common.seed, common.worker_threads):
        out.extend(lists)
    return out
