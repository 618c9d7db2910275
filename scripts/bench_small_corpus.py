#!/usr/bin/env python
"""Two threads on a small corpus: the training loop's rate (words after subsampling a second)
of ``--model`` on the first ``--tokens`` tokens of ../shared/data/text8-prefix.gz (lines of 100
tokens), min-count 1, ``--epochs`` epochs, two threads, this checkout against another
(``--before DIR``), run by run in fresh processes (numba's cache warm), seeds 1..``--runs``.
A corpus under two jobs' worth of tokens used to be one job an epoch, so one of the two threads
had nothing to do; the token stream's last part is now cut into shorter jobs (corpus/stream.py,
TAPER_JOBS). Prints each run and the medians; writes scripts/bench_small_corpus.out.json (or ``--out``).

    flock /tmp/embedtrain-bench.lock python scripts/bench_small_corpus.py --before DIR [--runs 7]
        [--tokens 30000] [--epochs 20] [--model cbow]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from bench_threads import child_result, start_child
from benchlib import ROOT, SHARED_DATA, write_bytecode, write_lines


def rate(tree: Path, corpus: Path, model: str, epochs: int, seed: int) -> float:
    """The training loop's words a second of two threads (bench_threads.py's child)."""
    args = dict(model=model, threads=2, epochs=epochs, min_count=1, seed=seed, progress=False,
                corpus=str(corpus))
    return float(child_result(start_child(args, tree), f"{model} on {corpus.name}", tree)["words_per_second"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tokens", type=int, default=30_000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--model", default="cbow")
    ap.add_argument("--out", default=str(ROOT / "scripts" / "bench_small_corpus.out.json"))
    args = ap.parse_args()
    trees = {"now": ROOT, "before": Path(args.before).resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "text8-lines.txt"
        write_lines(SHARED_DATA / "text8-prefix.gz", full, per_line=100)
        corpus = Path(tmp) / "small.txt"
        with open(full) as src, open(corpus, "w") as dst:
            dst.writelines(line for _, line in zip(range(args.tokens // 100), src))
        for tree in trees.values():
            write_bytecode(tree)
            rate(tree, corpus, args.model, 1, 1)   # numba's cache, loaded once
        rates: dict[str, list[float]] = {name: [] for name in trees}
        for seed in range(1, args.runs + 1):
            for name, tree in trees.items():
                rates[name].append(rate(tree, corpus, args.model, args.epochs, seed))
                print(f"run {seed} {name:6s} {rates[name][-1]:12,.0f} words/s", flush=True)
    medians = {name: statistics.median(v) for name, v in rates.items()}
    for name, m in medians.items():
        print(f"{name:6s} median {m:12,.0f} words/s")
    print(f"now / before: {medians['now'] / medians['before']:.2f}")
    Path(args.out).write_text(json.dumps({"settings": vars(args), "rates": rates, "medians": medians}, indent=1) + "\n")


if __name__ == "__main__":
    main()
