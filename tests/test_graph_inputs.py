"""Graphs from the objects people hold: a networkx graph, a scipy sparse adjacency matrix
and a pandas or polars DataFrame give the same CSR as the edge-list file they came from
(undirected and directed, unweighted and weighted); the libraries are imported only when
such an object is given."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import embedtrain
from embedtrain.errors import EmbedtrainError
from embedtrain.graphs.read import load_graph, read_edge_list

KARATE = Path(__file__).resolve().parent.parent / "graphs" / "karate.edgelist"


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """Karate's edges in file order with random weights, and the weighted edge list file."""
    pairs, seen = [], set()
    for line in KARATE.read_text().splitlines():
        a, b = line.split()
        if frozenset((a, b)) not in seen:   # karate lists one edge twice: its weight would be
            seen.add(frozenset((a, b)))     # the first (file), the last (networkx) or the sum (scipy)
            pairs.append((a, b))
    weights = np.round(np.random.default_rng(4).uniform(0.5, 3.0, len(pairs)), 3)
    path = tmp_path_factory.mktemp("graph") / "karate-weighted.edgelist"
    path.write_text("".join(f"{a} {b} {w}\n" for (a, b), w in zip(pairs, weights)))
    return pairs, weights, path


def same_csr(got, want):
    assert got.nodes == want.nodes
    assert got.directed == want.directed
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    if want.weights is None:
        assert got.weights is None
    else:
        np.testing.assert_array_equal(got.weights, want.weights)


KINDS = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("directed, weighted", KINDS)
def test_networkx(edges, directed, weighted):
    nx = pytest.importorskip("networkx")
    pairs, weights, path = edges
    g = nx.DiGraph() if directed else nx.Graph()
    g.add_edges_from((a, b, {"weight": float(w), "colour": "red"}) for (a, b), w in zip(pairs, weights))
    g.nodes["1"]["club"] = "Mr. Hi"     # node attributes are ignored
    same_csr(load_graph(g, directed=directed, weighted=weighted),
             read_edge_list(path, directed=directed, weighted=weighted))


@pytest.mark.parametrize("directed, weighted", KINDS)
def test_scipy_sparse(edges, directed, weighted):
    sparse = pytest.importorskip("scipy.sparse")
    pairs, weights, path = edges
    want = read_edge_list(path, directed=directed, weighted=weighted)
    index = {name: i for i, name in enumerate(want.nodes)}
    rows = [index[a] for a, _ in pairs]
    cols = [index[b] for _, b in pairs]
    n = len(want.nodes)
    for kind in (sparse.csr_matrix, sparse.coo_array):
        matrix = kind((weights, (rows, cols)), shape=(n, n))
        same_csr(load_graph(matrix, directed=directed, weighted=weighted, nodes=want.nodes), want)
    unnamed = load_graph(sparse.csr_matrix((weights, (rows, cols)), shape=(n, n)), directed=directed)
    assert unnamed.nodes == [str(i) for i in range(n)]


@pytest.mark.parametrize("library", ["pandas", "polars"])
@pytest.mark.parametrize("directed, weighted", KINDS)
def test_dataframes(edges, library, directed, weighted):
    lib = pytest.importorskip(library)
    pairs, weights, path = edges
    frame = lib.DataFrame({"source": [a for a, _ in pairs], "target": [b for _, b in pairs],
                           "weight": weights})
    same_csr(load_graph(frame, directed=directed, weighted=weighted),
             read_edge_list(path, directed=directed, weighted=weighted))


def test_training_and_walks_from_objects(edges):
    nx = pytest.importorskip("networkx")
    pairs, weights, path = edges
    g = nx.Graph()
    g.add_edges_from((a, b, {"weight": float(w)}) for (a, b), w in zip(pairs, weights))
    settings = dict(weighted=True, walks_per_node=2, walk_length=8, dim=8, threads=1, seed=3, progress=False)
    from_file = embedtrain.train_graph(str(path), **settings)
    from_nx = embedtrain.train_graph(g, **settings)
    assert from_nx.vocab.words == from_file.vocab.words
    assert np.array_equal(from_nx.vectors.vectors, from_file.vectors.vectors)
    walk = dict(weighted=True, walks_per_node=2, walk_length=8, seed=3, threads=1)
    got = embedtrain.walks(g, **walk)
    assert got == embedtrain.walks(str(path), **walk)
    assert len(got) == 2 * 34 and all(len(w) == 8 for w in got)


def test_bad_objects():
    pd = pytest.importorskip("pandas")
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(EmbedtrainError, match="'target' column"):
        load_graph(pd.DataFrame({"source": ["a"], "dst": ["b"]}))
    with pytest.raises(EmbedtrainError, match="'weight' column"):
        load_graph(pd.DataFrame({"source": ["a"], "target": ["b"]}), weighted=True)
    with pytest.raises(EmbedtrainError, match="square"):
        load_graph(sparse.csr_matrix(np.ones((2, 3))))
    with pytest.raises(EmbedtrainError, match="3 rows"):
        load_graph(sparse.csr_matrix(np.ones((3, 3))), nodes=["a", "b"])
    with pytest.raises(EmbedtrainError, match="weight -1 is not a positive"):
        load_graph(sparse.csr_matrix(np.array([[0, -1.0], [0, 0]])), weighted=True)
    with pytest.raises(EmbedtrainError, match="networkx graph"):
        load_graph({"a": "b"})


def test_libraries_imported_only_when_given():
    # (scipy is left out: numba imports it when it is installed)
    code = ("import sys, embedtrain\nfrom embedtrain.graphs.read import load_graph\n"
            f"load_graph({str(KARATE)!r})\nembedtrain.walks({str(KARATE)!r}, walks_per_node=1, walk_length=3)\n"
            "print(sorted(m for m in ('networkx', 'pandas', 'polars') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
