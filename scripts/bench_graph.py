#!/usr/bin/env python
"""embedtrain vs PecanPy (node2vec/DeepWalk walks, trained by gensim), side by side in one run.

Graphs: Cora (../shared/data/graphs, 2,708 nodes, 5,278 edges, 7 topics) and a generated
stochastic block model with known communities (default 100,000 nodes, about 1,000,000
edges, 20 communities, 40% of the edges inside communities).

Both tools get the same edge file and the same settings: DeepWalk walks (p = q = 1) over
the undirected graph, skip-gram with dim 128, window 10, 5 negatives, no subsampling,
min-count 0, one epoch, 2 threads; PecanPy in its fastest mode for p = q = 1
(FirstOrderUnweighted) hands its walks to gensim Word2Vec with those settings (its own CLI
would leave gensim's sample=1e-3 on; it is turned off here so both train on every token).
``--node2vec P,Q`` adds a node2vec row on Cora (PecanPy's SparseOTF, its on-the-fly mode).

Each training run is a whole process timed by /usr/bin/time (wall, peak RSS); PecanPy's
numba functions compile in every process (it does not cache them), embedtrain's are
cached on disk, and the first, warm-up run of each is not counted. Scores are computed
afterwards on the written vectors by the same code for both tools (embedtrain's
graphs/evaluate.py): node classification (one-vs-rest logistic regression on half the nodes,
micro/macro-F1, mean over splits) and link prediction (half the edges held out, the rest
kept connected, each tool trained on the rest; ROC-AUC, Hadamard + logistic regression).
On the block model the held-out edges (``--sbm-holdout``, 10%) are split off before the
timed runs, which train on the rest (generated so that about ``--sbm-edges`` remain) and
give both the F1 and the AUC: no extra run per tool on the expensive graph.

PecanPy is not a dependency: install it beside gensim (``pip install pecanpy``, or
``pip install --target DIR pecanpy numba-progress nptyping`` and pass ``--peer-path DIR``).
Run under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/bench_graph.py [--runs 3] [--sbm-runs 1] [--peer-path DIR]
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchlib import SHARED_DATA, timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = dict(dim=128, window=10, negative=5, sample=0.0, min_count=0, epochs=1, threads=2)

PECANPY_SCRIPT = r'''
import sys
import numpy as np
# nptyping (a PecanPy dependency) still names aliases that numpy 2 removed.
for old, new in dict(bool8=np.bool_, object0=np.object_, int0=np.intp, uint0=np.uintp,
                     float_=np.float64, complex_=np.complex128, unicode_=np.str_,
                     string_=np.bytes_, longfloat=np.longdouble, singlecomplex=np.complex64,
                     cfloat=np.complex128, longcomplex=np.clongdouble, clongfloat=np.clongdouble,
                     void0=np.void, bytes0=np.bytes_, str0=np.str_).items():
    if old not in np.__dict__:
        setattr(np, old, new)
import numba
from gensim.models import Word2Vec
from pecanpy import pecanpy

(edges, out, mode, p, q, walks, length, dim, window, negative, sample, workers, seed,
 delimiter) = sys.argv[1:]
numba.set_num_threads(int(workers))
g = getattr(pecanpy, mode)(p=float(p), q=float(q), workers=int(workers), verbose=False,
                           random_state=int(seed))
g.read_edg(edges, weighted=False, directed=False, delimiter=delimiter)
g.preprocess_transition_probs()
w = g.simulate_walks(num_walks=int(walks), walk_length=int(length))
model = Word2Vec(w, vector_size=int(dim), window=int(window), negative=int(negative),
                 sample=float(sample), min_count=0, sg=1, workers=int(workers), epochs=1,
                 seed=int(seed))
model.wv.save_word2vec_format(out)
'''


def sbm(n_nodes: int, n_edges: int, communities: int, inside: float, seed: int,
        edges_path: Path, labels_path: Path) -> None:
    """A stochastic block model: ``inside`` of the edges join two members of one community
    (equal sizes), the rest two nodes anywhere; no self-loops or repeats."""
    rng = np.random.default_rng(seed)
    community = rng.permutation(np.arange(n_nodes) % communities)
    members = [np.flatnonzero(community == c) for c in range(communities)]
    want_in = int(n_edges * inside * 1.02)
    c = rng.integers(0, communities, want_in)
    a_in = np.array([members[k][i] for k, i in zip(c, rng.integers(0, n_nodes // communities, want_in))])
    b_in = np.array([members[k][i] for k, i in zip(c, rng.integers(0, n_nodes // communities, want_in))])
    want_out = int(n_edges * (1 - inside) * 1.02)
    a = np.concatenate([a_in, rng.integers(0, n_nodes, want_out)])
    b = np.concatenate([b_in, rng.integers(0, n_nodes, want_out)])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    keys = np.unique(lo[keep].astype(np.int64) * n_nodes + hi[keep])
    keys = rng.permutation(keys)[:n_edges]
    with open(edges_path, "w") as out:
        out.writelines(f"{k // n_nodes}\t{k % n_nodes}\n" for k in keys.tolist())
    with open(labels_path, "w") as out:
        out.writelines(f"{v}\t{c}\n" for v, c in enumerate(community.tolist()))


def embedtrain_cmd(edges: Path, prefix: Path, seed: int, walks: int, length: int,
                   p: float = 1.0, q: float = 1.0) -> list[str]:
    s = SETTINGS
    return [sys.executable, "-m", "embedtrain", "-q", "train", "--graph", str(edges),
            "--dim", str(s["dim"]), "--window", str(s["window"]), "--negative", str(s["negative"]),
            "--sample", str(s["sample"]), "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]),
            "--threads", str(s["threads"]), "--walks-per-node", str(walks), "--walk-length", str(length),
            "--p", str(p), "--q", str(q), "--seed", str(seed), "-o", str(prefix)]


def pecanpy_cmd(script: Path, edges: Path, out: Path, seed: int, walks: int, length: int,
                delimiter: str, mode: str = "FirstOrderUnweighted", p: float = 1.0,
                q: float = 1.0) -> list[str]:
    s = SETTINGS
    return [sys.executable, str(script), str(edges), str(out), mode, str(p), str(q), str(walks),
            str(length), str(s["dim"]), str(s["window"]), str(s["negative"]), str(s["sample"]),
            str(s["threads"]), str(seed), delimiter]


def node_scores(vec: Path, labels: Path, repeats: int) -> tuple[float, float]:
    from embedtrain.graphs.evaluate import eval_nodes
    from embedtrain.io.formats import load_vectors

    r = eval_nodes(load_vectors(vec), labels, train_fractions=[0.5], repeats=repeats)["results"][0]
    return r["micro_f1"], r["macro_f1"]


def link_auc(split, vec: Path) -> float:
    from embedtrain.graphs.evaluate import score_links
    from embedtrain.io.formats import load_vectors

    return score_links(load_vectors(vec), split)["auc_hadamard"]


def compare(name: str, edges: Path, labels: Path, delimiter: str, walks: int, length: int,
            runs: int, repeats: int, work: Path, script: Path, env: dict, links: bool,
            mode: str = "FirstOrderUnweighted", p: float = 1.0, q: float = 1.0,
            warm_up: bool = True, split=None) -> dict:
    """Timed runs of both tools (alternating), scores of each run, link AUC of one run.

    ``split``: ``edges`` is that split's training graph; every timed run is also scored
    on its held-out edges (link AUC without a run more per tool)."""
    print(f"== {name}: {runs} run(s) per tool, walks {walks} x {length}, p {p}, q {q}", flush=True)
    rows = {"embedtrain": [], "pecanpy": []}
    for run in range(0 if warm_up else 1, runs + 1):  # run 0 warms up (numba cache, page cache)
        seed = run + 1
        for tool in ("embedtrain", "pecanpy"):
            prefix = work / f"{name}-{tool}-{run}"
            if tool == "embedtrain":
                cmd = embedtrain_cmd(edges, prefix, seed, walks, length, p, q)
            else:
                cmd = pecanpy_cmd(script, edges, Path(f"{prefix}.vec"), seed, walks, length, delimiter,
                                  mode, p, q)
            load_before = os.getloadavg()[0]
            wall, rss, _ = timed(cmd, env=env)
            load = f"load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
            if run == 0:
                print(f"   warm-up {tool}: {wall:.1f} s  {load}", flush=True)
                continue
            micro, macro = node_scores(Path(f"{prefix}.vec"), labels, repeats)
            row = (wall, rss, micro, macro)
            if split is not None:
                row += (link_auc(split, Path(f"{prefix}.vec")),)
            rows[tool].append(row)
            print(f"   run {run} {tool:10s} wall {wall:7.1f} s  peak {rss:7.0f} MB  micro-F1 {micro:.4f}  "
                  f"macro-F1 {macro:.4f}" + (f"  AUC {row[4]:.4f}" if split is not None else "")
                  + f"  {load}", flush=True)
    result = {tool: [statistics.median(col) for col in zip(*r)] for tool, r in rows.items()}
    if links:
        from embedtrain.graphs.evaluate import split_links
        from embedtrain.graphs.read import read_edge_list

        split = split_links(read_edge_list(edges), 0.5, seed=1)
        train_edges = work / f"{name}-train.edges"
        split.write_train_edges(train_edges)
        for tool in ("embedtrain", "pecanpy"):
            prefix = work / f"{name}-links-{tool}"
            cmd = (embedtrain_cmd(train_edges, prefix, 1, walks, length, p, q) if tool == "embedtrain"
                   else pecanpy_cmd(script, train_edges, Path(f"{prefix}.vec"), 1, walks, length, " ",
                                    mode, p, q))
            load_before = os.getloadavg()[0]
            wall, rss, _ = timed(cmd, env=env)
            auc = link_auc(split, Path(f"{prefix}.vec"))
            result[tool].append(auc)
            print(f"   links {tool:10s} wall {wall:7.1f} s  peak {rss:7.0f} MB  AUC {auc:.4f}  "
                  f"load {load_before:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool on Cora (medians reported)")
    ap.add_argument("--sbm-runs", type=int, default=1, help="timed runs per tool on the block model")
    ap.add_argument("--sbm-nodes", type=int, default=100_000)
    ap.add_argument("--sbm-edges", type=int, default=1_000_000)
    ap.add_argument("--sbm-walks", default="10,80", help="walks per node, walk length on the block model")
    ap.add_argument("--sbm-holdout", type=float, default=0.1,
                    help="fraction of the block model's edges held out for link prediction: the graph "
                         "is generated with --sbm-edges / (1 - this) edges and the timed runs train on "
                         "the rest (about --sbm-edges); 0: no link prediction, the whole graph")
    ap.add_argument("--node2vec", default="0.5,2", help="p,q of the extra node2vec row on Cora ('' for none)")
    ap.add_argument("--repeats", type=int, default=5, help="classification splits per run (Cora)")
    ap.add_argument("--peer-path", default=None, help="directory holding pecanpy, prepended to PYTHONPATH")
    ap.add_argument("--skip-sbm", action="store_true")
    ap.add_argument("--skip-cora", action="store_true")
    ap.add_argument("--sbm-first", action="store_true", help="the block model before Cora")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    work = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.peer_path, str(ROOT), env.get("PYTHONPATH")]))
    script = work / "pecanpy_run.py"
    script.write_text(PECANPY_SCRIPT)
    try:
        table = []
        cora, cora_labels = SHARED_DATA / "graphs" / "cora.edges", SHARED_DATA / "graphs" / "cora.node_labels"

        def run_cora() -> None:
            r = compare("cora", cora, cora_labels, ",", 10, 80, args.runs, args.repeats, work, script, env,
                        True)
            table.append(("Cora, DeepWalk (p = q = 1), walks 10 x 80", "FirstOrderUnweighted", r))
            if args.node2vec:
                p, q = (float(x) for x in args.node2vec.split(","))
                r = compare("cora-n2v", cora, cora_labels, ",", 10, 80, args.runs, args.repeats, work,
                            script, env, False, "SparseOTF", p, q)
                table.append((f"Cora, node2vec (p = {p:g}, q = {q:g}), walks 10 x 80", "SparseOTF", r))

        def run_sbm() -> None:
            edges, labels = work / "sbm.edges", work / "sbm.labels"
            holdout = args.sbm_holdout
            sbm(args.sbm_nodes, round(args.sbm_edges / (1 - holdout)), 20, 0.4, 7, edges, labels)
            split, delimiter = None, "\t"
            if holdout:
                from embedtrain.graphs.evaluate import split_links
                from embedtrain.graphs.read import read_edge_list

                split = split_links(read_edge_list(edges), holdout, seed=1)
                edges, delimiter = work / "sbm-train.edges", " "
                split.write_train_edges(edges)
            n_train = split.train_graph.n_edges if split is not None else args.sbm_edges
            walks, length = (int(x) for x in args.sbm_walks.split(","))
            print(f"   block model: {args.sbm_nodes:,} nodes, {n_train:,} edges trained on"
                  + (f", {len(split.test_pairs) // 2:,} held out" if split is not None else ""), flush=True)
            # no warm-up run here: Cora's runs (or the short one below) fill embedtrain's numba cache
            r = compare("sbm", edges, labels, delimiter, walks, length, args.sbm_runs, 1, work, script, env,
                        False, warm_up=False, split=split)
            table.append((f"block model {args.sbm_nodes:,} nodes / {n_train:,} edges, DeepWalk, "
                          f"walks {walks} x {length}", "FirstOrderUnweighted", r))

        steps = ([] if args.skip_cora else [run_cora]) + ([] if args.skip_sbm else [run_sbm])
        if args.sbm_first:
            steps.reverse()
            timed(embedtrain_cmd(cora, work / "warm-up", 1, 1, 10), env=env)  # numba cache
        for step in steps:
            step()
        print("\n| graph and walks | PecanPy mode | embedtrain s | PecanPy s | time ratio | peak RSS MB "
              "(et / PecanPy) | micro-F1 (et / PecanPy) | macro-F1 (et / PecanPy) | link AUC (et / PecanPy) |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, mode, r in table:
            e, pp = r["embedtrain"], r["pecanpy"]
            auc = f"{e[4]:.3f} / {pp[4]:.3f}" if len(e) > 4 else "-"
            print(f"| {name} | {mode} | {e[0]:.1f} | {pp[0]:.1f} | {e[0] / pp[0]:.2f} | {e[1]:.0f} / {pp[1]:.0f} "
                  f"| {e[2]:.3f} / {pp[2]:.3f} | {e[3]:.3f} / {pp[3]:.3f} | {auc} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
