"""Walk kernels against the plain-Python reference (tests/reference_walks.py): transition
frequencies within sampling error, determinism, the walks as a token source and as text."""
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from embedtrain.config import WalkConfig
from embedtrain.corpus.stream import SENTENCE_END
from embedtrain.graphs.read import from_edges
from embedtrain.kernels.walks import neighbour_alias_tables, random_walks, spanning_forest
from embedtrain.graphs.walks import WalkTables, seed_base, walk_blocks, write_walks

import reference_walks as ref

ROOT = Path(__file__).resolve().parent.parent

# Two triangles joined by a square, plus a pendant node: steps back (1/p), to common
# neighbours (1) and away (1/q) all occur.
SMALL_EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 4), (3, 4), (3, 5), (4, 5), (5, 6)]
SMALL_WEIGHTS = [1.0, 2.0, 0.5, 3.0, 1.0, 1.5, 4.0, 1.0, 2.5]
SIGMAS = 5.0  # a frequency further than this many standard errors from its probability fails


def make_graph(directed=False, weighted=False):
    a = np.array([e[0] for e in SMALL_EDGES])
    b = np.array([e[1] for e in SMALL_EDGES])
    g = from_edges(a, b, SMALL_WEIGHTS if weighted else None, directed=directed)
    adj = ref.adjacency([(int(g.nodes.index(str(x))), int(g.nodes.index(str(y))))
                         for x, y in SMALL_EDGES], directed, SMALL_WEIGHTS if weighted else None)
    return g, adj


def kernel_walks(g, p, q, n_walks, length, seed=3):
    tables = WalkTables(g)
    starts = np.resize(np.arange(g.n_nodes, dtype=np.int32), n_walks)
    out = np.empty(n_walks * (length + 1), dtype=np.int32)
    used = random_walks(g.indptr, g.indices, tables.weights, tables.alias_prob, tables.alias_index,
                        starts, length, 0, seed_base(seed), 1.0 / p, 1.0 / q, np.zeros(1, np.int8), out)
    return split_walks(out[:used])


def split_walks(entries):
    ends = np.flatnonzero(entries == SENTENCE_END)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [entries[s:e].tolist() for s, e in zip(starts, ends)]


def check_frequencies(counts, probabilities):
    """Every outcome's count within SIGMAS binomial standard errors of its expectation."""
    total = sum(counts.values())
    assert set(counts) <= set(probabilities)
    for x, prob in probabilities.items():
        expected = total * prob
        sd = np.sqrt(total * prob * (1 - prob)) + 1e-9
        assert abs(counts.get(x, 0) - expected) <= SIGMAS * sd + 1, (x, counts, probabilities)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
# (1, 1e-3) and (1e3, 1e-3): steps whose neighbours are all the previous node or its
# neighbours accept one proposal in a thousand or fewer, so many give up on rejection after
# MAX_PROPOSALS and are drawn exactly: the frequencies must still be node2vec's.
@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0), (4.0, 0.25), (2.0, 2.0), (1.0, 1e-3),
                                 (1e3, 1e-3)])
def test_transition_frequencies_match_the_reference(directed, weighted, p, q):
    g, adj = make_graph(directed, weighted)
    walks = kernel_walks(g, p, q, n_walks=7 * (1500 if directed else 600), length=12)
    second = defaultdict(Counter)   # (t, v) -> Counter of x
    first = defaultdict(Counter)    # v -> Counter of the first step
    for w in walks:
        if len(w) > 1:
            first[w[0]][w[1]] += 1
        for t, v, x in zip(w, w[1:], w[2:]):
            second[(t, v)][x] += 1
    for v, counts in first.items():
        check_frequencies(counts, ref.step_probabilities(adj, v))
    checked = 0
    for (t, v), counts in second.items():
        if sum(counts.values()) >= 200:
            check_frequencies(counts, ref.step_probabilities(adj, v, t, p, q))
            checked += 1
    assert checked >= 8
    # every walk runs its full length unless it reached a node with no way out
    for w in walks:
        assert len(w) == 12 or not adj[w[-1]]


