"""Plain-Python random walks, straight from the papers, to check the numba walk kernels.

The graph is a dict {node: {neighbour: weight}} (out-edges). node2vec (Grover and
Leskovec 2016, section 3.2.2): from ``v``, having come from ``t``, the next node ``x``
has unnormalised probability ``w(v, x) * alpha(t, x)`` with alpha = 1/p if x == t, 1 if
t -> x is an edge, 1/q otherwise. DeepWalk's first step (no ``t``) is by weight alone.
"""
from __future__ import annotations

import random


def adjacency(edges, directed=False, weights=None):
    adj: dict[int, dict[int, float]] = {}
    for i, (a, b) in enumerate(edges):
        w = 1.0 if weights is None else float(weights[i])
        adj.setdefault(a, {})[b] = w
        adj.setdefault(b, {})
        if not directed:
            adj[b][a] = w
    return adj


def step_probabilities(adj, v, t=None, p=1.0, q=1.0) -> dict[int, float]:
    """The exact distribution of the next node from ``v`` (coming from ``t``)."""
    raw = {}
    for x, w in adj[v].items():
        if t is None:
            alpha = 1.0
        elif x == t:
            alpha = 1.0 / p
        elif x in adj[t]:
            alpha = 1.0
        else:
            alpha = 1.0 / q
        raw[x] = w * alpha
    total = sum(raw.values())
    return {x: r / total for x, r in raw.items()}


def walk(adj, start, length, p=1.0, q=1.0, rng=None) -> list[int]:
    """One walk of at most ``length`` nodes (stops at a node with no out-edges)."""
    rng = rng or random.Random(0)
    path = [start]
    while len(path) < length and adj[path[-1]]:
        t = path[-2] if len(path) > 1 else None
        probs = step_probabilities(adj, path[-1], t, p, q)
        nodes = list(probs)
        path.append(rng.choices(nodes, weights=[probs[x] for x in nodes])[0])
    return path
