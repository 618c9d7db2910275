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
next to the same run of this one, first in every other round), as "before"; ``--tree NAME=DIR`` (repeatable) runs more
checkouts the same way, under their names. ``--processes`` adds a third run to every
round: two one-thread processes started together, which share the machine's cores, caches and
memory but no rows; their summed rate over one thread's is what this machine gives a second
core when nothing is shared (the ceiling for two threads of one process, whose Hogwild rows
are shared).

``--probe`` runs ``line_probe.py`` before and after every run (what two cores pay right then to
write the same rows) and also reports the medians of the runs made while the cores shared their
last cache ("near": the probe under x1.6 before and after) and while they did not ("far").
``--replicas`` adds two threads with ``--replicas`` (skip-gram and CBOW; each thread trains a
replica of its own, summed after every round), as "2r".

    flock /tmp/embedtrain-bench.lock python scripts/bench_threads.py [--rounds 5] [--epochs 2]
        [--models skipgram,cbow,fasttext] [--before DIR] [--processes] [--replicas] [--probe]
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
from line_probe import SLOW_RATIO, probe

MODELS = {"skipgram": {}, "cbow": {}, "fasttext": {"bucket": 2_000_000}}
REPLICA_MODELS = ("skipgram", "cbow")   # --replicas: FastText has none (docs/training.md)
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


def start_child(args: dict, tree: Path) -> subprocess.Popen:
    """CHILD in a fresh process of the checkout ``tree``: ``embedtrain.train(**args)``, the
    corpus given as ``args["corpus"]`` (scripts/bench_small_corpus.py runs it too)."""
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tree, env=dict(os.environ, PYTHONPATH=str(tree)))


def _start(model: str, threads: int, epochs: int, corpus: str, tree: Path,
           replicas: bool = False) -> subprocess.Popen:
    """One run at the benchmark's settings (``replicas``: --replicas)."""
    return start_child(dict(SETTINGS, **MODELS[model], model=model, threads=threads, epochs=epochs,
                            corpus=corpus, **({"replicas": True} if replicas else {})), tree)