def test_reference_walker_agrees_with_its_probabilities():
    """The reference is itself checked, so a wrong formula there cannot hide one here."""
    _, adj = make_graph(False, True)
    import random
    rng = random.Random(1)
    counts = defaultdict(Counter)
    for i in range(1500):
        w = ref.walk(adj, i % 7, 10, p=0.5, q=2.0, rng=rng)
        for t, v, x in zip(w, w[1:], w[2:]):
            counts[(t, v)][x] += 1
    for (t, v), c in counts.items():
        if sum(c.values()) >= 200:
            check_frequencies(c, ref.step_probabilities(adj, v, t, 0.5, 2.0))


def test_biased_walks_differ_from_unbiased():
    """A test of the bias itself: q = 4 (stay local) returns to the previous node's
    neighbourhood far more often than q = 0.25 (explore)."""
    g, adj = make_graph()

    def local_fraction(q):
        walks = kernel_walks(g, 1.0, q, 2000, 10)
        steps = [(t, x) for w in walks for t, x in zip(w, w[2:])]
        return np.mean([x == t or x in adj[t] for t, x in steps])

    assert local_fraction(4.0) > local_fraction(0.25) + 0.2


def test_alias_tables_give_the_weights():
    g, _ = make_graph(weighted=True)
    prob, alias = neighbour_alias_tables(g.indptr, g.weights)
    for v in range(g.n_nodes):
        lo, hi = g.indptr[v], g.indptr[v + 1]
        d = hi - lo
        got = np.zeros(d)
        for k in range(d):
            got[k] += prob[lo + k] / d
            got[alias[lo + k]] += (1 - prob[lo + k]) / d
        want = g.weights[lo:hi] / g.weights[lo:hi].sum()
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_walks_do_not_depend_on_threads_or_batches_and_follow_the_seed():
    g, _ = make_graph(weighted=True)
    walk = WalkConfig(p=0.5, q=2.0, walks_per_node=30, walk_length=15)
    one = np.concatenate(list(walk_blocks(g, walk, seed=5, threads=1)))
    two = np.concatenate(list(walk_blocks(g, walk, seed=5, threads=2, batch_entries=64)))
    np.testing.assert_array_equal(one, two)
    other = np.concatenate(list(walk_blocks(g, walk, seed=6, threads=1)))
    assert len(other) == len(one) and not np.array_equal(one, other)
    walks = split_walks(one)
    assert len(walks) == 30 * g.n_nodes
    # every round starts one walk from every node
    for r in range(30):
        assert sorted(w[0] for w in walks[r * 7:(r + 1) * 7]) == list(range(7))


def test_dead_ends_and_isolated_nodes():
    g = from_edges(["a", "b"], ["b", "c"], directed=True, nodes=["lonely"])
    walks = split_walks(np.concatenate(list(walk_blocks(g, WalkConfig(walks_per_node=2, walk_length=5)))))
    names = [[g.nodes[i] for i in w] for w in walks]
    assert sorted(map(tuple, names)) == sorted([("a", "b", "c"), ("b", "c"), ("c",), ("lonely",)] * 2)


def test_write_walks_as_text(tmp_path):
    g = from_edges(["x", "y", "z"], ["y", "z", "x"])
    path = tmp_path / "walks.txt"
    count = write_walks(g, WalkConfig(walks_per_node=3, walk_length=4), path, seed=2)
    lines = path.read_text().splitlines()
    assert count == len(lines) == 9
    for line in lines:
        nodes = line.split()
        assert len(nodes) == 4 and set(nodes) <= {"x", "y", "z"}
        assert all(a != b for a, b in zip(nodes, nodes[1:]))  # a triangle has no self-steps


