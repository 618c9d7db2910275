#!/usr/bin/env python
"""embedtrain GloVe on ../shared/data/text8-prefix.gz, against Stanford GloVe's figures.

Settings (those of the Stanford GloVe row in ../shared/BENCHMARKS.md): dim 100,
window 10, x_max 10, 15 epochs, min-count 5, 2 threads; the corpus is cut into
lines of 1,000 tokens (--max-line-tokens 1000) as it was for the reference tools.
Each run is a whole process timed by /usr/bin/time -v (wall, peak RSS); the time
per stage comes from the model file's stats; scores use gensim's own evaluators
on the written .vec (questions-words with restrict_vocab=30000 and
case_insensitive=True; WordSim-353 Spearman, case_insensitive=True).

With ``--defaults`` embedtrain runs with no settings at all (``embedtrain train CORPUS
--model glove``: its defaults, x-max and epochs chosen from the corpus size, lines of
10,000 tokens, every core), as the README's GloVe row shows it.

The Stanford GloVe C tools are not installed here, so their row is read from
BENCHMARKS.md (measured on a machine like this one, one tool at a time) rather
than measured side by side; compare on a quiet machine. Run under the shared lock:

    flock /tmp/embedtrain-bench.lock python scripts/bench_glove.py [--seeds 1,2,3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from benchlib import scores, timed

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
SETTINGS = {"dim": 100, "window": 10, "x-max": 10, "epochs": 15, "min-count": 5, "threads": 2,
            "max-line-tokens": 1000}
TARGET_SPEEDUP = 3.0


def stanford_row() -> dict[str, float]:
    """The Stanford GloVe row of BENCHMARKS.md: wall s, peak RSS MB, questions-words, WS-353."""
    for line in (SHARED / "BENCHMARKS.md").read_text().splitlines():
        if line.startswith("| Stanford GloVe"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            wall, rss, qw, ws = (float(c) for c in cells[1:5])
            return {"wall": wall, "rss": rss, "analogy": qw, "wordsim": ws}
    sys.exit("no Stanford GloVe row in ../shared/BENCHMARKS.md")


def stats_of(model_file: Path) -> dict:
    with zipfile.ZipFile(model_file) as zf:
        return json.loads(zf.read("meta.json"))["stats"]


def train_cmd(corpus: Path, prefix: Path, seed: int, extra: list[str] = (), defaults: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "embedtrain", "-q", "train", str(corpus), "--model", "glove"]
    for key, value in ({} if defaults else SETTINGS).items():
        cmd += [f"--{key}", str(value)]
    return cmd + ["--seed", str(seed), "-o", str(prefix), *extra]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (figures are averaged)")
    ap.add_argument("--corpus", default=str(DATA / "text8-prefix.gz"))
    ap.add_argument("--defaults", action="store_true", help="embedtrain with no settings (its defaults)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    corpus = Path(args.corpus)
    reference = stanford_row()
    work = Path(tempfile.mkdtemp(prefix="bench-glove-"))
    try:
        print(f"corpus: {corpus}")
        print("settings: " + ("embedtrain's defaults (none given)" if args.defaults else
                              ", ".join(f"{k} {v}" for k, v in SETTINGS.items())))
        # Compile (or load) the numba kernels once, outside the measurements.
        tiny = work / "tiny.txt"
        tiny.write_text("the cat sat on the mat\n" * 50)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(work / "numba-cold"))
        cold, _, _ = timed(train_cmd(tiny, work / "tiny", 1, ["--min-count", "1", "--epochs", "1"]), env=env)
        warm, _, _ = timed(train_cmd(tiny, work / "tiny", 1, ["--min-count", "1", "--epochs", "1"]), env=env)
        subprocess.run(train_cmd(tiny, work / "tiny", 1, ["--min-count", "1", "--epochs", "1"]), check=True)
        print(f"tiny corpus: {cold:.1f} s with an empty numba cache, {warm:.1f} s warm")
        print()
        header = (f"{'seed':>4} {'wall s':>7} {'RSS MB':>7} {'vocab s':>8} {'count s':>8} {'train s':>8} "
                  f"{'s/epoch':>8} {'other s':>8} {'non-zero':>10} {'analogy':>8} {'WS353':>6}")
        print(header)
        print("-" * len(header))
        rows = []
        for seed in seeds:
            prefix = work / f"glove-{seed}"
            wall, rss, _ = timed(train_cmd(corpus, prefix, seed, defaults=args.defaults))
            s = stats_of(Path(str(prefix) + ".etm"))
            epochs = len(s["epoch_costs"])
            vocab_s = s["read_seconds"]
            count_s = s["count_seconds"] + s["merge_seconds"]
            train_s = s["fit_seconds"]
            other = wall - vocab_s - count_s - train_s  # start-up, imports, writing .vec and .etm
            analogy, ws = scores(Path(str(prefix) + ".vec"))
            rows.append((wall, rss, analogy, ws))
            print(f"{seed:>4} {wall:7.1f} {rss:7.0f} {vocab_s:8.1f} {count_s:8.1f} {train_s:8.1f} "
                  f"{train_s / epochs:8.2f} {other:8.1f} {s['nonzero_entries']:>10,} "
                  f"{analogy:8.3f} {ws:6.3f}", flush=True)
        n = len(rows)
        wall, rss, analogy, ws = (sum(r[i] for r in rows) / n for i in range(4))
        print()
        print(f"embedtrain, mean of {n} seed{'s' * (n > 1)}: wall {wall:.1f} s, peak RSS {rss:.0f} MB, "
              f"questions-words {analogy:.3f}, WordSim-353 {ws:.3f}")
        print(f"Stanford GloVe (BENCHMARKS.md): wall {reference['wall']:.1f} s, peak RSS {reference['rss']:.0f} MB, "
              f"questions-words {reference['analogy']:.3f}, WordSim-353 {reference['wordsim']:.3f}")
        checks = [
            (f"time ratio embedtrain/Stanford {wall / reference['wall']:.3f} (speed-up "
             f"{reference['wall'] / wall:.1f}x; target at least {TARGET_SPEEDUP:.0f}x)",
             reference["wall"] / wall >= TARGET_SPEEDUP),
            (f"peak RSS ratio {rss / reference['rss']:.2f} (target at most 1)", rss <= reference["rss"]),
            (f"questions-words {analogy:.3f} vs {reference['analogy']:.3f}", analogy >= reference["analogy"]),
            (f"WordSim-353 {ws:.3f} vs {reference['wordsim']:.3f}", ws >= reference["wordsim"]),
        ]
        for text, ok in checks:
            print(f"  {'met ' if ok else 'MISSED'} {text}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
