"""Neighbour indexes measured: embedtrain's IVF index (neighbours.py, its defaults) against
pynndescent's NNDescent (its defaults, cosine), and where exact search stops being faster.

    flock /tmp/embedtrain-bench.lock python scripts/bench_index.py

1. The same rows and queries for both (200 queries: rows of the vocabulary, their own row
   excluded; the two tools interleaved query by query): build seconds, milliseconds per
   query (one query at a time, as `similar` asks), recall@10 against exact search.
   Vectors: skip-gram on the text8 prefix (../shared/data/text8-prefix.gz, dim 100, 3
   epochs; 3 seeds of the index builds), skip-gram on ../shared/data/corpora/enwiki2015-AA
   (dim 100, 3 epochs, min-count 5; 1 seed), and the first 200,000 of the generated
   1 M x 300 clustered rows of scripts/bench_compress.py (1 seed: pynndescent's build
   takes minutes there). One BLAS thread during this part (threadpoolctl; see below).
2. Exact search against our index, per query, on the first N generated rows (dim 300, in
   memory) for N from 5,000 to 400,000: the vocabulary size below which an exact scan is
   faster (neighbours.EXACT_BELOW).

Writes scripts/bench_index.out.json. The machine is shared (2 cores, other jobs): times
are medians, and noisy; recall does not depend on the load.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedtrain  # noqa: E402
from embedtrain.neighbours import build_index  # noqa: E402
from embedtrain.vectors import Vectors  # noqa: E402

from benchlib import SHARED_DATA  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", "/tmp/embedtrain-bench-index"))
DATA = SHARED_DATA if SHARED_DATA.is_dir() else Path("/work/shared/data")
OUT = ROOT / "scripts" / "bench_index.out.json"
QUERIES = 200
TOPN = 10


def trained(name: str, corpus: Path) -> Vectors:
    path = WORK / f"{name}.etm"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        model = embedtrain.train(corpus, model="skipgram", dim=100, epochs=3, threads=2, progress=False,
                                 seed=1, min_count=5)
        model.save_model(path)
    return embedtrain.load(path).vectors


def generated(rows: int) -> np.ndarray:
    """The first ``rows`` rows of bench_compress.py's 1 M x 300 generator (clustered)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2000, 300)).astype(np.float32)
    out = np.empty((rows, 300), dtype=np.float32)
    for s in range(0, rows, 100_000):
        which = rng.integers(0, 2000, size=100_000)
        block = centres[which] + rng.normal(scale=0.8, size=(100_000, 300))
        out[s:s + 100_000] = block[:min(100_000, rows - s)]
    return out


def exact_neighbours(unit: np.ndarray, ids: np.ndarray) -> list[set[int]]:
    out = []
    for i in ids:
        scores = unit @ unit[i]
        scores[i] = -np.inf
        out.append(set(np.argpartition(-scores, TOPN)[:TOPN].tolist()))
    return out


def against_pynndescent(vectors: Vectors, seeds: list[int]) -> dict:
    """Our index and NNDescent on the same rows and queries, interleaved."""
    from pynndescent import NNDescent
    from threadpoolctl import threadpool_limits

    # One BLAS thread for our index's small products: after pynndescent's parallel build
    # its numba threads compete with OpenBLAS's, which made our queries 5-20x slower.
    limits = threadpool_limits(limits=1, user_api="blas")
    try:
        return _against(NNDescent, vectors, seeds)
    finally:
        limits.restore_original_limits()


def _against(NNDescent, vectors: Vectors, seeds: list[int]) -> dict:
    unit = np.ascontiguousarray(vectors.unit_vectors)
    ids = np.random.default_rng(0).choice(len(unit), size=QUERIES, replace=False)
    want = exact_neighbours(unit, ids)
    runs = []
    for seed in seeds:
        run = {"seed": seed}
        t = time.perf_counter()
        ours = build_index(vectors, seed=seed)
        run["embedtrain_build_s"] = time.perf_counter() - t
        t = time.perf_counter()
        peer = NNDescent(unit, metric="cosine", random_state=seed)
        peer.prepare()  # the search graph, built on the first query otherwise
        run["pynndescent_build_s"] = time.perf_counter() - t
        times = {"embedtrain": [], "pynndescent": []}
        hits = {"embedtrain": 0, "pynndescent": 0}
        for i, exact in zip(ids, want):
            t = time.perf_counter()
            got = {vectors.index[w] for w, _ in ours.nearest(vectors, unit[i], TOPN, [int(i)])}
            times["embedtrain"].append(time.perf_counter() - t)
            hits["embedtrain"] += len(got & exact)
            t = time.perf_counter()
            found, _ = peer.query(unit[i:i + 1], k=TOPN + 1)
            times["pynndescent"].append(time.perf_counter() - t)
            hits["pynndescent"] += len((set(found[0].tolist()) - {int(i)}) & exact)
        for tool in times:
            run[f"{tool}_query_ms"] = 1000 * statistics.median(times[tool])
            run[f"{tool}_recall_at_10"] = hits[tool] / (TOPN * QUERIES)
        runs.append(run)
        print(json.dumps(run), flush=True)
    summary = {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0] if k != "seed"}
    return {"rows": len(unit), "dim": int(unit.shape[1]), "cells": len(ours.centroids), "probe": ours.probe,
            "seeds": seeds, **summary, "runs": runs}


