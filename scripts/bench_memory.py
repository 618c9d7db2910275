#!/usr/bin/env python
"""Peak memory of a whole run, embedtrain against gensim, side by side (issue 28).

Settings of the word2vec benchmark (scripts/bench_word2vec.py): text8 prefix as lines of
1,000 tokens, dim 100, window 5, negative 5, sample 1e-3, min-count 5, 5 epochs, 2 threads;
skip-gram and CBOW. Each run is a whole process under /usr/bin/time -v (peak RSS, wall),
embedtrain (numba cache warm: a small run first) and gensim (corpus_file) interleaved, three
seeds; with --before DIR a checkout of another revision runs too. Also the floor of an
embedtrain process: Python with numpy, numba imported as embedtrain imports it, and one
cached kernel loaded (LLVM's and numba's own memory, before any data). Run under the lock:

    flock /tmp/embedtrain-bench.lock python scripts/bench_memory.py [--before DIR] [--runs 3]

Writes scripts/bench_memory.out.json. Peak memory hardly depends on the machine's load;
wall times here do (they are not this script's subject).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import SHARED_DATA, timed, write_lines
from bench_word2vec import GENSIM_SCRIPT, embedtrain_cmd

ROOT = Path(__file__).resolve().parent.parent
# an embedtrain process before any data: numba as embedtrain imports it, one cached kernel
FLOOR = ("import numpy as np\n"
         "from embedtrain.vocab import _build_alias\n"
         "_build_alias(np.ones(10))\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, default=None, help="a checkout of another revision")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", default="skipgram,cbow")
    ap.add_argument("--corpus", type=Path, default=SHARED_DATA / "text8-prefix.gz")
    a = ap.parse_args()
    trees = {"embedtrain": ROOT} | ({"before": a.before.resolve()} if a.before else {})
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    corpus = work / "text8.txt"
    write_lines(a.corpus, corpus)
    tiny = work / "tiny.txt"
    tiny.write_text(" ".join(corpus.read_text().split()[:20000]) + "\n")
    gensim_py = work / "gensim_w2v.py"
    gensim_py.write_text(GENSIM_SCRIPT)
    floors = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=str(tree))
        for model in a.models.split(","):  # compile (or load) the kernels, outside the measurements
            subprocess.run(embedtrain_cmd(tiny, work / "tiny", model, 1), env=env, check=True, cwd=tree)
        _, floors[name], _ = timed([sys.executable, "-c", FLOOR], env=env, cwd=tree)
    results: dict[str, dict[str, list]] = {}
    for run in range(a.runs):
        for model in a.models.split(","):
            for tool in [*trees, "gensim"]:
                out = work / f"{tool}-{model}"
                if tool == "gensim":
                    cmd, env, cwd = [sys.executable, str(gensim_py), str(corpus), str(out) + ".vec",
                                     "1" if model == "skipgram" else "0", str(run + 1)], None, work
                else:  # run in the tree: python -m imports the package in the working directory
                    cmd, env, cwd = (embedtrain_cmd(corpus, out, model, run + 1),
                                     dict(os.environ, PYTHONPATH=str(trees[tool])), trees[tool])
                wall, rss, _ = timed(cmd, env=env, cwd=cwd)
                entry = results.setdefault(f"{model} {tool}", {"rss_mb": [], "wall_s": []})
                entry["rss_mb"].append(round(rss, 1))
                entry["wall_s"].append(round(wall, 2))
                print(f"run {run + 1} {model:8} {tool:10}: peak RSS {rss:6.1f} MB, wall {wall:5.1f} s",
                      file=sys.stderr, flush=True)
    print("| model | tool | peak RSS MB (each run) | median | / gensim's | wall s (median) |")
    print("|---|---|---|---:|---:|---:|")
    for model in a.models.split(","):
        g = statistics.median(results[f"{model} gensim"]["rss_mb"])
        for tool in [*trees, "gensim"]:
            e = results[f"{model} {tool}"]
            e["median_rss_mb"] = statistics.median(e["rss_mb"])
            print(f"| {model} | {tool} | {', '.join(f'{x:.1f}' for x in e['rss_mb'])} | {e['median_rss_mb']:.1f} | "
                  f"{e['median_rss_mb'] / g:.2f} | {statistics.median(e['wall_s']):.1f} |")
    for name, mb in floors.items():
        print(f"{name}: a process that imports numba as embedtrain does and loads one cached kernel "
              f"peaks at {mb:.1f} MB")
    (ROOT / "scripts" / "bench_memory.out.json").write_text(
        json.dumps({"results": results, "floor_mb": floors}, indent=1) + "\n")


if __name__ == "__main__":
    main()
