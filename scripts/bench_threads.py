#!/usr/bin/env python
"""Per-core rate and thread scaling (issue 28): trained words per second of skip-gram, CBOW and
FastText on ../shared/data/text8-prefix.gz with one thread and with two, at the word2vec
benchmark's settings (dim 100, window 5, negative 5, sample 1e-3, min-count 5), each run a
fresh process of this checkout (numba's cache warm), the thread counts alternating round by
round. The rate is the training phase's (the run's ``stats["words_per_second"]``: words after
subsampling over the training loop's wall time), so start-up, reading and writing are not in
it; one thread's rate is the per-core rate. Prints medians, the scaling (two threads' median
over one's) and the machine's load before and after; writes scripts/bench_threads.out.json.

    flock /tmp/embedtrain-bench.lock python scripts/bench_threads.py [--rounds 5] [--epochs 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchlib import ROOT, SHARED_DATA

MODELS = {"skipgram": {}, "cbow": {}, "fasttext": {"bucket": 2_000_000}}
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, seed=1, progress=False)
CHILD = """
import json, sys
import embedtrain
args = json.loads(sys.argv[1])
corpus = args.pop("corpus")
model = embedtrain.train(corpus, **args)
print(json.dumps({"words_per_second": model.stats["words_per_second"],
                  "train_seconds": model.stats["train_seconds"]}))
"""


def run(model: str, threads: int, epochs: int, corpus: str) -> dict:
    args = dict(SETTINGS, **MODELS[model], model=model, threads=threads, epochs=epochs, corpus=corpus)
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if done.returncode != 0:
        sys.exit(f"{model} with {threads} threads failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--corpus", default=str(SHARED_DATA / "text8-prefix.gz"))
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_threads.out.json")
    args = ap.parse_args()
    models = args.models.split(",")
    out = {"settings": dict(SETTINGS, epochs=args.epochs, corpus=args.corpus), "load_before": os.getloadavg(),
           "models": {}}
    for model in models:   # untimed: loads (or compiles) each model's kernels
        run(model, 1, 1, args.corpus)
    rates = {(m, t): [] for m in models for t in (1, 2)}
    for r in range(args.rounds):
        for model in models:
            for threads in ((1, 2) if r % 2 == 0 else (2, 1)):
                rate = run(model, threads, args.epochs, args.corpus)["words_per_second"]
                rates[model, threads].append(rate)
                print(f"round {r + 1} {model:8} {threads} thread(s): {rate:,.0f} words/s", flush=True)
    for model in models:
        one, two = (statistics.median(rates[model, t]) for t in (1, 2))
        out["models"][model] = {"one_thread": rates[model, 1], "two_threads": rates[model, 2],
                                "per_core_median": one, "two_threads_median": two,
                                "scaling": round(two / one, 3)}
        print(f"{model:8}: one thread {one:,.0f} words/s (per core), two {two:,.0f}: x{two / one:.2f}")
    out["load_after"] = os.getloadavg()
    print(f"load average before {out['load_before'][0]:.2f}, after {out['load_after'][0]:.2f}")
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
