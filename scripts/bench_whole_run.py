#!/usr/bin/env python
"""Whole `embedtrain train` runs on one corpus as it is (compressed or not), this checkout
against another (``--before DIR``), interleaved run by run, each a fresh process with the
numba cache warm (one untimed run of each tree first). Wall seconds of the child process
(start-up, reading, training and writing); medians and the ratio now / before.

    flock /tmp/embedtrain-bench.lock python scripts/bench_whole_run.py --before DIR [--runs 3]
        [--corpus PATH] [--model cbow] [--epochs 1] [--threads 2]

The default corpus is ../shared/data/corpora/enwiki2015-AA.text8style.txt.gz (17.5 M tokens,
gzip-compressed), where reading is a large part of a one-epoch run. Writes
scripts/bench_whole_run.out.json (or ``--out FILE``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED_DATA, timed  # noqa: E402


def run(tree: Path, corpus: Path, out: Path, args) -> float:
    """Wall seconds of one run of ``tree`` (benchlib.timed: its bytecode written first)."""
    wall, _, _ = timed([sys.executable, "-m", "embedtrain", "train", str(corpus), "--model", args.model,
                        "--epochs", str(args.epochs), "--threads", str(args.threads), "-q", "-o", str(out)],
                       env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=SHARED_DATA / "corpora" / "enwiki2015-AA.text8style.txt.gz")
    ap.add_argument("--model", default="cbow")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_whole_run.out.json")
    args = ap.parse_args()
    trees = {"now": ROOT, "before": args.before.resolve()}
    walls: dict[str, list[float]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory(prefix="bench-whole-run-") as tmp:
        out = Path(tmp) / "model"
        for tree in trees.values():
            run(tree, args.corpus, out, args)  # warm the numba cache and the page cache
        for i in range(args.runs):
            for label, tree in trees.items():
                walls[label].append(run(tree, args.corpus, out, args))
                print(f"run {i + 1} {label}: {walls[label][-1]:.2f} s", flush=True)
    medians = {label: statistics.median(w) for label, w in walls.items()}
    ratio = medians["now"] / medians["before"]
    print(f"{args.model}, {args.epochs} epoch(s), {args.threads} threads, {args.corpus.name}: median "
          f"{medians['now']:.2f} s now, {medians['before']:.2f} s before (x{ratio:.2f})")
    args.out.write_text(json.dumps({"corpus": str(args.corpus.name), "model": args.model, "epochs": args.epochs,
                                    "threads": args.threads, "walls": walls, "medians": medians,
                                    "ratio": round(ratio, 3)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