def test_spanning_forest_connects_each_component():
    a = np.array([0, 1, 2, 0, 3, 4, 5], dtype=np.int32)
    b = np.array([1, 2, 0, 2, 4, 5, 3], dtype=np.int32)
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(a))
        mask = spanning_forest(6, a, b, order)
        assert mask.sum() == 4  # two triangles: 2 tree edges each
        # the forest alone connects 0,1,2 and 3,4,5
        g = from_edges(a[mask], b[mask])
        reach = {g.nodes.index("0")}
        frontier = list(reach)
        while frontier:
            v = frontier.pop()
            for u in g.indices[g.indptr[v]:g.indptr[v + 1]]:
                if u not in reach:
                    reach.add(int(u))
                    frontier.append(int(u))
        assert {g.nodes[i] for i in reach} == {"0", "1", "2"}


def test_a_set_stop_flag_ends_a_batch_before_its_next_walk():
    g, _ = make_graph()
    tables = WalkTables(g)
    starts = np.arange(g.n_nodes, dtype=np.int32)
    out = np.empty(len(starts) * 6, dtype=np.int32)
    args = (g.indptr, g.indices, tables.weights, tables.alias_prob, tables.alias_index, starts, 5, 0,
            seed_base(1), 1.0, 1.0)
    assert random_walks(*args, np.ones(1, np.int8), out) == 0
    assert len(split_walks(out[:random_walks(*args, np.zeros(1, np.int8), out)])) == g.n_nodes


def _tree_edges(path, n_nodes):
    """A random tree: at a leaf the only step is back, which p = 1e6 makes one proposal in
    10^12 accept, so every such step runs the rejection bound out."""
    rng = np.random.default_rng(0)
    parents = [int(rng.integers(0, i)) for i in range(1, n_nodes)]
    path.write_text("".join(f"{a} {i}\n" for i, a in enumerate(parents, start=1)))


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("threads", [1, 2])
def test_extreme_walks_are_bounded_and_stop_at_a_signal(tmp_path, sig, code, threads):
    """node2vec at the bounds of p and q (issue 21: --q 1e-6 ran for minutes in one kernel
    call that no signal could interrupt). The run is long (a million walks), so it is
    still walking when the signal comes; it must stop, exit with the signal's status and
    leave nothing (the deadline only bounds a hung test, it measures nothing)."""
    edges = tmp_path / "tree.edges"
    _tree_edges(edges, 2000)
    out = tmp_path / "walks.txt"
    proc = subprocess.Popen([sys.executable, "-m", "embedtrain", "walks", str(edges), "-o", str(out),
                             "--p", "1e6", "--q", "1e-6", "--walks-per-node", "500",
                             "--threads", str(threads)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):  # walking, writing
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the kernel
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "stopped" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.edges"], err


def test_walks_to_stdout(tmp_path):
    """-o - writes the walks to stdout (it wrote a file named '-'); the same bytes as a
    file, and a reader that stops early (| head) ends the run quietly."""
    edges = tmp_path / "tree.edges"
    _tree_edges(edges, 300)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "embedtrain", "walks", str(edges), "--walks-per-node", "2", "--seed", "4"]
    subprocess.run([*args, "-o", str(tmp_path / "w.txt")], check=True, env=env, capture_output=True)
    out = subprocess.run([*args, "-o", "-"], env=env, capture_output=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (tmp_path / "w.txt").read_bytes() and out.stdout.count(b"\n") == 600
    assert b"to stdout" in out.stderr and not (tmp_path / "-").exists()
    head = subprocess.run(["bash", "-c", f"{shlex.join(args)} --walks-per-node 500 -o - | head -n 1; "
                           "exit ${PIPESTATUS[0]}"], env=env, capture_output=True, cwd=tmp_path)
    assert head.returncode == 0 and head.stdout.count(b"\n") == 1, head.stderr
    assert b"Traceback" not in head.stderr and b"Exception" not in head.stderr, head.stderr
