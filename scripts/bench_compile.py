#!/usr/bin/env python
"""First-run compile cost per model: `embedtrain train` on the sample corpus (one thread,
one epoch) with an empty NUMBA_CACHE_DIR, against the same command with that cache warm.
The difference in CPU seconds (user + system of the child) is what numba spends compiling
the kernels the run uses; wall seconds are shown too.

With ``--before DIR`` (a checkout of another revision, e.g. ``git worktree add /tmp/et-before
REV``) the same runs are made with that code too, interleaved run by run, and the ratio of
the medians is printed.

    flock /tmp/embedtrain-bench.lock python scripts/bench_compile.py --runs 3 [--before DIR]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "text8-sample.gz"
MODELS = {"skipgram": [], "cbow": [], "fasttext": ["--bucket", "20000"], "glove": []}


def run(src: Path, model: str, cache: str, out: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `embedtrain train` child process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "embedtrain", "train", str(CORPUS), "--model", model,
                    "--threads", "1", "--epochs", "1", "-q", "-o", out, *MODELS[model]],
                   env=env, check=True, cwd=src)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def compile_cost(src: Path, model: str) -> tuple[float, float]:
    """(CPU s, wall s) of a cold run minus a warm one, in a fresh cache directory."""
    with tempfile.TemporaryDirectory(prefix="et-numba-") as cache, \
            tempfile.TemporaryDirectory(prefix="et-out-") as out:
        cold = run(src, model, cache, os.path.join(out, "m"))
        warm = run(src, model, cache, os.path.join(out, "m"))
    return cold[0] - warm[0], cold[1] - warm[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, default=None, help="a checkout of another revision")
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    sources = {"now": ROOT} | ({"before": a.before.resolve()} if a.before else {})
    models = a.models.split(",")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in range(a.runs):
        for model in models:
            for name, src in sources.items():
                results.setdefault((name, model), []).append(compile_cost(src, model))
                print(f"run {r + 1}: {name} {model}: {results[(name, model)][-1][0]:.2f} s CPU",
                      file=sys.stderr)
    print("| model | " + " | ".join(f"{n} CPU s | {n} wall s" for n in sources)
          + (" | CPU now / before |" if a.before else " |"))
    print("|---|" + "---:|" * (2 * len(sources) + (1 if a.before else 0)))
    for model in models:
        cells, medians = [], {}
        for name in sources:
            cpu = statistics.median(c for c, _ in results[(name, model)])
            wall = statistics.median(w for _, w in results[(name, model)])
            medians[name] = cpu
            cells += [f"{cpu:.2f}", f"{wall:.2f}"]
        ratio = [f"{medians['now'] / medians['before']:.2f}"] if a.before else []
        print(f"| {model} | " + " | ".join(cells + ratio) + " |")


if __name__ == "__main__":
    main()
