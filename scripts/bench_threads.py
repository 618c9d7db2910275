#!/usr/bin/env python
"""Per-core rate and thread scaling (issue 28): trained words per second of skip-gram, CBOW and
FastText on ../shared/data/text8-prefix.gz with one thread and with two, at the word2vec
benchmark's settings (dim 100, window 5, negative 5, sample 1e-3, min-count 5), each run a
fresh process of this checkout (numba's cache warm), the thread counts alternating round by
round. The rate is the training phase's (the run's ``stats["words_per_second"]``: words after
subsampling over the training loop's wall time), so start-up, reading and writing are not in
it; one thread's rate is the per-core rate. Prints medians, the scaling (two threads' median
over one's), the training loop's CPU seconds on two threads over one's (the same words: above 1
is what each word costs more when two threads share the rows) and the machine's load before and
after; writes scripts/bench_threads.out.json.
``--before DIR`` also runs a checkout of another revision in the same rounds (each of its runs
right after the same run of this one), as "before".

    flock /tmp/embedtrain-bench.lock python scripts/bench_threads.py [--rounds 5] [--epochs 2]
        [--models skipgram,cbow,fasttext] [--before DIR]
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
import json, resource, sys, time
import embedtrain
args = json.loads(sys.argv[1])
corpus = args.pop("corpus")
marks = []
class Clock:
    def on_train_begin(self, *a):
        marks.append((time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)))
    def on_train_end(self, *a):
        marks.append((time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)))
model = embedtrain.train(corpus, **args, callbacks=[Clock()])
(w0, r0), (w1, r1) = marks
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"words_per_second": model.stats["words_per_second"],
                  "train_seconds": model.stats["train_seconds"], "train_cpu_seconds": cpu,
                  "train_wall_seconds": w1 - w0}))
"""


def run(model: str, threads: int, epochs: int, corpus: str, tree: Path = ROOT) -> dict:
    args = dict(SETTINGS, **MODELS[model], model=model, threads=threads, epochs=epochs, corpus=corpus)
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True,
                          cwd=tree, env=dict(os.environ, PYTHONPATH=str(tree)))
    if done.returncode != 0:
        sys.exit(f"{model} with {threads} threads failed in {tree}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--corpus", default=str(SHARED_DATA / "text8-prefix.gz"))
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_threads.out.json")
    ap.add_argument("--before", type=Path, default=None, help="also run this checkout (as 'before')")
    args = ap.parse_args()
    models = args.models.split(",")
    trees = {"now": ROOT} if args.before is None else {"now": ROOT, "before": args.before.resolve()}
    out = {"settings": dict(SETTINGS, epochs=args.epochs, corpus=args.corpus), "load_before": os.getloadavg(),
           "models": {}}
    for tree in trees.values():
        for model in models:   # untimed: loads (or compiles) each model's kernels
            run(model, 1, 1, args.corpus, tree)
    rates = {(n, m, t): [] for n in trees for m in models for t in (1, 2)}
    cpu = {(n, m, t): [] for n in trees for m in models for t in (1, 2)}   # CPU s of training
    for r in range(args.rounds):
        for model in models:
            for threads in ((1, 2) if r % 2 == 0 else (2, 1)):
                for name, tree in trees.items():
                    got = run(model, threads, args.epochs, args.corpus, tree)
                    rate = got["words_per_second"]
                    rates[name, model, threads].append(rate)
                    cpu[name, model, threads].append(got["train_cpu_seconds"])
                    print(f"round {r + 1} {name:6} {model:8} {threads} thread(s): {rate:,.0f} words/s, "
                          f"training {got['train_cpu_seconds']:.2f} CPU s in {got['train_wall_seconds']:.2f} s",
                          flush=True)
    for name in trees:
        into = out["models"] if name == "now" else out.setdefault(name, {})
        for model in models:
            one, two = (statistics.median(rates[name, model, t]) for t in (1, 2))
            cpu_one, cpu_two = (statistics.median(cpu[name, model, t]) for t in (1, 2))
            into[model] = {"one_thread": rates[name, model, 1], "two_threads": rates[name, model, 2],
                           "per_core_median": one, "two_threads_median": two,
                           "scaling": round(two / one, 3),
                           "train_cpu_seconds_one": cpu[name, model, 1],
                           "train_cpu_seconds_two": cpu[name, model, 2],
                           "cpu_two_over_one": round(cpu_two / cpu_one, 3)}
            print(f"{name:6} {model:8}: one thread {one:,.0f} words/s (per core), two {two:,.0f}: "
                  f"x{two / one:.2f}; training CPU s two / one {cpu_two / cpu_one:.3f}")
    out["load_after"] = os.getloadavg()
    print(f"load average before {out['load_before'][0]:.2f}, after {out['load_after'][0]:.2f}")
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
