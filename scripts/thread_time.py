#!/usr/bin/env python
"""Where a second thread's time goes (issue 28): each training job timed on its thread, with the
threads' own rows (training/own_rows.py) as built and in variants that each remove one cost.

Every run is a fresh process of this checkout (numba's cache warm) training ``--model`` on
../shared/data/text8-prefix.gz at the word2vec benchmark's settings (dim 100, window 5, negative
5, sample 1e-3, min-count 5, ``--epochs`` epochs, seed 1). It records for each job its thread,
its start and end and its words (after subsampling), and the time the merges took
(``merge_own_rows``, wrapped). Per run it prints the rate of the training loop, each thread's
words per millisecond while it was in a job (its rate when busy), the merges' seconds and the
"tail": how long the first thread to finish an epoch waited for the other.

Variants (``--variants``, comma-separated; each runs with ``--threads``' counts unless fixed):

- ``build``: the code as it is;
- ``no-merges``: the merges skipped (wrong vectors: what the merges cost);
- ``all-own``: every row but the last 512 a thread's own and never merged (wrong vectors:
  two threads that write no row in common, in one process);
- ``shared``: every row shared (``OWN_ROWS = 0``, plain Hogwild);
- ``no-huge-pages``: numpy's ``madvise`` for huge pages off: the rate on small pages (the
  threads' own rows were a ``memfd``'s, on small pages here, until 2026-12-07).

    flock /tmp/embedtrain-bench.lock python scripts/thread_time.py --model cbow --rounds 3 \
        [--variants build,no-merges,all-own,no-huge-pages] [--out FILE]

A first untimed run with one thread and one with two load numba's cache (or compile it, in a
new checkout). The variants interleave round by round; the summary gives medians over the rounds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchlib import ROOT, SHARED_DATA

VARIANTS = ("build", "no-merges", "all-own", "shared", "no-huge-pages")
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, seed=1, progress=False)


def child(variant: str, model: str, threads: int, epochs: int, corpus: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import embedtrain
    from embedtrain.training import own_rows, prepare, sgns

    merges: list[float] = []
    merge = own_rows.merge_own_rows

    def timed_merge(*args):
        t0 = time.perf_counter()
        if variant != "no-merges":
            merge(*args)
        merges.append(time.perf_counter() - t0)

    own_rows.merge_own_rows = timed_merge
    if variant == "all-own":
        count = own_rows.own_row_count
        own_rows.own_row_count = lambda words, wanted: count(words, words - 512)
        own_rows.merge_own_rows = lambda *args: None
    elif variant == "shared":
        prepare.OWN_ROWS = 0
    elif variant == "no-huge-pages":
        np._core.multiarray._set_madvise_hugepage(False)

    jobs: list[tuple[str, int, float, float, int]] = []
    run_job = sgns.SgnsTask.run_job

    def timed_job(self, epoch, job, rng_state):
        t0 = time.perf_counter()
        result = run_job(self, epoch, job, rng_state)
        jobs.append((threading.current_thread().name, epoch, t0, time.perf_counter(), int(result[0])))
        return result

    sgns.SgnsTask.run_job = timed_job
    extra = {"bucket": 2_000_000} if model == "fasttext" else {}
    trained = embedtrain.train(corpus, model=model, threads=threads, epochs=epochs, **SETTINGS, **extra)
    names = sorted({j[0] for j in jobs})
    out = {"variant": variant, "threads": threads, "words_per_second": trained.stats["words_per_second"],
           "own_rows": trained.stats.get("own_rows", 0), "merge_seconds": round(sum(merges), 4),
           "train_seconds": trained.stats["train_seconds"], "threads_busy": {}}
    for name in names:
        mine = [j for j in jobs if j[0] == name]
        busy = sum(j[3] - j[2] for j in mine)
        out["threads_busy"][name] = {"jobs": len(mine), "busy_seconds": round(busy, 4),
                                     "words_per_ms": round(sum(j[4] for j in mine) / busy / 1000, 1)}
    tails = []
    for epoch in range(epochs):
        last = [max(j[3] for j in jobs if j[0] == n and j[1] == epoch) for n in names]
        tails.append(max(last) - min(last))
    out["tail_seconds"] = round(sum(tails), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cbow")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--variants", default="build,no-merges,all-own,no-huge-pages")
    ap.add_argument("--corpus", default=str(SHARED_DATA / "text8-prefix.gz"))
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "thread_time.out.json")
    ap.add_argument("--child", nargs=2, metavar=("VARIANT", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.model, int(args.child[1]), args.epochs, args.corpus)))
        return
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        sys.exit(f"unknown variants: {sorted(unknown)} (known: {', '.join(VARIANTS)})")
    plan = [("build", 1)] + [(v, 1 if v == "no-huge-pages" else 2) for v in variants]

    def child_run(variant: str, threads: int, epochs: int) -> dict:
        proc = subprocess.run([sys.executable, __file__, "--model", args.model, "--epochs", str(epochs),
                               "--corpus", args.corpus, "--child", variant, str(threads)],
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    for threads in (1, 2):   # untimed: loads (or, in a new checkout, compiles) the kernels
        child_run("build", threads, 1)
    runs: dict[str, list[dict]] = {}
    for r in range(args.rounds):
        for variant, threads in plan:
            key = f"{variant}, {threads} thread{'s' if threads > 1 else ''}"
            result = child_run(variant, threads, args.epochs)
            runs.setdefault(key, []).append(result)
            busy = ", ".join(f"{b['words_per_ms']:,.0f}" for b in result["threads_busy"].values())
            print(f"round {r + 1} {key}: {result['words_per_second']:,} words/s; busy threads {busy} words/ms; "
                  f"merges {result['merge_seconds']:.3f} s, tail {result['tail_seconds']:.3f} s of "
                  f"{result['train_seconds']:.2f} s", flush=True)
    one = statistics.median(r["words_per_second"] for r in runs["build, 1 thread"])
    summary = {}
    for key, results in runs.items():
        rate = statistics.median(r["words_per_second"] for r in results)
        per_thread = statistics.median(b["words_per_ms"] for r in results for b in r["threads_busy"].values())
        summary[key] = {"words_per_second": rate, "x_one_thread": round(rate / one, 3),
                        "busy_words_per_ms_per_thread": per_thread,
                        "merge_seconds": statistics.median(r["merge_seconds"] for r in results),
                        "tail_seconds": statistics.median(r["tail_seconds"] for r in results),
                        "train_seconds": statistics.median(r["train_seconds"] for r in results)}
        print(f"{args.model} {key}: {rate:,.0f} words/s, x{rate / one:.2f} one thread; a busy thread "
              f"{per_thread:,.0f} words/ms")
    args.out.write_text(json.dumps({"model": args.model, "epochs": args.epochs, "summary": summary,
                                    "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