def exact_threshold(matrix: np.ndarray, sizes: list[int]) -> list[dict]:
    """Per-query milliseconds of an exact most_similar and of one through our index
    (attached as `similar --index` attaches it), on the first N rows, in memory; one
    BLAS thread (with two, on the loaded machine, both took whole scheduler slices:
    12 ms medians whatever the size)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _threshold(matrix, sizes)


def _threshold(matrix: np.ndarray, sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        words = [f"w{i}" for i in range(n)]
        vectors = Vectors(words, matrix[:n])
        vectors.unit_vectors  # noqa: B018 - computed once, as the first query would
        index = build_index(vectors)
        queries = [words[i] for i in np.random.default_rng(1).choice(n, size=100, replace=False)]
        times = {"exact": [], "index": []}
        for w in queries:  # interleaved
            vectors.neighbour_index = None
            t = time.perf_counter()
            vectors.most_similar(w, topn=TOPN)
            times["exact"].append(time.perf_counter() - t)
            vectors.neighbour_index = index
            t = time.perf_counter()
            vectors.most_similar(w, topn=TOPN)
            times["index"].append(time.perf_counter() - t)
        row = {"rows": n, "cells": len(index.centroids),
               **{f"{k}_query_ms": round(1000 * statistics.median(v), 3) for k, v in times.items()}}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def markdown(report: dict) -> str:
    """The tables of docs/benchmarks.md, from the JSON."""
    names = {"skipgram_text8_prefix": "skip-gram, text8 prefix (3 seeds)",
             "skipgram_enwiki_AA": "skip-gram, enwiki2015-AA"}
    lines = ["| vectors | rows x dim | cells | build: embedtrain | pynndescent | query: embedtrain | "
             "pynndescent | recall@10: embedtrain | pynndescent |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, r in report.get("against_pynndescent", {}).items():
        lines.append(f"| {names.get(key, 'generated, first rows')} | {r['rows']:,} x {r['dim']} | {r['cells']} | "
                     f"{r['embedtrain_build_s']:.1f} s | {r['pynndescent_build_s']:.1f} s | "
                     f"{r['embedtrain_query_ms']:.2f} ms | {r['pynndescent_query_ms']:.2f} ms | "
                     f"{r['embedtrain_recall_at_10']:.3f} | {r['pynndescent_recall_at_10']:.3f} |")
    lines += ["", "| rows (x 300, in memory) | cells | exact query | through the index |", "|---:|---:|---:|---:|"]
    for r in report.get("exact_against_index", []):
        lines.append(f"| {r['rows']:,} | {r['cells']} | {r['exact_query_ms']:.2f} ms | {r['index_query_ms']:.2f} ms |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", default="", help="comma list of parts to skip: peer,threshold")
    parser.add_argument("--subset", type=int, default=200_000, help="generated rows compared with pynndescent")
    parser.add_argument("--markdown", action="store_true", help="print the docs' tables from the JSON")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(OUT.read_text())))
        return
    skip = set(filter(None, args.skip.split(",")))
    report = json.loads(OUT.read_text()) if OUT.exists() else {}
    command = "flock /tmp/embedtrain-bench.lock python " + " ".join(sys.argv)
    report.pop("command", None)
    report["machine"] = f"{os.cpu_count()} cores, shared with other jobs: noisy"
    from pynndescent import NNDescent, __version__ as peer_version  # noqa: F401

    report["pynndescent_version"] = peer_version
    matrix = generated(max(args.subset, 400_000))
    if "peer" not in skip:
        # compile pynndescent's kernels first (its cache is not part of a build)
        NNDescent(matrix[:3000], metric="cosine", random_state=0).query(matrix[:5], k=5)
        sg = trained("skipgram-text8-prefix", DATA / "text8-prefix.gz")
        wiki = trained("skipgram-enwiki-AA", DATA / "corpora" / "enwiki2015-AA.text8style.txt.gz")
        sub = Vectors([f"w{i}" for i in range(args.subset)], matrix[:args.subset])
        report.setdefault("commands", {})["against_pynndescent"] = command
        report["against_pynndescent"] = {
            "skipgram_text8_prefix": against_pynndescent(sg, [1, 2, 3]),
            "skipgram_enwiki_AA": against_pynndescent(wiki, [1]),
            f"generated_{args.subset}_x_300": against_pynndescent(sub, [1]),
        }
    if "threshold" not in skip:
        report.setdefault("commands", {})["exact_against_index"] = command
        report["exact_against_index"] = exact_threshold(matrix, [5_000, 10_000, 25_000, 50_000, 100_000,
                                                                 200_000, 400_000])
    OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