def child_result(child: subprocess.Popen, what: str, tree: Path) -> dict:
    """A started run's JSON line; exits the benchmark with its stderr if it failed."""
    stdout, stderr = child.communicate()
    if child.returncode != 0:
        sys.exit(f"{what} failed in {tree}:\n{stderr[-2000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def run(model: str, threads: int, epochs: int, corpus: str, tree: Path = ROOT, replicas: bool = False) -> dict:
    return child_result(_start(model, threads, epochs, corpus, tree, replicas),
                   f"{model} with {threads} threads{' (replicas)' if replicas else ''}", tree)


def run_two_processes(model: str, epochs: int, corpus: str, tree: Path = ROOT) -> dict:
    """Two one-thread runs started together: their summed rate and training CPU seconds."""
    children = [_start(model, 1, epochs, corpus, tree) for _ in range(2)]
    got = [child_result(child, f"{model}, two one-thread processes,", tree) for child in children]
    return {"words_per_second": sum(g["words_per_second"] for g in got),
            "train_cpu_seconds": sum(g["train_cpu_seconds"] for g in got),
            "train_wall_seconds": max(g["train_wall_seconds"] for g in got)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--corpus", default=str(SHARED_DATA / "text8-prefix.gz"))
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_threads.out.json")
    ap.add_argument("--before", type=Path, default=None, help="also run this checkout (as 'before')")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                    help="also run this checkout, as NAME (repeatable)")
    ap.add_argument("--processes", action="store_true",
                    help="also run two one-thread processes at once (nothing shared)")
    ap.add_argument("--replicas", action="store_true",
                    help="also run two threads with --replicas (each its own replica, summed every round)")
    ap.add_argument("--probe", action="store_true",
                    help="probe what sharing a cache line costs before and after every run")
    args = ap.parse_args()
    kinds = (1, 2) + (("2r",) if args.replicas else ()) + (("2p",) if args.processes else ())
    models = args.models.split(",")
    trees = {"now": ROOT} if args.before is None else {"now": ROOT, "before": args.before.resolve()}
    for named in args.tree:
        name, _, where = named.partition("=")
        if not name or not where or name in trees:
            sys.exit(f"--tree wants NAME=DIR with a new NAME, not {named!r}")
        trees[name] = Path(where).resolve()
    for name, tree in trees.items():
        if not (tree / "embedtrain").is_dir():
            sys.exit(f"{name}: {tree} is not a checkout of embedtrain (no embedtrain/ in it)")
    out = {"settings": dict(SETTINGS, epochs=args.epochs, corpus=args.corpus), "load_before": os.getloadavg(),
           "models": {}}
    for tree in trees.values():
        for model in models:   # untimed: loads (or compiles) each model's kernels, both thread counts'
            for threads in (1, 2):
                run(model, threads, 1, args.corpus, tree)
            if args.replicas and model in REPLICA_MODELS:
                run(model, 2, 1, args.corpus, tree, replicas=True)
    rates = {(n, m, t): [] for n in trees for m in models for t in kinds}
    cpu = {(n, m, t): [] for n in trees for m in models for t in kinds}   # CPU s of training (summed)
    placement = {(n, m, t): [] for n in trees for m in models for t in kinds}  # "near", "far", "mixed"
    probes = {(n, m, t): [] for n in trees for m in models for t in kinds}     # (before, after) readings
    for r in range(args.rounds):
        for model in models:
            for threads in (kinds if r % 2 == 0 else kinds[::-1]):
                # the trees' order alternates too: the first of a pair of the same run ran
                # 1.5-2.5 % slower in 2026-12-07's rounds (docs/benchmarks.md, "Fixed costs again")
                for name, tree in (list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]):
                    before = probe() if args.probe else None
                    if threads == "2r" and model not in REPLICA_MODELS:
                        continue
                    if threads == "2p":
                        got = run_two_processes(model, args.epochs, args.corpus, tree)
                    elif threads == "2r":
                        got = run(model, 2, args.epochs, args.corpus, tree, replicas=True)
                    else:
                        got = run(model, threads, args.epochs, args.corpus, tree)
                    if args.probe:
                        after = probe()
                        far = [b["ratio"] >= SLOW_RATIO for b in (before, after)]
                        placement[name, model, threads].append("far" if all(far) else "mixed" if any(far) else "near")
                        probes[name, model, threads].append([before, after])
                    rate = got["words_per_second"]
                    rates[name, model, threads].append(rate)
                    cpu[name, model, threads].append(got["train_cpu_seconds"])
                    what = {"2p": "2 processes", "2r": "2 replicas"}.get(threads, f"{threads} thread(s)")
                    probed = (f"; probe x{before['ratio']:.2f} / x{after['ratio']:.2f} "
                              f"({placement[name, model, threads][-1]})" if args.probe else "")
                    print(f"round {r + 1} {name:6} {model:8} {what}: {rate:,.0f} words/s, "
                          f"training {got['train_cpu_seconds']:.2f} CPU s in {got['train_wall_seconds']:.2f} s{probed}",
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
            if "2r" in kinds and rates[name, model, "2r"]:
                reps = statistics.median(rates[name, model, "2r"])
                into[model].update({"two_replicas": rates[name, model, "2r"], "two_replicas_median": reps,
                                    "replicas_scaling": round(reps / one, 3),
                                    "train_cpu_seconds_replicas": cpu[name, model, "2r"]})
                print(f"{name:6} {model:8}: two threads with --replicas {reps:,.0f} words/s: x{reps / one:.2f}")
            if "2p" in kinds:
                procs = statistics.median(rates[name, model, "2p"])
                cpu_procs = statistics.median(cpu[name, model, "2p"])
                # two processes train twice the words: CPU per word over one thread's
                into[model].update({"two_processes": rates[name, model, "2p"], "two_processes_median": procs,
                                    "processes_scaling": round(procs / one, 3),
                                    "train_cpu_seconds_processes": cpu[name, model, "2p"],
                                    "cpu_per_word_processes_over_one": round(cpu_procs / 2 / cpu_one, 3)})
                print(f"{name:6} {model:8}: two one-thread processes {procs:,.0f} words/s: x{procs / one:.2f}; "
                      f"CPU per word two processes / one thread {cpu_procs / 2 / cpu_one:.3f}")
            print(f"{name:6} {model:8}: one thread {one:,.0f} words/s (per core), two {two:,.0f}: "
                  f"x{two / one:.2f}; training CPU s two / one {cpu_two / cpu_one:.3f}")
            if args.probe:
                for kind in kinds:
                    runs = list(zip(placement[name, model, kind], rates[name, model, kind]))
                    into[model][f"placement_{kind}"] = placement[name, model, kind]
                    into[model][f"probes_{kind}"] = probes[name, model, kind]
                    for where in ("near", "far"):
                        got = [rate for p, rate in runs if p == where]
                        into[model][f"{where}_median_{kind}"] = statistics.median(got) if got else None
                        into[model][f"{where}_runs_{kind}"] = len(got)
                line = []
                for where in ("near", "far"):
                    base = into[model].get(f"{where}_median_1")
                    parts = [f"{kind}: {into[model][f'{where}_median_{kind}']:,.0f} "
                             f"({into[model][f'{where}_runs_{kind}']} runs"
                             + (f", x{into[model][f'{where}_median_{kind}'] / base:.2f}" if base and kind != 1 else "")
                             + ")" for kind in kinds if into[model][f"{where}_median_{kind}"]]
                    line.append(f"{where}: " + ", ".join(parts))
                print(f"{name:6} {model:8}: " + "; ".join(line))
    out["load_after"] = os.getloadavg()
    print(f"load average before {out['load_before'][0]:.2f}, after {out['load_after'][0]:.2f}")
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
