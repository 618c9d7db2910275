"""Evaluating node vectors: node classification and link prediction.

- :func:`eval_nodes`: DeepWalk's protocol (Perozzi et al. 2014, section 6): one-vs-rest
  logistic regression on the vectors of a random fraction of the labelled nodes; each
  other node is given its k most probable labels, k its true number of labels (1 for
  single-label data, where micro-F1 is accuracy). Micro- and macro-F1, mean and spread
  over repeated random splits.
- :func:`split_links` / :func:`score_links` / :func:`eval_links`: node2vec's link
  prediction (Grover and Leskovec 2016, section 4.4): hold out a fraction of the edges
  while the rest keeps every connected component connected, train on the rest, and
  score the held-out edges against as many sampled non-edges by ROC-AUC, with Hadamard
  product features and logistic regression, and with plain cosine similarity.

The classifier is scikit-learn's (the ``graph`` extra), imported only here.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import EmbedtrainError
from ..extras import install_hint
from .read import Graph, graph_from_ids
from ..vectors import Vectors

log = logging.getLogger("embedtrain")

TRAIN_FRACTIONS = (0.1, 0.5, 0.9)
REPEATS = 10
# Most random splits per fraction: beyond this the mean moves by less than its noise, and
# 10^9 repeats ran for ever (issue 21).
MAX_REPEATS = 10_000
# A split testing on fewer labelled nodes than this gives F1 scores that are a few guesses
# (0 or 1 with one node): eval_nodes says so.
MIN_TEST_NODES = 10
TEST_FRACTION = 0.5
# DeepWalk's classifier: scikit-learn's LogisticRegression with its defaults of the time.
LOGISTIC_C = 1.0
# Draws of random node pairs per non-edge needed, before giving up on a dense graph.
MAX_PAIR_DRAWS = 50


def logistic_regression():
    """A fresh scikit-learn LogisticRegression, or one clear line if it is missing."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise EmbedtrainError("evaluating node vectors needs scikit-learn: "
                              f"{install_hint('graph')}") from None
    return LogisticRegression(C=LOGISTIC_C, solver="liblinear")


# --------------------------------------------------------------------------- labels

def read_labels(path: str | os.PathLike) -> tuple[list[str], list[list[str]]]:
    """``node label`` lines (spaces, tabs or commas; ``#`` comments; a node with several
    labels has several lines). Returns the nodes in first-seen order and their labels."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise EmbedtrainError(f"label file {name} does not exist")
    from ..corpus.text import decode, iter_blocks

    labels: dict[str, list[str]] = {}
    number = 0
    for block in iter_blocks(name):
        text = decode(block).replace(",", " ")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        for line in lines:
            number += 1
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            if len(parts) != 2:
                raise EmbedtrainError(f"{name}, line {number}: expected 'node label', got "
                                      f"{line.strip()[:80]!r}")
            node_labels = labels.setdefault(parts[0], [])
            if parts[1] not in node_labels:
                node_labels.append(parts[1])
    if not labels:
        raise EmbedtrainError(f"label file {name} holds no labels")
    return list(labels), list(labels.values())


# --------------------------------------------------------------------------- node classification

def features(vectors: Vectors, nodes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """float32 [k, dim] rows of ``nodes`` (zeros for a node without a vector) and the bool
    [k] mask of the nodes found."""
    rows = np.array([vectors.index.get(n, -1) for n in nodes], dtype=np.int64)
    found = rows >= 0
    x = np.zeros((len(nodes), vectors.dim), dtype=np.float32)
    x[found] = vectors.vectors[rows[found]]
    return x, found


def f1_scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(micro-F1, macro-F1) of bool [k, L] label matrices, as scikit-learn defines them
    (``f1_score``, the scores DeepWalk's and node2vec's evaluations report): macro
    averages every label, and a label absent from both the truth and the predictions of
    a split counts 0. (Ours averaged only the labels present, up to 0.095 higher when a
    split missed a label; issue 21.)"""
    from sklearn.metrics import f1_score

    micro = f1_score(truth, predicted, average="micro", zero_division=0)
    macro = f1_score(truth, predicted, average="macro", zero_division=0)
    return float(micro), float(macro)


