#!/usr/bin/env python
"""The skip-gram family's kernels against another revision's, side by side: CPU seconds of
training (``time.process_time`` between the runner's on_train_begin and on_train_end
callbacks; one thread, so it is the kernel's time plus the runner's little) for each
architecture, one epoch of ``data/text8-1m.gz`` at dim 100, after a warm-up run that
compiles (or loads) the kernels.

The two revisions run in alternate processes, round after round, so they share the
machine's load; the medians over the rounds and their ratio are printed.

    git worktree add /tmp/et-before REV
    flock /tmp/embedtrain-bench.lock python scripts/bench_kernel.py --before /tmp/et-before --rounds 5

``--corpus``, ``--epochs`` and ``--configs`` (names from CONFIGS, comma-separated) measure
other runs, e.g. CBOW on the text8 prefix (a vocabulary of 22,541 words at min_count 5,
against 14,129 in text8-1m: rows that fit the caches less):

    python scripts/bench_kernel.py --before /tmp/et-before --rounds 11 --configs cbow \
        --corpus ../shared/data/text8-prefix.gz --epochs 2
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "text8-1m.gz"
CONFIGS = {
    "skipgram (shared negatives)": dict(model="skipgram"),
    "skipgram (per pair)": dict(model="skipgram", shared_negatives=False),
    "skipgram --hs": dict(model="skipgram", hs=True),
    "cbow": dict(model="cbow"),
    "fasttext": dict(model="fasttext", bucket=200_000),
    "fasttext --shared-negatives": dict(model="fasttext", bucket=200_000, shared_negatives=True),
    "fasttext cbow": dict(model="fasttext", arch="cbow", bucket=200_000),
}
COMMON = dict(dim=100, epochs=1, threads=1, seed=1, progress=False)


def measure(corpus: Path, epochs: int, configs: list[str]) -> dict[str, float]:
    """In this process (embedtrain from PYTHONPATH): CPU seconds of each config's training."""
    import time

    import embedtrain

    out = {}
    common = dict(COMMON, epochs=epochs)
    for name in configs:
        settings = CONFIGS[name]
        marks: list[float] = []

        class Clock:
            def on_train_begin(self, *args):
                marks.append(time.process_time())

            def on_train_end(self, *args):
                marks.append(time.process_time())

        embedtrain.train(str(corpus), **settings, **common)             # warm-up: compile or load
        embedtrain.train(str(corpus), **settings, **common, callbacks=[Clock()])
        out[name] = marks[1] - marks[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the other revision")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--epochs", type=int, default=COMMON["epochs"])
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names of CONFIGS")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    configs = a.configs.split(",")
    unknown = sorted(set(configs) - set(CONFIGS))
    if unknown:
        sys.exit(f"unknown configs {unknown}; choose from {list(CONFIGS)}")
    if a.measure:
        print(json.dumps(measure(a.corpus.resolve(), a.epochs, configs)))
        return
    sources = {"now": ROOT, "before": a.before.resolve()}
    times: dict[str, dict[str, list[float]]] = {s: {c: [] for c in configs} for s in sources}
    for r in range(a.rounds):
        for name, src in sources.items():
            proc = subprocess.run([sys.executable, __file__, "--before", str(a.before), "--measure",
                                   "--corpus", str(a.corpus.resolve()), "--epochs", str(a.epochs),
                                   "--configs", a.configs],
                                  env=dict(os.environ, PYTHONPATH=str(src)), capture_output=True,
                                  text=True, check=True, cwd=src)
            for config, seconds in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                times[name][config].append(seconds)
            print(f"round {r + 1} {name} done", file=sys.stderr)
    print("| architecture | now CPU s | before CPU s | now / before |")
    print("|---|---:|---:|---:|")
    for config in configs:
        now, before = (statistics.median(times[s][config]) for s in ("now", "before"))
        print(f"| {config} | {now:.3f} | {before:.3f} | {now / before:.3f} |")


if __name__ == "__main__":
    main()
