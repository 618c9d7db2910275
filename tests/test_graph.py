"""Edge lists into CSR graphs: every flavour of file, arrays, and bad input."""
import bz2
import gzip
import logging
import lzma

import numpy as np
import pytest

from embedtrain.errors import EmbedtrainError
from embedtrain.graphs.read import from_edges, load_graph, read_edge_list

EDGES = [("a", "b", 1.0), ("b", "c", 2.5), ("c", "a", 0.5), ("c", "d", 4.0)]


def neighbours(g):
    """{name: {neighbour name: weight or None}} from the CSR arrays."""
    out = {}
    for v, name in enumerate(g.nodes):
        lo, hi = g.indptr[v], g.indptr[v + 1]
        out[name] = {g.nodes[u]: (None if g.weights is None else float(g.weights[k]))
                     for k, u in zip(range(lo, hi), g.indices[lo:hi])}
    return out


def write(path, text, opener=open):
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(text)
    return path


@pytest.mark.parametrize("sep", [" ", "\t", ",", " , ", "  \t "])
@pytest.mark.parametrize("opener,suffix", [(open, ".txt"), (gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_every_flavour_gives_the_same_csr(tmp_path, sep, opener, suffix):
    text = "# a comment line\n" + "".join(f"{a}{sep}{b}{sep}{w}  # trailing comment\n"
                                         for a, b, w in EDGES) + "\n"
    g = read_edge_list(write(tmp_path / f"g{suffix}", text, opener), weighted=True)
    assert g.nodes == ["a", "b", "c", "d"] and g.n_edges == 4 and not g.directed
    assert neighbours(g) == {"a": {"b": 1.0, "c": 0.5}, "b": {"a": 1.0, "c": 2.5},
                             "c": {"a": 0.5, "b": 2.5, "d": 4.0}, "d": {"c": 4.0}}
    # CSR invariants: rows sorted, indptr consistent
    assert g.indptr[0] == 0 and g.indptr[-1] == len(g.indices) == 8
    for v in range(g.n_nodes):
        row = g.indices[g.indptr[v]:g.indptr[v + 1]]
        assert (np.diff(row) > 0).all()


def test_unweighted_ignores_a_third_column_and_directed_keeps_direction(tmp_path):
    p = write(tmp_path / "g.txt", "".join(f"{a} {b} {w}\n" for a, b, w in EDGES))
    g = read_edge_list(p)
    assert g.weights is None and neighbours(g)["d"] == {"c": None}
    d = read_edge_list(p, directed=True, weighted=True)
    assert d.n_edges == 4 and neighbours(d) == {"a": {"b": 1.0}, "b": {"c": 2.5},
                                                "c": {"a": 0.5, "d": 4.0}, "d": {}}


def test_node_ids_are_strings(tmp_path):
    g = read_edge_list(write(tmp_path / "g.txt", "1 01\n01 x:y\nÄ 1\n"))
    assert g.nodes == ["1", "01", "x:y", "Ä"] and g.n_edges == 3


@pytest.fixture
def warnings_logged(caplog):
    """Warnings of the 'embedtrain' logger (the CLI may have stopped its propagation)."""
    logger = logging.getLogger("embedtrain")
    propagate, level = logger.propagate, logger.level
    logger.addHandler(caplog.handler)
    logger.propagate = False  # one copy of each record, whether or not the CLI ran before
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate = propagate
        logger.setLevel(level)


def test_self_loops_and_duplicates_are_dropped_with_one_warning(tmp_path, warnings_logged):
    p = write(tmp_path / "g.txt", "a b 1\na a 3\nb a 7\na b 9\nb c 1\nc c 1\n")
    g = read_edge_list(p, weighted=True)
    warnings = warnings_logged()
    assert len(warnings) == 1 and "2 self-loops" in warnings[0] and "1 duplicate edge" in warnings[0]
    assert neighbours(g)["a"] == {"b": 1.0}  # first weight kept; 'b a' is the same edge
    d = read_edge_list(p, directed=True, weighted=True)
    assert neighbours(d)["b"] == {"a": 7.0, "c": 1.0}  # directed: 'b a' is another edge
    assert len(warnings_logged()) == 2 and "1 duplicate edge" in warnings_logged()[1]
    read_edge_list(write(tmp_path / "clean.txt", "a b\nb a\n"))  # both directions: no warning
    assert len(warnings_logged()) == 2


@pytest.mark.parametrize("text,weighted,message", [
    ("a b\nc\n", False, "line 2: expected 'a b' or 'a b weight'"),
    ("a b\nc d e f\n", False, "line 2: expected"),
    ("# header\na b\nc d\n", True, "line 2: no weight"),
    ("a b 1\nc d heavy\n", True, "line 2: weight 'heavy' is not a number"),
    ("a b 1\n\n\nc d -2\n", True, "line 4: weight '-2' is not a positive number"),
    ("a b 1\nc d nan\n", True, "line 2: weight 'nan' is not a positive number"),
    ("a b 0\n", True, "line 1: weight '0' is not a positive number"),
    ("a b 1\nc d 1e39\n", True, "line 2: weight '1e39' is not a positive number in float32's range"),
    ("a b 1e-50\n", True, "line 1: weight '1e-50' is not a positive number in float32's range"),
    ("# nothing\n\n", False, "holds no edges"),
    ("a a\n", False, "no edges other than self-loops"),
])
def test_bad_edge_lists_name_the_line(tmp_path, text, weighted, message):
    p = write(tmp_path / "bad.txt", text)
    with pytest.raises(EmbedtrainError, match=message):
        read_edge_list(p, weighted=weighted)


def test_missing_file():
    with pytest.raises(EmbedtrainError, match="does not exist"):
        read_edge_list("/nonexistent/edges.txt")


def test_from_arrays_with_isolated_nodes():
    g = from_edges(np.array([3, 1, 1]), np.array([1, 2, 3]), directed=False, nodes=[7])
    assert g.nodes == ["3", "1", "2", "7"] and g.n_edges == 2  # '1 3' repeats '3 1'
    assert g.degrees().tolist() == [1, 2, 1, 0]
    w = load_graph((["x", "y"], ["y", "z"], [0.5, 2.0]))
    assert w.weighted and neighbours(w)["y"] == {"x": 0.5, "z": 2.0}
    assert not load_graph((["x", "y"], ["y", "z"], [0.5, 2.0]), weighted=False).weighted
    with pytest.raises(EmbedtrainError, match="positive"):
        from_edges([1, 2], [2, 3], [1.0, -1.0])
    with pytest.raises(EmbedtrainError, match="one length"):
        from_edges([1, 2], [2])
    with pytest.raises(EmbedtrainError, match="cannot read a graph"):
        load_graph(42)


def test_edges_and_has_edges_round_trip():
    g = from_edges(["a", "b", "c"], ["b", "c", "a"], [1.0, 2.0, 3.0])
    a, b, w = g.edges()
    assert len(a) == 3 and (a < b).all()
    assert g.has_edges(a, b).all() and g.has_edges(b, a).all()
    assert not g.has_edges(np.array([0]), np.array([0])).any()
