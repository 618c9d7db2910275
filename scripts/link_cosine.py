#!/usr/bin/env python
"""Why link prediction's raw cosine fell below chance on graphs with hubs, and what
centring the vectors does (issue 21; docs/benchmarks.md, "Link prediction's cosine").

For each graph: hold out half the edges (eval-links' split, seed 1), train DeepWalk with
the graph presets on the rest, and score the held-out edges against as many sampled
non-edges by ROC-AUC with the raw cosine, the cosine of the mean-centred vectors (what
eval-links reports), Hadamard + logistic regression, and the product of the two nodes'
degrees (a score that knows nothing but degree). Also: the mean log degree of the nodes
of edges and of non-edges, and Pearson's r between a node's log degree and the cosine of
its vector to the vectors' mean direction.

Graphs: a Chung-Lu graph (5,000 nodes, 100,000 edges, power-law weights with exponent
2.1: degree is its only structure), a degree-corrected block model (the same weights,
20 communities, 70% of the edges inside), both generated with fixed seeds, and Cora
(../shared/data/graphs) when present.

    python scripts/link_cosine.py [--threads 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embedtrain.graphs.evaluate import centred_units, features, roc_auc, split_links  # noqa: E402
from embedtrain.graphs.read import load_graph  # noqa: E402
from embedtrain.graphs.train import graph_configs, train_on_walks  # noqa: E402

CORA = ROOT.parent / "shared" / "data" / "graphs" / "cora.edges"


def weighted_pairs(n: int, edges: int, communities: int, inside: float, seed: int) -> np.ndarray:
    """Distinct undirected pairs drawn with probability proportional to power-law weights
    (exponent 2.1); with communities > 1, a share ``inside`` of the draws pick the second
    node from the first one's community."""
    rng = np.random.default_rng(seed)
    weight = np.arange(1, n + 1) ** (-1 / 1.1)
    rng.shuffle(weight)
    p = weight / weight.sum()
    community = rng.integers(0, communities, n)
    members = [np.flatnonzero(community == c) for c in range(communities)]
    found: set[tuple[int, int]] = set()
    while len(found) < edges:
        a = rng.choice(n, size=edges, p=p)
        b = rng.choice(n, size=edges, p=p)
        own = rng.random(edges) < inside if communities > 1 else np.zeros(edges, bool)
        for c in range(communities if communities > 1 else 0):
            pick = own & (community[a] == c)
            local = p[members[c]] / p[members[c]].sum()
            b[pick] = rng.choice(members[c], size=int(pick.sum()), p=local)
        for x, y in zip(a.tolist(), b.tolist()):
            if x != y and len(found) < edges:
                found.add((min(x, y), max(x, y)))
    return np.array(sorted(found))


def measure(name: str, path: Path, threads: int) -> None:
    config, walk = graph_configs(None, None, threads=threads)
    graph = load_graph(str(path), directed=False, weighted=False)
    split = split_links(graph, 0.5, config.seed)
    fitted = train_on_walks(split.train_graph, config, walk, progress=False)
    x, found = features(fitted.vectors, split.train_graph.nodes)
    pairs, labels = split.test_pairs, split.test_labels
    degree = split.train_graph.degrees().astype(np.float64)

    def cosine(unit: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])

    raw = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    mean_direction = raw[found].mean(axis=0)
    mean_direction /= np.linalg.norm(mean_direction)
    from embedtrain.graphs.evaluate import logistic_regression

    hadamard = logistic_regression().fit(x[split.fit_pairs[:, 0]] * x[split.fit_pairs[:, 1]], split.fit_labels)
    learned = hadamard.predict_proba(x[pairs[:, 0]] * x[pairs[:, 1]])[:, 1]
    log_degree = np.log1p(degree)
    print(f"| {name} | {graph.n_nodes:,} | {graph.n_edges:,} | {roc_auc(labels, cosine(raw)):.3f} | "
          f"{roc_auc(labels, cosine(centred_units(x, found))):.3f} | {roc_auc(labels, learned):.3f} | "
          f"{roc_auc(labels, degree[pairs[:, 0]] * degree[pairs[:, 1]]):.3f} | "
          f"{log_degree[pairs[labels]].mean():.2f} / {log_degree[pairs[~labels]].mean():.2f} | "
          f"{np.corrcoef(log_degree[found], raw[found] @ mean_direction)[0, 1]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print("| graph | nodes | edges | cosine AUC (raw) | cosine AUC (centred) | Hadamard AUC | degree-product AUC "
          "| mean log degree, edges / non-edges | r(log degree, cosine to mean) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, communities in (("Chung-Lu", 1), ("degree-corrected blocks", 20)):
            path = Path(tmp) / f"{communities}.edges"
            pairs = weighted_pairs(5000, 100_000, communities, 0.7, seed=communities)
            path.write_text("".join(f"{a} {b}\n" for a, b in pairs.tolist()))
            measure(name, path, args.threads)
    if CORA.exists():
        measure("Cora", CORA, args.threads)


if __name__ == "__main__":
    main()