def top_k_labels(scores: np.ndarray, k: np.ndarray) -> np.ndarray:
    """bool [n, L]: each row's ``k[i]`` highest-scoring labels."""
    order = np.argsort(-scores, axis=1, kind="stable")
    predicted = np.zeros(scores.shape, dtype=bool)
    ranks = np.arange(scores.shape[1])[None, :] < k[:, None]
    np.put_along_axis(predicted, order, ranks, axis=1)
    return predicted


def one_vs_rest_scores(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """float64 [n_test, L]: each label's probability from its own logistic regression (a
    label that is always or never present in training gets 1 or 0)."""
    scores = np.zeros((len(x_test), y_train.shape[1]))
    for label in range(y_train.shape[1]):
        column = y_train[:, label]
        if column.all() or not column.any():
            scores[:, label] = float(column.all())
            continue
        classifier = logistic_regression().fit(x_train, column)
        scores[:, label] = classifier.predict_proba(x_test)[:, 1]
    return scores


def _split_sizes(n_nodes: int, fraction: float) -> tuple[int, int]:
    """(training, test) nodes of a split: at least one of each."""
    n_train = min(max(1, round(fraction * n_nodes)), n_nodes - 1)
    return n_train, n_nodes - n_train


def _warn_meaningless(labels: list[str], n_nodes: int, fractions: Sequence[float]) -> None:
    """One warning when the scores cannot mean anything: one label, or tiny test sets."""
    if len(labels) < 2:
        log.warning("every labelled node has the same label (%r): there is nothing to tell apart, "
                    "so every F1 is 1.0 whatever the vectors", labels[0] if labels else "")
        return
    smallest = min(_split_sizes(n_nodes, f)[1] for f in fractions)
    if smallest < MIN_TEST_NODES:
        log.warning("only %d labelled nodes: a split tests on as few as %d, so each F1 is a few "
                    "guesses (0 or 1 for one node) and says little about the vectors",
                    n_nodes, smallest)


def eval_nodes(vectors: Vectors, labels: str | os.PathLike | tuple[list[str], list[list[str]]],
               train_fractions: Sequence[float] = TRAIN_FRACTIONS, repeats: int = REPEATS,
               seed: int = 1) -> dict[str, Any]:
    """Node classification scores (see the module docstring). ``labels``: a label file, or
    (nodes, label lists). Labelled nodes without a vector take part with a zero vector
    (counted in ``nodes_found``), so that scores compare over the same nodes."""
    logistic_regression()  # fail now if scikit-learn is missing
    nodes, node_labels = read_labels(labels) if isinstance(labels, (str, os.PathLike)) else labels
    fractions = [float(f) for f in train_fractions]
    bad = [f for f in fractions if not 0 < f < 1]
    if bad:
        raise EmbedtrainError(f"--train-fraction must be between 0 and 1 (got {bad[0]:g})")
    if not 1 <= repeats <= MAX_REPEATS:
        raise EmbedtrainError(f"--repeats must be 1 to {MAX_REPEATS:,} (got {repeats})")
    if not 0 <= seed < 2 ** 32:   # numpy's seeds (a negative one raised a traceback)
        raise EmbedtrainError(f"--seed must be 0 to {2 ** 32 - 1:,} (got {seed})")
    names = sorted({l for ls in node_labels for l in ls})
    column = {l: i for i, l in enumerate(names)}
    y = np.zeros((len(nodes), len(names)), dtype=bool)
    for i, ls in enumerate(node_labels):
        y[i, [column[l] for l in ls]] = True
    x, found = features(vectors, nodes)
    if not found.any():
        raise EmbedtrainError("no labelled node has a vector (are the node names the same in both files?)")
    if len(nodes) < 2:
        raise EmbedtrainError("node classification needs at least 2 labelled nodes")
    if not found.all():
        log.warning("%s of %s labelled nodes have no vector (they take part with zero vectors)",
                    f"{int((~found).sum()):,}", f"{len(nodes):,}")
    _warn_meaningless(names, len(nodes), fractions)
    k = y.sum(axis=1)
    results = []
    for fraction in fractions:
        n_train, _ = _split_sizes(len(nodes), fraction)
        micro, macro = [], []
        for r in range(repeats):
            order = np.random.default_rng([seed, r]).permutation(len(nodes))
            train, test = order[:n_train], order[n_train:]
            scores = one_vs_rest_scores(x[train], y[train], x[test])
            mi, ma = f1_scores(y[test], top_k_labels(scores, k[test]))
            micro.append(mi)
            macro.append(ma)
        results.append({"train_fraction": fraction, "micro_f1": float(np.mean(micro)),
                        "micro_f1_std": float(np.std(micro)), "macro_f1": float(np.mean(macro)),
                        "macro_f1_std": float(np.std(macro))})
    return {"nodes_labelled": len(nodes), "nodes_found": int(found.sum()), "labels": len(names),
            "multi_label": bool((k > 1).any()), "repeats": repeats, "results": results}


# --------------------------------------------------------------------------- link prediction

@dataclass
class LinkSplit:
    """Held-out edges and sampled non-edges, as node indices of the full graph."""

    train_graph: Graph          # the full graph's nodes, without the held-out edges
    test_pairs: np.ndarray      # int64 [2k, 2]: held-out edges, then as many non-edges
    test_labels: np.ndarray     # bool [2k]
    fit_pairs: np.ndarray       # int64 [2j, 2]: training edges and non-edges for the classifier
    fit_labels: np.ndarray      # bool [2j]

    def write_train_edges(self, path: str | os.PathLike) -> None:
        """The training graph as an edge list (``a b`` or ``a b weight`` lines), atomically."""
        from ..io.atomic import atomic_output

        g = self.train_graph
        a, b, w = g.edges()
        names = np.array(g.nodes, dtype=object)
        with atomic_output(path, "w", encoding="utf-8", newline="\n") as out:
            if w is None:
                out.writelines(f"{s} {t}\n" for s, t in zip(names[a], names[b]))
            else:
                out.writelines(f"{s} {t} {x:.9g}\n" for s, t, x in zip(names[a], names[b], w.tolist()))


def split_links(graph: Graph, test_fraction: float = TEST_FRACTION, seed: int = 1) -> LinkSplit:
    """Hold out ``test_fraction`` of the edges, never one of a random spanning forest (so
    every connected component stays connected; if fewer edges are outside the forest,
    all of those are held out, with a warning)."""
    from ..kernels.walks import spanning_forest

    if not 0 < test_fraction < 1:
        raise EmbedtrainError(f"--test-fraction must be between 0 and 1 (got {test_fraction:g})")
    rng = np.random.default_rng([seed, 0x11A7])
    a, b, w = graph.edges()
    order = rng.permutation(len(a))
    in_forest = spanning_forest(graph.n_nodes, a, b, order)
    spare = order[~in_forest[order]]  # edges outside the forest, in random order
    wanted = round(test_fraction * len(a))
    if wanted > len(spare):
        log.warning("only %s of %s edges can be held out with the graph kept connected "
                    "(%.0f%% instead of %.0f%%)", f"{len(spare):,}", f"{len(a):,}",
                    100 * len(spare) / len(a), 100 * test_fraction)
        wanted = len(spare)
    if wanted == 0:
        raise EmbedtrainError("no edge can be held out without disconnecting the graph (it is a forest)")
    held = np.zeros(len(a), dtype=bool)
    held[spare[:wanted]] = True
    kept = np.flatnonzero(~held)
    train_graph = graph_from_ids(graph.nodes, a[kept].astype(np.int64), b[kept].astype(np.int64),
                         None if w is None else w[kept], graph.directed, "the training edges")
    non_edges = sample_non_edges(graph, 2 * wanted, rng)
    positive_test = np.stack([a[held], b[held]], axis=1)
    fit_edges = rng.choice(kept, size=min(wanted, len(kept)), replace=False)
    positive_fit = np.stack([a[fit_edges], b[fit_edges]], axis=1)
    negative_test, negative_fit = non_edges[:wanted], non_edges[wanted:wanted + len(fit_edges)]
    return LinkSplit(
        train_graph=train_graph,
        test_pairs=np.concatenate([positive_test, negative_test]).astype(np.int64),
        test_labels=np.repeat([True, False], [wanted, wanted]),
        fit_pairs=np.concatenate([positive_fit, negative_fit]).astype(np.int64),
        fit_labels=np.repeat([True, False], [len(fit_edges), len(fit_edges)]))


def sample_non_edges(graph: Graph, count: int, rng: np.random.Generator) -> np.ndarray:
    """int64 [count, 2]: distinct node pairs (no self-pairs) joined by no edge of
    ``graph`` in either direction, uniformly at random."""
    n = graph.n_nodes
    found = np.zeros(0, dtype=np.int64)
    for _ in range(MAX_PAIR_DRAWS):
        need = count - len(found)
        if need <= 0:
            break
        u = rng.integers(0, n, size=2 * need + 16)
        v = rng.integers(0, n, size=2 * need + 16)
        ok = (u != v) & ~graph.has_edges(u, v) & ~graph.has_edges(v, u)
        lo, hi = np.minimum(u[ok], v[ok]), np.maximum(u[ok], v[ok])
        keys = lo * n + hi
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
        found = np.concatenate([found, keys[~np.isin(keys, found)]])
    if len(found) < count:
        raise EmbedtrainError(f"could not find {count:,} node pairs without an edge (the graph is too dense)")
    found = found[:count]
    return np.stack([found // n, found % n], axis=1)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U; tied scores count one half)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise EmbedtrainError("ROC-AUC needs both positive and negative examples")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based average rank of each value
    rank_sum = mean_rank[inverse][labels].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def centred_units(x: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Rows of ``x`` minus the mean of the rows found, scaled to unit length (zero rows stay
    zero): what link prediction's cosine compares.

    Skip-gram's vectors share a common direction, and on graphs with hubs a node's
    alignment with it falls as its degree grows. The held-out edges join high-degree
    nodes and the sampled non-edges mostly low-degree ones, so the raw cosine ranked
    non-edges above edges (ROC-AUC below one half: 0.399 on BlogCatalog, issue 21).
    Removing the mean direction removes that bias (measured in docs/benchmarks.md,
    "Link prediction's cosine").
    """
    centred = x - (x[found].mean(axis=0) if found.any() else 0.0)
    centred[~found] = 0.0
    norms = np.linalg.norm(centred, axis=1)
    return centred / np.where(norms > 0, norms, 1.0)[:, None]


def score_links(vectors: Vectors, split: LinkSplit) -> dict[str, float]:
    """ROC-AUC of the held-out edges against the non-edges: Hadamard features with
    logistic regression (fitted on training edges and other non-edges), and the cosine
    of the mean-centred vectors (:func:`centred_units`)."""
    x, found = features(vectors, split.train_graph.nodes)
    unit = centred_units(x, found)

    def hadamard(pairs: np.ndarray) -> np.ndarray:
        return x[pairs[:, 0]] * x[pairs[:, 1]]

    classifier = logistic_regression().fit(hadamard(split.fit_pairs), split.fit_labels)
    learned = classifier.predict_proba(hadamard(split.test_pairs))[:, 1]
    cosine = np.einsum("ij,ij->i", unit[split.test_pairs[:, 0]], unit[split.test_pairs[:, 1]])
    return {"auc_hadamard": roc_auc(split.test_labels, learned),
            "auc_cosine": roc_auc(split.test_labels, cosine),
            "edges_held_out": int(split.test_labels.sum()),
            "nodes_without_vector": int((~found).sum())}


def eval_links(graph: Any, test_fraction: float = TEST_FRACTION, model: str | None = None, *,
               config_file: str | None = None, progress: bool = True, **settings: Any) -> dict[str, Any]:
    """Link prediction for the walk and training ``settings`` (as for
    :func:`embedtrain.train_graph`): split, train on the rest, score."""
    from .read import load_graph
    from .train import graph_configs, train_on_walks

    logistic_regression()  # fail now if scikit-learn is missing
    config, walk = graph_configs(model, config_file, **settings)
    g = load_graph(graph, directed=walk.directed,
                   weighted=settings.get("weighted") if isinstance(graph, tuple) else walk.weighted)
    split = split_links(g, test_fraction, config.seed)
    fitted = train_on_walks(split.train_graph, config, walk, progress=progress)
    scores = score_links(fitted.vectors, split)
    return {**scores, "edges": g.n_edges, "nodes": g.n_nodes, "test_fraction": test_fraction,
            "settings": {**config.to_dict(), **walk.to_dict()}}
